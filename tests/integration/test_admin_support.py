"""お客様サポート in the console: search, the customer's accounts, unlock / resend / reset the second factor /
end sessions, and "view as customer" (read-only, time-limited, audited). Roles: 閲覧 sees, never acts."""

from __future__ import annotations

import pyotp
from feature_support import make_account, make_contract, make_customer, sign_in

from admin_support import make_staff, staff_login
from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.identity.tables import Account, RecoveryCode
from mypage.records.tables import Customer
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key


async def _query(query):
    return await query


def _customer(tenant: str, number: str, **fields) -> int:
    async def go():
        customer = Customer(tenant=tenant, number=number, **fields)
        await customer.save()
        return customer.id

    return run(go())


def _account(account_id: int) -> dict:
    return run(_query(Account.select().where(Account.id == account_id).first()))


def _events(event: str) -> list[dict]:
    return run(_query(AuditEvent.select().where(AuditEvent.event == event).order_by(AuditEvent.id).output(load_json=True)))


def _support(client_for, role: str = "support", email: str = "support@example.jp"):
    staff = make_staff("aicom", email, role)
    client = client_for("aicom")
    assert staff_login(client, staff).status_code == 303
    return staff, client


def test_search_by_number_kana_phone_email_and_login_id(app, client_for):
    target = _customer(
        "aicom", "0001234567", name="相江　太郎", name_kana="アイエ　タロウ", phone="0748621234", email="Taro@Example.jp"
    )
    _customer("aicom", "0007654321", name="別人　花子", name_kana="ベツジン　ハナコ", phone="0748000000")
    _customer("itscom", "0001234567", name="他社　太郎", name_kana="アイエ　タロウ", phone="0748621234")
    make_account("aicom", target, "taro-login", email="login-mail@example.jp")
    _staff, client = _support(client_for, "viewer", "viewer@example.jp")
    for query in (
        "1234567",
        "0001234567",
        "あいえ たろう",
        "ｱｲｴ",
        "0748-62-1234",
        "０７４８６２１２３４",
        "taro@example.jp",
        "LOGIN-MAIL@example.jp",
        "taro-login",
        "相江",
    ):
        page = client.get("/admin/customers", params={"q": query})
        assert page.status_code == 200
        assert f'href="/admin/customers/{target}"' in page.text, query
        assert "他社" not in page.text and "別人" not in page.text, query
    assert "見つかりませんでした" in client.get("/admin/customers", params={"q": "9999999"}).text


def test_support_sees_a_locked_customer_and_unlocks_it(app, client_for, portal):
    customer = make_customer("aicom", "0000000077")
    make_contract("aicom", customer, "CAF0000000077", service="internet")
    account = make_account("aicom", customer, "locked-user", email="locked@example.jp")
    limit = portal.tenants.get("aicom").config.identity.lockout.max_failures
    visitor = client_for("aicom")
    for _ in range(limit):
        visitor.submit("/login", {"login_id": "locked-user", "password": "wrong-one"})
    assert visitor.submit("/login", {"login_id": "locked-user", "password": "Passw0rd1"}).status_code == 429

    staff, client = _support(client_for)
    page = client.get(f"/admin/customers/{customer}")
    assert page.status_code == 200 and "locked-user" in page.text and "ロック中" in page.text and "CAF0000000077" in page.text
    assert "Passw0rd1" not in page.text and "argon2" not in page.text
    done = client.submit(f"/admin/customers/{customer}/accounts/{account}", {"action": "unlock"}, follow_redirects=False)
    assert done.status_code == 303
    assert "ロックを解除しました" in client.get(f"/admin/customers/{customer}").text
    assert "ロック中" not in client.get(f"/admin/customers/{customer}").text
    login = client_for("aicom").submit("/login", {"login_id": "locked-user", "password": "Passw0rd1"}, follow_redirects=False)
    assert login.status_code == 303 and not login.headers["location"].startswith("/login")
    entry = _events("admin.customer.unlock")[-1]
    assert entry["staff_id"] == staff.id and entry["customer_id"] == customer and entry["account_id"] == account
    assert entry["before"]["locked_minutes"] > 0 and entry["after"] == {"locked_minutes": 0, "failures": {}}
    assert "support@example.jp" in entry["actor"]


def test_viewer_sees_but_cannot_act(app, client_for):
    customer = make_customer("aicom", "0000000078")
    account = make_account("aicom", customer, "viewed-user")
    _staff, client = _support(client_for, "viewer", "viewer@example.jp")
    page = client.get(f"/admin/customers/{customer}")
    assert page.status_code == 200 and "viewed-user" in page.text and "ロック解除" not in page.text
    for path, data in (
        (f"/admin/customers/{customer}/accounts/{account}", {"action": "end-sessions"}),
        (f"/admin/customers/{customer}/accounts/{account}/view-as", {}),
    ):
        refused = client.submit(path, data)
        assert refused.status_code == 403 and "閲覧権限" in refused.text
    assert _account(account)["credentials_version"] == 0
    assert not _events("admin.customer.end_sessions")


