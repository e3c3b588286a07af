"""Fills empty English translations from a Python dict file: ``python scripts/i18n_fill.py translations.py``.

The dict file defines ``EN = {"日本語": "English", ...}``; existing translations are kept unless
``--overwrite`` is given. Run ``scripts/i18n.sh`` first so the catalog has every current string.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    overwrite = "--overwrite" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if not paths:
        print(__doc__)
        return 2
    table = runpy.run_path(paths[0])["EN"]
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
    print(f"filled {filled}; still untranslated: {len(missing)}")
    for msgid in missing:
        print("  ", msgid)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
