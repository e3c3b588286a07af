"""The console's dashboard: logins, failures, lockouts and registrations per day as inline SVG (no script),
open inquiries, the outbox backlog and the last imports."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from admin_support import make_staff, staff_login
from conftest import run
from mypage.admin.dashboard.service import daily
from mypage.audit.log import AuditLog
from mypage.audit.tables import AuditEvent
from mypage.inquiries.tables import Inquiry
from mypage.mail.tables import OutboxMail


async def _seed():
    log = AuditLog("aicom")
    for event in ("login.success", "login.success", "login.failure", "account.locked", "register.completed"):
        await log.record(event)
    await log.record("login.success")
    await AuditEvent.update({AuditEvent.created_at: datetime.now(UTC) - timedelta(days=1)}).where(
        AuditEvent.id == (await AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id, ascending=False).first())["id"]
    )
    await AuditLog("itscom").record("login.success")
    await log.record("records.import", kind="customers", rows=3, created=2, updated=1)
    await OutboxMail(
        tenant="aicom", sender="a@example.jp", recipient="b@example.jp", subject="s", text_body="t", html_body="h"
    ).save()
    await OutboxMail(
        tenant="aicom", sender="a@example.jp", recipient="c@example.jp", subject="s", text_body="t", html_body="h", attempts=2
    ).save()
    await Inquiry(tenant="nmedia", category="other", subject="help", body="b", status="received").save()


def test_dashboard(app, client_for, portal):
    run(_seed())
    days, series = run(daily(portal.tenants.get("aicom")))
    counts = {s.key: s.values for s in series}
    assert counts["logins"][-1] == 2 and counts["logins"][-2] == 1 and counts["failures"][-1] == 1
    assert counts["lockouts"][-1] == 1 and counts["registrations"][-1] == 1 and len(days) == 14

    staff = make_staff("aicom", "viewer@example.jp", "viewer")
    client = client_for("aicom")
    staff_login(client, staff)
    page = client.get("/admin")
    assert page.status_code == 200
    assert page.text.count("<svg") == 4 and "<script" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert re.search(r"未送信のメール<strong>2</strong>", page.text) and "送信エラー 1件" in page.text
    assert "未対応のお問い合わせ" not in page.text  # aicom has no inquiries feature
    assert "customers" in page.text and "3行(新規 2・更新 1)" in page.text
    english = client.get("/admin?lang=en")
    assert "Dashboard" in english.text and "Logins" in english.text


def test_open_inquiries_where_the_feature_is_on(app, client_for):
    run(_seed())
    staff = make_staff("nmedia", "support@example.jp", "support")
    client = client_for("nmedia")
    staff_login(client, staff)
    assert "未対応のお問い合わせ<strong>1</strong>" in client.get("/admin").text
