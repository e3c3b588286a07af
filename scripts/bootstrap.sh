#!/usr/bin/env bash
# Installs everything mypage needs on a fresh Debian machine (run as root or with sudo available):
# Debian packages (Japanese fonts for PDFs, Pango for WeasyPrint, Chromium for browser tests)
# and a virtual environment in .venv with the project and its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
want_browser="${1:-}"

apt_packages=(fonts-ipaexfont libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0)
if [ "$want_browser" = "--with-browser" ]; then
  apt_packages+=(chromium)
fi
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
