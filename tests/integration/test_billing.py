"""Billing: month list limits and order, detail with per-rate tax, isolation (customer, tenant), feature off,
the fiscal-year flow per contract, and the card payment-method change end to end."""

from __future__ import annotations

import json
import logging
import re
import shutil

import pytest
from billing_data import account, contract, customer, group, invoice, months_back, run, sign_in

from mypage.app import create_app
from mypage.audit.tables import AuditEvent
from mypage.billing.tables import PaymentCard
from mypage.db.registry import all_tables
from mypage.portal import Portal
from mypage.records.tables import Customer
from mypage.tenancy.registry import TenantRegistry

MONTH_LINK = re.compile(r'href="/billing/month/(\d{4}-\d{2})"')


def standard_lines(contract_id=None):
    return [("インターネット基本料金", 3300, 10, contract_id), ("ユニバーサルサービス料", 2, 10, contract_id)]


@pytest.fixture
def aicom_customer(client_for):
    cid = customer("aicom", "0000101")
    ct = contract("aicom", cid, "CAF0000000101")
    # 20 months from 2021-10 back to 2020-03: four of them before the earliest month (2020-07).
    for month in months_back("2021-10", 20):
        invoice("aicom", cid, f"A-{month}", month, standard_lines(ct))
    acc = account("aicom", cid, "billing-user")
    return cid, sign_in(client_for("aicom"), "aicom", acc)


def test_month_list_newest_first_at_most_15_months(aicom_customer):
    _cid, client = aicom_customer
    page = client.get("/billing")
    assert page.status_code == 200
    shown = MONTH_LINK.findall(page.text)
    assert shown == months_back("2021-10", 15)  # 2021-10 ... 2020-08, newest first
    assert "請求年月の新しい順に最大15カ月間のご利用料金が確認できます。" in page.text
    assert "※2020年7月以降の料金を表示できます。" in page.text
    assert "請求年月" in page.text and "ご利用金額(税込)" in page.text and ">詳細<" in page.text
    assert "2021年10月" in page.text and "3,632円" in page.text  # 3302 + floor(330.2)
    assert 'class="data stack' in page.text


def test_month_list_never_before_earliest_month(client_for):
    cid = customer("aicom", "0000102")
    for month in months_back("2020-10", 12):  # 2020-10 back to 2019-11
        invoice("aicom", cid, f"B-{month}", month, standard_lines())
    client = sign_in(client_for("aicom"), "aicom", account("aicom", cid, "early-user"))
    shown = MONTH_LINK.findall(client.get("/billing").text)
    assert shown == ["2020-10", "2020-09", "2020-08", "2020-07"]
    assert client.get("/billing/month/2020-06").status_code == 404
    assert client.get("/billing/B-2020-06/pdf").status_code == 404


def test_empty_state(client_for):
    cid = customer("aicom", "0000103")
    client = sign_in(client_for("aicom"), "aicom", account("aicom", cid, "new-user"))
    page = client.get("/billing")
    assert page.status_code == 200
    assert "現在表示できるご利用料金はありません。" in page.text
    # An account without a customer record sees the empty state too.
    lonely = sign_in(client_for("aicom"), "aicom", account("aicom", None, "lonely"))
    assert "現在表示できるご利用料金はありません。" in lonely.get("/billing").text


def test_month_detail_with_mixed_rates_and_discount(client_for):
    cid = customer("aicom", "0000104")
    ct = contract("aicom", cid, "CAF0000000104")
    g = group("aicom", cid, "G104", "一括請求A")
    invoice(
        "aicom",
        cid,
        "D-1",
        "2023-10",
        [
            ("インターネット基本料金", 4500, 10, ct),
            ("長期割引", -1105, 10, ct, "2023年10月分"),
            ("情報誌（定期購読）", 1249, 8, ct),
            ("預り金", 500, 0),
        ],
        group=g,
    )
    client = sign_in(client_for("aicom"), "aicom", account("aicom", cid, "detail-user"))
    page = client.get("/billing/month/2023-10")
    assert page.status_code == 200
    text = page.text
    assert "ご利用料金の明細" in text
    assert "10%対象計" in text and "3,395円" in text and "消費税（10%）" in text and "339円" in text
    assert "8%対象計" in text and "1,249円" in text and "消費税（8%）" in text and "99円" in text
    assert "※ 軽減税率対象" in text and "-1,105円" in text and "2023年10月分" in text
    assert "不課税・非課税対象計" in text
    # 3395 + 339 + 1249 + 99 + 500
    assert "5,582円" in text
    assert "契約番号 CAF0000000104" in text and "一括請求A" in text
    assert 'href="/billing/D-1/pdf"' in text
    assert client.get("/billing/month/2023-11").status_code == 404
    assert client.get("/billing/month/nonsense").status_code == 404


