#!/usr/bin/env bash
# Sets up everything (Debian packages, .venv) and runs the whole test suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-browser
export MYPAGE_TEST_POSTGRES="${MYPAGE_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/test}"
export MYPAGE_TEST_REDIS="${MYPAGE_TEST_REDIS:-redis://127.0.0.1:6379/15}"
exec .venv/bin/pytest -q -ra "$@"
