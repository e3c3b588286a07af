"""Aicom Koka (あいコムこうか) customer features in Chromium with demo data: お客様メニューリスト, ご利用料金
(list, 詳細, per-rate tax, 請求書 PDF), the smartphone layout, and tenant isolation of the session."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .logins import download, login_aicom, pdf_text

MONTH = re.compile(r"^(\d{4})年(\d{1,2})月$")


def yen(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_menu_list_with_free_of_charge_note(live_server, page):
    login_aicom(page, live_server)
    main = page.locator("main")
    expect(main).to_contain_text("ようこそ、こうか花子様")
    expect(main).to_contain_text(
        "※ 本サービスのご利用は無料ですが、本サービスのご利用にかかる通信料等は、お客様のご負担となります。"
    )
    expect(main).to_contain_text("(過去15か月分までご覧いただけます)")
    for label, href in (("ご利用料金", "/billing"), ("ご契約内容", "/contracts"), ("会員情報", "/account/profile")):
        expect(main.get_by_role("link", name=label, exact=True)).to_have_attribute("href", href)
    expect(main).to_contain_text("請求年月の新しい順に最大15カ月間のご利用料金が確認できます。")
    expect(main).to_contain_text("お知らせ")


def test_billing_list_detail_and_invoice_pdf(live_server, page):
    login_aicom(page, live_server)
    page.locator("main").get_by_role("link", name="ご利用料金", exact=True).click()
    page.wait_for_url(live_server.url("aicom", "/billing"))
    main = page.locator("main")
    expect(main).to_contain_text("請求年月の新しい順に最大15カ月間のご利用料金が確認できます。")
    expect(main).to_contain_text("※2020年7月以降の料金を表示できます。")

    rows = main.locator("table tbody tr")
    months = []
    for row in rows.all():
        cells = row.locator("td, th")
        found = MONTH.match(cells.nth(0).inner_text().strip())
        assert found, row.inner_text()
        months.append((int(found.group(1)), int(found.group(2))))
        assert yen(cells.nth(1).inner_text()) > 0
    # 18 months of demo invoices: the newest 15, newest first, none before 2020年7月.
    assert len(months) == 15
    assert months == sorted(months, reverse=True)
    assert len(set(months)) == len(months)
    assert min(months) >= (2020, 7)
    newest_total = yen(rows.first.locator("td").nth(1).inner_text())

    rows.first.get_by_role("link", name="詳細").click()
    expect(page.locator("main h1")).to_have_text("ご利用料金の明細")
    year, month = months[0]
    expect(main.locator("dl.facts")).to_contain_text(f"{year}年{month}月")
    invoice_number = re.search(r"ご請求番号\s*(\d+)", main.inner_text()).group(1)

    # Line items grouped by contract, then the per-rate total, the tax of that rate and the total.
    table = main.locator("table.billing-lines")
    expect(table.locator("tr.billing-lines__contract").first).to_contain_text("契約番号 A")
    amounts = [yen(cell.inner_text()) for cell in table.locator("tbody td[data-label='金額(税抜)']").all()]
    assert len(amounts) >= 3
    base = table.locator("tr.billing-totals__base")
    tax = table.locator("tr.billing-totals__tax")
    expect(base.locator("th")).to_have_text("10%対象計")
    expect(tax.locator("th")).to_have_text("消費税（10%）")
    base_yen, tax_yen = yen(base.locator("td").first.inner_text()), yen(tax.locator("td").first.inner_text())
    total_yen = yen(table.locator("tr.billing-totals__total td").first.inner_text())
    assert sum(amounts) == base_yen
    assert tax_yen == base_yen * 10 // 100
    assert base_yen + tax_yen == total_yen == newest_total
    expect(main).to_contain_text("消費税は請求書ごとに税率別の合計額から計算し、1円未満を切り捨てています。")

    name, data = download(page, lambda: main.get_by_role("link", name="請求書ダウンロード").click())
    assert name.endswith(".pdf")
    text = pdf_text(data)
    assert "請求書" in text
    assert invoice_number in text
    assert re.search(r"登録番号\s*T\d{13}", text), text
    assert "株式会社あいコムこうか" in text
    assert "甲賀　花子" in text
    assert f"{total_yen:,}円" in text
    assert "10%対象計" in text and "消費税（10%）" in text

    main.get_by_role("link", name="一覧に戻る").click()
    page.wait_for_url(live_server.url("aicom", "/billing"))


def _invoice_number(live_server, tenant: str, not_customer: str) -> str:
    """An invoice of someone else (read straight from the live server's database)."""
    import sqlite3

    with sqlite3.connect(live_server.sqlite_path) as db:
        row = db.execute(
            "SELECT i.number FROM invoices i JOIN customers c ON c.id = i.customer"
            " WHERE i.tenant = ? AND c.number != ? ORDER BY i.id LIMIT 1",
            (tenant, not_customer),
        ).fetchone()
    return row[0]


def test_other_customers_and_tenants_invoices_are_404(live_server, page):
    login_aicom(page, live_server)
    for number in (
        _invoice_number(live_server, "aicom", "0001111111"),
        _invoice_number(live_server, "itscom", "-"),
        "9999999999999",
    ):
        response = page.goto(live_server.url("aicom", f"/billing/{number}/pdf"))
        assert response.status == 404, number


def test_billing_fits_a_phone(live_server, phone):
    login_aicom(phone, live_server)
    for path in ("/", "/billing"):
        phone.goto(live_server.url("aicom", path))
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"horizontal scroll on {path}: {width}px"
    phone.get_by_role("link", name="詳細").first.click()
    expect(phone.locator("main h1")).to_have_text("ご利用料金の明細")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"horizontal scroll on the invoice detail: {width}px"
    # Stacked table: each amount carries its label on a phone.
    expect(phone.locator("table.billing-lines tbody td[data-label='金額(税抜)']").first).to_be_visible()


def test_session_does_not_cross_tenants(live_server, page):
    login_aicom(page, live_server)
    page.goto(live_server.url("itscom", "/"))
    page.wait_for_url(live_server.url("itscom", "/login"))
    expect(page.get_by_label("iTSCOM ID")).to_be_visible()

    # Even the aicom session cookie presented to the itscom host does not log in there.
    session = next(c for c in page.context.cookies(live_server.url("aicom", "/")) if c["name"] == "mypage_session")
    page.context.add_cookies([{"name": "mypage_session", "value": session["value"], "url": live_server.url("itscom", "/")}])
    response = page.goto(live_server.url("itscom", "/billing"))
    assert page.url.startswith(live_server.url("itscom", "/login")), page.url
    assert response.status == 200
    assert "demo@itscom.example" not in page.content()
    # And aicom is still logged in.
    page.goto(live_server.url("aicom", "/"))
    expect(page.locator("main")).to_contain_text("お客様メニューリスト")