def test_reset_second_factor_end_sessions_and_resend(app, client_for, portal, deliver):
    customer = make_customer("aicom", "0000000079")
    account = make_account("aicom", customer, "factor-user", email="factor@example.jp")

    async def enrol():
        await Account.update({Account.totp_secret: pyotp.random_base32()}).where(Account.id == account)
        await RecoveryCode.insert(RecoveryCode(tenant="aicom", account=account, code_hash="x" * 64))

    run(enrol())
    customer_client = sign_in(client_for("aicom"), "aicom", account)
    assert customer_client.get("/", follow_redirects=False).status_code == 200
    _staff, client = _support(client_for)
    assert "認証アプリ" in client.get(f"/admin/customers/{customer}").text
    client.submit(f"/admin/customers/{customer}/accounts/{account}", {"action": "reset-factor"})
    row = _account(account)
    assert row["totp_secret"] == "" and run(_query(RecoveryCode.count().where(RecoveryCode.account == account))) == 0
    assert deliver().last_to("factor@example.jp")  # the customer is told
    # The reset is a credential change: the customer's session ended with it. Sign in again, then end sessions.
    assert customer_client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    again = sign_in(client_for("aicom"), "aicom", account)
    session_id = again.cookies.get(COOKIE_NAME)
    version = _account(account)["credentials_version"]

    async def version_in_session():
        store = DatabaseSessionStore()
        data = await store.load(_store_key(session_id))
        data["credentials_version"] = version
        await store.save(_store_key(session_id), data, 3600)

    run(version_in_session())
    assert again.get("/", follow_redirects=False).status_code == 200
    client.submit(f"/admin/customers/{customer}/accounts/{account}", {"action": "end-sessions"})
    assert again.get("/", follow_redirects=False).headers["location"].startswith("/login")
    # Nothing to resend to a registered account; a pending one gets a new first-login mail.
    refused = client.submit(f"/admin/customers/{customer}/accounts/{account}", {"action": "resend"})
    assert refused.status_code == 400 and "初回登録済み" in refused.text
    pending = make_account("aicom", customer, "pending-user", email="pending@example.jp", status="pending")
    before = _account(pending)["password_hash"]
    assert client.submit(f"/admin/customers/{customer}/accounts/{pending}", {"action": "resend"}).status_code == 200
    assert _account(pending)["password_hash"] != before
    assert deliver().last_to("pending@example.jp")
    bogus = client.submit(f"/admin/customers/{customer}/accounts/{pending}", {"action": "set-password"})
    assert bogus.status_code == 400


def test_view_as_customer_is_read_only_banner_and_audited(app, client_for):
    customer = make_customer("aicom", "0000000080")
    account = make_account("aicom", customer, "viewed-as", email="viewed@example.jp")
    staff, client = _support(client_for)
    started = client.submit(f"/admin/customers/{customer}/accounts/{account}/view-as", {}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "お客様として閲覧中" in home.text and "view-as-banner" in home.text
    for path, data in (("/inquiries", {"category": "x", "subject": "s", "body": "b"}), ("/logout", {}), ("/account/profile", {})):
        refused = client.submit(path, data)
        assert refused.status_code == 403 and "閲覧中" in refused.text, path
    # The console still works in the same browser, and ends the view.
    assert client.get("/admin").status_code == 200
    ended = client.submit("/admin/view-as/end", {}, follow_redirects=False)
    assert ended.headers["location"] == f"/admin/customers/{customer}"
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert _events("admin.customer.view_as_started")[-1]["staff_id"] == staff.id
    refusals = _events("admin.customer.view_as_refused")
    assert len(refusals) == 3 and refusals[0]["staff_id"] == staff.id and refusals[0]["customer_id"] == customer
    assert refusals[0]["detail"] == {"method": "POST", "path": "/inquiries"}
    assert _events("admin.customer.view_as_ended")[-1]["customer_id"] == customer
    assert _account(account)["last_login_at"] is None


def test_view_as_ends_on_time(app, client_for):
    customer = make_customer("aicom", "0000000081")
    account = make_account("aicom", customer, "timed-view")
    _staff, client = _support(client_for)
    client.submit(f"/admin/customers/{customer}/accounts/{account}/view-as", {})
    session_id = client.cookies.get(COOKIE_NAME)

    async def expire():
        store = DatabaseSessionStore()
        data = await store.load(_store_key(session_id))
        data["view_as"]["until"] = 1
        await store.save(_store_key(session_id), data, 3600)

    run(expire())
    response = client.get("/", follow_redirects=False)
    assert response.headers["location"].startswith("/login")
    assert "閲覧時間が終了しました" in client.get("/login").text


def test_other_tenants_customers_are_not_found(app, client_for):
    theirs = _customer("itscom", "0000000090", name="他社")
    their_account = make_account("itscom", theirs, "their-user")
    _staff, client = _support(client_for)
    assert client.get(f"/admin/customers/{theirs}").status_code == 404
    assert client.submit(f"/admin/customers/{theirs}/accounts/{their_account}", {"action": "end-sessions"}).status_code == 404
    mine = make_customer("aicom", "0000000091")
    assert client.submit(f"/admin/customers/{mine}/accounts/{their_account}", {"action": "end-sessions"}).status_code == 404
    assert _account(their_account)["credentials_version"] == 0