def test_other_customers_invoice_and_month_answer_404(client_for):
    mine = customer("aicom", "0000105")
    theirs = customer("aicom", "0000106")
    invoice("aicom", mine, "M-1", "2023-09", standard_lines())
    invoice("aicom", theirs, "T-1", "2023-10", standard_lines())
    their_contract = contract("aicom", theirs, "CAF0000000106")
    client = sign_in(client_for("aicom"), "aicom", account("aicom", mine, "mine"))
    assert client.get("/billing/T-1/pdf").status_code == 404
    assert client.get("/billing/month/2023-10").status_code == 404
    assert client.get("/billing/contract/CAF0000000106").status_code == 404
    assert their_contract
    assert MONTH_LINK.findall(client.get("/billing").text) == ["2023-09"]


def test_other_tenant_answers_404_and_needs_login(client_for):
    aicom_customer = customer("aicom", "0000107")
    invoice("aicom", aicom_customer, "X-1", "2023-10", standard_lines())
    itscom_customer = customer("itscom", "0000107")
    invoice("itscom", itscom_customer, "Y-1", "2023-10", standard_lines())
    itscom = sign_in(client_for("itscom"), "itscom", account("itscom", itscom_customer, "its-user"))
    assert itscom.get("/billing/X-1/pdf").status_code == 404
    assert itscom.get("/billing/Y-1/pdf").status_code == 200
    # An aicom session presented on the itscom host is not logged in there.
    aicom_account = account("aicom", aicom_customer, "aicom-user")
    aicom_client = client_for("aicom")
    stray = sign_in(type(aicom_client)(aicom_client.app, base_url="http://itscom.localhost"), "aicom", aicom_account)
    response = stray.get("/billing", follow_redirects=False)
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


