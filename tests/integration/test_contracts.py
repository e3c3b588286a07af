"""Contracts: lines grouped by billing group, detail fields, documents (PDF), history, referral, 404s."""

import io
import re
from datetime import date

import contract_records as rec
import pytest
from pypdf import PdfReader


def nmedia_customer(number="CAF0000000001"):
    cust = rec.customer("nmedia", number, name="顧客r", name_kana="コキヤク")
    acc = rec.account("nmedia", cust, "m95au6", display_name="管理者", role="admin")
    return cust, acc


def test_lines_grouped_by_billing_group_and_filtered_by_category(app, client_for):
    cust, acc = nmedia_customer()
    group_a = rec.billing_group("nmedia", cust, "G001", "本社一括")
    group_b = rec.billing_group("nmedia", cust, "G002", "支店一括")
    rec.contract("nmedia", cust, "CAF0000000001", billing_group=group_a.id)
    rec.contract("nmedia", cust, "CAF0000000002", billing_group=group_b.id, address1="大阪府大阪市北区")
    rec.contract("nmedia", cust, "COP00000001", category="other", service_name="Lite Storage")
    other = rec.customer("nmedia", "CAF0000000009")
    rec.contract("nmedia", other, "CAF0000000009")
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    page = client.get("/contracts?category=main")
    assert page.status_code == 200
    html = page.text
    assert "契約一覧は一括請求/一括送付に基づき表示されます。" in html
    for header in ("契約番号", "顧客名", "設置場所住所"):
        assert f'<th scope="col">{header}</th>' in html
    assert html.index("本社一括") < html.index("CAF0000000001") < html.index("支店一括") < html.index("CAF0000000002")
    assert "大阪府大阪市北区" in html
    assert 'href="/contracts/CAF0000000001">詳細</a>' in html
    assert "COP00000001" not in html and "CAF0000000009" not in html
    other_page = client.get("/contracts?category=other").text
    assert "COP00000001" in other_page and "CAF0000000001" not in other_page
    assert "mediaひかりのご契約" in html  # heading names the category


def test_line_detail_shows_every_field_of_the_seed(app, client_for):
    cust, acc = nmedia_customer()
    contract = rec.contract(
        "nmedia",
        cust,
        "CAF0000000001",
        holder_name="顧客r",
        holder_kana="コキヤク",
        postal_code="5340024",
        address1="大阪府大阪市都島区東野田町",
        address2="1-2-3",
        building="メディアビル",
        service_name="[100M] ファミリー",
        status="サービス提供準備中",
        started_on=date(2023, 12, 7),
        access_key="BUEdeJWm",
    )
    rec.phone_line("nmedia", contract, "1234567890", service_name="mediaひかり電話")
    rec.option("nmedia", contract, 1, "mediaITサポート24")
    rec.option("nmedia", contract, 3, "ウイルスバスター")
    rec.document("nmedia", cust, contract, "opening_notice", date(2023, 12, 1), title="開通案内")
    rec.document("nmedia", cust, contract, "opening_notice", date(2023, 7, 1), title="開通案内")
    html = rec.sign_in(client_for("nmedia"), "nmedia", acc).get("/contracts/CAF0000000001").text
    for label in (
        "概要情報",
        "契約番号",
        "顧客カナ",
        "顧客名",
        "届出場所住所",
        "郵便番号",
        "住所①",
        "住所②",
        "建物名",
        "アクセスライン",
        "サービス名",
        "契約ステータス",
        "開始日",
        "アクセスキー",
        "ひかり電話",
        "契約電話番号",
        "オプション",
        "サービス名①",
        "サービス名②",
        "サービス名③",
        "サービス名④",
        "サービス名⑤",
        "開通案内日付選択",
        "開通案内ダウンロード",
        "請求情報",
    ):
        assert label in html, label
    for value in (
        "CAF0000000001",
        "コキヤク",
        "顧客r",
        "5340024",
        "大阪府大阪市都島区東野田町",
        "1-2-3",
        "メディアビル",
        "[100M] ファミリー",
        "サービス提供準備中",
        "2023/12/07",
        "BUEdeJWm",
        "1234567890",
        "mediaITサポート24",
    ):
        assert value in html, value
    assert html.index("サービス名①") < html.index("mediaITサポート24") < html.index("サービス名②")
    assert html.index("サービス名③") < html.index("ウイルスバスター") < html.index("サービス名④")
    assert "2023年12月01日分" in html and "2023年07月01日分" in html
    assert html.index("2023年12月01日分") < html.index("2023年07月01日分")
    assert 'href="/billing/contract/CAF0000000001"' in html


