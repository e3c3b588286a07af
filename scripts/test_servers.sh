# Sourced by scripts/test.sh (bash, from the repository root, after scripts/bootstrap.sh made .venv).
#
# test_servers_up: makes MYPAGE_TEST_POSTGRES and MYPAGE_TEST_REDIS name servers that answer. A server
# given by those variables (defaults: the CI services at 127.0.0.1:5432 and 127.0.0.1:6379) is used when
# it answers; otherwise a throwaway PostgreSQL cluster / Redis is started on a free loopback port in a
# temporary folder (Debian's postgresql / redis-server packages are installed first when missing).
# PostgreSQL is left out when MYPAGE_TEST_DATABASES does not name it. Prints one line saying which
# servers the run uses.
#
# test_servers_down: stops what test_servers_up started and removes its folder (safe to call at any
# point, also twice; test.sh calls it from its EXIT trap).

_ts_dir=""          # the temporary folder of the throwaway servers
_ts_pg_data=""      # its PostgreSQL data directory, once initdb ran
_ts_pg_bin=""       # /usr/lib/postgresql/<ver>/bin
_ts_pg_user=""      # the unprivileged account PostgreSQL runs as when we are root
_ts_redis_pidfile=""
_ts_policy_rc=""    # a policy-rc.d we put in place while installing packages

# Does the server at $2 answer? ($1: postgres or redis; $3: seconds to keep trying, default 0)
_ts_probe() {
  .venv/bin/python - "$1" "$2" "${3:-0}" <<'EOF'
import asyncio, sys, time

kind, url, patience = sys.argv[1], sys.argv[2], float(sys.argv[3])
sys.path.insert(0, "platform")


def answers() -> bool:
    try:
        if kind == "postgres":
            import asyncpg

            from mypage.db.engine import postgres_config  # the URL reading the tests use

            async def go():
                conn = await asyncpg.connect(**postgres_config(url), timeout=5)
                await conn.close()

            asyncio.run(go())
        else:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).ping()
        return True
    except Exception:
        return False


deadline = time.monotonic() + patience
while not answers():
    if time.monotonic() >= deadline:
        sys.exit(1)
    time.sleep(0.2)
EOF
}

_ts_free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_ts_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages without letting their maintainer scripts start the distribution's services
# (a PostgreSQL cluster on 5432, Redis on 6379): a temporary policy-rc.d answers "not allowed".
_ts_apt_install() {
  echo "test servers: installing Debian packages: $*" >&2
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# Put here by mypage scripts/test_servers.sh while installing packages.\nexit 101\n' \
      | _ts_sudo tee /usr/sbin/policy-rc.d >/dev/null
    _ts_sudo chmod 755 /usr/sbin/policy-rc.d
    _ts_policy_rc=/usr/sbin/policy-rc.d
  fi
  _ts_sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive _ts_sudo apt-get install -y -qq "$@"
  if [ -n "$_ts_policy_rc" ]; then
    _ts_sudo rm -f "$_ts_policy_rc"
    _ts_policy_rc=""
  fi
}

_ts_find_pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    echo "$dir"
  fi
}

_ts_make_dir() {
  if [ -z "$_ts_dir" ]; then
    _ts_dir=$(mktemp -d "${TMPDIR:-/tmp}/mypage-test-servers.XXXXXX")
  fi
}

# Runs a PostgreSQL program as the account that owns the cluster, from inside the temporary folder
# (that account may not be allowed into the repository).
_ts_as_pg_user() {
  if [ -n "$_ts_pg_user" ]; then
    (cd "$_ts_dir" && runuser -u "$_ts_pg_user" -- "$@")
  else
    (cd "$_ts_dir" && "$@")
  fi
}

# Starts a PostgreSQL cluster (trust authentication, user postgres) and points MYPAGE_TEST_POSTGRES at it.
_ts_start_postgres() {
  local port
  _ts_make_dir
  if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: use the account Debian's package creates (or nobody).
    if id -u postgres >/dev/null 2>&1; then _ts_pg_user=postgres; else _ts_pg_user=nobody; fi
    chown "$_ts_pg_user" "$_ts_dir"
  fi
  port=$(_ts_free_port)
  _ts_pg_data="$_ts_dir/postgres"
  _ts_as_pg_user "$_ts_pg_bin/initdb" -D "$_ts_pg_data" -U postgres --auth=trust --no-locale -E UTF8 \
    --no-sync >"$_ts_dir/initdb.log" 2>&1 || { cat "$_ts_dir/initdb.log" >&2; return 1; }
  # A disposable cluster: only on loopback, its socket in our folder, no waiting for the disk.
  cat >>"$_ts_pg_data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$_ts_dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  # Its own session, so that Ctrl-C in the terminal reaches the tests (whose teardown still needs the
  # server) and not the server: test_servers_down stops it.
  _ts_as_pg_user setsid "$_ts_pg_bin/pg_ctl" start -w -t 60 -D "$_ts_pg_data" -l "$_ts_dir/postgres.log" \
    >/dev/null || { cat "$_ts_dir/postgres.log" >&2; return 1; }
  MYPAGE_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$port/postgres"
}

