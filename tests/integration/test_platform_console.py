"""The platform console on its own host: platform staff with TOTP and lockout, every action audited, the
tenant list with health figures (one grouped query per figure per page), suspension seen by the portal on
every worker, feature allowances refused in the tenant's overrides editor, and isolation from tenant hosts."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from feature_support import make_account, make_customer

from admin_support import make_staff, staff_login
from conftest import run
from mypage.audit.log import AuditLog
from mypage.overrides.service import Overrides, OverridesError
from mypage.platformconsole import health, service
from mypage.platformconsole.repository import PlatformStaffRepository, recent_platform_events
from mypage.platformconsole.tables import PlatformAudit
from mypage.portal import Portal
from mypage.web.sessions import STAFF, DatabaseSessionStore, Session, save_session
from platform_support import Member, login, make_member, platform_client


def _near_codes(member: Member) -> set[str]:
    return {pyotp.TOTP(member.secret).at(time.time() + 30 * step) for step in (-1, 0, 1)}


def portal_of(app) -> Portal:
    return app.state.portal


def test_login_needs_password_and_authenticator_code_and_is_audited(app):
    member = make_member()
    client = platform_client(app)
    assert client.get("/platform", follow_redirects=False).headers["location"] == "/platform/login"
    assert client.get("/", follow_redirects=False).headers["location"] == "/platform"
    wrong = login(client, member, code="000000" if "000000" not in _near_codes(member) else "111111")
    assert wrong.status_code == 400 and "確認コードまたはリカバリーコードが正しくありません" in wrong.text
    assert client.get("/platform", follow_redirects=False).status_code == 303  # the password alone is not a login
    assert login(client, member).headers["location"] == "/platform"
    page = client.get("/platform")
    assert page.status_code == 200 and 'data-tenant="aicom"' in page.text
    events = [e["event"] for e in run(recent_platform_events())]
    assert {"platform.login.password_ok", "platform.login.totp_failure", "platform.login.success"} <= set(events)


def test_a_used_code_is_not_accepted_again_and_wrong_passwords_lock(app):
    member = make_member()
    code = pyotp.TOTP(member.secret).now()
    assert login(platform_client(app), member, code=code).status_code == 303
    assert login(platform_client(app), member, code=code).status_code == 400  # replay of the same time step
    client = platform_client(app)
    for _ in range(service.MAX_FAILURES):
        login(client, member, password="wrong-password-123")
    locked = login(platform_client(app), member)
    assert locked.status_code == 400 and "しばらくしてから" in locked.text
    assert "platform.login.locked" in [e["event"] for e in run(recent_platform_events())]


def test_invitation_by_command_sets_password_and_authenticator(app):
    link = run(service.invite_staff(portal_of(app).settings, "new@platform.example", "新任"))
    secret = link.rsplit("/", 1)[1]
    client = platform_client(app)
    page = client.get(f"/platform/invite/{secret}")
    assert page.status_code == 200
    totp_secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page.text).group(1).replace(" ", "")
    form = {"password": "a-long-password-42", "password_confirm": "a-long-password-42"}
    assert client.submit(f"/platform/invite/{secret}", {**form, "code": "000000x"}).status_code == 400
    done = client.submit(f"/platform/invite/{secret}", {**form, "code": pyotp.TOTP(totp_secret).now()}, follow_redirects=False)
    assert done.headers["location"] == "/platform/recovery-codes"
    assert client.get(f"/platform/invite/{secret}").status_code == 404  # single use
    member = Member(run(PlatformStaffRepository().by_email("new@platform.example")).id, "new@platform.example", totp_secret)
    assert login(platform_client(app), member, password="a-long-password-42").status_code == 303


def test_health_figures_and_search(app):
    member = make_member()
    customer = make_customer("aicom", "0000000101")
    make_customer("aicom", "0000000102")
    make_account("aicom", customer, "healthy")
    run(AuditLog("aicom").record("login.success", address="192.0.2.1"))
    run(AuditLog("aicom").record("login.failure", address="192.0.2.1"))
    client = platform_client(app)
    login(client, member)
    page = client.get("/platform", params={"q": "aicom"})
    row = page.text.split('data-tenant="aicom"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="customers">2</td>' in row and '<td class="accounts">1</td>' in row
    assert '<td class="logins">1</td>' in row and '<td class="failures">1</td>' in row
    assert 'data-tenant="itscom"' not in page.text


def test_one_query_per_figure_whatever_the_number_of_tenants(app, monkeypatch):
    make_customer("aicom", "0000000201")
    engine = PlatformAudit._meta.db
    calls = []
    original = type(engine).run_querystring

    async def counting(self, querystring, *args, **kwargs):
        if "tenant_generation" not in str(querystring):  # the background watcher's, once a second, in no request
            calls.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    monkeypatch.setattr(type(engine), "run_querystring", counting)
    run(health.health_of(["aicom"], "Asia/Tokyo"))
    one = len(calls)
    calls.clear()
    many = [f"tenant-{n:04d}" for n in range(200)] + ["aicom"]
    figures = run(health.health_of(many, "Asia/Tokyo"))
    assert len(calls) == one <= 9  # one per figure (the latest import takes two)
    assert figures["aicom"].customers == 1 and figures["tenant-0007"].customers == 0


def test_suspension_reaches_every_worker_and_shows_the_tenants_maintenance_page(app, db, client_for):
    other_worker = Portal(db, tenants=portal_of(app).base)
    run(other_worker.refresh())
    member = make_member()
    client = platform_client(app)
    login(client, member)
    assert client.submit("/platform/tenants/aicom/suspension", {"suspend": "1"}, follow_redirects=False).status_code == 303
    customer_page = client_for("aicom").get("/login")
    assert customer_page.status_code == 503
    assert portal_of(app).tenants.get("aicom").config.names.ja in customer_page.text  # its own branding
    assert "/brand.css" in customer_page.text and client_for("aicom").get("/brand.css").status_code == 200
    assert client_for("aicom").get("/admin/login").status_code == 503
    assert client_for("itscom").get("/login").status_code == 200
    assert run(other_worker.refresh()) and "aicom" in other_worker.suspended
    assert "停止中" in client.get("/platform").text
    client.submit("/platform/tenants/aicom/suspension", {"suspend": "0"})
    assert client_for("aicom").get("/login").status_code == 200
    run(other_worker.refresh())
    assert "aicom" not in other_worker.suspended
    events = [(e["event"], e["target_tenant"]) for e in run(recent_platform_events())]
    assert ("platform.tenant.suspended", "aicom") in events and ("platform.tenant.resumed", "aicom") in events


def test_a_feature_not_allowed_is_refused_in_the_overrides_editor(app, client_for):
    portal = portal_of(app)
    editor = Overrides(portal.base.get("aicom"), set(portal.themes.names))
    version = run(editor.save_draft({"features": {"billing": False}}, "setup"))
    run(editor.publish(version, "setup"))
    member = make_member()
    client = platform_client(app)
    login(client, member)
    allowed = [name for name in portal.base.get("aicom").source["features"] if name != "billing"]
    client.submit("/platform/tenants/aicom/allowances", {"feature": allowed})
    assert run(service.allowed_features("aicom")) == set(allowed)
    with pytest.raises(OverridesError) as refused:
        run(editor.save_draft({}, "admin"))
    assert "features.billing" in dict(refused.value.problems)
    run(editor.save_draft({"features": {"billing": False}, "contact": {"phone": "0748-11-2222"}}, "admin"))  # others fine
    boss = make_staff("aicom", "boss@aicom.example", "admin")
    admin = client_for("aicom")
    staff_login(admin, boss)
    form = {f"feature_{name}": "on" for name in portal.base.get("aicom").source["features"]}
    answer = admin.submit("/admin/features", form)
    assert answer.status_code == 400 and "the platform does not allow" in answer.text


def test_first_admin_invited_by_mail_from_the_console(app, deliver, mail):
    member = make_member()
    client = platform_client(app)
    login(client, member)
    sent = client.submit(
        "/platform/tenants/itscom/admins", {"email": "first@itscom.example", "name": "最初の管理者"}, follow_redirects=False
    )
    assert sent.status_code == 303
    deliver()
    assert any("/admin/invite/" in link for link in mail.links(mail.last_to("first@itscom.example")))
    bad = client.submit("/platform/tenants/itscom/admins", {"email": "not-an-address", "name": "x"})
    assert bad.status_code == 400


def _staff_cookie(slug: str, staff_id: int) -> str:
    now = int(time.time())
    session = Session(None, {"staff_id": staff_id, "login_at": now, "_last_seen": now, "credentials_version": 0}, slug, STAFF)
    session.modified = True
    return run(save_session(DatabaseSessionStore(), session))


def test_tenant_sessions_never_reach_the_console_and_tenant_hosts_do_not_serve_it(app, client_for):
    member = make_member()
    boss = make_staff("aicom", "boss@aicom.example", "admin")
    tenant_admin = client_for("aicom")
    assert staff_login(tenant_admin, boss).status_code == 303
    for path in ("/platform", "/platform/login", "/platform/tenants/aicom", "/platform/audit"):
        assert tenant_admin.get(path, follow_redirects=False).status_code == 404
    # A platform login presented on a tenant host is nothing there.
    console = platform_client(app)
    login(console, member)
    cookie = console.cookies.get("mypage_platform")
    visitor = client_for("aicom")
    visitor.cookies.set("mypage_platform", cookie, domain="aicom.localhost", path="/platform")
    assert visitor.get("/platform", follow_redirects=False).status_code == 404
    # The tenant staff's or a customer's cookie on the platform host is no platform login.
    intruder = platform_client(app)
    intruder.cookies.set("mypage_platform", _staff_cookie("aicom", boss.id), domain="platform.localhost", path="/platform")
    assert intruder.get("/platform", follow_redirects=False).headers["location"] == "/platform/login"
    assert intruder.get("/admin", follow_redirects=False).status_code == 404
    assert intruder.get("/login", follow_redirects=False).status_code == 404


def test_the_list_page_costs_the_same_queries_for_one_tenant_or_a_full_page(db, portal, monkeypatch):
    from mypage.app import create_app
    from mypage.db.engine import bind_tables, make_engine
    from mypage.platformconsole.routes import PAGE_SIZE
    from mypage.tenancy.registry import Tenant, TenantRegistry

    model = portal.base.get("aicom")
    copies = [
        Tenant(
            config=model.config.model_copy(update={"slug": f"isp-{n:04d}", "hosts": [f"isp-{n:04d}.localhost"]}),
            folder=model.folder,
            source=model.source,
        )
        for n in range(120)
    ]
    many = Portal(db, tenants=TenantRegistry([*portal.base, *copies]))
    app = create_app(db, portal=many)
    bind_tables(make_engine(db))
    member = make_member()
    client = platform_client(app)
    assert login(client, member).status_code == 303
    engine = PlatformAudit._meta.db
    calls: list[str] = []
    original = type(engine).run_querystring

    async def counting(self, querystring, *args, **kwargs):
        if "tenant_generation" not in str(querystring):  # the background watcher's, once a second, in no request
            calls.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    monkeypatch.setattr(type(engine), "run_querystring", counting)
    one = client.get("/platform", params={"q": "isp-0007"})
    assert one.text.count("data-tenant=") == 1
    for_one = len(calls)
    calls.clear()
    full = client.get("/platform", params={"page": 2})
    assert full.text.count("data-tenant=") == PAGE_SIZE
    assert len(calls) == for_one, calls
