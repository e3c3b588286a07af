"""通話料金明細: paging, totals, streamed CSV (BOM / CP932), the how-to for contracts that did not apply, 404s."""

import csv
import io
from datetime import datetime

import contract_records as rec
import pytest


def setup_nmedia(call_details_from="2023-12"):
    cust = rec.customer("nmedia", "CAF0000000001")
    acc = rec.account("nmedia", cust, "m95au6", role="admin")
    contract = rec.contract("nmedia", cust, "CAF0000000001", call_details_from=call_details_from)
    return cust, acc, contract


def test_month_page_rows_format_paging_and_total(app, client_for):
    _, acc, contract = setup_nmedia()
    # 250 calls: 8円 each, every 10th one 16円 -> 225*8 + 25*16
    rec.calls(
        "nmedia",
        contract,
        "2023-12",
        250,
        start=datetime(2023, 12, 1, 10, 19, tzinfo=rec.JST),
        charge=lambda i: 16 if i % 10 == 9 else 8,
    )
    rec.calls("nmedia", contract, "2023-11", 3, start=datetime(2023, 11, 30, 9, 0, tzinfo=rec.JST), charge=100)
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    page = client.get("/calls/CAF0000000001/2023-12")
    assert page.status_code == 200
    html = page.text
    for header in ("日時", "利用種類", "通話元", "通話先", "通話時間", "料金"):
        assert header in html
    assert "通話料金明細" in html
    assert "12/01 10:19" in html and "00:00:34" in html and "8円" in html and "ひかり電話・県内" in html
    assert "0611115555" in html and "0638840000" in html
    assert html.count("<tr>") - 1 == 100  # page_size = 100 (+ header row)
    total = 225 * 8 + 25 * 16
    assert f"{total:,}円" in html and "250件" in html
    assert "1 / 3 ページ" in html and 'href="?page=2"' in html
    last = client.get("/calls/CAF0000000001/2023-12?page=3").text
    assert last.count("<tr>") - 1 == 50
    assert "12/01 14:28" in last  # the 250th call: 10:19 + 249 minutes
    assert "12/01 10:19" not in last
    assert client.get("/calls/CAF0000000001/2023-12?page=abc").status_code == 200
    for past_the_end in ("99", "4", "9" * 40):  # the last screen, with the month's totals
        beyond = client.get(f"/calls/CAF0000000001/2023-12?page={past_the_end}")
        assert beyond.status_code == 200
        assert beyond.text.count("<tr>") - 1 == 50 and "3 / 3 ページ" in beyond.text and f"{total:,}円" in beyond.text
    first = client.get("/calls/CAF0000000001/2023-12?page=-2").text
    assert "1 / 3 ページ" in first and "12/01 10:19" in first
    # the first of repeated values, whoever parses the query (on PostgreSQL the screen is read with the session)
    for query, shown in (
        ("page=3&page=1", "3 / 3 ページ"),
        ("page=%32&lang=ja", "2 / 3 ページ"),
        ("page=&page=2", "1 / 3 ページ"),
    ):
        assert shown in client.get(f"/calls/CAF0000000001/2023-12?{query}").text, query
    november = client.get("/calls/CAF0000000001/2023-11")
    # applied from 2023-12: November is before recording started, and no second application is asked for
    assert "2023年11月分の通話明細はありません。" in november.text
    assert "この契約の通話明細は2023年12月分からご覧いただけます。" in november.text
    assert "別途申請が必要" not in november.text and "/inquiries?category=call_details" not in november.text
    months = client.get("/calls/CAF0000000001").text
    assert 'href="/calls/CAF0000000001/2023-12"' in months and "/calls/CAF0000000001/2023-11" not in months


