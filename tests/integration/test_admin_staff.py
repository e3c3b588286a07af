"""The staff console's accounts: invitation (mail, password, authenticator app, recovery codes), login with
the second factor, lockout, sessions apart from customers', roles."""

from __future__ import annotations

import re

import pyotp
from feature_support import make_account, make_customer, sign_in

from admin_support import STAFF_PASSWORD, make_staff, staff_login
from conftest import run
from mypage.admin.staff import service
from mypage.admin.tables import StaffMember
from mypage.audit.tables import AuditEvent


def _events(tenant: str, prefix: str = "admin.") -> list[dict]:
    async def go():
        query = AuditEvent.select().where(AuditEvent.tenant == tenant).where(AuditEvent.event.like(f"{prefix}%"))
        return await query.order_by(AuditEvent.id).output(load_json=True)

    return run(go())


async def _first(query):
    return await query


def test_invitation_enrols_password_and_authenticator_then_login(app, client_for, portal, deliver):
    tenant = portal.tenants.get("aicom")
    invitation = run(service.invite(portal, tenant, email="Chief@Example.JP", name="管理　太郎", role="admin", by=None))
    mail = deliver().last_to("chief@example.jp")
    link = next(link for link in deliver().links(mail) if "/admin/invite/" in link)
    assert link == invitation.link
    path = link.split("aicom.localhost", 1)[1].split(":8000", 1)[-1]
    path = path[path.index("/admin/invite/") :]
    client = client_for("aicom")
    page = client.get(path)
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    secret = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    short = client.submit(path, {"password": "short", "password_confirm": "short", "code": pyotp.TOTP(secret).now()})
    assert short.status_code == 400 and "12文字以上" in short.text
    wrong = client.submit(
        path,
        {
            "password": STAFF_PASSWORD,
            "password_confirm": STAFF_PASSWORD,
            "code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111",
        },
    )
    assert wrong.status_code == 400 and "確認コードが正しくありません" in wrong.text
    done = client.submit(
        path,
        {"password": STAFF_PASSWORD, "password_confirm": STAFF_PASSWORD, "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/recovery-codes"
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", client.get("/admin/recovery-codes").text)
    assert len(set(codes)) == 10
    assert client.get("/admin/recovery-codes", follow_redirects=False).status_code == 303  # shown once
    # The link is single use.
    assert client_for("aicom").get(path).status_code == 404
    row = run(_first(StaffMember.select().where(StaffMember.email == "chief@example.jp").first()))
    assert row["status"] == "active" and row["password_hash"].startswith("$argon2id$") and STAFF_PASSWORD not in str(row)

    # Login: password, then a code from the app (the same code is not accepted twice), then a recovery code.
    browser = client_for("aicom")
    assert browser.get("/admin", follow_redirects=False).headers["location"].startswith("/admin/login")
    step = browser.submit("/admin/login", {"email": "chief@example.jp", "password": STAFF_PASSWORD}, follow_redirects=False)
    assert step.headers["location"] == "/admin/login/totp"
    code = pyotp.TOTP(secret).now()
    ok = browser.submit("/admin/login/totp", {"code": code}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/admin"
    home = browser.get("/admin")
    assert home.status_code == 200 and "管理　太郎" in home.text
    browser.submit("/admin/logout", {})
    assert browser.get("/admin", follow_redirects=False).status_code == 303
    browser.submit("/admin/login", {"email": "chief@example.jp", "password": STAFF_PASSWORD})
    replay = browser.submit("/admin/login/totp", {"code": code}, follow_redirects=False)
    assert replay.status_code == 400
    by_code = browser.submit("/admin/login/totp", {"code": codes[0].upper().replace("-", " ")}, follow_redirects=False)
    assert by_code.status_code == 303
    assert "残りのリカバリーコードは9個" in browser.get("/admin").text
    events = [e["event"] for e in _events("aicom")]
    assert {"admin.staff.invited", "admin.staff.activated", "admin.login.success", "admin.login.recovery_code_used"} <= set(
        events
    )


def test_wrong_passwords_and_codes_lock_the_staff_member(app, client_for, portal):
    staff = make_staff("aicom", "lock@example.jp")
    limit = portal.tenants.get("aicom").config.identity.lockout.max_failures
    client = client_for("aicom")
    for _ in range(limit - 1):
        assert staff_login(client, staff, password="wrong-password-x").status_code == 400
    locked = staff_login(client, staff, password="wrong-password-x")
    assert locked.status_code == 429 and "一時的に停止" in locked.text
    assert staff_login(client_for("aicom"), staff).status_code == 429  # even the right password now
    assert "admin.staff.locked" in [e["event"] for e in _events("aicom")]

    other = make_staff("aicom", "codes@example.jp")
    client = client_for("aicom")
    for _ in range(limit):
        client.submit("/admin/login", {"email": other.email, "password": STAFF_PASSWORD})
        client.submit("/admin/login/totp", {"code": "12345"})  # not a valid code: counted
    assert staff_login(client_for("aicom"), other).status_code == 429


def test_customer_and_staff_sessions_stay_apart(app, client_for, portal):
    customer = make_customer("aicom", number="0000000042")
    account = make_account("aicom", customer, "cust-1")
    client = client_for("aicom")
    sign_in(client, "aicom", account)
    assert client.get("/", follow_redirects=False).status_code == 200
    # A logged-in customer has no console.
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/admin/login")
    # A staff session is no customer login, even with its cookie value presented as the customer cookie.
    staff = make_staff("aicom", "apart@example.jp")
    staff_client = client_for("aicom")
    assert staff_login(staff_client, staff).status_code == 303
    assert staff_client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    forged = client_for("aicom")
    forged.cookies.set("mypage_session", staff_client.cookies.get("mypage_staff"), domain="aicom.localhost")
    assert forged.get("/", follow_redirects=False).headers["location"].startswith("/login")
    # ...and the staff session of aicom is nothing on itscom's host.
    itscom = client_for("itscom")
    itscom.cookies.set("mypage_staff", staff_client.cookies.get("mypage_staff"), domain="itscom.localhost")
    assert itscom.get("/admin", follow_redirects=False).headers["location"].startswith("/admin/login")


def test_roles_are_refused_where_they_must_be(app, client_for, portal):
    make_staff("aicom", "boss@example.jp", "admin")
    support = make_staff("aicom", "support@example.jp", "support")
    viewer = make_staff("aicom", "viewer@example.jp", "viewer")
    for member, allowed in ((support, False), (viewer, False)):
        client = client_for("aicom")
        assert staff_login(client, member).status_code == 303
        assert client.get("/admin").status_code == 200
        assert client.get("/admin/staff").status_code == 403
        refused = client.submit("/admin/staff/invite", {"email": "x@example.jp", "name": "x", "role": "admin"})
        assert refused.status_code == 403 and "権限" in refused.text
        assert ("/admin/staff" in client.get("/admin").text) is allowed
    assert run(_first(StaffMember.count().where(StaffMember.email == "x@example.jp"))) == 0


def test_admin_invites_and_changes_roles_and_keeps_one_admin(app, client_for, portal, deliver):
    boss = make_staff("aicom", "boss@example.jp", "admin")
    client = client_for("aicom")
    staff_login(client, boss)
    bad = client.submit("/admin/staff/invite", {"email": "not-an-address", "name": "新人", "role": "support"})
    assert bad.status_code == 400 and "メールアドレスの形式" in bad.text
    assert client.submit("/admin/staff/invite", {"email": "new@example.jp", "name": "新人", "role": "support"}).status_code == 200
    assert deliver().last_to("new@example.jp")
    taken = client.submit("/admin/staff/invite", {"email": "boss@example.jp", "name": "x", "role": "viewer"})
    assert taken.status_code == 400 and "既に登録" in taken.text
    last = client.submit(f"/admin/staff/{boss.id}", {"action": "role", "role": "viewer"})
    assert last.status_code == 400 and "最後の管理者" in last.text
    other = make_staff("aicom", "second@example.jp", "support")
    second = client_for("aicom")
    staff_login(second, other)
    assert client.submit(f"/admin/staff/{other.id}", {"action": "role", "role": "viewer"}).status_code == 200
    # The change ends the member's session (credentials_version).
    assert second.get("/admin", follow_redirects=False).headers["location"].startswith("/admin/login")
    changed = [e for e in _events("aicom") if e["event"] == "admin.staff.changed"][-1]
    assert changed["staff_id"] == boss.id and changed["before"] == {"role": "support"} and changed["after"] == {"role": "viewer"}


def test_cli_creates_the_first_admin_with_the_same_service(db):
    from click.testing import CliRunner

    from mypage.cli import main

    scratch = {"MYPAGE_SQLITE_PATH": str(db.sqlite_path.with_name("cli-admin.sqlite3")), "MYPAGE_DATABASE_URL": ""}
    made = CliRunner().invoke(
        main, ["staff", "create-admin", "aicom", "--email", "First@Example.jp", "--name", "最初の管理者"], env=scratch
    )
    assert made.exit_code == 0, made.output
    assert "invited first@example.jp (admin)" in made.output and "/admin/invite/" in made.output
    again = CliRunner().invoke(
        main, ["staff", "invite", "aicom", "--email", "first@example.jp", "--name", "x", "--role", "support"], env=scratch
    )
    assert again.exit_code == 0 and "(support)" in again.output  # still invited: re-invited with the new role
    bad = CliRunner().invoke(main, ["staff", "invite", "aicom", "--email", "not-an-address", "--name", "x"], env=scratch)
    assert bad.exit_code != 0 and "メールアドレスの形式" in bad.output
    unknown = CliRunner().invoke(main, ["staff", "create-admin", "nobody", "--email", "a@example.jp", "--name", "x"], env=scratch)
    assert unknown.exit_code != 0 and "nobody" in unknown.output


def test_staff_sessions_expire_when_idle_and_after_hours(app, client_for):
    from mypage.admin.auth import ABSOLUTE_HOURS, IDLE_MINUTES
    from mypage.web.sessions import STAFF_COOKIE_NAME, DatabaseSessionStore, _store_key

    staff = make_staff("aicom", "sleepy@example.jp", "viewer")
    for key, age, notice in (
        ("_last_seen", IDLE_MINUTES * 60 + 5, "一定時間操作がなかった"),
        ("login_at", ABSOLUTE_HOURS * 3600 + 5, "長時間が経過した"),
    ):
        client = client_for("aicom")
        assert staff_login(client, staff).status_code == 303
        assert client.get("/admin").status_code == 200
        session_id = client.cookies.get(STAFF_COOKIE_NAME)

        async def age_session(key=key, age=age, session_id=session_id):
            store = DatabaseSessionStore()
            data = await store.load(_store_key(session_id))
            data[key] = int(data[key]) - age
            await store.save(_store_key(session_id), data, 3600)

        run(age_session())
        expired = client.get("/admin", follow_redirects=False)
        assert expired.status_code == 303 and expired.headers["location"].startswith("/admin/login")
        assert notice in client.get("/admin/login").text
