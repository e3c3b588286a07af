"""Benchmark: the billing pages and the invoice PDF.

    .venv/bin/python bench/bench_billing.py [--customers 100] [--months 24] [--runs 50] [--pdf-runs 10] [--no-http]

Builds a temporary SQLite database (migrated like production) with demo-like data for the aicom (month
list) and nmedia (fiscal year per contract) tenants: ``--customers`` customers per tenant, each with two
contracts in one billing group and ``--months`` monthly invoices of 5 lines (10% and 8% rates, a
discount), then measures through Litestar's TestClient with a logged-in session:

1. ``GET /billing`` (aicom, 15-month list), ``GET /billing/month/<m>`` (aicom detail) and
   ``GET /billing/contract/<n>?year=<y>`` (nmedia fiscal year, 12 months): mean, p95, max;
2. ``GET /billing/<invoice>/pdf`` (WeasyPrint, Japanese fonts), warm (templates, stylesheets and fonts
   loaded): **uncached** (the PDF cache is emptied before each request, so every request lays the invoice
   out) and **cached** (the same invoice again: answered from the content-addressed PDF cache); mean, p50,
   p95, max and the PDF size, and in the same run the ratios to the 50 ms target and uncached / cached;
3. peak Python memory (tracemalloc) of one page render and of one PDF render, and the process's maximum
   resident set size (``resource.getrusage``);
4. the invoice PDF **as a customer gets it**: ``mypage run --workers 1`` (production settings: a pool of
   SQLite connections, access log) on the same database, sequential requests over real HTTP. Each customer
   is a browser of its own (a keep-alive connection, its session and CSRF cookies) that opens a month's
   page, then downloads that month's invoice: **uncached**, since every download is another invoice (a first
   render; ``--pdf-runs`` of them, after a warm-up that has every PDF thread render once), then **cached**,
   the last invoice again (``--runs`` times); p50, p95 and the server's CPU per download (from /proc). The
   target row of ``run_all.py`` is this uncached figure; the test client's (dev settings: a new SQLite
   connection per query) stays beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT / "bench"))

from mypage.settings import Settings  # noqa: E402
from server_env import mypage_run, new_session  # noqa: E402

NEWEST = "2023-12"


def months_back(newest: str, count: int) -> list[str]:
    year, mon = (int(p) for p in newest.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        mon -= 1
        if mon == 0:
            year, mon = year - 1, 12
    return out


async def build(settings: Settings, customers: int, months: int) -> dict[str, list[int]]:
    """The database; returns each tenant's account ids, one per customer (``[c]`` signs in as customer c)."""
    from mypage.db.engine import bind_tables, make_engine
    from mypage.db.migrate import migrate

    engine = make_engine(settings)
    bind_tables(engine)
    await migrate(engine)
    accounts: dict[str, list[int]] = {"aicom": [], "nmedia": []}
    month_list = months_back(NEWEST, months)
    async with engine.transaction():
        await _fill(accounts, month_list, customers)
    return accounts


async def _fill(accounts: dict[str, list[int]], month_list: list[str], customers: int) -> None:
    from mypage.identity.tables import Account
    from mypage.records.tables import BillingGroup, Contract, Customer, Invoice, InvoiceLine

    for tenant in ("aicom", "nmedia"):
        for c in range(customers):
            number = f"CAF{c + 1:010d}"
            customer = Customer(
                tenant=tenant,
                number=number,
                name=f"顧客{c}",
                name_kana="コキャク",
                postal_code="5340024",
                prefecture="大阪府",
                address1="大阪市都島区東野田町",
                email=f"c{c}@example.jp",
            )
            await customer.save()
            group = BillingGroup(tenant=tenant, customer=customer.id, code=f"G{c:06d}", name="一括請求")
            await group.save()
            hikari = Contract(
                tenant=tenant, customer=customer.id, billing_group=group.id, number=number, service_name="mediaひかり"
            )
            cloud = Contract(
                tenant=tenant, customer=customer.id, billing_group=group.id, number=f"COP{c + 1:08d}", service_name="Lite Storage"
            )
            await hikari.save()
            await cloud.save()
            login_id = f"bench-{tenant}" if c == 0 else f"bench-{tenant}-{c}"
            account = Account(tenant=tenant, customer=customer.id, login_id=login_id, login_id_display="bench", role="owner")
            await account.save()
            accounts[tenant].append(account.id)
            invoices, lines = [], []
            for month in month_list:
                year, mon = (int(p) for p in month.split("-"))
                invoices.append(
                    Invoice(
                        tenant=tenant,
                        customer=customer.id,
                        billing_group=group.id,
                        number=f"{tenant[:1].upper()}{c:06d}{month.replace('-', '')}",
                        month=month,
                        issued_on=date(year, mon, 9),
                        due_on=date(year, mon, 27),
                    )
                )
            rows = await Invoice.insert(*invoices).returning(Invoice.id)
            for row in rows:
                for position, (desc, amount, rate, contract) in enumerate(
                    (
                        ("mediaひかり 基本料金", 4800, 10, hikari.id),
                        ("mediaITサポート24", 3300, 10, hikari.id),
                        ("長期継続割引", -550, 10, hikari.id),
                        ("情報誌（定期購読）", 1249, 8, hikari.id),
                        ("Lite Storage", 1000, 10, cloud.id),
                    ),
                    start=1,
                ):
                    lines.append(
                        InvoiceLine(
                            tenant=tenant,
                            invoice=row["id"],
                            contract=contract,
                            position=position,
                            description=desc,
                            amount=amount,
                            tax_rate=rate,
                            note="",
                        )
                    )
            for start in range(0, len(lines), 500):
                await InvoiceLine.insert(*lines[start : start + 500])


