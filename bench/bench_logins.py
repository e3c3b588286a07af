"""Login benchmark: password logins per second per core, end to end over HTTP (issue 10, target 2).

    python bench/bench_logins.py [--accounts 200] [--duration 10] [--connections 8] [--workers 2] [--repeat 2]
                                 [--postgres SERVER_URL] [--profile OUT]

Starts `mypage` with uvicorn (production settings, ``--workers`` processes, embedded SQLite with demo data
in a temporary folder, or a scratch PostgreSQL database with ``--postgres``), adds ``--accounts`` aicom accounts (password-only login) that share the demo
account's customer and password, then runs wrk against ``POST /login`` with a valid CSRF token and the
right password, one account after another (so no account has two logins in flight: the lockout counts a
try before it compares the password). Every answer must be ``303`` (logged in); anything else is counted
and makes the run fail.

Printed, for each of ``--repeat`` runs against the same server, and as the spread of the runs:

- logins/s (wall clock) and logins/s **per core**: divided by the cores the server may use
  (``os.sched_getaffinity``; the workers' argon2 thread pools use every core). wrk runs on the same cores
  and other processes may too, so this is a lower bound on a dedicated machine;
- p50 / p99 latency of ``POST /login``;
- logins per CPU-second of the server processes (user + system time of uvicorn and its workers, from
  /proc): what one core fully given to the server does, whatever else the machine is busy with;
- in the same run, the cost of one argon2id verification alone (``verify_password`` in this process) and the
  ratio "login / verification": the share of a login that is the password hash;
- whether the target (30 logins/s per core) is met.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "platform"))
from bench_http import admin, ensure_wrk, free_port, server_arguments, to_ms, wait_up  # noqa: E402
from mypage.db.engine import with_database  # noqa: E402
from server_env import production_env  # noqa: E402

PY = sys.executable
TARGET_PER_CORE = 30.0
PASSWORD = "Demo1234"
DEMO_ID = "aicom-demo"
HOST = "aicom.localhost"

LUA = r"""
local token = "%(token)s"
local accounts = %(accounts)d
local threads = {}
local counter = 0
local offset = 0

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  offset = tonumber(wrk.thread:get("offset")) or 0
  ok = 0
  bad = 0
end

