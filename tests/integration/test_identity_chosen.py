"""Registration with a chosen login ID (login_id.kind = "chosen"), end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account, OneTimeToken
from mypage.records.tables import Customer


def account_count() -> int:
    async def go():
        return await Account.count().where(Account.tenant == "aicom")

    return run(go())


MISMATCH = "入力された内容が契約者情報と一致しません。もう一度お手元の登録書をご確認ください。"
PASSWORD = "Abcd1234"


def make_customer(number="0001234567", phone="0748621234", kana="アイコム　タロウ", tenant="aicom") -> int:
    async def go():
        customer = Customer(tenant=tenant, number=number, name="藍込 太郎", name_kana=kana, phone=phone)
        await customer.save()
        return customer.id

    return run(go())


def verify(client, number="1234567", phone="0748621234", kana="アイコム　タロウ"):
    return client.submit(
        "/register/chosen-id",
        {"customer_number": number, "phone": phone, "name_kana": kana},
        follow_redirects=False,
    )


def profile(client, login_id="taro.aicom", password=PASSWORD, email="taro@example.jp", nickname="たろう", action="confirm"):
    return client.submit(
        "/register/chosen-id/profile",
        {"login_id": login_id, "password": password, "email": email, "nickname": nickname, "action": action},
        follow_redirects=False,
    )


def provisional(client, deliver, email="taro@example.jp", **kwargs) -> str:
    """Verified already; fills the profile, confirms, and returns the 本登録手続きURL path+query."""
    assert profile(client, email=email, **kwargs).status_code == 303
    response = client.submit("/register/chosen-id/confirm", {"action": "submit"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    sent = client.get(response.headers["location"])
    assert "仮登録が完了しました。" in sent.text
    message = deliver().last_to(email)
    assert "仮登録受付完了" in message["Subject"]
    links = [u for u in deliver().links(message) if "/register/chosen-id/complete" in u]
    assert links, deliver().text(message)
    parts = urlsplit(links[0])
    return f"{parts.path}?{parts.query}"


def test_login_page_links_registration(app, client_for):
    client = client_for("aicom")
    page = client.get("/login")
    assert "初めてログインされる方" in page.text and 'href="/register"' in page.text
    assert client.get("/register", follow_redirects=False).headers["location"] == "/register/chosen-id"
    verify_page = client.get("/register/chosen-id")
    assert "初回会員登録(認証情報)" in verify_page.text
    assert "「0を省いて」入力してください" in verify_page.text
    assert "ハイフン抜きで入力してください" in verify_page.text
    assert "例)アイコム タロウ" in verify_page.text
    # another tenant runs another flow: this flow is not there
    assert client_for("itscom").get("/register/chosen-id").status_code == 404


def test_full_registration_walk_and_login(app, client_for, deliver):
    make_customer()
    client = client_for("aicom")
    # verification: without leading zeros, hyphenated full-width phone, half-width kana with a half-width space
    response = verify(client, number="1234567", phone="０７４８－６２－１２３４", kana="ｱｲｺﾑ ﾀﾛｳ")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/register/chosen-id/profile"
    page = client.get("/register/chosen-id/profile")
    assert "初回会員登録(初期情報)" in page.text and "IDチェック" in page.text

    # ID check without JavaScript (submit button action=check) keeps the input
    checked = profile(client, login_id="Taro.Aicom", action="check")
    assert checked.status_code == 200
    assert "このIDは利用できます" in checked.text
    assert 'value="Taro.Aicom"' in checked.text and 'value="たろう"' in checked.text

    # confirm, back (input kept), confirm again
    assert profile(client, login_id="Taro.Aicom").status_code == 303
    confirm = client.get("/register/chosen-id/confirm")
    assert "Taro.Aicom" in confirm.text and "taro@example.jp" in confirm.text and "仮登録する" in confirm.text
    back = client.submit("/register/chosen-id/confirm", {"action": "back"}, follow_redirects=False)
    assert back.headers["location"] == "/register/chosen-id/profile"
    again = client.get("/register/chosen-id/profile")
    assert 'value="Taro.Aicom"' in again.text and 'value="taro@example.jp"' in again.text
    assert "パスワードは入力済みです" in again.text

    # submitting with the password left empty keeps the one entered before
    path = provisional(client, deliver, login_id="Taro.Aicom", password="")
    complete = client.get(path)
    assert "メール受信確認" in complete.text and "本登録する" in complete.text
    token = path.split("token=", 1)[1]

    # wrong password, then the right one
    wrong = client.submit("/register/chosen-id/complete", {"token": token, "password": "Wrong1234"})
    assert wrong.status_code == 400 and "パスワードが正しくありません" in wrong.text
    done = client.submit("/register/chosen-id/complete", {"token": token, "password": PASSWORD})
    assert done.status_code == 200, done.text
    assert "本登録が完了しました。" in done.text and "そのままログイン" in done.text

    old_session = client.cookies.get("mypage_session")
    logged_in = client.submit("/register/chosen-id/login", {}, follow_redirects=False)
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/"
    assert client.cookies.get("mypage_session") != old_session
    home = client.get("/")
    assert "たろう" in home.text

    async def check():
        accounts = await Account.select().where(Account.tenant == "aicom")
        assert len(accounts) == 1
        assert accounts[0]["login_id"] == "taro.aicom" and accounts[0]["login_id_display"] == "Taro.Aicom"
        assert accounts[0]["nickname"] == "たろう" and accounts[0]["email"] == "taro@example.jp"
        events = {e["event"] for e in await AuditEvent.select(AuditEvent.event).where(AuditEvent.tenant == "aicom")}
        assert {"register.verified", "register.provisional", "register.completed", "login.success"} <= events

    run(check())

    # the link is single use
    used = client_for("aicom").get(path)
    assert used.status_code == 410 and "認証及び仮登録を実施する必要があります" in used.text

    # login with the chosen ID, case-insensitively
    fresh = client_for("aicom")
    response = fresh.submit("/login", {"login_id": "TARO.AICOM", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303


def test_verify_with_leading_zeros_and_mismatch(app, client_for):
    make_customer()
    client = client_for("aicom")
    bad = verify(client, number="1234567", phone="0748629999")
    assert bad.status_code == 400 and MISMATCH in bad.text
    assert 'value="0748629999"' in bad.text
    wrong_kana = verify(client, kana="アイコム　ハナコ")
    assert MISMATCH in wrong_kana.text
    ok = verify(client, number="0001234567", phone="074-862-1234", kana="あいこむ　たろう")
    assert ok.status_code == 303 and ok.headers["location"].endswith("/profile")


def test_field_errors_are_shown_next_to_the_field(app, client_for):
    client = client_for("aicom")
    response = verify(client, number="", phone="12", kana="Taro")
    assert response.status_code == 400
    assert "入力してください。" in response.text
    assert "電話番号は10桁または11桁の数字で入力してください。" in response.text
    assert "全角カナで入力してください。" in response.text


def test_verification_attempts_are_limited(app, client_for):
    make_customer()
    client = client_for("aicom")
    for _ in range(5):
        assert MISMATCH in verify(client, phone="0748620000").text
    blocked = verify(client)
    assert blocked.status_code == 429 and "一時的に停止" in blocked.text


def test_id_check_taken_and_profile_errors(app, client_for, portal):
    make_customer()

    async def existing():
        await AccountRepository(portal.tenants.get("aicom")).create(login_id="taken-id", password_hash=hash_password("Xyz12345"))

    run(existing())
    client = client_for("aicom")
    assert verify(client).status_code == 303
    taken = profile(client, login_id="TAKEN-ID", action="check")
    assert "このIDは既に使用されています" in taken.text
    # JSON endpoint for the script (CSRF header required)
    data = client.post(
        "/register/chosen-id/check-id", json={"login_id": "Taken-Id"}, headers={"x-csrftoken": client.csrf()}
    ).json()
    assert data == {"status": "taken", "available": False, "message": "このIDは既に使用されています"}
    data = client.post(
        "/register/chosen-id/check-id", json={"login_id": "free-id"}, headers={"x-csrftoken": client.csrf()}
    ).json()
    assert data["available"] is True and data["message"] == "このIDは利用できます"
    assert client.post("/register/chosen-id/check-id", json={"login_id": "x"}).status_code == 403

    errors = profile(client, login_id="abcd", password="abcdefgh", email="not-an-address", nickname="")
    assert errors.status_code == 400
    assert "5～30文字で入力してください。" in errors.text
    assert "英大文字・英小文字・数字のうち2種類以上を使用してください。" in errors.text
    assert "メールアドレスの形式で入力してください。" in errors.text
    assert 'value="abcd"' in errors.text
    dup = profile(client, login_id="Taken-ID")
    assert dup.status_code == 400 and "このIDは既に使用されています" in dup.text


def test_existing_account_is_told_politely(app, client_for, portal):
    customer_id = make_customer()

    async def existing():
        await AccountRepository(portal.tenants.get("aicom")).create(
            login_id="owner1", customer=customer_id, password_hash=hash_password("Xyz12345")
        )

    run(existing())
    client = client_for("aicom")
    response = verify(client)
    assert response.status_code == 409 and "既にマイページにご登録済み" in response.text.replace("すでに", "既に")
    assert client.get("/register/chosen-id/profile", follow_redirects=False).status_code == 303


def test_expired_link(app, client_for, deliver):
    make_customer()
    client = client_for("aicom")
    assert verify(client).status_code == 303
    path = provisional(client, deliver)

    async def expire():
        await OneTimeToken.update({OneTimeToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
            OneTimeToken.tenant == "aicom"
        )

    run(expire())
    page = client.get(path)
    assert page.status_code == 410
    assert "有効期限が切れています" in page.text
    assert "仮登録有効期限(仮登録メール送信から 24 時間以内)" in page.text
    token = path.split("token=", 1)[1]
    post = client.submit("/register/chosen-id/complete", {"token": token, "password": PASSWORD})
    assert post.status_code == 410
    assert account_count() == 0


def test_id_reserved_only_at_final_registration(app, client_for, deliver, portal):
    make_customer()
    client = client_for("aicom")
    assert verify(client).status_code == 303
    path = provisional(client, deliver, login_id="wanted-id")

    async def someone_else():
        await AccountRepository(portal.tenants.get("aicom")).create(login_id="WANTED-ID", password_hash=hash_password("Xyz12345"))

    run(someone_else())
    token = path.split("token=", 1)[1]
    response = client.submit("/register/chosen-id/complete", {"token": token, "password": PASSWORD})
    assert response.status_code == 409 and "認証及び仮登録を実施してください" in response.text
    assert account_count() == 1


def test_other_tenants_customer_does_not_match(app, client_for):
    make_customer(tenant="nmedia")
    client = client_for("aicom")
    assert MISMATCH in verify(client).text
    assert re.search(r"/register/chosen-id", client.get("/register/chosen-id").text)


# ---------------------------------------------------------------- 会員情報 (/account/profile)


def logged_in_client(client_for, portal, login_id="member1", email="member1@example.jp"):
    async def make():
        await AccountRepository(portal.tenants.get("aicom")).create(
            login_id=login_id, password_hash=hash_password("Member123"), email=email, nickname="会員一号"
        )

    run(make())
    client = client_for("aicom")
    assert client.submit("/login", {"login_id": login_id, "password": "Member123"}, follow_redirects=False).status_code == 303
    return client


def test_menu_links_account_profile(app, client_for, portal):
    client = logged_in_client(client_for, portal)
    home = client.get("/")
    assert 'href="/account/profile"' in home.text and "会員情報" in home.text
    assert client_for("aicom").get("/account/profile", follow_redirects=False).headers["location"].startswith("/login")


def test_account_profile_changes(app, client_for, portal, deliver):
    client = logged_in_client(client_for, portal)
    page = client.get("/account/profile")
    assert page.status_code == 200 and "member1@example.jp" in page.text and "/account/security" in page.text

    assert client.submit("/account/profile/nickname", {"nickname": ""}).status_code == 400
    response = client.submit("/account/profile/nickname", {"nickname": "ニックネーム新"}, follow_redirects=False)
    assert response.status_code == 303
    assert "ニックネーム新" in client.get("/").text

    wrong = client.submit("/account/profile/email", {"email": "new@example.jp", "email_current_password": "Wrong999"})
    assert (
        wrong.status_code == 400 and "現在のパスワードが正しくありません" in wrong.text and 'value="new@example.jp"' in wrong.text
    )
    ok = client.submit(
        "/account/profile/email", {"email": "ｎｅｗ@example.jp", "email_current_password": "Member123"}, follow_redirects=False
    )
    assert ok.status_code == 303
    sink = deliver()
    assert "メールアドレス" in sink.text(sink.last_to("member1@example.jp"))
    assert sink.to("new@example.jp")

    weak = client.submit(
        "/account/profile/password", {"current_password": "Member123", "new_password": "short", "new_password_confirm": "short"}
    )
    assert weak.status_code == 400 and "8～16文字で入力してください。" in weak.text
    changed = client.submit(
        "/account/profile/password",
        {"current_password": "Member123", "new_password": "Changed99", "new_password_confirm": "Changed99"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert "パスワードを変更しました。" in client.get("/account/profile").text
    assert (
        client_for("aicom").submit("/login", {"login_id": "member1", "password": "Changed99"}, follow_redirects=False).status_code
        == 303
    )

    async def audit():
        names = {e["event"] for e in await AuditEvent.select(AuditEvent.event).where(AuditEvent.tenant == "aicom")}
        assert {"account.nickname_changed", "account.email_changed", "password.changed", "account.password_check_failed"} <= names

    run(audit())


def test_too_many_wrong_current_passwords_end_the_session(app, client_for, portal):
    client = logged_in_client(client_for, portal)
    for _ in range(4):
        assert (
            client.submit(
                "/account/profile/password",
                {"current_password": "Bad12345", "new_password": "Good1234", "new_password_confirm": "Good1234"},
            ).status_code
            == 400
        )
    response = client.submit(
        "/account/profile/password",
        {"current_password": "Bad12345", "new_password": "Good1234", "new_password_confirm": "Good1234"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/login"
    assert client.get("/account/profile", follow_redirects=False).headers["location"].startswith("/login")
