"""Login factors after the password: the emailed one-time password with the captcha on the same screen
(nmedia: password + email_otp + captcha), the captcha-only step, and the forced logout after idling."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from captcha_support import solve_altcha
from conftest import run
from mypage.audit.log import AuditLog
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account, OneTimeToken
from mypage.records.tables import Customer
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key

EMAIL = "login.user@example.jp"
ACCESS_ID = "k7m2p9"
PASSWORD = "secret2024"
_HASH = hash_password(PASSWORD)


async def _q(query):
    return await query


def make_account(tenant: str = "nmedia", login_id: str = ACCESS_ID) -> int:
    async def go():
        customer = Customer(tenant=tenant, number="0000009", name="日本　太郎")
        await customer.save()
        account = Account(
            tenant=tenant,
            customer=customer.id,
            login_id=login_id,
            login_id_display=login_id,
            email=EMAIL,
            password_hash=_HASH,
            status="active",
        )
        await account.save()
        return account.id

    return run(go())


def password_step(client, login_id: str = ACCESS_ID):
    response = client.submit("/login", {"login_id": login_id, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def otp_from(mail) -> str:
    text = mail.text(mail.last_to(EMAIL))
    return re.search(r"^\s*(\d{6})\s*$", text, re.M).group(1)


def test_login_with_mailed_otp_and_captcha(app, client_for, deliver):
    account_id = make_account()
    client = client_for("nmedia")
    assert password_step(client).headers["location"] == "/login/email_otp"
    assert client.get("/", follow_redirects=False).status_code in (302, 303)  # not logged in yet
    page = client.get("/login/email_otp")
    assert page.status_code == 200
    assert "私はロボットではありません" in page.text and 'name="altcha"' in page.text
    assert "/static/js/altcha-solver.js" in page.text
    assert "登録済みメールアドレスをお忘れの方はこちら" in page.text
    assert "lo***@example.jp" in page.text

    mail = deliver()
    text = mail.text(mail.last_to(EMAIL))
    assert "ご登録を頂いているアカウントにて、ログイン認証のためのワンタイムパスワードが発行されました。" in text
    assert "※上記確認コードの有効期限は10分です。10分経過した場合は無効となりますのでご注意ください。" in text
    code = otp_from(mail)
    client.get("/login/email_otp")  # a reload does not mail another code
    assert len(deliver().to(EMAIL)) == 1

    done = client.submit("/login/email_otp", {"otp": code, "altcha": solve_altcha(client)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "ログアウト" in home.text
    events = [e["event"] for e in run(AuditLog("nmedia").events(account_id=account_id))]
    assert {"login.password_ok", "login.otp_sent", "login.otp_ok", "login.success"} <= set(events)


def test_otp_page_needs_the_password_step(app, client_for):
    client = client_for("nmedia")
    assert client.get("/login/email_otp", follow_redirects=False).headers["location"] == "/login"
    r = client.submit("/login/email_otp", {"otp": "123456"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_captcha_missing_invalid_and_replayed(app, client_for, deliver):
    make_account()
    client = client_for("nmedia")
    password_step(client)
    client.get("/login/email_otp")
    code = otp_from(deliver())

    missing = client.submit("/login/email_otp", {"otp": code})
    assert missing.status_code == 400 and "「私はロボットではありません」にチェックを入れてください。" in missing.text

    forged = json.loads(base64.b64decode(solve_altcha(client)))
    forged["number"] += 1
    bad = client.submit("/login/email_otp", {"otp": code, "altcha": base64.b64encode(json.dumps(forged).encode()).decode()})
    assert bad.status_code == 400 and "ロボット認証を確認できませんでした" in bad.text
    garbage = client.submit("/login/email_otp", {"otp": code, "altcha": "not base64 !!"})
    assert garbage.status_code == 400

    solution = solve_altcha(client)
    wrong_code = "000000" if code != "000000" else "111111"
    first = client.submit("/login/email_otp", {"otp": wrong_code, "altcha": solution})
    assert first.status_code == 400 and "ワンタイムパスワードが正しくありません。" in first.text
    replay = client.submit("/login/email_otp", {"otp": code, "altcha": solution})
    assert replay.status_code == 400 and "ロボット認証の有効期限が切れました" in replay.text
    # the code itself is still good with a fresh solution
    ok = client.submit("/login/email_otp", {"otp": code, "altcha": solve_altcha(client)}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert any(e["event"] == "captcha.failed" for e in run(AuditLog("nmedia").events()))


def test_captcha_of_another_tenant_is_refused(app, client_for, deliver, portal):
    make_account()
    client = client_for("nmedia")
    password_step(client)
    client.get("/login/email_otp")
    code = otp_from(deliver())
    # a challenge signed for another tenant (the HMAC key includes the tenant) does not verify here
    from mypage.identity.captcha import AltchaCaptcha

    challenge = AltchaCaptcha(portal.tenants.get("aicom"), portal.settings.secret_key).challenge()
    number = next(
        n
        for n in range(challenge["maxNumber"] + 1)
        if hashlib.sha256(f"{challenge['salt']}{n}".encode()).hexdigest() == challenge["challenge"]
    )
    payload = {**{k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}, "number": number}
    r = client.submit("/login/email_otp", {"otp": code, "altcha": base64.b64encode(json.dumps(payload).encode()).decode()})
    assert r.status_code == 400 and "ロボット認証を確認できませんでした" in r.text


def test_captcha_only_step(app, client_for):
    """A tenant with captcha but no email_otp gets /login/captcha (the pending login is set as factors.py does)."""
    import secrets
    import time

    account_id = make_account()
    client = client_for("nmedia")
    session_id = secrets.token_urlsafe(32)
    now = int(time.time())
    data = {
        "_tenant": "nmedia",
        "_last_seen": now,
        "pending_login": {"account_id": account_id, "steps": ["captcha"], "next": "", "started": now},
    }
    run(DatabaseSessionStore().save(_store_key(session_id), data, 3600))
    client.cookies.set(COOKIE_NAME, session_id)
    page = client.get("/login/captcha")
    assert page.status_code == 200 and "私はロボットではありません" in page.text
    missing = client.submit("/login/captcha", {})
    assert missing.status_code == 400 and "チェックを入れてください" in missing.text
    ok = client.submit("/login/captcha", {"altcha": solve_altcha(client)}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert client.get("/", follow_redirects=False).status_code == 200


def test_five_wrong_codes_start_over(app, client_for, deliver):
    account_id = make_account()
    client = client_for("nmedia")
    password_step(client)
    client.get("/login/email_otp")
    code = otp_from(deliver())
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        r = client.submit("/login/email_otp", {"otp": wrong, "altcha": solve_altcha(client)})
        assert r.status_code == 400 and "ワンタイムパスワードが正しくありません。" in r.text
    r = client.submit("/login/email_otp", {"otp": wrong, "altcha": solve_altcha(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "ワンタイムパスワードの入力に続けて失敗したため" in client.get("/login").text
    # the right code is of no use now: the pending login is gone
    r = client.submit("/login/email_otp", {"otp": code, "altcha": solve_altcha(client)}, follow_redirects=False)
    assert r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code in (302, 303)
    assert any(e["event"] == "login.otp_locked" for e in run(AuditLog("nmedia").events(account_id=account_id)))
    # starting over mails a new code that works
    password_step(client)
    client.get("/login/email_otp")
    mail = deliver()
    new_code = otp_from(mail)
    ok = client.submit("/login/email_otp", {"otp": new_code, "altcha": solve_altcha(client)}, follow_redirects=False)
    assert ok.headers["location"] == "/"


def test_expired_code_and_resend_throttling(app, client_for, deliver):
    make_account()
    client = client_for("nmedia")
    password_step(client)
    client.get("/login/email_otp")
    code = otp_from(deliver())

    throttled = client.submit("/login/email_otp/resend", {})
    assert throttled.status_code == 429 and "再送信は60秒ほど時間をおいてからお試しください。" in throttled.text
    assert len(deliver().to(EMAIL)) == 1

    past = datetime.now(UTC) - timedelta(minutes=11)
    run(
        _q(
            OneTimeToken.update({OneTimeToken.expires_at: past, OneTimeToken.created_at: past}).where(
                OneTimeToken.purpose == "login_otp"
            )
        )
    )
    expired = client.submit("/login/email_otp", {"otp": code, "altcha": solve_altcha(client)})
    assert expired.status_code == 400 and "ワンタイムパスワードの有効期限が切れています。" in expired.text

    resent = client.submit("/login/email_otp/resend", {}, follow_redirects=False)
    assert resent.status_code == 303 and resent.headers["location"] == "/login/email_otp"
    assert "ワンタイムパスワードを再送信しました。" in client.get("/login/email_otp").text
    mail = deliver()
    assert len(mail.to(EMAIL)) == 2
    new_code = otp_from(mail)
    if new_code != code:
        old = client.submit("/login/email_otp", {"otp": code, "altcha": solve_altcha(client)})
        assert old.status_code == 400
    ok = client.submit("/login/email_otp", {"otp": new_code, "altcha": solve_altcha(client)}, follow_redirects=False)
    assert ok.headers["location"] == "/"


def test_forced_logout_after_idle_minutes(app, client_for, deliver):
    make_account()
    client = client_for("nmedia")
    password_step(client)
    client.get("/login/email_otp")
    code = otp_from(deliver())
    client.submit("/login/email_otp", {"otp": code, "altcha": solve_altcha(client)})
    assert client.get("/", follow_redirects=False).status_code == 200

    async def age_session(seconds: int):
        store = DatabaseSessionStore()
        key = _store_key(client.cookies.get(COOKIE_NAME))
        data = await store.load(key)
        data["_last_seen"] = int(data["_last_seen"]) - seconds
        await store.save(key, data, 3600)

    run(age_session(9 * 60))  # 9 minutes: still logged in
    assert client.get("/", follow_redirects=False).status_code == 200
    run(age_session(11 * 60))
    assert client.get("/", follow_redirects=False).status_code in (302, 303)
    page = client.get("/login")
    assert "10分間操作がなかったため、ログアウトしました。" in page.text


def test_email_forgotten_page(app, client_for):
    page = client_for("nmedia").get("/login/email_forgotten")
    assert page.status_code == 200
    assert "日本メディアシステム料金担当" in page.text and "info-mediahikari@n-media.co.jp" in page.text


def test_challenge_endpoint(app, client_for):
    response = client_for("nmedia").get("/captcha/challenge")
    assert response.status_code == 200
    data = response.json()
    assert data["algorithm"] == "SHA-256" and "expires=" in data["salt"] and data["maxNumber"] == 50_000
    assert response.headers["cache-control"] == "no-store"