def test_csv_utf8_bom_header_rows_and_cp932(app, client_for):
    _, acc, contract = setup_nmedia()
    rec.calls("nmedia", contract, "2023-12", 2345, start=datetime(2023, 12, 1, 10, 19, tzinfo=rec.JST))
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    response = client.get("/calls/CAF0000000001/2023-12/csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="calls-CAF0000000001-2023-12.csv"' in response.headers["content-disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["日時", "利用種類", "通話元", "通話先", "通話時間", "料金(円)"]
    assert len(rows) == 1 + 2345
    assert rows[1] == ["2023/12/01 10:19:00", "ひかり電話・県内", "0611115555", "0638840000", "00:00:34", "8"]
    assert rows[2][0] == "2023/12/01 10:20:00" and rows[2][1] == "PSTN・県間"
    stamps = [r[0] for r in rows[1:]]
    assert stamps == sorted(stamps) and len(set(stamps)) == 2345  # keyset paging: no row twice, none lost
    sjis = client.get("/calls/CAF0000000001/2023-12/csv?encoding=cp932")
    assert sjis.status_code == 200 and "shift_jis" in sjis.headers["content-type"]
    assert not sjis.content.startswith(b"\xef\xbb\xbf")
    decoded = list(csv.reader(io.StringIO(sjis.content.decode("cp932"))))
    assert decoded == rows
    # an unknown encoding falls back to the default
    assert client.get("/calls/CAF0000000001/2023-12/csv?encoding=ebcdic").content.startswith(b"\xef\xbb\xbf")


def test_keyset_pagination_with_equal_timestamps(app, db, portal):
    from conftest import run
    from mypage.calls.export import csv_chunks
    from mypage.calls.repository import CallRepository

    _, _, contract = setup_nmedia()
    same = datetime(2023, 12, 1, 10, 19, tzinfo=rec.JST)
    rec.calls("nmedia", contract, "2023-12", 5, start=same)

    async def same_time():
        from mypage.records.tables import CallRecord

        await CallRecord.update({CallRecord.started_at: same}).where(CallRecord.contract == contract.id)

    run(same_time())

    async def collect():
        repo = CallRepository(portal.tenants.get("nmedia"), contract.id)
        return b"".join([chunk async for chunk in csv_chunks(repo, "2023-12", batch_size=2)])

    lines = run(collect()).decode("utf-8-sig").strip().split("\r\n")
    assert len(lines) == 6
    assert len({line.split(",")[3] for line in lines[1:]}) == 5


def test_not_applied_contract_shows_how_to_apply(app, client_for):
    _, acc, contract = setup_nmedia(call_details_from=None)
    rec.phone_line("nmedia", contract, "0611115555")
    rec.calls("nmedia", contract, "2023-12", 3)
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    for path in ("/calls/CAF0000000001/2023-12", "/calls/CAF0000000001"):
        page = client.get(path)
        assert page.status_code == 200
        assert "通話明細のご利用には別途申請が必要です。" in page.text
        assert 'href="/inquiries?category=call_details"' in page.text
        assert "0611115555" not in page.text
    assert client.get("/calls/CAF0000000001/2023-12/csv").status_code == 404


def test_other_customers_contract_bad_month_and_other_tenants_are_404(app, client_for):
    _, acc, _ = setup_nmedia()
    other = rec.customer("nmedia", "CAF0000000002")
    theirs = rec.contract("nmedia", other, "CAF0000000002", call_details_from="2023-01")
    rec.calls("nmedia", theirs, "2023-12", 3)
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    for path in (
        "/calls/CAF0000000002",
        "/calls/CAF0000000002/2023-12",
        "/calls/CAF0000000002/2023-12/csv",
        "/calls/CAF0000000001/2023-13",
        "/calls/CAF0000000001/202312",
        "/calls/CAF0000000001/x/csv",
    ):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("tenant", ["aicom", "itscom"])
def test_call_details_off_is_404(app, client_for, tenant):
    cust = rec.customer(tenant, "900001")
    acc = rec.account(tenant, cust, "someone@example.jp")
    rec.contract(tenant, cust, "X0001", call_details_from="2023-01")
    client = rec.sign_in(client_for(tenant), tenant, acc)
    assert client.get("/calls/X0001/2023-12").status_code == 404
    assert client.get("/calls/X0001/2023-12/csv").status_code == 404


def test_contract_without_a_phone_line_offers_no_application(app, client_for):
    cust, acc, _contract = setup_nmedia(call_details_from=None)
    cloud = rec.contract("nmedia", cust, "COP00000001", category="other", service="cloud", service_name="クラウド")
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    for path in ("/calls/COP00000001", "/calls/COP00000001/2023-12"):
        page = client.get(path)
        assert page.status_code == 200
        assert "この契約には電話サービスがないため、通話明細はご利用いただけません。" in page.text
        assert "通話明細の利用を申請する" not in page.text and "別途申請が必要" not in page.text
    detail = client.get(f"/contracts/{cloud.number}")
    assert detail.status_code == 200 and f'href="/calls/{cloud.number}"' not in detail.text


def test_applied_contract_before_its_first_month_says_when_it_starts(app, client_for):
    _, acc, contract = setup_nmedia(call_details_from="2024-02")
    rec.phone_line("nmedia", contract, "0611115555")
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    months = client.get("/calls/CAF0000000001")
    assert "通話明細はまだありません。" in months.text
    assert "この契約の通話明細は2024年2月分からご覧いただけます。" in months.text
    detail = client.get("/contracts/CAF0000000001")
    assert 'href="/calls/CAF0000000001"' in detail.text


def test_imported_text_is_escaped_in_the_call_list(app, client_for):
    from conftest import run
    from mypage.records.tables import CallRecord

    _, acc, contract = setup_nmedia()
    rec.calls("nmedia", contract, "2023-12", 1)
    run(
        CallRecord.update({CallRecord.kind: '<b>"県内"</b>', CallRecord.caller: "<script>x()</script>", CallRecord.callee: "a&b"})
        .where(CallRecord.contract == contract.id)
        .run()
    )
    html = rec.sign_in(client_for("nmedia"), "nmedia", acc).get("/calls/CAF0000000001/2023-12").text
    assert "&lt;b&gt;&quot;県内&quot;&lt;/b&gt;" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "<script>x()" not in html
    assert "a&amp;b" in html
    assert 'data-label="通話元"' in html