def signed_in(app, tenant: str, account_id: int):
    from litestar.testing import TestClient

    from mypage.web.sessions import COOKIE_NAME

    client = TestClient(app, base_url=f"http://{tenant}.localhost")
    client.cookies.set(COOKIE_NAME, asyncio.run(new_session(tenant, account_id)))
    return client


def invoice_number(tenant: str, customer: int, month: str) -> str:
    """The number ``_fill`` gives customer ``customer``'s invoice of ``month``."""
    return f"{tenant[:1].upper()}{customer:06d}{month.replace('-', '')}"


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * len(times)) - 1)],
        "max": times[-1],
    }


def over_http(sqlite_path: Path, accounts: list[int], months: list[str], pdf_runs: int, runs: int) -> dict:
    """The invoice PDF from ``mypage run --workers 1`` (production settings) over real HTTP, sequentially:
    uncached (each download another customer's or month's invoice: a first render) and cached (the last one
    again). ``accounts``: the aicom account of each customer, signed in by sessions written before the start."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from mypage.db.engine import bind_tables, make_engine
    from procs import cpu_seconds

    bind_tables(make_engine(Settings(sqlite_path=sqlite_path)))
    sessions = [asyncio.run(new_session("aicom", account)) for account in accounts]
    # Every download is another invoice: customer c's invoice of months[m], customers first.
    order = [(c, month) for month in months for c in range(len(accounts))]
    warm = 2 * (os.cpu_count() or 1)  # concurrently: every thread of the PDF pool renders (and loads its fonts)
    if len(order) < warm + 1 + pdf_runs:
        raise SystemExit(f"--customers x --months = {len(order)} invoices: fewer than the {warm + 1 + pdf_runs} downloads needed")
    log_path = sqlite_path.with_name("server.log")
    with mypage_run(sqlite_path, log_path, "--workers", "1", "--no-demo") as (server, base):
        browsers: dict[int, httpx.Client] = {}

        def browser(c: int) -> httpx.Client:
            """Customer c's browser: its session, the CSRF cookie it is given, one keep-alive connection."""
            if c not in browsers:
                browsers[c] = httpx.Client(
                    base_url=base, headers={"Host": "aicom.localhost"}, cookies={"mypage_session": sessions[c]}, timeout=60
                )
            return browsers[c]

        def open_month(c: int, month: str) -> str:
            """The month's page, with the download link (not measured); returns the PDF's URL."""
            page = browser(c).get(f"/billing/month/{month}")
            url = f"/billing/{invoice_number('aicom', c, month)}/pdf"
            if page.status_code != 200 or url not in page.text:
                raise SystemExit(f"customer {c} GET /billing/month/{month}: {page.status_code}, no link to {url}")
            return url

        def download(c: int, url: str) -> float:
            started = time.perf_counter()
            response = browser(c).get(url)
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                raise SystemExit(f"customer {c} GET {url}: {response.status_code}")
            return elapsed

        with ThreadPoolExecutor(warm) as clients:
            list(clients.map(lambda item: download(item[0], open_month(*item)), order[:warm]))
        download(order[warm][0], open_month(*order[warm]))  # and one alone: the pool settled
        uncached, cpu = [], 0.0
        for c, month in order[warm + 1 : warm + 1 + pdf_runs]:
            url = open_month(c, month)
            before = cpu_seconds([server.pid])
            uncached.append(download(c, url))
            cpu += cpu_seconds([server.pid]) - before
        c, month = order[warm + pdf_runs]
        client, url = browser(c), f"/billing/{invoice_number('aicom', c, month)}/pdf"
        cached = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            cached.append(time.perf_counter() - started)
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                raise SystemExit(f"customer {c} GET {url} again: {response.status_code}")
        for client in browsers.values():
            client.close()
    if os.environ.get("BENCH_SHOW_LOG"):
        print(log_path.read_text()[-5000:])
    return {"uncached": percentiles(uncached), "cached": percentiles(cached), "cpu": cpu / len(uncached), "runs": len(uncached)}


