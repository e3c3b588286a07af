"""Screens the guides show that were missing (issue 9 items 12 and 13): aicom's お客様番号の表記見本, iTSCOM's
追加認証情報 as a choice of the item."""

from __future__ import annotations

import asyncio

from mypage.records.tables import Customer, Device


def test_aicom_customer_number_sample_is_linked_next_to_the_field(app, client_for):
    client = client_for("aicom")
    page = client.get("/register").text
    assert 'href="/help/customer_number"' in page and "⇒お客様番号の表記見本はコチラ" in page
    sample = client.get("/help/customer_number")
    assert sample.status_code == 200
    assert "お客様番号の表記見本" in sample.text and 'src="/static/customer-number-sample.svg"' in sample.text
    image = client.get("/static/customer-number-sample.svg")
    assert image.status_code == 200 and "0001234567" in image.text
    # English has its own document; names that are not documents, or another tenant without one, are 404
    assert client.get("/help/customer_number?lang=en").status_code == 200
    assert client.get("/help/phone").status_code == 404
    assert client.get("/help/..%2Fterms").status_code == 404
    assert client_for("nmedia").get("/help/customer_number").status_code == 404


def test_no_sample_link_without_the_document(app, client_for):
    # iTSCOM's and nmedia's registration have no help documents: no link
    for slug, path in (("itscom", "/register/email-id"), ("nmedia", "/register")):
        assert "/help/" not in client_for(slug).get(path).text


def _two_customers_alike():
    async def go():
        for number, stb in (("1000000802", "STB0000802"), ("1000000803", "STB0000803")):
            customer = Customer(
                tenant="itscom",
                number=number,
                name="伊津 三郎",
                name_kana="イッツ　サブロウ",
                phone="0337008888",
                bank_last4="8888",
                email="",
            )
            await customer.save()
            await Device(tenant="itscom", customer=customer.id, kind="STB", device_id=stb).save()

    asyncio.run(go())


def test_itscom_extra_information_is_a_choice_of_the_item(app, client_for):
    _two_customers_alike()
    client = client_for("itscom")
    answers = {"name_kana": "イッツ　サブロウ", "phone": "0337008888", "pay_kind": "bank_last4", "pay_value": "8888"}
    response = client.submit("/register/email-id", answers, follow_redirects=False)
    assert response.headers["location"] == "/register/email-id/extra"
    page = client.get("/register/email-id/extra").text
    assert '<select id="f-extra_kind" name="extra_kind"' in page
    assert '<option value="customer_number"' in page and '<option value="device_id"' in page
    assert "セットアップボックス (STB/Hit pot) のID" in page
    empty = client.submit("/register/email-id/extra", {"extra_kind": "device_id", "extra_value": ""})
    assert empty.status_code == 400 and "いずれか1つ以上を入力してください。" in empty.text
    wrong = client.submit("/register/email-id/extra", {"extra_kind": "device_id", "extra_value": "STB0000999"})
    assert wrong.status_code == 400
    # the choice and the value come back as entered
    assert '<option value="device_id" selected>' in wrong.text and 'value="STB0000999"' in wrong.text
    right = client.submit(
        "/register/email-id/extra", {"extra_kind": "device_id", "extra_value": "stb0000803"}, follow_redirects=False
    )
    assert right.status_code == 303 and right.headers["location"] == "/register/email-id/account"
