#!/usr/bin/env bash
# Extracts every translatable string and merges it into locales/{ja,en}/LC_MESSAGES/messages.po.
# See docs/i18n.md. Usage: scripts/i18n.sh [--compile]
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}

"$PYBABEL" extract -F babel.cfg --sort-by-file --no-wrap \
  --project=mypage --copyright-holder="mypage" --msgid-bugs-address="" \
  -o locales/messages.pot .

for lang in ja en; do
  if [ -f "locales/$lang/LC_MESSAGES/messages.po" ]; then
    "$PYBABEL" update -i locales/messages.pot -d locales -l "$lang" --no-wrap --ignore-obsolete --no-fuzzy-matching
  else
    "$PYBABEL" init -i locales/messages.pot -d locales -l "$lang" --no-wrap
  fi
done

# Strings still untranslated in English (ja needs none: the Japanese source string is the translation).
.venv/bin/python - <<'PY'
from babel.messages.pofile import read_po
with open("locales/en/LC_MESSAGES/messages.po", "rb") as handle:
    catalog = read_po(handle)
missing = [m.id for m in catalog if m.id and not m.string]
fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
print(f"en: {len(missing)} untranslated, {len(fuzzy)} fuzzy")
PY

if [ "${1:-}" = "--compile" ]; then
  "$PYBABEL" compile -d locales --statistics
fi
