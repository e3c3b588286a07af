"""The platform code never names an operator: variation lives in tenants/ and themes/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "platform"
NAMES = ["aicom", "itscom", "nmedia", "n-media", "あいコム", "イッツコム", "日本メディア"]
PATTERN = re.compile("|".join(re.escape(n) for n in NAMES), re.IGNORECASE)
SKIP_SUFFIXES = {".po", ".pot", ".mo", ".pyc"}


def platform_files():
    for path in sorted(PLATFORM.rglob("*")):
        if path.is_file() and path.suffix not in SKIP_SUFFIXES and "__pycache__" not in path.parts and ".egg-info" not in str(path):
            yield path


def test_no_operator_names_in_platform():
    hits = []
    for path in platform_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if PATTERN.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not hits, "operator names in platform/ (move them to tenant.toml, tenant templates or themes):\n" + "\n".join(hits)


def test_the_check_would_catch_a_name():
    assert PATTERN.search("if tenant.slug == 'ITSCOM':")
    assert PATTERN.search("イッツコムのお客様")
    assert not PATTERN.search("tenant.config.names.ja")