# Starts a Redis (no persistence) and points MYPAGE_TEST_REDIS at it.
_ts_start_redis() {
  local port
  _ts_make_dir
  mkdir -p "$_ts_dir/redis"
  port=$(_ts_free_port)
  _ts_redis_pidfile="$_ts_dir/redis/redis.pid"
  # --daemonize also puts it in its own session (see _ts_start_postgres).
  redis-server --bind 127.0.0.1 --port "$port" --unixsocket "" --dir "$_ts_dir/redis" --save "" \
    --appendonly no --daemonize yes --pidfile "$_ts_redis_pidfile" --logfile "$_ts_dir/redis/redis.log" \
    || { cat "$_ts_dir/redis/redis.log" >&2 2>/dev/null; return 1; }
  if ! _ts_probe redis "redis://127.0.0.1:$port/15" 30; then
    cat "$_ts_dir/redis/redis.log" >&2
    return 1
  fi
  MYPAGE_TEST_REDIS="redis://127.0.0.1:$port/15"
}

test_servers_up() {
  local databases want_postgres="" pg_note redis_note missing=()
  export MYPAGE_TEST_POSTGRES="${MYPAGE_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/test}"
  export MYPAGE_TEST_REDIS="${MYPAGE_TEST_REDIS:-redis://127.0.0.1:6379/15}"
  databases="${MYPAGE_TEST_DATABASES:-sqlite,postgres}"
  case ",${databases// /}," in *,postgres,*) want_postgres=1 ;; esac

  local pg_ok="" redis_ok=""
  if [ -n "$want_postgres" ] && _ts_probe postgres "$MYPAGE_TEST_POSTGRES"; then pg_ok=1; fi
  # Redis is used whatever the databases (tests/integration/test_sessions.py, on each backend).
  if _ts_probe redis "$MYPAGE_TEST_REDIS"; then redis_ok=1; fi

  if [ -n "$want_postgres" ] && [ -z "$pg_ok" ]; then
    _ts_pg_bin=$(_ts_find_pg_bin)
    [ -n "$_ts_pg_bin" ] || missing+=(postgresql)
  fi
  if [ -z "$redis_ok" ] && ! command -v redis-server >/dev/null 2>&1; then
    missing+=(redis-server)
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    _ts_apt_install "${missing[@]}"
    if [ -n "$want_postgres" ] && [ -z "$pg_ok" ]; then
      _ts_pg_bin=$(_ts_find_pg_bin)
      [ -n "$_ts_pg_bin" ] || { echo "test servers: no initdb under /usr/lib/postgresql/*/bin" >&2; return 1; }
    fi
  fi

  if [ -z "$want_postgres" ]; then
    pg_note="PostgreSQL not used (MYPAGE_TEST_DATABASES=$databases)"
  elif [ -n "$pg_ok" ]; then
    pg_note="PostgreSQL $MYPAGE_TEST_POSTGRES"
  else
    local given="$MYPAGE_TEST_POSTGRES"
    _ts_start_postgres
    pg_note="PostgreSQL $MYPAGE_TEST_POSTGRES (throwaway; $given did not answer)"
  fi
  if [ -n "$redis_ok" ]; then
    redis_note="Redis $MYPAGE_TEST_REDIS"
  else
    local given="$MYPAGE_TEST_REDIS"
    _ts_start_redis
    redis_note="Redis $MYPAGE_TEST_REDIS (throwaway; $given did not answer)"
  fi
  echo "test servers: $pg_note; $redis_note${_ts_dir:+; throwaway servers in $_ts_dir, removed at the end}"
}

test_servers_down() {
  local pid i
  if [ -n "$_ts_policy_rc" ]; then
    _ts_sudo rm -f "$_ts_policy_rc" || true
    _ts_policy_rc=""
  fi
  if [ -n "$_ts_pg_data" ] && [ -f "$_ts_pg_data/postmaster.pid" ]; then
    if ! _ts_as_pg_user "$_ts_pg_bin/pg_ctl" stop -D "$_ts_pg_data" -m fast -w -t 30 >/dev/null 2>&1; then
      pid=$(head -n 1 "$_ts_pg_data/postmaster.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  _ts_pg_data=""
  if [ -n "$_ts_redis_pidfile" ] && [ -f "$_ts_redis_pidfile" ]; then
    pid=$(cat "$_ts_redis_pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
      for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  _ts_redis_pidfile=""
  if [ -n "$_ts_dir" ]; then
    rm -rf "$_ts_dir"
    _ts_dir=""
  fi
}