function request()
  local n = (offset + counter) %% accounts
  counter = counter + %(threads)d
  local body = string.format("login_id=bench-%%05d&password=%(password)s&_csrf_token=%%s", n, token)
  return wrk.format("POST", "/login", {
    ["Host"] = "%(host)s",
    ["Cookie"] = "mypage_csrf=" .. token,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function response(status, headers, body)
  if status == 303 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local oks, bads = 0, 0
  for _, thread in ipairs(threads) do
    oks = oks + thread:get("ok")
    bads = bads + thread:get("bad")
  end
  io.write(string.format("LOGINS303 %%d OTHER %%d\n", oks, bads))
end
"""


def add_accounts(db: Path, count: int) -> None:
    """``count`` aicom accounts ``bench-00000``…, copies of the demo account (same customer, same hash)."""
    conn = sqlite3.connect(db)
    try:
        conn.row_factory = sqlite3.Row
        demo = conn.execute("SELECT * FROM accounts WHERE tenant = 'aicom' AND login_id = ?", (DEMO_ID,)).fetchone()
        if demo is None:
            raise SystemExit("demo account aicom-demo not found")
        columns = [c for c in demo.keys() if c != "id"]  # noqa: SIM118 (sqlite3.Row / asyncpg.Record: keys() is their API)
        rows = []
        for n in range(count):
            values = dict(demo)
            values["login_id"] = values["login_id_display"] = f"bench-{n:05d}"
            values["email"] = f"bench-{n:05d}@example.jp"
            rows.append([values[c] for c in columns])
        conn.executemany(f"INSERT INTO accounts ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", rows)
        conn.commit()
    finally:
        conn.close()


def add_accounts_postgres(database_url: str, count: int) -> None:
    """:func:`add_accounts` on PostgreSQL."""
    import asyncio

    import asyncpg

    from mypage.db.engine import postgres_config

    async def go() -> None:
        conn = await asyncpg.connect(**postgres_config(database_url))
        try:
            demo = await conn.fetchrow("SELECT * FROM accounts WHERE tenant = 'aicom' AND login_id = $1", DEMO_ID)
            if demo is None:
                raise SystemExit("demo account aicom-demo not found")
            columns = [c for c in demo.keys() if c != "id"]  # noqa: SIM118 (sqlite3.Row / asyncpg.Record: keys() is their API)
            rows = []
            for n in range(count):
                values = dict(demo)
                values["login_id"] = values["login_id_display"] = f"bench-{n:05d}"
                values["email"] = f"bench-{n:05d}@example.jp"
                rows.append([values[c] for c in columns])
            placeholders = ", ".join(f"${i + 1}" for i in range(len(columns)))
            await conn.executemany(f"INSERT INTO accounts ({', '.join(columns)}) VALUES ({placeholders})", rows)
        finally:
            await conn.close()

    asyncio.run(go())


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (all their threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def argon2_verify_cost(samples: int = 20) -> float:
    """CPU seconds of one argon2id verification at the portal's parameters (in this process, one thread)."""
    from mypage.identity.passwords import hash_password, verify_password

    stored = hash_password(PASSWORD)
    verify_password(stored, PASSWORD)
    times = []
    for _ in range(samples):
        started = time.process_time()
        assert verify_password(stored, PASSWORD)
        times.append(time.process_time() - started)
    return statistics.median(times)


def run_wrk(wrk: str, script: Path, url: str, duration: int, connections: int, threads: int) -> dict:
    out = subprocess.run(
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    import re

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    seconds_match = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    seconds = float(seconds_match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[seconds_match.group(2)]
    ok, other = (int(x) for x in re.search(r"LOGINS303 (\d+) OTHER (\d+)", out).groups())
    return {
        "requests": requests,
        "seconds": seconds,
        "ok": ok,
        "other": other,
        "p50": to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),  # not a "+/- Stdev" column (e.g. 68.50%)
        "p99": to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),
        "raw": out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    server_arguments(
        parser,
        connections=8,
        connections_help="logins in flight (keep below the per-address limit of failed tries, 20 on aicom)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="wrk runs against the same server")
    parser.add_argument(
        "--profile",
        metavar="OUT",
        help="record the server with py-spy during the first run "
        "(collapsed stacks of CPU samples, to OUT; py-spy on PATH or in --py-spy)",
    )
    args = parser.parse_args()
    if args.accounts < 4 * args.connections:
        raise SystemExit("--accounts must be at least 4 x --connections (one login in flight per account)")
    wrk = ensure_wrk()
    cores = len(os.sched_getaffinity(0))

    workdir = Path(tempfile.mkdtemp(prefix="mypage-bench-logins-"))
    db = workdir / "bench.sqlite3"
    env = production_env(db)
    scratch = None
    if args.postgres:
        scratch = f"mypage_bench_logins_{os.getpid()}"
        admin(args.postgres, f'CREATE DATABASE "{scratch}"')
        env["MYPAGE_DATABASE_URL"] = with_database(args.postgres, scratch)
    print(f"loading demo data into {'PostgreSQL' if scratch else 'SQLite'}…", flush=True)
    subprocess.run([PY, "-m", "mypage.cli", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    if scratch:
        add_accounts_postgres(env["MYPAGE_DATABASE_URL"], args.accounts)
    else:
        add_accounts(db, args.accounts)
    verify_cost = argon2_verify_cost()

    port = free_port()
    portal = subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            "mypage.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    runs = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/healthz", portal, HOST)
        with httpx.Client(base_url=base, headers={"Host": HOST}) as client:
            client.get("/login")
            token = client.cookies.get("mypage_csrf")
            # Warm-up: each worker renders, connects and verifies a few times before the clock starts.
            for n in range(4 * args.workers):
                client.cookies.delete("mypage_session")
                response = client.post("/login", data={"login_id": f"bench-{n:05d}", "password": PASSWORD, "_csrf_token": token})
                if response.status_code != 303:
                    raise SystemExit(f"login failed: {response.status_code}")
        threads = min(2, args.connections)
        script = workdir / "login.lua"
        script.write_text(
            LUA % {"token": token, "accounts": args.accounts, "threads": threads, "password": PASSWORD, "host": HOST}
        )
        for run in range(args.repeat):
            spy = None
            if args.profile and run == 0:
                spy = subprocess.Popen(
                    [
                        args.py_spy,
                        "record",
                        "--pid",
                        str(portal.pid),
                        "--subprocesses",
                        "--threads",
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--duration",
                        str(args.duration),
                        "--output",
                        args.profile,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(1)
            pids = process_tree(portal.pid)
            load = os.getloadavg()[0]
            cpu_before = cpu_seconds(pids)
            result = run_wrk(wrk, script, f"{base}/login", args.duration, args.connections, threads)
            result["server_cpu"] = cpu_seconds(process_tree(portal.pid)) - cpu_before
            result["load"] = load
            runs.append(result)
            if spy is not None:
                spy.wait(timeout=60)
    finally:
        portal.terminate()
        portal.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
        if scratch:
            admin(args.postgres, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')

    print(
        f"\nuvicorn workers={args.workers}, wrk connections={args.connections}, duration={args.duration}s, "
        f"cores the server may use={cores}, accounts={args.accounts}, "
        f"{'PostgreSQL (pool)' if scratch else 'SQLite (WAL, as db/sqlite.py sets it)'}"
    )
    print(
        f"argon2id verify alone (m=19 MiB, t=2, p=1), this process: {verify_cost * 1000:.1f} ms CPU "
        f"= {1 / verify_cost:.0f} verifications per CPU-second"
    )
    print(
        f"{'run':>3} {'load':>5} {'logins':>7} {'not 303':>7} {'logins/s':>9} {'per core':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'srv CPU s':>9} {'per CPU-s':>9} {'login/verify':>12}"
    )
    per_core, per_cpu = [], []
    for n, r in enumerate(runs, 1):
        rps = r["ok"] / r["seconds"]
        r["rps"], r["per_core"] = rps, rps / cores
        r["per_cpu"] = r["ok"] / r["server_cpu"] if r["server_cpu"] else 0.0
        per_core.append(r["per_core"])
        per_cpu.append(r["per_cpu"])
        cost_ratio = (r["server_cpu"] / r["ok"]) / verify_cost if r["ok"] else 0.0
        print(
            f"{n:3d} {r['load']:5.1f} {r['ok']:7d} {r['other']:7d} {rps:9.1f} {r['per_core']:9.1f} {r['p50']:8.1f} "
            f"{r['p99']:8.1f} {r['server_cpu']:9.1f} {r['per_cpu']:9.1f} {cost_ratio:11.2f}x"
        )
    failed = sum(r["other"] for r in runs)
    best, worst = max(per_core), min(per_core)
    print(
        f"logins/s per core: median {statistics.median(per_core):.1f} (spread {worst:.1f}–{best:.1f}); "
        f"logins per server CPU-second: median {statistics.median(per_cpu):.1f} "
        f"(spread {min(per_cpu):.1f}–{max(per_cpu):.1f})"
    )
    met = statistics.median(per_core) >= TARGET_PER_CORE
    print(
        f"target ≥ {TARGET_PER_CORE:.0f} logins/s per core (wall clock / cores): "
        f"{'MET' if met else 'NOT MET'} ({statistics.median(per_core) / TARGET_PER_CORE:.2f}x of target); "
        f"per server CPU-second: {statistics.median(per_cpu) / TARGET_PER_CORE:.2f}x of target"
    )
    print(
        f"RESULT logins_per_core={statistics.median(per_core):.2f} logins_per_cpu_second={statistics.median(per_cpu):.2f} "
        f"p50_ms={statistics.median(r['p50'] for r in runs):.1f} p99_ms={statistics.median(r['p99'] for r in runs):.1f} "
        f"verify_ms={verify_cost * 1000:.2f} met={'yes' if met else 'no'}"
    )
    if failed:
        raise SystemExit(f"{failed} answers were not 303 (see the lockout/limits, or a failing login)")


if __name__ == "__main__":
    main()