def _phone_section(html: str) -> str:
    return html.split("<h2>ひかり電話</h2>", 1)[1].split("<h2>", 1)[0]


def test_phone_detail_row_under_hikari_denwa(app, client_for):
    """The guide's ひかり電話 block: サービス名, 契約電話番号, 詳細 (the operator's text; empty when there is none)."""
    cust, acc = nmedia_customer()
    detailed = rec.contract("nmedia", cust, "CAF0000000011", phone_detail="追加番号 0611112222／ナンバー・ディスプレイ")
    rec.phone_line("nmedia", detailed, "0611115555", service_name="mediaひかり電話")
    rec.contract("nmedia", cust, "CAF0000000012")
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    section = _phone_section(client.get("/contracts/CAF0000000011").text)
    terms = re.findall(r"<dt>([^<]+)</dt>", section)
    assert terms == ["サービス名", "契約電話番号", "詳細"]
    assert '<dd class="contract-detail__phone-detail">追加番号 0611112222／ナンバー・ディスプレイ</dd>' in section
    empty = _phone_section(client.get("/contracts/CAF0000000012").text)
    assert re.findall(r"<dt>([^<]+)</dt>", empty) == ["サービス名", "契約電話番号", "詳細"]
    assert '<dd class="contract-detail__phone-detail"></dd>' in empty


def test_phone_detail_is_imported(app, client_for):
    """The contracts CSV column 電話詳細 (docs/import.md) fills the 詳細 row."""
    from conftest import run
    from mypage.records.csvparse import read_csv
    from mypage.records.importer import import_rows

    _cust, acc = nmedia_customer()
    text = "契約番号,お客様番号,契約電話番号,電話詳細\nCAF0000000021,CAF0000000001,0611113333,追加番号 0611114444\n"
    result = run(import_rows("nmedia", "contracts", read_csv(text.encode("utf-8"))))
    assert not result.errors, result.errors
    section = _phone_section(rec.sign_in(client_for("nmedia"), "nmedia", acc).get("/contracts/CAF0000000021").text)
    assert "0611113333" in section and '<dd class="contract-detail__phone-detail">追加番号 0611114444</dd>' in section


def test_another_customers_or_tenants_contract_is_not_found(app, client_for):
    cust, acc = nmedia_customer()
    rec.contract("nmedia", cust, "CAF0000000001")
    other = rec.customer("nmedia", "CAF0000000002")
    theirs = rec.contract("nmedia", other, "CAF0000000002")
    rec.document("nmedia", other, theirs, "opening_notice", date(2023, 12, 1))
    elsewhere = rec.customer("itscom", "CAF0000000003")
    rec.contract("itscom", elsewhere, "CAF0000000003")
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    assert client.get("/contracts/CAF0000000001").status_code == 200
    assert client.get("/contracts/CAF0000000002").status_code == 404
    assert client.get("/contracts/CAF0000000002/opening-notice").status_code == 404
    assert client.get("/contracts/CAF0000000003").status_code == 404
    assert client.get("/contracts/NOPE").status_code == 404
    # a session of this tenant is not a login on another tenant's host
    other_host = client_for("itscom")
    other_host.cookies.update(client.cookies)
    assert other_host.get("/contracts", follow_redirects=False).status_code in (302, 303)


