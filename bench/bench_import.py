"""Import benchmark (PostgreSQL): ``mypage import <tenant> calls`` of a large file, its time and memory.

    python bench/bench_import.py [--rows 1000000] [--small 100000] [--postgres SERVER_URL]

Makes a scratch database on the server (dropped afterwards), gives one tenant 1,000 contracts with
``mypage demo --scale``, writes a CSV file of ``--rows`` call records over those contracts (no 明細キー: the
importer derives each key, the slower case) and one of ``--small`` rows, and runs the real command on each
as its own process: wall time, rows per second and the process's peak RSS. Targets: the large file in under
60 s, and the peak RSS of the large file at most 1.2 times the small one's (memory does not grow with the
file). Then it imports the large file again (every row unchanged) and times that too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_http import PY, ROOT, admin
from procs import BackendCpu

sys.path.insert(0, str(ROOT / "platform"))
from mypage.db.engine import with_database

TARGET_SECONDS = 60.0
FLAT_MEMORY = 1.2
TENANT = "aicom"


def contract_numbers(url: str) -> list[str]:
    import asyncpg

    from mypage.db.engine import postgres_config

    async def go() -> list[str]:
        conn = await asyncpg.connect(**postgres_config(url))
        try:
            rows = await conn.fetch(
                "SELECT number FROM contracts WHERE tenant = $1 AND id IN (SELECT contract FROM phone_lines WHERE "
                "tenant = $1 AND number LIKE '050%') ORDER BY id",
                TENANT,
            )
            return [r["number"] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(go())


def write_calls(path: Path, rows: int, contracts: list[str]) -> None:
    kinds = ["ひかり電話・県内", "ひかり電話・県外", "移動体"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("contract_number,started_at,kind,caller,callee,duration,charge\n")
        for n in range(rows):
            contract = contracts[n % len(contracts)]
            day, second = 1 + n % 28, n % 50000
            out.write(
                f"{contract},2025-10-{day:02d} {7 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d},"
                f"{kinds[n % 3]},050{n % 10**8:08d},03{n % 10**8:08d},{n % 3600},{8 * (1 + n % 7)}\n"
            )


def timed_import(env: dict, path: Path, database: str) -> tuple[float, float, str]:
    """Runs ``mypage import`` in a child process: (seconds, peak RSS in MB, its last output line with the
    command's own CPU seconds and those of the PostgreSQL backends it used, when the server is local)."""
    script = (
        "import resource, sys\nfrom mypage.cli import main\ntry:\n    main()\nfinally:\n"
        "    usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "    print(f'PEAK_RSS_KB={usage.ru_maxrss} CPU_S={usage.ru_utime + usage.ru_stime:.1f}', file=sys.stderr)\n"
    )
    started = time.perf_counter()
    with BackendCpu(database) as backends:
        proc = subprocess.run(
            [PY, "-c", script, "import", TENANT, "calls", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    tail = proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()
    cpu = tail[1].split("=")[1]
    summary = f"{proc.stdout.strip().splitlines()[-1]}; command CPU {cpu} s, PostgreSQL backends CPU {backends.seconds:.1f} s"
    return seconds, int(tail[0]) / 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", metavar="SERVER_URL")
    args = parser.parse_args()
    database = f"mypage_import_{os.getpid()}"
    url = with_database(args.postgres, database)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "platform"), "MYPAGE_DATABASE_URL": url}
    workdir = Path(tempfile.mkdtemp(prefix="mypage-bench-import-"))
    load_at_start = os.getloadavg()[0]
    admin(args.postgres, f'CREATE DATABASE "{database}"')
    try:
        subprocess.run(
            [PY, "-m", "mypage.cli", "demo", "--scale", "1000", "--tenant", TENANT],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        contracts = contract_numbers(url)
        small, large = workdir / "small.csv", workdir / "large.csv"
        write_calls(small, args.small, contracts)
        write_calls(large, args.rows, contracts[::-1])  # other contracts' keys: all new rows again
        size_mb = large.stat().st_size / 1e6
        print(f"files written: {args.small:,} and {args.rows:,} rows ({size_mb:.0f} MB)", flush=True)
        small_s, small_rss, summary = timed_import(env, small, database)
        print(f"  {args.small:>9,} rows: {small_s:6.1f} s, peak RSS {small_rss:.0f} MB  ({summary})", flush=True)
        large_s, large_rss, summary = timed_import(env, large, database)
        print(f"  {args.rows:>9,} rows: {large_s:6.1f} s, peak RSS {large_rss:.0f} MB  ({summary})", flush=True)
        again_s, again_rss, summary = timed_import(env, large, database)
        print(f"  again (unchanged): {again_s:6.1f} s, peak RSS {again_rss:.0f} MB  ({summary})", flush=True)
    finally:
        admin(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for item in workdir.iterdir():
            item.unlink()
        workdir.rmdir()

    growth = large_rss / small_rss
    print(
        f"\nPostgreSQL, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (at the start {load_at_start:.1f}); "
        "times include starting the command"
    )
    print(
        f"{args.rows:,} call records in {large_s:.1f} s ({args.rows / large_s:,.0f} rows/s): target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if large_s < TARGET_SECONDS else 'NOT met'}"
    )
    print(
        f"peak RSS {large_rss:.0f} MB for {args.rows:,} rows vs {small_rss:.0f} MB for {args.small:,} ({growth:.2f}x): "
        f"target <= {FLAT_MEMORY}x: {'met' if growth <= FLAT_MEMORY else 'NOT met'}"
    )
    print(
        f"RESULT rows={args.rows} import_seconds={large_s:.1f} rows_per_second={args.rows / large_s:.0f} "
        f"peak_rss_mb={large_rss:.0f} small_peak_rss_mb={small_rss:.0f} rss_growth={growth:.3f} again_seconds={again_s:.1f}"
    )


if __name__ == "__main__":
    main()
