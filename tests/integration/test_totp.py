"""Authenticator-app (TOTP) second factor: setup, login with a code, login with a recovery code."""

from __future__ import annotations

import re

import pyotp

from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account, RecoveryCode

PASSWORD = "Totp1234"


def make_account(portal, login_id="totp-user", tenant="aicom") -> int:
    async def go():
        account = await AccountRepository(portal.tenants.get(tenant)).create(
            login_id=login_id, password_hash=hash_password(PASSWORD), email=f"{login_id}@example.jp", nickname="二段階"
        )
        return account.id

    return run(go())


def login(client, login_id="totp-user", password=PASSWORD):
    return client.submit("/login", {"login_id": login_id, "password": password}, follow_redirects=False)


def account_row(account_id: int) -> dict:
    async def go():
        return await Account.select().where(Account.id == account_id).first()

    return run(go())


def setup_totp(client) -> tuple[str, list[str]]:
    page = client.get("/account/security/totp")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text
    secret = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    wrong = client.submit("/account/security/totp", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 400 and "確認コードが正しくありません" in wrong.text
    response = client.submit("/account/security/totp", {"code": pyotp.TOTP(secret).now()}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account/security/codes"
    codes_page = client.get("/account/security/codes")
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", codes_page.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    # shown once only
    assert client.get("/account/security/codes", follow_redirects=False).status_code == 303
    return secret, codes


def test_security_page_needs_login_and_config(app, client_for, portal):
    assert client_for("aicom").get("/account/security", follow_redirects=False).headers["location"].startswith("/login")
    make_account(portal, "itsuser@example.jp", tenant="itscom")
    itscom = client_for("itscom")
    login(itscom, "itsuser@example.jp")
    assert itscom.get("/account/security").status_code == 404


def test_totp_setup_login_with_code_and_recovery_code(app, client_for, portal, deliver):
    account_id = make_account(portal)
    client = client_for("aicom")
    assert login(client).headers["location"] == "/"
    assert "未設定" in client.get("/account/security").text
    secret, codes = setup_totp(client)
    assert account_row(account_id)["totp_secret"] == secret

    async def stored():
        rows = await RecoveryCode.select().where(RecoveryCode.account == account_id)
        assert len(rows) == 10
        assert all(code.replace("-", "") not in row["code_hash"] for row in rows for code in codes)

    run(stored())
    assert "設定済み" in client.get("/account/security").text
    assert "2段階認証" in deliver().text(deliver().last_to("totp-user@example.jp"))

    # login: password, then the code
    fresh = client_for("aicom")
    step = login(fresh)
    assert step.headers["location"] == "/login/totp"
    assert fresh.get("/", follow_redirects=False).status_code in (302, 303)  # not logged in yet
    assert "確認コード" in fresh.get("/login/totp").text
    bad = fresh.submit("/login/totp", {"code": "12345x"})
    assert bad.status_code == 400 and "正しくありません" in bad.text
    code = pyotp.TOTP(secret).now()
    ok = fresh.submit("/login/totp", {"code": code}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert "二段階" in fresh.get("/").text

    # the same code cannot be replayed in another login
    replay = client_for("aicom")
    login(replay)
    assert replay.submit("/login/totp", {"code": code}).status_code == 400

    # a recovery code works once (typed in upper case, full-width hyphen)
    with_code = client_for("aicom")
    login(with_code)
    typed = codes[0].upper().replace("-", "－")
    response = with_code.submit("/login/totp", {"code": typed}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "残りのリカバリーコードは9個" in with_code.get("/").text

    again = client_for("aicom")
    login(again)
    assert again.submit("/login/totp", {"code": codes[0]}).status_code == 400

    async def audit():
        names = {e["event"] for e in await AuditEvent.select(AuditEvent.event).where(AuditEvent.account_id == account_id)}
        assert {"totp.enabled", "login.totp_ok", "login.recovery_code_used", "login.totp_failure"} <= names

    run(audit())


def test_totp_step_cannot_be_skipped_and_failures_lock(app, client_for, portal):
    account_id = make_account(portal)
    client = client_for("aicom")
    login(client)
    setup_totp(client)
    attacker = client_for("aicom")
    assert attacker.get("/login/totp", follow_redirects=False).headers["location"] == "/login"
    login(attacker)
    for _ in range(4):
        assert attacker.submit("/login/totp", {"code": "abcde-fghjk"}).status_code == 400
    locked = attacker.submit("/login/totp", {"code": "abcde-fghjk"}, follow_redirects=False)
    assert locked.status_code == 303 and locked.headers["location"] == "/login"
    assert account_row(account_id)["locked_until"] is not None


def test_disable_and_regenerate(app, client_for, portal):
    account_id = make_account(portal)
    client = client_for("aicom")
    login(client)
    _secret, codes = setup_totp(client)
    wrong = client.submit("/account/security/totp/recovery-codes", {"codes_password": "nope"})
    assert wrong.status_code == 400 and "現在のパスワードが正しくありません" in wrong.text
    response = client.submit("/account/security/totp/recovery-codes", {"codes_password": PASSWORD}, follow_redirects=False)
    assert response.headers["location"] == "/account/security/codes"
    new_codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", client.get("/account/security/codes").text)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)

    response = client.submit("/account/security/totp/disable", {"disable_password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    assert account_row(account_id)["totp_secret"] == ""
    fresh = client_for("aicom")
    assert login(fresh).headers["location"] == "/"
