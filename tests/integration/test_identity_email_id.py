"""Registration where the login ID is an e-mail address (iTSCOM ID), and the iTSCOM ID/password rules."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest

from mypage.identity.passwords import hash_password
from mypage.identity.policy import check_login_id, check_password
from mypage.identity.tables import Account, OneTimeToken
from mypage.records.tables import Customer, Device


def run(coro):
    return asyncio.run(coro)


PREFIX = "/register/email-id"


def make_customers():
    async def go():
        a = Customer(
            tenant="itscom",
            number="0100001",
            name="伊津 太郎",
            name_kana="イツ　タロウ",
            phone="0312345678",
            bank_last4="1234",
            card_last4="5678",
            email="onfile@example.jp",
        )
        b = Customer(
            tenant="itscom",
            number="0100002",
            name="伊津 太郎",
            name_kana="イツ　タロウ",
            phone="0312345678",
            bank_last4="1234",
            card_last4="9999",
            email="",
        )
        c = Customer(
            tenant="itscom",
            number="0100003",
            name="世田谷 花子",
            name_kana="セタガヤ　ハナコ",
            phone="0398765432",
            bank_last4="4321",
            card_last4="1111",
            email="hanako@example.jp",
        )
        for row in (a, b, c):
            await row.save()
        await Device(tenant="itscom", customer=b.id, kind="STB", device_id="STB00012345").save()
        return a.id, b.id, c.id

    return run(go())


def age_tokens():
    """Lets the re-send interval pass."""

    async def go():
        await OneTimeToken.update({OneTimeToken.created_at: datetime.now(UTC) - timedelta(minutes=5)}).where(
            OneTimeToken.tenant == "itscom"
        )

    run(go())


def expire_tokens():
    async def go():
        await OneTimeToken.update({OneTimeToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
            OneTimeToken.tenant == "itscom"
        )

    run(go())


def accounts_of(customer_id):
    async def go():
        return await Account.select().where(Account.tenant == "itscom").where(Account.customer == customer_id)

    return run(go())


def register(client, deliver, *, answers, login_id, password, contact="0", extra=None):
    response = client.submit(PREFIX, answers, follow_redirects=False)
    assert response.status_code == 303, response.text
    if extra is not None:
        assert response.headers["location"] == f"{PREFIX}/extra"
        page = client.get(f"{PREFIX}/extra")
        assert "追加認証情報" in page.text
        response = client.submit(f"{PREFIX}/extra", extra, follow_redirects=False)
        assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{PREFIX}/account"
    page = client.get(f"{PREFIX}/account")
    assert "入力可能文字数：4～100文字" in page.text and "入力可能文字数：6～32文字" in page.text
    response = client.submit(
        f"{PREFIX}/account", {"login_id": login_id, "password": password, "password_confirm": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    sent = client.get(f"{PREFIX}/sent")
    assert "iTSCOM ID 新規登録" in sent.text and login_id in sent.text
    message = deliver().last_to(login_id)
    links = [link for link in deliver().links(message) if "/confirm/" in link]
    assert links, deliver().text(message)
    path = links[0].split("localhost", 1)[1].split("/", 1)[1]
    confirm = client.get("/" + path)
    assert confirm.status_code == 200, confirm.text
    response = client.submit("/" + path, {"contact": contact}, follow_redirects=False)
    assert response.status_code == 303, response.text
    done = client.get(f"{PREFIX}/done")
    assert "これでiTSCOM IDの登録は完了です。" in done.text
    return confirm, "/" + path


def test_login_page_links(client_for):
    page = client_for("itscom").get("/login")
    assert "iTSCOM IDの新規登録" in page.text
    assert "ID,またはパスワードをお忘れですか?" in page.text
    assert 'href="/forgot"' in page.text
    assert "パスワードを表示" in page.text


def test_full_registration_with_disambiguation_and_reregistration(client_for, deliver):
    a, b, _c = make_customers()
    client = client_for("itscom")
    entry = client.get("/register")
    assert "契約者情報 認証" in entry.text
    assert "ご契約者氏名(カナ)" in entry.text and "登録済みの電話番号" in entry.text
    assert "セットアップボックス (STB/Hit pot) のID" in entry.text

    # kana + phone + bank last 4 fit customers a and b: 追加認証情報 with the STB ID picks b.
    answers = {"name_kana": "いつ たろう", "phone": "03-1234-5678", "pay_kind": "bank_last4", "pay_value": "１２３４"}
    confirm, link = register(
        client,
        deliver,
        answers=answers,
        login_id="Taro@Example.jp",
        password="abc123",
        extra={"customer_number": "", "device_id": "stb00012345"},
    )
    assert "連絡先メールアドレス(※)を選択してください。" not in confirm.text  # b has no address on file
    rows = accounts_of(b)
    assert len(rows) == 1 and rows[0]["login_id"] == "taro@example.jp" and rows[0]["email"] == "Taro@Example.jp"
    assert accounts_of(a) == []
    # The link is single use.
    again = client.get(link)
    assert again.status_code == 400 and "すでに使用されています" in again.text

    browser = client_for("itscom")
    login = browser.submit("/login", {"login_id": "taro@example.jp", "password": "abc123"}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/"
    assert browser.get("/", follow_redirects=False).status_code == 200

    # Registering again for customer b replaces the ID and password on the same account row.
    age_tokens()
    client2 = client_for("itscom")
    register(
        client2,
        deliver,
        answers=answers,
        login_id="new-taro@example.jp",
        password="xyz789",
        extra={"customer_number": "0100002", "device_id": ""},
    )
    rows2 = accounts_of(b)
    assert len(rows2) == 1 and rows2[0]["id"] == rows[0]["id"]
    assert rows2[0]["login_id"] == "new-taro@example.jp"
    old = client_for("itscom").submit("/login", {"login_id": "taro@example.jp", "password": "abc123"}, follow_redirects=False)
    assert old.status_code == 400
    # The replaced credentials' session is over, and the contact address until now was told (and what to do).
    assert browser.get("/", follow_redirects=False).headers["location"].startswith("/login")
    notices = [m for m in deliver().messages if m["To"] == "Taro@Example.jp" and "登録情報変更" in m["Subject"]]
    assert len(notices) == 1
    notice = deliver().text(notices[0])
    assert "変更された項目" in notice and "パスワード" in notice and "お心当たりのない場合" in notice
    new = client_for("itscom").submit("/login", {"login_id": "new-taro@example.jp", "password": "xyz789"}, follow_redirects=False)
    assert new.status_code == 303


def test_contact_choice_and_unique_id(client_for, deliver):
    _a, _b, c = make_customers()
    run(create_account("someone@example.jp", None))
    client = client_for("itscom")
    answers = {"name_kana": "セタガヤ ハナコ", "phone": "0398765432", "pay_kind": "card_last4", "pay_value": "1111"}
    response = client.submit(PREFIX, answers, follow_redirects=False)
    assert response.headers["location"] == f"{PREFIX}/account"
    taken = client.submit(
        f"{PREFIX}/account", {"login_id": "SOMEONE@example.jp", "password": "abc123", "password_confirm": "abc123"}
    )
    assert taken.status_code == 400 and "すでに使用されています" in taken.text
    mismatch = client.submit(
        f"{PREFIX}/account", {"login_id": "hana@example.jp", "password": "abc123", "password_confirm": "abc124"}
    )
    assert mismatch.status_code == 400 and "パスワードが一致しません" in mismatch.text
    assert 'value="hana@example.jp"' in mismatch.text
    bad = client.submit(f"{PREFIX}/account", {"login_id": "hana!@example.jp", "password": "abc 12", "password_confirm": "abc 12"})
    assert bad.status_code == 400 and "使用できない文字" in bad.text

    ok = client.submit(
        f"{PREFIX}/account",
        {"login_id": "hana@example.jp", "password": "p@ss_w0rd", "password_confirm": "p@ss_w0rd"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    message = deliver().last_to("hana@example.jp")
    link = next(x for x in deliver().links(message) if "/confirm/" in x)
    path = "/" + link.split("localhost", 1)[1].split("/", 1)[1]
    page = client.get(path)
    assert "連絡先メールアドレス(※)を選択してください。" in page.text and "hanako@example.jp" in page.text
    missing = client.submit(path, {})
    assert missing.status_code == 400 and "連絡先メールアドレスを選択してください。" in missing.text
    assert client.submit(path, {"contact": "1"}, follow_redirects=False).status_code == 303
    rows = accounts_of(c)
    assert rows[0]["email"] == "hanako@example.jp" and rows[0]["login_id"] == "hana@example.jp"
    assert "これでiTSCOM IDの登録は完了です。" in client.get(f"{PREFIX}/done").text
    assert deliver().last_to("hanako@example.jp")


def create_account(login_id, customer):
    async def go():
        await Account(
            tenant="itscom",
            login_id=login_id,
            login_id_display=login_id,
            password_hash=hash_password("x12345"),
            email=login_id,
            customer=customer,
        ).save()

    return go()


def test_mismatch_message_and_attempt_limit(client_for):
    make_customers()
    client = client_for("itscom")
    wrong = {"name_kana": "イツ タロウ", "phone": "0312345678", "pay_kind": "card_last4", "pay_value": "0000"}
    for _ in range(5):
        response = client.submit(PREFIX, wrong)
        assert response.status_code == 400
        assert "一致するご契約者情報が見つかりませんでした" in response.text, re.findall(
            r"(?:field__error|form-error)[^<]*", response.text
        )
        assert 'value="イツ タロウ"' in response.text
    blocked = client.submit(PREFIX, {**wrong, "pay_value": "5678"})
    assert blocked.status_code == 429 and "一時的にご利用いただけません" in blocked.text


def test_field_errors_and_missing_choice(client_for):
    client = client_for("itscom")
    response = client.submit(PREFIX, {"name_kana": "Taro", "phone": "12", "pay_value": "1"})
    assert response.status_code == 400
    assert "全角カナで入力してください。" in response.text
    assert "電話番号は10桁または11桁" in response.text
    assert "いずれか1つを選択してください。" in response.text


def test_expired_link(client_for, deliver):
    make_customers()
    client = client_for("itscom")
    client.submit(
        PREFIX, {"name_kana": "セタガヤ ハナコ", "phone": "0398765432", "pay_kind": "customer_number", "pay_value": "0100003"}
    )
    client.submit(f"{PREFIX}/account", {"login_id": "late@example.jp", "password": "abc123", "password_confirm": "abc123"})
    expire_tokens()
    link = next(x for x in deliver().links(deliver().last_to("late@example.jp")) if "/confirm/" in x)
    page = client.get("/" + link.split("localhost", 1)[1].split("/", 1)[1])
    assert page.status_code == 400 and "有効期限が切れています" in page.text


def test_other_flows_do_not_serve_these_pages(client_for):
    assert client_for("aicom").get(PREFIX).status_code == 404
    assert client_for("nmedia").get(f"{PREFIX}/account").status_code == 404


# -- the iTSCOM ID and password rules at their boundaries ---------------------------------------------


@pytest.fixture
def itscom(portal):
    return portal.tenants.get("itscom").config.identity


def _length_error(messages):
    return any("文字で入力してください" in m for m in messages)


def test_login_id_lengths(itscom):
    policy = itscom.login_id
    assert _length_error(check_login_id("a@b", policy))  # 3
    assert not _length_error(check_login_id("a@bc", policy))  # 4: long enough (not an address, though)
    hundred = "a" * (100 - len("@example.jp")) + "@example.jp"
    assert len(hundred) == 100 and check_login_id(hundred, policy) == []
    assert _length_error(check_login_id("a" + hundred, policy))  # 101


@pytest.mark.parametrize("symbol", ["@", "_", "-", "."])
def test_login_id_allowed_symbols(itscom, symbol):
    value = f"ab{symbol}cd@example.jp" if symbol != "@" else "abcd@example.jp"
    assert check_login_id(value, itscom.login_id) == []


@pytest.mark.parametrize("value", ["ab+cd@example.jp", "ab!cd@example.jp", "あいう@example.jp"])
def test_login_id_disallowed(itscom, value):
    assert any("使用できない文字" in m for m in check_login_id(value, itscom.login_id))


def test_password_lengths(itscom):
    policy = itscom.password
    assert _length_error(check_password("abc12", policy))  # 5
    assert check_password("abc123", policy) == []  # 6
    assert check_password("a" * 32, policy) == []  # 32
    assert _length_error(check_password("a" * 33, policy))  # 33


@pytest.mark.parametrize("symbol", list("%+./:=@^_-"))
def test_password_allowed_symbols(itscom, symbol):
    assert check_password(f"abc{symbol}123", itscom.password) == []


@pytest.mark.parametrize("symbol", [*list("!#$&*?~ "), "あ"])
def test_password_disallowed_symbols(itscom, symbol):
    assert any("使用できない文字" in m for m in check_password(f"abc{symbol}123", itscom.password))


def test_rule_texts_are_the_seed_wording(itscom):
    assert itscom.login_id.rule_text.ja.startswith("入力可能文字数：4～100文字")
    assert "「%」「+」「.」「/」「:」「=」「@」「^」「_」「-」" in itscom.password.rule_text.ja
