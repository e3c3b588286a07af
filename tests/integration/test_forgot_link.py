"""「IDまたはパスワードをお忘れの方」 by e-mail link (identity.recovery.methods contains "email_link")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password, verify_password
from mypage.identity.tables import Account, OneTimeToken

SAME_ANSWER = "入力されたメールアドレスがご登録のものであれば"


def make_account(portal, login_id, email, password="Old12345", tenant="aicom", **fields) -> int:
    async def go():
        account = await AccountRepository(portal.tenants.get(tenant)).create(
            login_id=login_id, password_hash=hash_password(password), email=email, nickname="テスト", **fields
        )
        return account.id

    return run(go())


def reset_paths(message, sink) -> list[str]:
    urls = [u for u in sink.links(message) if "/forgot/email/reset" in u]
    return [f"{urlsplit(u).path}?{urlsplit(u).query}" for u in urls]


def events(name: str) -> list[dict]:
    async def go():
        return await AuditEvent.select().where(AuditEvent.event == name)

    return run(go())


def test_login_links_to_the_configured_forgot_flow(app, client_for):
    page = client_for("aicom").get("/login")
    assert 'href="/forgot/email"' in page.text
    assert client_for("aicom").get("/forgot/email").status_code == 200
    assert client_for("nmedia").get("/forgot/email").status_code == 200
    # a tenant without "email_link" does not have this flow
    assert client_for("itscom").get("/forgot/email").status_code == 404


def test_forgot_flow_lists_ids_and_resets_password(app, client_for, portal, deliver):
    first = make_account(portal, "Taro.One", "taro@example.jp")
    make_account(portal, "taro-two", "taro@example.jp")
    make_account(portal, "someone", "other@example.jp")
    client = client_for("aicom")
    response = client.submit("/forgot/email", {"email": "ｔａｒｏ@example.jp"}, follow_redirects=False)
    assert response.status_code == 303
    sent = client.get(response.headers["location"])
    assert SAME_ANSWER in sent.text and "1時間" in sent.text

    sink = deliver()
    message = sink.last_to("taro@example.jp")
    body = sink.text(message)
    assert "Taro.One" in body and "taro-two" in body and "someone" not in body
    paths = reset_paths(message, sink)
    assert len(paths) == 2

    page = client.get(paths[0])
    assert page.status_code == 200 and "Taro.One" in page.text
    token = paths[0].split("token=", 1)[1]
    weak = client.submit("/forgot/email/reset", {"token": token, "password": "abcdefgh", "password_confirm": "abcdefgh"})
    assert weak.status_code == 400 and "2種類以上" in weak.text
    differs = client.submit("/forgot/email/reset", {"token": token, "password": "New12345", "password_confirm": "New12346"})
    assert differs.status_code == 400 and "パスワードが一致しません" in differs.text
    done = client.submit("/forgot/email/reset", {"token": token, "password": "New12345", "password_confirm": "New12345"})
    assert done.status_code == 200 and "パスワードを再設定しました" in done.text

    async def check():
        account = await Account.objects().where(Account.id == first).first()
        assert verify_password(account.password_hash, "New12345")

    run(check())
    # notice mail about the change
    notice = deliver().last_to("taro@example.jp")
    assert "登録情報変更のお知らせ" in notice["Subject"]

    # single use
    again = client.get(paths[0])
    assert again.status_code == 410
    assert (
        client.submit("/forgot/email/reset", {"token": token, "password": "New99999", "password_confirm": "New99999"}).status_code
        == 410
    )

    login = client_for("aicom").submit("/login", {"login_id": "taro.one", "password": "New12345"}, follow_redirects=False)
    assert login.status_code == 303
    assert events("recovery.link_requested") and events("password.reset")


def test_unknown_address_gets_the_same_answer_and_no_mail(app, client_for, deliver):
    client = client_for("aicom")
    response = client.submit("/forgot/email", {"email": "nobody@example.jp"})
    assert response.status_code == 200 and SAME_ANSWER in response.text
    assert deliver().to("nobody@example.jp") == []
    bad = client.submit("/forgot/email", {"email": "not an address"})
    assert bad.status_code == 400 and "メールアドレスの形式で入力してください。" in bad.text


def test_expired_and_forged_links(app, client_for, portal, deliver):
    make_account(portal, "expiring", "exp@example.jp")
    client = client_for("aicom")
    client.submit("/forgot/email", {"email": "exp@example.jp"})
    sink = deliver()
    path = reset_paths(sink.last_to("exp@example.jp"), sink)[0]

    async def expire():
        await OneTimeToken.update({OneTimeToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
            OneTimeToken.tenant == "aicom"
        )

    run(expire())
    page = client.get(path)
    assert page.status_code == 410 and "有効期限が切れています" in page.text
    assert client.get("/forgot/email/reset?token=forged").status_code == 400


def test_other_tenants_accounts_are_not_mailed(app, client_for, portal, deliver):
    make_account(portal, "abc123", "shared@example.jp", tenant="nmedia")
    client_for("aicom").submit("/forgot/email", {"email": "shared@example.jp"})
    assert deliver().to("shared@example.jp") == []


def test_address_is_found_whatever_the_letter_case(app, client_for, portal, deliver):
    make_account(portal, "case-user", "Taro_Koka@Example.jp")
    make_account(portal, "look-alike", "taroxkoka@example.jp")  # "_" must not act as a wildcard
    client = client_for("aicom")
    response = client.submit("/forgot/email", {"email": "ＴＡＲＯ_koka@example.JP"})
    assert response.status_code == 200 and SAME_ANSWER in response.text
    sink = deliver()
    assert len(sink.to("Taro_Koka@Example.jp")) == 1
    assert "case-user" in sink.text(sink.to("Taro_Koka@Example.jp")[0])
    assert sink.to("taroxkoka@example.jp") == []
