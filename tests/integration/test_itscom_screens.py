"""iTSCOM screens as the iTSCOM guides show them (issue 9 item 13): further support numbers, login page
links, the 機器情報 help, 追加認証情報 as choices, お客さま情報確認・変更."""

from __future__ import annotations


def test_further_phone_numbers_are_shown_with_the_first(app, client_for):
    itscom = client_for("itscom")
    login = itscom.get("/login").text
    # the layout footer: every number, each labelled by its entry in contact.more_phones
    assert "0120-125607" in login and "042-716-9617" in login and "0120-109199" in login
    assert 'href="tel:0427169617"' in login and 'href="tel:0120109199"' in login
    assert "国際電話・IP電話などをご利用の場合" in login
    assert "イツ・コミュニケーションズ株式会社(WEBで24時間受付中)" in login and "受付時間 9:30〜18:00" in login
    english = itscom.get("/login?lang=en").text
    assert "From international or IP phones" in english


def test_no_further_numbers_where_none_are_configured(app, client_for, portal):
    for slug in ("aicom", "nmedia"):
        assert not portal.tenants.get(slug).config.contact.more_phones
        assert 'class="contact-phone"' not in client_for(slug).get("/login").text


def test_more_phones_must_be_phone_numbers():
    import pytest
    from pydantic import ValidationError

    from mypage.tenancy.config import ContactPhone

    with pytest.raises(ValidationError):
        ContactPhone(label={"ja": "x"}, number="call us")
    assert ContactPhone(label={"ja": "x"}, number="0120-109199").number == "0120-109199"


def test_login_page_has_reset_and_the_other_login_link_where_configured(app, client_for, portal):
    page = client_for("itscom").get("/login").text
    assert '<button type="reset"' in page and "リセット" in page
    url = portal.tenants.get("itscom").config.identity.other_login_url
    assert url and f'href="{url}"' in page and "アカウントログインはこちら" in page
    # a tenant without these settings shows neither
    other = client_for("aicom").get("/login").text
    assert '<button type="reset"' not in other and "その他のログインはこちら" not in other


def test_verification_screen_explains_where_the_device_id_is(app, client_for):
    page = client_for("itscom").get("/register/email-id").text
    assert "機器情報等がご不明な場合" in page and 'href="#one-of-help"' in page
    assert "機器本体に貼付されたラベル" in page  # the tenant's help text
    assert "<details" in page  # folded without script


def test_account_page_shows_the_contract_holder_read_only(app, client_for):
    import asyncio

    from mypage.identity.passwords import hash_password
    from mypage.identity.tables import Account
    from mypage.records.tables import Customer

    async def go():
        customer = Customer(
            tenant="itscom",
            number="0109999",
            name="伊津 次郎",
            name_kana="イツ　ジロウ",
            phone="0312349876",
            postal_code="1580097",
            address1="東京都世田谷区用賀1-2-3",
            address2="ハイツ101",
            bank_last4="1234",
            card_last4="5678",
            email="",
        )
        await customer.save()
        account = Account(
            tenant="itscom",
            login_id="holder@example.jp",
            login_id_display="holder@example.jp",
            password_hash=hash_password("secret1"),
            email="holder@example.jp",
            customer=customer.id,
        )
        await account.save()

    asyncio.run(go())
    client = client_for("itscom")
    response = client.submit("/login", {"login_id": "holder@example.jp", "password": "secret1"}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/account").text
    assert "ご契約者情報" in page
    for shown in ("伊津 次郎", "〒158-0097", "東京都世田谷区用賀1-2-3", "ハイツ101", "0312349876"):
        assert shown in page
    # read-only: no form edits the holder's record
    holder = page.split("ご契約者情報", 1)[1]
    assert "<input" not in holder.split("</section>", 1)[0]