def test_login_required(client_for):
    response = client_for("aicom").get("/billing", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def _without_billing(src, dst):
    shutil.copytree(src, dst)
    path = dst / "tenant.toml"
    out, skipping = [], False
    for raw in path.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if stripped.startswith("["):
            skipping = stripped == "[features.billing]"
        if skipping or 'feature = "billing"' in raw:
            continue
        out.append(raw)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_feature_off_answers_404(db, portal, tmp_path, client_for):
    PortalClient = type(client_for("aicom"))
    for tenant in portal.tenants:
        _without_billing(tenant.folder, tmp_path / tenant.slug)
    registry = TenantRegistry.load(tmp_path, db.themes_dir)
    assert not registry.get("aicom").config.features.enabled("billing")
    app = create_app(db, portal=Portal(db, tenants=registry))
    cid = customer("aicom", "0000108")
    invoice("aicom", cid, "OFF-1", "2023-10", standard_lines())
    contract("aicom", cid, "CAF0000000108")
    client = sign_in(PortalClient(app, base_url="http://aicom.localhost"), "aicom", account("aicom", cid, "off-user"))
    for url in (
        "/billing",
        "/billing/month/2023-10",
        "/billing/OFF-1/pdf",
        "/billing/contract/CAF0000000108",
        "/billing/payment-method",
        "/billing/payment-method/card",
    ):
        assert client.get(url, follow_redirects=False).status_code == 404, url
    assert client.get("/", follow_redirects=False).status_code == 200  # the rest of the portal works
    # Anonymous visitors also get 404 rather than a login page.
    assert PortalClient(app, base_url="http://aicom.localhost").get("/billing", follow_redirects=False).status_code == 404


# --- nmedia: 請求情報 by contract and 年度 ---------------------------------------------------------


@pytest.fixture
def nmedia_customer(client_for):
    cid = customer("nmedia", "CAF0000000201")
    g = group("nmedia", cid, "G201", "一括請求")
    hikari = contract("nmedia", cid, "CAF0000000201", group=g)
    cloud = contract("nmedia", cid, "COP00000202", group=g, service_name="Lite Storage")
    for month in months_back("2023-12", 9):  # 2023-12 ... 2023-04
        invoice(
            "nmedia",
            cid,
            f"000000000000{month.replace('-', '')}",
            month,
            [
                ("mediaITサポート24", 3300, 10, hikari),
                ("Lite Storage", 1000, 10, cloud),
            ],
            group=g,
        )
    invoice("nmedia", cid, "000000000000202212", "2022-12", [("mediaひかり 基本料金", 4800, 10, hikari)], group=g)
    owner = account("nmedia", cid, "owner@example.jp")
    member = account("nmedia", cid, "member@example.jp", role="general")
    return cid, owner, member


def test_fiscal_year_flow_per_contract(nmedia_customer, client_for):
    _cid, owner, _member = nmedia_customer
    client = sign_in(client_for("nmedia"), "nmedia", owner)
    page = client.get("/billing/contract/CAF0000000201")
    assert page.status_code == 200
    assert "年度選択" in page.text
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', page.text)
    assert options == [("", "-"), ("2023", "2023年"), ("2022", "2022年")]
    assert "（請求月）" not in page.text  # nothing until a year is chosen

    page = client.get("/billing/contract/CAF0000000201?year=2023")
    assert page.status_code == 200
    summaries = re.findall(r"</span>(\d{4}年\d{2}月（請求月）)</summary>", page.text)
    assert summaries[0] == "2023年12月（請求月）" and summaries[-1] == "2023年04月（請求月）" and len(summaries) == 9
    assert page.text.count('<details class="billing-month"') == 9  # (the phone menu is a <details> too)
    assert "料金内訳" in page.text and "金額（円）" in page.text and "備考" in page.text
    assert "mediaITサポート24" in page.text and "Lite Storage" not in page.text.split('<details class="billing-month"')[1]
    assert ">3,300<" in page.text and ">330<" in page.text and ">3,630<" in page.text
    assert "10%対象計" in page.text and "消費税（10%）" in page.text and "小計" in page.text
    assert "円<" not in page.text.split('<details class="billing-month"')[1]  # amounts without 円 in this table
    assert 'href="/calls/CAF0000000201/2023-10"' in page.text
    assert 'href="/billing/000000000000202310/pdf"' in page.text
    assert "※ダウンロードされる請求書PDFは一括請求/一括送付に基づき1ファイルになっています。" in page.text

    cloud = client.get("/billing/contract/COP00000202?year=2023").text
    assert ">1,000<" in cloud and ">100<" in cloud and ">1,100<" in cloud and "mediaITサポート24" not in cloud
    assert re.findall(r'<option value="(\d*)"', cloud) == ["", "2023"]  # no 2022 lines for this contract

    # A year without invoices (or garbage) selects nothing.
    assert "（請求月）" not in client.get("/billing/contract/CAF0000000201?year=2019").text
    assert client.get("/billing/contract/CAF0000000201?year=abc").status_code == 200
    assert client.get("/billing/contract/CAF9999999999").status_code == 404


def test_fiscal_year_select_shows_the_months_on_change(nmedia_customer, client_for):
    """Choosing a 年度 submits the form (portal.js, no inline script under the CSP); 表示 stays for no-JS."""
    _cid, owner, _member = nmedia_customer
    client = sign_in(client_for("nmedia"), "nmedia", owner)
    page = client.get("/billing/contract/CAF0000000201")
    form = page.text.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert '<select id="f-year" name="year" data-autosubmit>' in form
    assert '<button type="submit" class="button">表示</button>' in form
    assert '<script src="/static/js/portal.js" defer></script>' in page.text
    assert "<script>" not in page.text
    script = client.get("/static/js/portal.js")
    assert script.status_code == 200
    assert "select[data-autosubmit]" in script.text and "requestSubmit" in script.text


def test_fiscal_year_members_see_their_customers_data(nmedia_customer, client_for):
    _cid, _owner, member = nmedia_customer
    client = sign_in(client_for("nmedia"), "nmedia", member)
    page = client.get("/billing?year=2023")
    assert page.status_code == 200
    assert "2023年10月（請求月）" in page.text
    assert "CAF0000000201" in page.text and "COP00000202" in page.text
    assert client.get("/billing/000000000000202310/pdf").status_code == 200


# --- itscom: お支払い方法の確認・変更 -------------------------------------------------------------

CARD = "4111111111111111"
CARD_SPACED = "4111 1111 1111 1111"


def _dump_database() -> str:
    async def go():
        chunks = []
        for table in all_tables():
            rows = await table.select()
            chunks.append(json.dumps(rows, default=str, ensure_ascii=False))
        return "\n".join(chunks)

    return run(go())


def test_payment_method_change_to_card(client_for, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    cid = customer("itscom", "0000301", bank_name="東急銀行", bank_last4="4321", payment_method="bank")
    acc = account("itscom", cid, "pay-user", email="pay@example.jp")
    client = sign_in(client_for("itscom"), "itscom", acc)

    page = client.get("/billing/payment-method")
    assert page.status_code == 200
    assert "お支払い方法の確認・変更" in page.text and "口座振替" in page.text
    assert "東急銀行" in page.text and "****4321" in page.text
    assert "クレジットカードへの変更が可能です。" in page.text

    form = client.get("/billing/payment-method/card")
    assert form.status_code == 200 and "カード番号" in form.text and "セキュリティコード" in form.text

    # Bad input: messages next to the fields, the name and expiry kept, never the number.
    bad = client.submit(
        "/billing/payment-method/card",
        {"card_number": "4111111111111112", "expiry": "01/20", "holder": "taro yamada", "cvc": "12"},
    )
    assert bad.status_code == 400
    assert "カード番号に誤りがあります。" in bad.text
    assert "有効期限が切れています。" in bad.text
    assert "カード名義は半角英大文字で" in bad.text
    assert "セキュリティコードは半角数字3桁または4桁で入力してください。" in bad.text
    assert 'value="taro yamada"' in bad.text and 'value="01/20"' in bad.text
    assert "4111111111111112" not in bad.text

    good = client.submit(
        "/billing/payment-method/card",
        {"card_number": CARD_SPACED, "expiry": "12/39", "holder": "TARO YAMADA", "cvc": "123"},
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/billing/payment-method/card/confirm"
    confirm = client.get("/billing/payment-method/card/confirm")
    assert "Visa" in confirm.text and "**** **** **** 1111" in confirm.text and "12/39" in confirm.text
    assert CARD not in confirm.text
    # Nothing is saved before the confirmation.
    assert run(PaymentCard.count().run()) == 0

    done = client.submit("/billing/payment-method/card/confirm", {}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/billing/payment-method/card/done"
    finished = client.get("/billing/payment-method/card/done")
    assert "お支払い方法をクレジットカードに変更しました。" in finished.text

    now = client.get("/billing/payment-method")
    assert "クレジットカード" in now.text and "**** **** **** 1111" in now.text and "12/39" in now.text
    saved = run(PaymentCard.select().first().run())
    assert saved["brand"] == "Visa" and saved["last4"] == "1111" and saved["token"].startswith("tok_")
    assert (saved["exp_month"], saved["exp_year"]) == (12, 2039)
    cust = run(Customer.select().where(Customer.id == cid).first().run())
    assert cust["payment_method"] == "card" and cust["card_last4"] == "1111"

    events = run(AuditEvent.select().where(AuditEvent.event == "billing.payment_method_changed").run())
    assert len(events) == 1 and events[0]["tenant"] == "itscom" and events[0]["account_id"] == acc

    mail = deliver().last_to("pay@example.jp")
    body = deliver().text(mail)
    assert "お支払い方法変更のお知らせ" in mail["Subject"]
    assert "**** **** **** 1111" in body and CARD not in body

    # The number and the security code are nowhere: not in any table (sessions, outbox, audit included), not in logs.
    everything = _dump_database()
    assert CARD not in everything and CARD_SPACED not in everything
    assert "cvc" not in everything.lower() and "security" not in everything.lower()
    assert CARD not in caplog.text and CARD_SPACED not in caplog.text

    # The confirmation cannot be replayed.
    again = client.submit("/billing/payment-method/card/confirm", {}, follow_redirects=False)
    assert again.headers["location"] == "/billing/payment-method/card"


def test_payment_method_absent_where_off(client_for):
    cid = customer("aicom", "0000302")
    client = sign_in(client_for("aicom"), "aicom", account("aicom", cid, "no-pay"))
    assert client.get("/billing/payment-method").status_code == 404
    assert client.get("/billing/payment-method/card").status_code == 404
    assert client.submit("/billing/payment-method/card", {"card_number": CARD}).status_code == 404


def test_card_form_needs_csrf(client_for):
    cid = customer("itscom", "0000303")
    client = sign_in(client_for("itscom"), "itscom", account("itscom", cid, "csrf-user"))
    response = client.post("/billing/payment-method/card", data={"card_number": CARD})
    assert response.status_code == 403


def test_fiscal_year_index_lists_this_customers_years_and_contracts(nmedia_customer, client_for, portal):
    """The index of the 年度 layout: its years and contract links; on PostgreSQL both read in one statement, which
    gives what the two reads give."""
    from mypage.billing.repository import BillingRepository

    cid, owner, _member = nmedia_customer
    other = customer("nmedia", "CAF0000000301")
    contract("nmedia", other, "CAF0000000300")
    invoice("nmedia", other, "000000000000201901", "2019-01", [("他のお客様", 100, 10)])
    page = sign_in(client_for("nmedia"), "nmedia", owner).get("/billing").text
    assert re.findall(r'<option value="(\d*)"', page) == ["", "2023", "2022"]
    assert re.findall(r'href="/billing/contract/([^"]+)"', page) == ["CAF0000000201", "COP00000202"]

    async def both():
        separate = BillingRepository(portal.tenants.get("nmedia"), cid)
        together = BillingRepository(portal.tenants.get("nmedia"), cid)
        await together.read_ahead_months_and_contracts()
        return (
            (sorted(await separate.invoice_months()), await separate.contracts()),
            (sorted(await together.invoice_months()), await together.contracts()),
        )

    separate, together = run(both())
    assert together == separate
    assert separate[1][0] == {
        "id": separate[1][0]["id"],
        "number": "CAF0000000201",
        "service_name": "mediaひかり",
        "plan_name": "",
    }


def test_prepared_reads_of_one_invoice_give_what_piccolo_gives(nmedia_customer, portal):
    """The invoice, its month's invoices, its lines and the customer (the PDF's reads), built once, give the same
    rows, values and types as the queries Piccolo builds each time."""
    from mypage.billing.repository import BillingRepository, _invoices_of, _lines
    from mypage.records.tables import Customer, Invoice, InvoiceLine

    cid, _owner, _member = nmedia_customer
    other = customer("nmedia", "CAF0000000301")
    invoice("nmedia", other, "000000000000999912", "2023-12", [("他のお客様", 100, 10)])  # same month, another customer
    repo = BillingRepository(portal.tenants.get("nmedia"), cid)
    number = "000000000000202312"

    async def both():
        prepared = await repo.invoice_by_number(number)
        built = await _invoices_of(repo.slug, cid).where(Invoice.number == number).first()
        month = (await repo.invoices_in(["2023-12"]), await _invoices_of(repo.slug, cid).where(Invoice.month.is_in(["2023-12"])))
        lines_query = _lines(repo.slug).where(InvoiceLine.invoice.is_in([prepared["id"]]))  # Piccolo builds it
        lines = (await repo.lines_of([prepared["id"]]), await lines_query.order_by(InvoiceLine.position))
        customers = (
            await repo.customer(),
            await Customer.select().where(Customer.tenant == repo.slug).where(Customer.id == cid).first(),
        )
        return (prepared, built), month, lines, customers

    def typed(row):
        return {key: (type(value).__name__, value) for key, value in row.items()}

    for prepared, built in run(both()):
        rows = (prepared, built) if isinstance(prepared, list) else ([prepared], [built])
        assert [typed(r) for r in rows[0]] == [typed(r) for r in rows[1]] and rows[0]
    invoice_row = run(repo.invoice_by_number(number))
    assert invoice_row["customer"] == cid and invoice_row["billing_group_name"] == "一括請求"
    assert [line["contract_number"] for line in run(repo.lines_of([invoice_row["id"]]))] == ["CAF0000000201", "COP00000202"]
    assert run(repo.invoice_by_number("000000000000999912")) is None
    assert [i["number"] for i in run(repo.invoices_in(["2023-12"]))] == [number]