def test_opening_notice_pdf(app, client_for):
    cust, acc = nmedia_customer()
    contract = rec.contract(
        "nmedia",
        cust,
        "CAF0000000001",
        holder_name="日本　花子",
        address1="大阪府大阪市都島区東野田町",
        service_name="mediaひかり [1G] ファミリー",
        started_on=date(2023, 12, 7),
        access_key="aaAA1234",
    )
    first = rec.document("nmedia", cust, contract, "opening_notice", date(2023, 12, 1), title="開通案内")
    rec.document("nmedia", cust, contract, "opening_notice", date(2023, 7, 1), title="開通案内")
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    response = client.get(f"/contracts/CAF0000000001/opening-notice?document={first.id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "opening-notice-CAF0000000001-20231201.pdf" in response.headers["content-disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    squashed = text.replace(" ", "").replace("\n", "")
    for expected in (
        "開通案内",
        "お客さま情報",
        "ご契約者名",
        "日本　花子".replace(" ", ""),
        "ご利用場所住所",
        "大阪府大阪市都島区東野田町",
        "お客さまID",
        "CAF0000000001",
        "アクセスキー",
        "aaAA1234",
        "mediaひかり[1G]ファミリー",
        "2023年12月7日",
        "2023年12月1日",
        "エー・エー・エー・エー・イチ・ニ・サン・ヨン",
    ):
        assert expected.replace(" ", "") in squashed, expected
    assert client.get("/contracts/CAF0000000001/opening-notice?document=999999").status_code == 404


def test_summary_contracts_history_and_flags(app, client_for):
    cust = rec.customer(
        "itscom",
        "500001",
        name="世田谷 花子",
        plan_name="かっとび光 1G",
        renewal_window="2025年1月~2025年3月",
        customer_since=date(2020, 1, 1),
    )
    acc = rec.account("itscom", cust, "hanako@example.jp")
    internet = rec.contract(
        "itscom", cust, "IT0001", service_name="イッツコム光", plan_name="かっとび光 1G", status="ご利用中", monthly_fee=5280
    )
    rec.option("itscom", internet, 1, "マルチデバイスセキュリティ")
    rec.history("itscom", cust, date(2021, 4, 1), "テレビサービス 加入")
    rec.history("itscom", cust, date(2023, 9, 15), "インターネット プラン変更")
    rec.history("itscom", cust, date(2020, 1, 1), "インターネットサービス 加入")
    client = rec.sign_in(client_for("itscom"), "itscom", acc)
    page = client.get("/contracts")
    assert page.status_code == 200
    html = page.text
    assert "ご契約情報確認・変更" in html
    for value in ("イッツコム光", "かっとび光 1G", "マルチデバイスセキュリティ", "5,280円", "2025年1月~2025年3月"):
        assert value in html
    for href in (
        "/contracts/history",
        "/contracts/confirmation",
        "/contracts/referral",
        "https://www.itscom.co.jp/support/",
        "https://speedtest.itscom.net/",
    ):
        assert f'href="{href}"' in html
    history = client.get("/contracts/history").text
    assert (
        history.index("インターネット プラン変更")
        < history.index("テレビサービス 加入")
        < history.index("インターネットサービス 加入")
    )
    confirmation = client.get("/contracts/confirmation")
    assert confirmation.status_code == 200 and 'href="/contracts/confirmation.pdf"' in confirmation.text
    pdf = client.get("/contracts/confirmation.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace(" ", "").replace("\n", "")
    assert "契約内容確認書" in text and "イッツコム光" in text and "500001" in text


def test_aicom_summary_and_flags_off_are_404(app, client_for):
    cust = rec.customer("aicom", "1234567", name="甲賀 太郎")
    acc = rec.account("aicom", cust, "koka-taro")
    rec.contract("aicom", cust, "A0001", service_name="あいコム光 100M", status="ご利用中")
    client = rec.sign_in(client_for("aicom"), "aicom", acc)
    page = client.get("/contracts")
    assert page.status_code == 200 and "ご契約内容" in page.text and "あいコム光 100M" in page.text
    for path in (
        "/contracts/history",
        "/contracts/confirmation",
        "/contracts/confirmation.pdf",
        "/contracts/referral",
        "/contracts/A0001/opening-notice",
        "/calls/A0001",
        "/calls/A0001/2023-12",
        "/calls/A0001/2023-12/csv",
    ):
        assert client.get(path).status_code == 404, path
    # nmedia has no history/referral/confirmation
    _ncust, nacc = nmedia_customer()
    nclient = rec.sign_in(client_for("nmedia"), "nmedia", nacc)
    for path in ("/contracts/history", "/contracts/confirmation", "/contracts/referral"):
        assert nclient.get(path).status_code == 404, path


def test_referral_code_is_stable_unguessable_and_per_customer(app, client_for, db):
    from mypage.contracts.service import referral_code

    first = rec.customer("itscom", "500001")
    second = rec.customer("itscom", "500002")
    acc1 = rec.account("itscom", first, "one@example.jp")
    acc2 = rec.account("itscom", second, "two@example.jp")
    page1 = rec.sign_in(client_for("itscom"), "itscom", acc1).get("/contracts/referral").text
    page1_again = rec.sign_in(client_for("itscom"), "itscom", acc1).get("/contracts/referral").text
    page2 = rec.sign_in(client_for("itscom"), "itscom", acc2).get("/contracts/referral").text
    code1 = referral_code(db.secret_key, "itscom", first.id)
    code2 = referral_code(db.secret_key, "itscom", second.id)
    assert code1 != code2 and len(code1) >= 16
    assert referral_code("another-key", "itscom", first.id) != code1
    assert str(first.id) not in code1
    assert code1 in page1 and code1 in page1_again and code1 not in page2 and code2 in page2
    assert f"/referral/{code1}" in page1
    assert 'src="data:image/svg+xml' in page1  # QR code
    assert "data-copy" in page1


@pytest.mark.parametrize("tenant", ["aicom", "itscom", "nmedia"])
def test_contracts_require_login(app, client_for, tenant):
    response = client_for(tenant).get("/contracts", follow_redirects=False)
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


def test_referral_link_leads_a_friend_to_the_code_and_contact(app, client_for, db):
    from mypage.contracts.service import referral_code

    code = referral_code(db.secret_key, "itscom", rec.customer("itscom", "500003").id)
    friend = client_for("itscom")  # not logged in
    page = friend.get(f"/referral/{code}")
    assert page.status_code == 200
    assert code in page.text and "0120-125607" in page.text
    assert friend.get(f"/referral/{code.lower()}").status_code == 200
    assert friend.get("/referral/not-a-code").status_code == 404
    assert client_for("aicom").get(f"/referral/{code}").status_code == 404  # aicom has no referral feature


def test_summary_monthly_fee_with_and_without_tax(app, client_for, portal):
    assert portal.tenants.get("itscom").config.features.contracts.tax_rate == 10
    cust = rec.customer("itscom", "500011", name="世田谷 一郎")
    acc = rec.account("itscom", cust, "ichiro@example.jp")
    rec.contract("itscom", cust, "IT0011", service_name="イッツコム光", plan_name="かっとび光 1G", monthly_fee=5280)
    rec.contract("itscom", cust, "IT0012", service_name="テレビ", plan_name="ベーシック", monthly_fee=1045)
    client = rec.sign_in(client_for("itscom"), "itscom", acc)
    html = client.get("/contracts").text
    assert "5,280円(税抜)<br>5,808円(税込)" in html
    assert "1,045円(税抜)<br>1,149円(税込)" in html  # 104.5円 of tax truncated, as on invoices
    pdf = client.get("/contracts/confirmation.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace(" ", "").replace("\n", "")
    assert "5,280円(税抜)" in text and "5,808円(税込)" in text


def test_a_contracts_detail_is_the_same_as_its_separate_reads(app, portal):
    """``detail()`` (one statement on PostgreSQL) gives what the contract, options, lines and documents read one
    by one give, in their order, and nothing of another contract, customer or tenant."""
    from conftest import run
    from mypage.contracts.repository import ContractRepository

    cust, _ = nmedia_customer()
    mine = rec.contract("nmedia", cust, "CAF0000000001", call_details_from="2023-12")
    sibling = rec.contract("nmedia", cust, "CAF0000000009")
    for position, name in ((2, "二番目"), (1, "一番目"), (3, "三番目")):
        rec.option("nmedia", mine, position, name)
    rec.option("nmedia", sibling, 1, "別の契約")
    rec.phone_line("nmedia", mine, "0500000002")
    rec.phone_line("nmedia", mine, "0500000001", service_name="ひかり電話A")
    rec.document("nmedia", cust, mine, "opening_notice", date(2023, 12, 1), title="古い")
    rec.document("nmedia", cust, mine, "opening_notice", date(2024, 2, 1), title="新しい")
    rec.document("nmedia", cust, mine, "invoice_pdf", date(2024, 1, 1), title="請求書")
    rec.document("nmedia", cust, sibling, "opening_notice", date(2024, 3, 1))
    other = rec.customer("nmedia", "CAF0000000002")
    rec.document("nmedia", other, mine, "opening_notice", date(2024, 4, 1))  # not this customer's
    elsewhere = rec.customer("itscom", "CAF0000000001")
    rec.contract("itscom", elsewhere, "CAF0000000001")
    repo = ContractRepository(portal.tenants.get("nmedia"), cust.id)

    async def separately():
        contract = await repo.by_number("CAF0000000001")
        documents = await repo._contract_documents(contract)
        return contract, await repo.options(contract), await repo.phone_lines(contract), documents

    detail = run(repo.detail("CAF0000000001"))
    contract, options, lines, documents = run(separately())

    def fields(rows):
        return [row.to_dict() for row in rows]

    assert detail.contract.to_dict() == contract.to_dict()
    assert detail.contract.call_details_from == "2023-12"
    assert fields(detail.options) == fields(options)
    assert [o.name for o in detail.options] == ["一番目", "二番目", "三番目"]
    assert fields(detail.phone_lines) == fields(lines)
    assert fields(detail.opening_notices) == fields([d for d in documents if d.kind == "opening_notice"])
    assert [d.title for d in detail.opening_notices] == ["新しい", "古い"]
    assert [d.title for d in detail.invoice_pdfs] == ["請求書"]
    assert run(repo.detail("CAF0000000009")).options[0].name == "別の契約"
    assert run(repo.detail("CAF0000000002")) is None  # another customer's number
    assert run(ContractRepository(portal.tenants.get("itscom"), cust.id).detail("CAF0000000001")) is None
    assert run(ContractRepository(portal.tenants.get("nmedia"), None).detail("CAF0000000001")) is None
