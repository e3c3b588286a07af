"""Benchmark: the 通話明細 CSV export of one contract/month with 100,000 call records.

    .venv/bin/python bench/bench_calls_csv.py [--rows 100000] [--batch N] [--repeat 3]

Builds a temporary SQLite database (migrated like production) with one nmedia customer, one contract and
``--rows`` call records in one month, then measures:

1. the export generator (``calls.export.csv_chunks``, pages of ``--batch`` rows, by default the export's own
   ``PAGE_SIZE``) driven directly, ``--repeat`` times: wall time (median and spread), bytes, chunks, the ratio
   to the target (100,000 rows in < 0.5 s, scaled to ``--rows``) and, in the same run, the ratio to the
   row-by-row export this replaced (Piccolo dict rows in pages of 1,000, ``csv_row`` + ``safe_row`` and one
   ``writerow`` per row); then the peak of Python memory allocated while it runs (tracemalloc), at 10% of the
   rows and at all of them: a constant-memory export has about the same peak for both;
2. the whole HTTP route (``GET /calls/<contract>/<month>/csv``) in-process through Litestar's TestClient with
   a logged-in session: wall time, status, bytes and rows. (The test client collects the body before it
   returns, so its memory figure is not the server's; the server streams the generator measured in 1.)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from mypage.settings import Settings  # noqa: E402

JST = timezone(timedelta(hours=9))
MONTH = "2023-12"
NUMBER = "CAF0000000001"


async def build(settings: Settings, rows: int) -> tuple[int, int, int]:
    from mypage.db.engine import bind_tables, make_engine
    from mypage.db.migrate import migrate
    from mypage.identity.tables import Account
    from mypage.records.tables import CallRecord, Contract, Customer

    engine = make_engine(settings)
    bind_tables(engine)
    await migrate(engine)
    customer = Customer(tenant="nmedia", number=NUMBER, name="顧客r")
    await customer.save()
    account = Account(tenant="nmedia", customer=customer.id, login_id="bench1", login_id_display="bench1", role="admin")
    await account.save()
    contract = Contract(tenant="nmedia", customer=customer.id, number=NUMBER, call_details_from="2023-01")
    await contract.save()
    start = datetime(2023, 12, 1, 0, 0, tzinfo=JST)
    kinds = ("ひかり電話・県内", "PSTN・県間", "移動体")
    batch = []
    for i in range(rows):
        batch.append(
            CallRecord(
                tenant="nmedia",
                contract=contract.id,
                month=MONTH,
                started_at=(start + timedelta(seconds=20 * i)).astimezone(UTC),
                kind=kinds[i % 3],
                caller="0611115555",
                callee=f"0638{i % 1000000:06d}",
                duration_seconds=5 + i % 600,
                charge=8 * (1 + i % 3),
                record_key=f"bench-{i}",
            )
        )
        if len(batch) == 500:
            await CallRecord.insert(*batch)
            batch = []
    if batch:
        await CallRecord.insert(*batch)
    return customer.id, account.id, contract.id


TARGET_SECONDS_PER_100K = 0.5


async def row_by_row_chunks(repo, month: str, encoding: str = "utf-8-sig", batch_size: int = 1000):
    """The export as it was before issue 10 (for a same-run comparison): Piccolo dict rows in keyset pages
    of 1,000, one ``csv_row`` + ``safe_row`` + ``writerow`` per row, one encode per page."""
    import codecs

    from mypage.calls.export import ENCODINGS, csv_row, header
    from mypage.records.tables import CallRecord
    from mypage.web.csvout import safe_row

    columns = (
        CallRecord.id,
        CallRecord.started_at,
        CallRecord.kind,
        CallRecord.caller,
        CallRecord.callee,
        CallRecord.duration_seconds,
        CallRecord.charge,
    )
    encoder = codecs.getincrementalencoder(ENCODINGS.get(encoding, "utf-8-sig"))(errors="replace")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(header()))
    last = None
    while True:
        query = (
            CallRecord.select(*columns)
            .where(CallRecord.tenant == repo.slug)
            .where(CallRecord.contract == repo.contract_id)
            .where(CallRecord.month == month)
        )
        if last is not None:
            query = query.where(CallRecord.started_at >= last[0]).where(
                (CallRecord.started_at > last[0]) | (CallRecord.id > last[1])
            )
        rows = await query.order_by(CallRecord.started_at).order_by(CallRecord.id).limit(batch_size)
        for row in rows:
            writer.writerow(safe_row(csv_row(row)))
        yield encoder.encode(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < batch_size:
            break
        last = (rows[-1]["started_at"], rows[-1]["id"])
    yield encoder.encode(buffer.getvalue(), final=True)


async def run_generator(
    portal, contract_id: int, limit_rows: int | None, batch: int | None, trace: bool = True, legacy: bool = False
) -> dict:
    """Drives csv_chunks; with ``limit_rows`` stops after that many rows (same code path, smaller month).
    ``trace``: measure the peak of Python memory (tracemalloc slows the run down: time it without).
    ``legacy``: drive :func:`row_by_row_chunks` instead."""
    from mypage.calls.export import PAGE_SIZE, csv_chunks
    from mypage.calls.repository import CallRepository

    repo = CallRepository(portal.tenants.get("nmedia"), contract_id)
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    size = chunks = lines = 0
    generator = row_by_row_chunks(repo, MONTH) if legacy else csv_chunks(repo, MONTH, "utf-8-sig", batch_size=batch or PAGE_SIZE)
    async for chunk in generator:
        size += len(chunk)
        chunks += 1
        lines += chunk.count(b"\r\n")
        if limit_rows is not None and lines > limit_rows:
            break
    await generator.aclose()
    elapsed = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"seconds": elapsed, "bytes": size, "chunks": chunks, "rows": lines - 1, "peak": peak}


def run_http(settings: Settings, portal, account_id: int) -> dict:
    from litestar.testing import TestClient

    from mypage.app import create_app
    from mypage.web.sessions import COOKIE_NAME
    from server_env import new_session

    session_id = asyncio.run(new_session("nmedia", account_id))
    app = create_app(settings, portal=portal)
    with TestClient(app, base_url="http://nmedia.localhost") as client:
        client.cookies.set(COOKIE_NAME, session_id)
        started = time.perf_counter()
        size = 0
        body = io.BytesIO()
        with client.stream("GET", f"/calls/{NUMBER}/{MONTH}/csv") as response:
            status = response.status_code
            for chunk in response.iter_bytes():
                size += len(chunk)
                body.write(chunk)
        elapsed = time.perf_counter() - started
    rows = sum(1 for _ in csv.reader(io.StringIO(body.getvalue().decode("utf-8-sig")))) - 1
    return {"seconds": elapsed, "status": status, "bytes": size, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=None, help="rows per keyset query (default: the export's PAGE_SIZE)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the generator")
    args = parser.parse_args()

    from mypage.portal import Portal

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(sqlite_path=Path(folder) / "bench.sqlite3", secret_key="bench-" + "k" * 40, dev_mode=True)
        started = time.perf_counter()
        _, account_id, contract_id = asyncio.run(build(settings, args.rows))
        print(f"database: {args.rows:,} call records for {NUMBER} {MONTH} built in {time.perf_counter() - started:.1f} s")
        portal = Portal(settings)

        from mypage.calls.export import PAGE_SIZE

        target = TARGET_SECONDS_PER_100K * args.rows / 100_000
        runs, legacy_runs = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            runs.append(asyncio.run(run_generator(portal, contract_id, None, args.batch, trace=False)))
            legacy_runs.append(asyncio.run(run_generator(portal, contract_id, None, None, trace=False, legacy=True)))
        small = asyncio.run(run_generator(portal, contract_id, args.rows // 10, args.batch))
        full = asyncio.run(run_generator(portal, contract_id, None, args.batch))
        for n, (timed, old) in enumerate(zip(runs, legacy_runs, strict=False), 1):
            print(
                f"{f'generator, run {n}':24s} rows {timed['rows']:>9,}  {timed['seconds']:6.2f} s  "
                f"{timed['rows'] / max(timed['seconds'], 1e-9):>9,.0f} rows/s  "
                f"{timed['bytes'] / 1e6:6.2f} MB in {timed['chunks']:,} chunks;  row-by-row export: {old['seconds']:6.2f} s"
            )
            if timed["bytes"] != old["bytes"]:
                raise SystemExit("the row-by-row export wrote other bytes")
        seconds = statistics.median(r["seconds"] for r in runs)
        old_seconds = statistics.median(r["seconds"] for r in legacy_runs)
        met = seconds < target
        print(
            f"generator median {seconds:.3f} s (spread {min(r['seconds'] for r in runs):.3f}–{max(r['seconds'] for r in runs):.3f}), "
            f"page size {args.batch or PAGE_SIZE}: {seconds / target:.2f}x the target of {target:.2f} s "
            f"({'met' if met else 'NOT met'}); row-by-row export in the same run {old_seconds:.3f} s "
            f"(spread {min(r['seconds'] for r in legacy_runs):.3f}–{max(r['seconds'] for r in legacy_runs):.3f}) = "
            f"{old_seconds / seconds:.1f}x slower"
        )
        for label, result in (("traced, first 10%", small), ("traced, whole month", full)):
            print(f"{label:24s} rows {result['rows']:>9,}  peak Python memory {result['peak'] / 1e6:6.2f} MB")
        growth = full["peak"] / max(small["peak"], 1)
        print(f"peak memory, whole month / first 10%: {growth:.2f}x (about 1x: memory does not grow with the month)")
        print(
            f"RESULT csv_seconds={seconds:.3f} target_seconds={target:.2f} met={'yes' if met else 'no'} "
            f"row_by_row_seconds={old_seconds:.3f} peak10_mb={small['peak'] / 1e6:.2f} peak100_mb={full['peak'] / 1e6:.2f} "
            f"growth={growth:.2f}"
        )

        http = run_http(settings, portal, account_id)
        print(
            f"{'HTTP route (TestClient)':24s} rows {http['rows']:>9,}  {http['seconds']:6.2f} s  "
            f"{http['rows'] / max(http['seconds'], 1e-9):>9,.0f} rows/s  {http['bytes'] / 1e6:6.2f} MB  status {http['status']}"
        )
        if http["status"] != 200 or http["rows"] != args.rows or full["rows"] != args.rows:
            raise SystemExit("export incomplete")


if __name__ == "__main__":
    main()
