#!/usr/bin/env bash
# Sets up everything (Debian packages, .venv), runs the lint and type checks, then the whole test suite on
# SQLite and PostgreSQL.
# Uses the PostgreSQL and Redis named by MYPAGE_TEST_POSTGRES / MYPAGE_TEST_REDIS (defaults: 127.0.0.1:5432
# database test, 127.0.0.1:6379) when they answer, else throwaway ones (scripts/test_servers.sh) that are
# stopped and removed at the end, also when the tests fail or the run is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-browser

# Lint, format and type checks first (seconds), as configured in pyproject.toml; MYPAGE_SKIP_LINT=1 skips them.
if [ "${MYPAGE_SKIP_LINT:-0}" != 1 ]; then
  echo "lint: ruff check, ruff format --check, mypy"
  .venv/bin/ruff check --quiet .
  .venv/bin/ruff format --check --quiet .
  .venv/bin/mypy
fi

source scripts/test_servers.sh

pytest_pid=""
on_exit() {
  local status=$?
  trap '' INT TERM
  test_servers_down
  exit "$status"
}
# Waits up to $1 tenths of a second for pytest to end.
pytest_ends_within() {
  for _ in $(seq "$1"); do
    kill -0 "$pytest_pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
on_signal() {  # $1: INT or TERM; $2: the exit status (128 + signal number)
  trap '' INT TERM
  if [ -n "$pytest_pid" ]; then
    # pytest stops on SIGINT after its teardown (which drops its PostgreSQL database), so the servers
    # stop after it. Ctrl-C in a terminal has already sent pytest a SIGINT (a second one would cut its
    # teardown short): it gets 5 s before we send one; then 30 s at most.
    if [ "$1" = TERM ] || ! pytest_ends_within 50; then
      kill -INT "$pytest_pid" 2>/dev/null || true
      pytest_ends_within 300 || kill -KILL "$pytest_pid" 2>/dev/null || true
    fi
  fi
  exit "$2"
}
trap on_exit EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

test_servers_up

# In the background (with SIGINT back to its default, which bash takes away from background commands)
# so that a signal to this script is handled at once: see on_signal.
# MYPAGE_TEST_WORKERS (default 2, one per core) pytest-xdist workers; 1 runs in one process. What each
# worker runs whole (a database backend, a module) is work_unit() in tests/conftest.py.
workers="${MYPAGE_TEST_WORKERS:-2}"
parallel=()
if [ "$workers" -gt 1 ]; then
  parallel=(-n "$workers")
fi
env --default-signal=INT .venv/bin/pytest -q -ra "${parallel[@]}" "$@" <&0 &
pytest_pid=$!
status=0
wait "$pytest_pid" || status=$?
pytest_pid=""
exit "$status"