PDF_TARGET = 0.050


def measure(client, url: str, runs: int, expect: bytes, before=None) -> dict:
    times, size = [], 0
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        if response.status_code != 200 or expect not in response.content:
            raise SystemExit(f"{url}: status {response.status_code}")
        size = len(response.content)
    return {"mean": statistics.fmean(times), **percentiles(times), "bytes": size, "runs": runs}


def peak_memory(client, url: str, before=None) -> int:
    if before is not None:
        before()
    tracemalloc.start()
    tracemalloc.reset_peak()
    client.get(url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def layout_only(portal, client, url: str, runs: int) -> dict:
    """``html_to_pdf`` alone on the invoice's HTML and stylesheets (as the route hands them over), in a
    thread of the PDF pool like the route: median wall time and CPU time of that thread."""
    from mypage.documents import pdf

    captured = {}
    original = pdf.html_to_pdf

    def capture(html, stylesheets=None):
        captured["args"] = (html, stylesheets)
        return original(html, stylesheets)

    pdf.pdf_cache.clear()
    pdf.html_to_pdf = capture
    try:
        client.get(url)
    finally:
        pdf.html_to_pdf = original

    def timed():
        wall, cpu = time.perf_counter(), time.thread_time()
        original(*captured["args"])
        return time.perf_counter() - wall, time.thread_time() - cpu

    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = pdf._pool.submit(timed).result()
        walls.append(wall)
        cpus.append(cpu)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pdf-runs", type=int, default=20)
    parser.add_argument("--no-http", action="store_true", help="only the test client (no server over HTTP)")
    args = parser.parse_args()

    from mypage.app import create_app
    from mypage.documents.pdf import pdf_cache
    from mypage.portal import Portal

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a record per request of the clients, not wanted here

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(sqlite_path=Path(folder) / "bench.sqlite3", secret_key="bench-" + "k" * 40, dev_mode=True)
        started = time.perf_counter()
        accounts = asyncio.run(build(settings, args.customers, args.months))
        invoices = 2 * args.customers * args.months
        print(
            f"database: 2 tenants x {args.customers} customers x {args.months} months = {invoices:,} invoices, "
            f"{invoices * 5:,} lines, built in {time.perf_counter() - started:.1f} s"
        )
        portal = Portal(settings)
        app = create_app(settings, portal=portal)
        aicom = signed_in(app, "aicom", accounts["aicom"][0])
        nmedia = signed_in(app, "nmedia", accounts["nmedia"][0])
        pdf_url = f"/billing/A000000{NEWEST.replace('-', '')}/pdf"
        cases = [
            ("aicom  GET /billing (15 months)", aicom, "/billing", args.runs, "ご利用料金".encode()),
            (f"aicom  GET /billing/month/{NEWEST}", aicom, f"/billing/month/{NEWEST}", args.runs, "ご利用料金の明細".encode()),
            (
                "nmedia GET /billing/contract/..?year",
                nmedia,
                f"/billing/contract/CAF0000000001?year={NEWEST[:4]}",
                args.runs,
                "（請求月）".encode(),
            ),
            ("aicom  GET /billing/<invoice>/pdf uncached", aicom, pdf_url, args.pdf_runs, b"%PDF", pdf_cache.clear),
            ("aicom  GET /billing/<invoice>/pdf cached", aicom, pdf_url, args.runs, b"%PDF"),
        ]
        for client, url in ((aicom, "/billing"), (aicom, pdf_url)):  # warm-up (templates, fonts)
            client.get(url)
        for _ in range(3):  # warm-up of the uncached path (each PDF thread loads its fonts once)
            pdf_cache.clear()
            aicom.get(pdf_url)
        print(
            f"{'case':42s} {'runs':>5s} {'mean ms':>9s} {'p50 ms':>9s} {'p95 ms':>9s} {'max ms':>9s} {'bytes':>9s} {'peak MB':>8s}"
        )
        results = {}
        for label, client, url, runs, expect, *before in cases:
            result = results[label] = measure(client, url, runs, expect, *before)
            peak = peak_memory(client, url, *before)
            print(
                f"{label:42s} {runs:5d} {result['mean'] * 1000:9.1f} {result['p50'] * 1000:9.1f} {result['p95'] * 1000:9.1f} "
                f"{result['max'] * 1000:9.1f} {result['bytes']:9,d} {peak / 1e6:8.2f}"
            )
        layout = layout_only(portal, aicom, pdf_url, args.pdf_runs)
        print(
            f"{'  of which WeasyPrint layout + PDF (thread)':42s} {args.pdf_runs:5d} {'':9s} {layout['wall'] * 1000:9.1f}"
            f"   (median wall; {layout['cpu'] * 1000:.1f} ms CPU)"
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process max RSS: {rss:.0f} MB; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        uncached = results["aicom  GET /billing/<invoice>/pdf uncached"]["p50"]
        cached = results["aicom  GET /billing/<invoice>/pdf cached"]["p50"]
        http = None
        if not args.no_http:
            http = over_http(settings.sqlite_path, accounts["aicom"], months_back(NEWEST, args.months), args.pdf_runs, args.runs)
            print(
                f"\nover HTTP: mypage run --workers 1 (production settings, SQLite), sequential downloads, each customer's "
                f"browser on its own keep-alive connection; load average {os.getloadavg()[0]:.1f}"
            )
            print(f"{'case':42s} {'runs':>5s} {'p50 ms':>9s} {'p95 ms':>9s} {'max ms':>9s} {'server CPU ms':>14s}")
            for label, key, count, cpu in (
                ("GET /billing/<invoice>/pdf uncached", "uncached", http["runs"], f"{http['cpu'] * 1000:14.1f}"),
                ("GET /billing/<invoice>/pdf cached", "cached", args.runs, ""),
            ):
                figures = http[key]
                print(
                    f"{label:42s} {count:5d} {figures['p50'] * 1000:9.1f} {figures['p95'] * 1000:9.1f} "
                    f"{figures['max'] * 1000:9.1f} {cpu}"
                )
    print()
    print(
        f"invoice PDF, median, test client: uncached {uncached * 1000:.1f} ms = {uncached / PDF_TARGET:.2f}x the 50 ms target "
        f"({'met' if uncached < PDF_TARGET else 'NOT met'}); cached {cached * 1000:.1f} ms = "
        f"{cached / PDF_TARGET:.2f}x the target ({'met' if cached < PDF_TARGET else 'NOT met'}); "
        f"uncached / cached = {uncached / cached:.1f}x"
    )
    if http is not None:
        first, again = http["uncached"]["p50"], http["cached"]["p50"]
        print(
            f"invoice PDF, median, over HTTP: uncached {first * 1000:.1f} ms = {first / PDF_TARGET:.2f}x the target "
            f"({'met' if first < PDF_TARGET else 'NOT met'}); cached {again * 1000:.1f} ms = {again / PDF_TARGET:.2f}x "
            f"({'met' if again < PDF_TARGET else 'NOT met'}); server CPU per uncached download {http['cpu'] * 1000:.1f} ms"
        )
    print(
        f"layout alone: {layout['wall'] * 1000:.1f} ms wall, {layout['cpu'] * 1000:.1f} ms CPU = "
        f"{layout['cpu'] / PDF_TARGET:.2f}x the target in CPU time"
    )
    over = (
        ""
        if http is None
        else (
            f" pdf_http_uncached_ms={http['uncached']['p50'] * 1000:.1f} pdf_http_uncached_p95_ms={http['uncached']['p95'] * 1000:.1f}"
            f" pdf_http_cached_ms={http['cached']['p50'] * 1000:.1f} pdf_http_cpu_ms={http['cpu'] * 1000:.1f}"
        )
    )
    print(
        f"RESULT pdf_uncached_ms={uncached * 1000:.1f} pdf_cached_ms={cached * 1000:.1f} "
        f"layout_wall_ms={layout['wall'] * 1000:.1f} layout_cpu_ms={layout['cpu'] * 1000:.1f} "
        f"billing_list_ms={results['aicom  GET /billing (15 months)']['p50'] * 1000:.1f}{over}"
    )


if __name__ == "__main__":
    main()
