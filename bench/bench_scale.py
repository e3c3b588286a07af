"""Scale benchmark (PostgreSQL): logged-in page latency at a small and a large number of customers, and the
query plans of those pages.

    python bench/bench_scale.py [--sizes 10000,1000000] [--requests 300] [--postgres SERVER_URL] [--tenant nmedia]

Makes a scratch database on the server (``mypage_scale`` by default; dropped at the end unless ``--keep``),
loads the demo data and ``mypage demo --scale`` customers into ``--tenant`` until it holds the first size,
serves the portal with uvicorn (2 workers, the connection pool, production settings) and measures the home
page, the billing list and a month of call details of the tenant's demo account (a session written straight
into the session table: the tenant's login needs a one-time password), ``--requests`` sequential requests
each over HTTP (p50, p99). Then it adds customers up to the next size and measures again. The target: the
p50 at the largest size within 20% of the smallest. It prints the time each generation took.

At the largest size it runs the same pages in-process once, records every SELECT they send (through
Piccolo's engine) and prints ``EXPLAIN ANALYZE`` of each, flagging a sequential scan of a table of more than
10,000 rows.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import statistics
import subprocess
import sys
import time

import httpx

from bench_http import PY, ROOT, admin, free_port, wait_up
from procs import cpu_seconds, workers
from server_env import new_session, production_env

sys.path.insert(0, str(ROOT / "platform"))
from mypage.db.engine import with_database

ACCOUNTS = {"nmedia": ("m95au6", "CAF0000000002")}
"""Per tenant: the demo account measured and its contract with call details."""
FLAT = 1.20
SERVER = ["--workers", "2", "--log-level", "warning", "--no-access-log"]
BIG_TABLE_ROWS = 10_000


def env_for(url: str) -> dict:
    return production_env(database_url=url)


def grow(env: dict, tenant: str, add: int) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [PY, "-m", "mypage.cli", "demo", "--scale", str(add), "--tenant", tenant],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"mypage demo --scale {add} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    print("\n".join("    " + line for line in proc.stdout.splitlines() if "migration" not in line.lower()), flush=True)
    return seconds


def make_session(url: str, tenant: str, login_id: str) -> str:
    from mypage.db.engine import bind_tables, make_engine
    from mypage.identity.tables import Account
    from mypage.settings import Settings

    bind_tables(make_engine(Settings(database_url=url)))

    async def go() -> str:
        account = await Account.select(Account.id).where(Account.tenant == tenant).where(Account.login_id == login_id).first()
        return await new_session(tenant, account["id"], 6 * 3600)

    return asyncio.run(go())


def page_urls(client: httpx.Client, contract: str) -> dict[str, str]:
    months = client.get(f"/calls/{contract}")
    found = re.findall(rf"/calls/{contract}/(\d{{4}}-\d{{2}})", months.text)
    if months.status_code != 200 or not found:
        raise SystemExit(f"/calls/{contract}: status {months.status_code}, no month link")
    return {"home": "/", "billing list": "/billing", "call list": f"/calls/{contract}/{max(found)}"}


def measure(client: httpx.Client, urls: dict[str, str], requests: int, pids: list[int]) -> dict[str, dict]:
    """``requests`` GETs of each page, in rounds of ten per page (so a change of the machine's load over the run
    falls on every page alike), after 20 of each to warm up; latency and the server workers' CPU time."""
    times: dict[str, list[float]] = {name: [] for name in urls}
    cpu: dict[str, float] = dict.fromkeys(urls, 0.0)
    for rounds, record in ((2, False), (max(1, requests // 10), True)):
        for _ in range(rounds):
            for name, url in urls.items():
                before = cpu_seconds(pids)
                for _ in range(10):
                    started = time.perf_counter()
                    response = client.get(url)
                    if record:
                        times[name].append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{url}: status {response.status_code}")
                if record:
                    cpu[name] += cpu_seconds(pids) - before
    out = {}
    for name, values in times.items():
        values.sort()
        out[name] = {
            "p50": statistics.median(values),
            "p99": values[min(len(values) - 1, int(0.99 * len(values)))],
            "cpu": cpu[name] * 1000 / len(values),
        }
    return out


def serve_and_measure(env: dict, tenant: str, session: str, contract: str, requests: int) -> dict[str, dict]:
    port = free_port()
    server = subprocess.Popen(
        [PY, "-m", "uvicorn", "mypage.app:create_app", "--factory", "--port", str(port), "--host", "127.0.0.1", *SERVER],
        cwd=ROOT,
        env=env,
    )
    try:
        host = f"{tenant}.localhost"
        wait_up(f"http://127.0.0.1:{port}/healthz", server, host)
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Host": host}, cookies={"mypage_session": session}
        ) as client:
            if client.get("/").status_code != 200:
                raise SystemExit("the written session does not open the home page")
            return measure(client, page_urls(client, contract), requests, workers(server.pid, 2))
    finally:
        server.terminate()
        server.wait(timeout=20)


def explain_pages(url: str, tenant: str, session: str, contract: str, show: bool) -> tuple[dict[str, float], list[str]]:
    """Runs the pages in-process once and records the SELECTs each sends; returns the summed execution time
    of their plans per page (``EXPLAIN ANALYZE``) and the plans' problems (sequential scans of big tables).
    ``show``: print every plan."""
    import asyncpg
    from litestar.testing import TestClient
    from piccolo.engine.postgres import PostgresEngine

    from mypage.app import create_app
    from mypage.db.engine import postgres_config
    from mypage.settings import Settings

    recorded: list[tuple[str, list]] = []

    def record(sql: str, args) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            recorded.append((sql, list(args)))

    original = PostgresEngine.run_querystring

    async def recording(self, querystring, in_pool: bool = True):
        record(*querystring.compile_string(engine_type="postgres"))
        return await original(self, querystring, in_pool)

    # The call records' raw reads (a screen of the call list, the CSV export) go to the pool without Piccolo.
    from mypage.calls import repository as calls

    original_tuples = calls._fetch_tuples

    async def recording_tuples(engine, kind: str, sql: str, args: list):
        record(sql, args)
        return await original_tuples(engine, kind, sql, args)

    # The prepared reads outside transactions go to the read lane (mypage.db.postgres) without Piccolo either.
    from mypage.db.postgres import PortalPostgresEngine

    original_prepared = PortalPostgresEngine.read_prepared

    async def recording_prepared(self, sql: str, args: list):
        rows = await original_prepared(self, sql, args)
        if rows is not None:  # None: it went through run_querystring, which recorded it
            record(sql, args)
        return rows

    PostgresEngine.run_querystring = recording  # type: ignore[method-assign]
    calls._fetch_tuples = recording_tuples
    PortalPostgresEngine.read_prepared = recording_prepared  # type: ignore[method-assign]
    pages: dict[str, list[tuple[str, list]]] = {}
    try:
        settings = Settings.from_env(env_for(url))
        app = create_app(settings)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        with TestClient(app, base_url=f"http://{tenant}.localhost") as client:
            client.cookies.set("mypage_session", session)
            for name, path in page_urls(client, contract).items():
                recorded.clear()
                if client.get(path).status_code != 200:
                    raise SystemExit(f"{path} failed in-process")
                pages[name] = list(recorded)
    finally:
        PostgresEngine.run_querystring = original  # type: ignore[method-assign]
        calls._fetch_tuples = original_tuples
        PortalPostgresEngine.read_prepared = original_prepared  # type: ignore[method-assign]

    async def plans() -> tuple[dict[str, float], list[str]]:
        problems, times = [], {}
        conn = await asyncpg.connect(**postgres_config(url))
        try:
            sizes = {
                r["relname"]: r["reltuples"]
                for r in await conn.fetch(
                    "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                )
            }
            shown: set[str] = set()
            for name, statements in pages.items():
                times[name] = 0.0
                if show:
                    print(f"\n=== {name}: {len(statements)} SELECT(s) (plans shown once, at their first page)")
                for sql, args in statements:
                    rows = await conn.fetch(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", *args)
                    plan = [r[0] for r in rows]
                    times[name] += sum(float(m.group(1)) for line in plan if (m := re.match(r"Execution Time: ([\d.]+)", line)))
                    for line in plan:
                        match = re.search(r"Seq Scan on (\w+)", line)
                        if match and sizes.get(match.group(1), 0) > BIG_TABLE_ROWS:
                            problems.append(f"{name}: sequential scan of {match.group(1)} ({sizes[match.group(1)]:,.0f} rows)")
                    if show and sql not in shown:
                        shown.add(sql)
                        print(f"\n{' '.join(sql.split())[:300]}")
                        print("\n".join("    " + line for line in plan if not line.startswith("Planning")))
        finally:
            await conn.close()
        return times, problems

    return asyncio.run(plans())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated customer counts, ascending")
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per page and size")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", metavar="SERVER_URL")
    parser.add_argument("--database", default="mypage_scale", help="scratch database made on that server")
    parser.add_argument("--tenant", default="nmedia", choices=sorted(ACCOUNTS))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    login_id, contract = ACCOUNTS[args.tenant]
    url = with_database(args.postgres, args.database)
    env = env_for(url)
    admin(args.postgres, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    admin(args.postgres, f'CREATE DATABASE "{args.database}"')
    results: dict[int, dict[str, dict]] = {}
    generation: dict[int, float] = {}
    problems: list[str] = []
    db_ms: dict[int, dict[str, float]] = {}
    try:
        have = 0
        for size in sizes:
            print(f"adding {size - have:,} customers to {args.tenant} (to {size:,}) …", flush=True)
            generation[size] = grow(env, args.tenant, size - have)
            have = size
            session = make_session(url, args.tenant, login_id)
            results[size] = serve_and_measure(env, args.tenant, session, contract, args.requests)
            db_ms[size], problems = explain_pages(url, args.tenant, session, contract, show=size == sizes[-1])
            print(f"  load average {os.getloadavg()[0]:.1f}")
            for name, figures in results[size].items():
                print(
                    f"  {size:>9,} customers  {name:13} p50 {figures['p50']:6.2f} ms  p99 {figures['p99']:6.2f} ms  "
                    f"server CPU {figures['cpu']:5.2f} ms/request  (database: {db_ms[size][name]:.2f} ms)",
                    flush=True,
                )
    finally:
        if not args.keep:
            admin(args.postgres, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    small, large = sizes[0], sizes[-1]
    print(f"\nPostgreSQL, {args.tenant}, {args.requests} sequential requests per page, uvicorn 2 workers, {os.cpu_count()} cores")
    print(
        "generation (mypage demo --scale, incl. migrations/demo on the first): "
        + ", ".join(f"to {s:,}: {t:.0f} s" for s, t in generation.items())
    )
    print(
        f"{'page':14} {'p50 small':>10} {'p50 large':>10} {'ratio':>6} {'p99 small':>10} {'p99 large':>10} "
        f"{'cpu small':>9} {'cpu large':>9} {'db small':>9} {'db large':>9}"
    )
    worst = worst_cpu = worst_db = 0.0
    for name in results[small]:
        a, b = results[small][name], results[large][name]
        ratio = b["p50"] / a["p50"]
        worst = max(worst, ratio)
        worst_cpu = max(worst_cpu, b["cpu"] / a["cpu"] if a["cpu"] else 0.0)
        worst_db = max(worst_db, db_ms[large][name] / db_ms[small][name] if db_ms[small][name] else 0.0)
        print(
            f"{name:14} {a['p50']:10.2f} {b['p50']:10.2f} {ratio:6.2f} {a['p99']:10.2f} {b['p99']:10.2f} "
            f"{a['cpu']:9.2f} {b['cpu']:9.2f} {db_ms[small][name]:9.2f} {db_ms[large][name]:9.2f}"
        )
    print(
        "(ms; cpu: the server workers' CPU time per request; db: the summed EXPLAIN ANALYZE execution time of the page's SELECTs, session and account included)"
    )
    print(
        f"p50 at {large:,} / at {small:,} customers, worst page: {worst:.2f} (target <= {FLAT}: {'met' if worst <= FLAT else 'NOT met'})"
    )
    print(
        f"less moved by the machine's load: server CPU per request, worst page {worst_cpu:.2f}; "
        f"database time, worst page {worst_db:.2f}"
    )
    print("plans: " + ("index scans only on big tables" if not problems else "; ".join(problems)))
    figures = " ".join(
        f"{name.replace(' ', '_')}_p50_{key}={results[size][name]['p50']:.2f}"
        for name in results[small]
        for key, size in (("small", small), ("large", large))
    )
    print(
        f"RESULT small={small} large={large} worst_ratio={worst:.3f} worst_cpu_ratio={worst_cpu:.3f} "
        f"worst_db_ratio={worst_db:.3f} seq_scans={len(problems)} "
        f"generation_large_s={generation[large]:.0f} {figures}"
    )


if __name__ == "__main__":
    main()
