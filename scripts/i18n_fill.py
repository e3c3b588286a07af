"""Fills empty English translations from Python dict files.

Usage: ``python scripts/i18n_fill.py [--overwrite] [translations.py ...]``; without files, every
``scripts/i18n_en*.py`` is read. Each file defines ``EN = {"日本語": "English", ...}``; a source string
translated differently by two files is an error. Existing translations are kept unless ``--overwrite``
is given. Run ``scripts/i18n.sh`` first so the catalog has every current string.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]


def load(paths: list[Path]) -> dict[str, str]:
    table: dict[str, str] = {}
    origin: dict[str, Path] = {}
    conflicts = []
    for path in paths:
        for source, english in runpy.run_path(str(path))["EN"].items():
            if source in table and table[source] != english:
                conflicts.append(f"{source!r}: {origin[source].name} {table[source]!r} / {path.name} {english!r}")
            table[source], origin[source] = english, path
    if conflicts:
        raise SystemExit("conflicting translations:\n  " + "\n  ".join(conflicts))
    return table


def main(argv: list[str]) -> int:
    overwrite = "--overwrite" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")]
    if not paths:
        paths = sorted((ROOT / "scripts").glob("i18n_en*.py"))
    table = load(paths)
    po = ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    filled = 0
    for message in catalog:
        if message.id and message.id in table and (overwrite or not message.string):
            message.string = table[message.id]
            message.flags.discard("fuzzy")
            filled += 1
    with po.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_by_file=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    unused = sorted(set(table) - {m.id for m in catalog if m.id})
    print(f"filled {filled}; still untranslated: {len(missing)}; table entries not in the catalog: {len(unused)}")
    for msgid in missing:
        print("   missing:", msgid)
    for msgid in unused:
        print("   unused: ", msgid)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
