"""HTTP benchmark: the portal under a production server next to a bare Litestar app, measured with wrk.

    python bench/bench_http.py [--duration 3] [--rounds 3] [--connections 32] [--workers 2]
                               [--postgres SERVER_URL] [--profile DIR [--native]]

Starts `mypage` with uvicorn (production settings, embedded SQLite with demo data in a temporary folder) and
`bench/hello_app.py` with the same server settings, logs in as the aicom demo account, then runs wrk against
the bare hello endpoint, the login page and the logged-in pages of issue 10 (the aicom home page; the nmedia
home page, billing list, contract detail and a month of call details, with an nmedia session written straight
into the session store: that login needs a mailed one-time password), and prints requests per second, p50 and
p99 latency, the server workers' CPU milliseconds per request (from /proc) and the ratio of each page to the
login page (target: at least 50%, p99 < 50 ms). The pages are measured in rounds, each page right after the login
page, and its share is the median over the rounds of the two runs' ratio: the machine's speed drifts over a run
more than a page's cost changes. Needs `wrk` (Debian package; installed if missing when run as
root).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "platform"))
from mypage.db.engine import with_database  # noqa: E402
from procs import BackendCpu, cpu_seconds, workers  # noqa: E402
from server_env import new_session, production_env  # noqa: E402

NMEDIA = ("m95au6", "CAF0000000002")
"""The nmedia demo account and its contract with call details."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def wait_up(url: str, proc: subprocess.Popen, host: str | None = None, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            request = urllib.request.Request(url, headers={"Host": host} if host else {})
            urllib.request.urlopen(request, timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def admin(server_url: str, sql: str) -> None:
    import asyncio

    import asyncpg

    sys.path.insert(0, str(ROOT / "platform"))
    from mypage.db.engine import postgres_config

    async def go() -> None:
        conn = await asyncpg.connect(**postgres_config(server_url))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


def to_ms(value: str) -> float:
    """wrk's latency figure in milliseconds (wrk writes us, ms, s, m or h)."""
    match = re.match(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise ValueError(f"unreadable wrk latency: {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}[unit]


LATENCY_SCRIPT = ROOT / "bench" / "latency.lua"


def percentile(histogram: Counter, share: float) -> float:
    """The latency (ms) under which ``share`` of the requests of ``histogram`` (microseconds: count) fell."""
    wanted, seen = share * sum(histogram.values()), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= wanted:
            return value / 1000
    return float("nan")


def run_wrk(wrk: str, url: str, duration: int, connections: int, headers: list[str]) -> dict:
    args = [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(LATENCY_SCRIPT)]
    for header in headers:
        args += ["-H", header]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    recorded = re.search(r"^HISTOGRAM (.+)$", out, re.M)
    if recorded is None:
        raise SystemExit(f"wrk measured no latency for {url}:\n{out}")
    histogram = Counter()
    for pair in recorded.group(1).split():
        value, count = pair.split(":")
        histogram[int(float(value))] += int(float(count))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": rps,
        "p50": percentile(histogram, 0.50),
        "p99": percentile(histogram, 0.99),
        "latencies": histogram,
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "requests": requests,
        "wrk_cpu_ms": wrk_seconds * 1000 / max(1, requests),
    }


def write_session(env: dict, tenant: str, login_id: str) -> str:
    """A logged-in session of ``login_id`` written into the session store (as a login leaves it)."""
    import asyncio
    from dataclasses import replace

    sys.path.insert(0, str(ROOT / "platform"))
    from mypage.db.engine import bind_tables, make_engine
    from mypage.identity.tables import Account
    from mypage.settings import Settings
    from mypage.web.sessions import MAX_AGE_SECONDS

    settings = replace(Settings(), database_url=env.get("MYPAGE_DATABASE_URL", ""), sqlite_path=Path(env["MYPAGE_SQLITE_PATH"]))
    bind_tables(make_engine(settings))

    async def go() -> str:
        account = (
            await Account.select(Account.id, Account.credentials_version)
            .where((Account.tenant == tenant) & (Account.login_id == login_id))
            .first()
        )
        return await new_session(
            tenant, account["id"], MAX_AGE_SECONDS, _kind="customer", credentials_version=account["credentials_version"]
        )

    return asyncio.run(go())


def combined(measured: list[dict]) -> dict:
    """An endpoint's figures over its runs: the median req/s; p50 and p99 of all their requests together; CPU
    per request over all of them."""
    requests = sum(run["requests"] for run in measured)
    latencies = sum((run["latencies"] for run in measured), Counter())
    return {
        "rps": statistics.median(run["rps"] for run in measured),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "errors": sum(run["errors"] for run in measured),
        "requests": requests,
        "cpu_ms": sum(run["cpu_seconds"] for run in measured) * 1000 / max(1, requests),
        "db_cpu_ms": sum(run["db_seconds"] for run in measured) * 1000 / max(1, requests),
        "wrk_cpu_ms": sum(run["wrk_cpu_ms"] * run["requests"] for run in measured) / max(1, requests),
    }


@contextlib.contextmanager
def profiled(args: argparse.Namespace, server_pid: int, name: str) -> Iterator[None]:
    """py-spy recording the server's processes while the block runs, when ``--profile`` asks for it."""
    if not args.profile:
        yield
        return
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    output = Path(args.profile) / (re.sub(r"\W+", "-", name).strip("-") + ".txt")
    command = [args.py_spy, "record", "--pid", str(server_pid), "--subprocesses", "--rate", "250", "--format", "raw"]
    if args.native:
        command.append("--native")  # C frames too (asyncpg's Cython, uvloop): where a round trip's CPU goes
    spy = subprocess.Popen(
        [*command, "--duration", str(args.duration + 1), "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    try:
        yield
    finally:
        spy.wait(timeout=60)


def server_arguments(parser: argparse.ArgumentParser, *, connections: int, connections_help: str | None = None) -> None:
    """The options of a wrk benchmark against the portal: how long, how many connections and workers, which
    database, where py-spy is (for ``--profile``, which each benchmark words for itself)."""
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=connections, help=connections_help)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="run on PostgreSQL (as production does, with a connection pool): a scratch database is created on "
        "this server, e.g. postgresql://postgres@127.0.0.1:5432/test, and dropped afterwards; on a machine that "
        "runs the database, its socket: 'postgresql://postgres@/test?host=/var/run/postgresql'",
    )
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")


def main() -> None:
    parser = argparse.ArgumentParser()
    server_arguments(parser, connections=32)
    parser.set_defaults(duration=3)
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record the portal's workers with py-spy during each endpoint's run (collapsed stacks of CPU samples, "
        "one file per endpoint in DIR; the sampling slows the server, so the figures of such a run do not count)",
    )
    parser.add_argument("--native", action="store_true", help="with --profile: C frames too")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of measurement: in each, every page runs for --duration seconds right after the login page",
    )
    args = parser.parse_args()
    wrk = ensure_wrk()

    workdir = Path(tempfile.mkdtemp(prefix="mypage-bench-"))
    env = production_env(workdir / "bench.sqlite3")
    scratch = None
    if args.postgres:
        scratch = f"mypage_bench_{os.getpid()}"
        admin(args.postgres, f'CREATE DATABASE "{scratch}"')
        env["MYPAGE_DATABASE_URL"] = with_database(args.postgres, scratch)
    print(f"loading demo data into {'PostgreSQL' if scratch else 'SQLite'}…", flush=True)
    subprocess.run([PY, "-m", "mypage.cli", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)

    portal_port, hello_port = free_port(), free_port()
    server_args = ["--host", "127.0.0.1", "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"]
    portal = subprocess.Popen(
        [PY, "-m", "uvicorn", "mypage.app:create_app", "--factory", "--port", str(portal_port), *server_args],
        cwd=ROOT,
        env=env,
    )
    hello = subprocess.Popen(
        [PY, "-m", "uvicorn", "hello_app:app", "--port", str(hello_port), *server_args],
        cwd=ROOT / "bench",
        env=env,
    )
    try:
        host = "aicom.localhost"  # production mode serves tenant hosts only
        wait_up(f"http://127.0.0.1:{portal_port}/healthz", portal, host)
        wait_up(f"http://127.0.0.1:{hello_port}/", hello)
        base = f"http://127.0.0.1:{portal_port}"
        with httpx.Client(base_url=base, headers={"Host": host}) as client:
            client.get("/login")
            token = client.cookies.get("mypage_csrf")
            response = client.post("/login", data={"login_id": "aicom-demo", "password": "Demo1234", "_csrf_token": token})
            if response.status_code != 303:
                raise SystemExit(f"login failed: {response.status_code}")
            session = client.cookies.get("mypage_session")
            assert client.get("/").status_code == 200
        cookie = f"Cookie: mypage_session={session}; mypage_csrf={token}"
        nmedia_session = write_session(env, "nmedia", NMEDIA[0])
        nmedia_host = "nmedia.localhost"
        with httpx.Client(base_url=base, headers={"Host": nmedia_host}, cookies={"mypage_session": nmedia_session}) as client:
            months = client.get(f"/calls/{NMEDIA[1]}")
            found = re.findall(rf"/calls/{NMEDIA[1]}/(\d{{4}}-\d{{2}})", months.text)
            if months.status_code != 200 or not found:
                raise SystemExit(f"nmedia /calls/{NMEDIA[1]}: status {months.status_code}, no month link")
            pages = {
                "nmedia home": "/",
                "billing list": "/billing",
                "contract detail": f"/contracts/{NMEDIA[1]}",
                "call list": f"/calls/{NMEDIA[1]}/{max(found)}",
            }
            for path in pages.values():
                if client.get(path).status_code != 200:
                    raise SystemExit(f"nmedia {path} does not answer 200 with the written session")
            # A browser sends back the CSRF cookie it was given; without it every response would set a new one.
            nmedia_csrf = client.cookies.get("mypage_csrf")
        nmedia_cookie = f"Cookie: mypage_session={nmedia_session}; mypage_csrf={nmedia_csrf}"
        pids = workers(portal.pid, args.workers)
        targets = {
            "login page": (f"{base}/login", [f"Host: {host}"]),
            "logged-in home": (f"{base}/", [f"Host: {host}", cookie]),
            **{name: (f"{base}{path}", [f"Host: {nmedia_host}", nmedia_cookie]) for name, path in pages.items()},
        }
        results = {"hello (bare Litestar)": run_wrk(wrk, f"http://127.0.0.1:{hello_port}/", args.duration, args.connections, [])}
        results["hello (bare Litestar)"]["cpu_ms"] = results["hello (bare Litestar)"]["db_cpu_ms"] = float("nan")
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        shares: dict[str, list[float]] = {name: [] for name in targets if name != "login page"}
        with BackendCpu(scratch or "-") as database:

            def measure(name: str) -> dict:
                url, headers = targets[name]
                db_before = database.settled() if scratch else 0.0
                before = cpu_seconds(pids)
                with profiled(args, portal.pid, name):
                    figures = run_wrk(wrk, url, args.duration, args.connections, headers)
                figures["cpu_seconds"] = cpu_seconds(pids) - before
                figures["db_seconds"] = database.settled() - db_before if scratch else float("nan")
                runs[name].append(figures)
                return figures

            for url, headers in targets.values():
                # One second unmeasured first: every pool connection prepares the page's statements once (on
                # PostgreSQL a plan per statement and connection), which a server does once, not per page view.
                run_wrk(wrk, url, 1, args.connections, headers)
            # Each page is measured right after the login page, round after round: the machine's speed drifts
            # over a run (other tenants of the host, frequency), and a page's share of the login page is taken
            # from runs seconds apart, its median over the rounds.
            for _round in range(args.rounds):
                for name in shares:
                    login = measure("login page")
                    page = measure(name)
                    shares[name].append(page["rps"] / login["rps"] if login["rps"] else 0.0)
        for name, measured in runs.items():
            results[name] = combined(measured)
    finally:
        for proc in (portal, hello):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
        if scratch:
            admin(args.postgres, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')

    baseline = results["hello (bare Litestar)"]["rps"]
    login = results["login page"]["rps"]
    share_of = {name: statistics.median(values) for name, values in shares.items()}
    print(
        f"\ndatabase={'PostgreSQL (pool)' if scratch else 'SQLite'}, uvicorn workers={args.workers}, wrk connections={args.connections}, "
        f"{args.rounds} rounds of {args.duration}s, cores={os.cpu_count()}, load average at the end {os.getloadavg()[0]:.1f}"
    )
    print(
        "(req/s: the median of the rounds; p50, p99 and CPU: of all the rounds' requests; vs login: the median of "
        "each round's page / the login page measured just before it)"
    )
    print(
        f"{'endpoint':24} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'DB ms':>6} {'wrk ms':>7} {'vs hello':>9} "
        f"{'vs login':>9} {'non-2xx':>8}"
    )
    for name, figures in results.items():
        ratio = figures["rps"] / baseline if baseline else 0
        share = share_of.get(name, figures["rps"] / login if login else 0)
        print(
            f"{name:24} {figures['rps']:10.1f} {figures['p50']:8.2f} {figures['p99']:8.2f} {figures['cpu_ms']:7.2f} "
            f"{figures['db_cpu_ms']:6.2f} {figures['wrk_cpu_ms']:7.2f} {ratio:9.2%} {share:9.0%} {figures['errors']:8d}"
        )
    logged_in = [name for name in results if name not in ("hello (bare Litestar)", "login page")]
    worst = min(logged_in, key=lambda name: share_of[name])
    share = share_of[worst]
    slowest_p99 = max(results[name]["p99"] for name in logged_in)
    met = share >= 0.5 and slowest_p99 < 50
    print(
        f"slowest logged-in page / login page: {share:.0%} ({worst}); worst p99 {slowest_p99:.1f} ms "
        f"(target: at least 50% and p99 < 50 ms: {'met' if met else 'NOT met'})"
    )
    home = results["logged-in home"]
    print(
        f"RESULT hello_rps={baseline:.1f} login_page_rps={login:.1f} home_rps={home['rps']:.1f} "
        f"home_vs_login={share_of['logged-in home']:.3f} login_vs_hello={login / baseline if baseline else 0:.3f} "
        f"home_p99_ms={home['p99']:.2f} home_cpu_ms={home['cpu_ms']:.2f} login_page_cpu_ms={results['login page']['cpu_ms']:.2f} "
        f"worst_page_vs_login={share:.3f} worst_p99_ms={slowest_p99:.2f} "
        f"errors={sum(r['errors'] for r in results.values())}"
    )


if __name__ == "__main__":
    main()
