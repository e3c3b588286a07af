#!/usr/bin/env bash
# Sets up everything and serves the three portals on the embedded SQLite database (var/mypage.sqlite3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/mypage run "$@"
