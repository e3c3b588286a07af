"""お知らせ: drafts are not shown, publishing shows and mails (members with メール通知 あり), a scheduled notice is
shown and mailed by the job worker when its time comes (once), expire and pin, safe Markdown-like formatting."""

import json
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from feature_support import make_account, make_customer, sign_in

from conftest import PortalClient, run
from mypage.app import create_app
from mypage.audit.actor import Actor
from mypage.audit.log import AuditLog
from mypage.db.base import utcnow
from mypage.notices import service
from mypage.notices.repository import forget_notices
from mypage.notices.tables import Notice
from mypage.portal import Portal

STAFF = Actor("山田", staff_id=3)


def members(client_for):
    customer = make_customer("nmedia", "1000001")
    make_account("nmedia", customer, "adm001", email="notify@example.jp", role="owner")
    make_account("nmedia", customer, "gen001", email="quiet@example.jp", role="general", mail_notify=False)
    account = make_account("nmedia", customer, "gen002", email="general@example.jp", role="general")
    return sign_in(client_for("nmedia"), "nmedia", account)


def draft(tenant, **fields):
    notice, errors = run(service.save_draft(tenant, service.NoticeInput(**fields), STAFF))
    assert not errors, errors
    return notice


def test_draft_publish_mail_pin_and_expire(app, client_for, portal, deliver):
    client = members(client_for)
    tenant = portal.tenants.get("nmedia")
    notice = draft(tenant, title="メンテナンスのお知らせ", body="**12月1日** 2:00~5:00\n\n- メール\n- マイページ")
    assert "メンテナンスのお知らせ" not in client.get("/").text  # a draft is not shown
    assert deliver().messages == []

    _, mails = run(service.publish(portal, tenant, notice.id, STAFF))
    assert mails == 2  # the two members with メール通知 あり
    sink = deliver()
    assert "メンテナンスのお知らせ" in sink.text(sink.last_to("notify@example.jp"))
    assert sink.to("general@example.jp") and not sink.to("quiet@example.jp")
    home = client.get("/").text
    assert "メンテナンスのお知らせ" in home and "<strong>12月1日</strong>" in home and "<li>メール</li>" in home

    older = draft(tenant, title="古いお知らせ")
    run(service.publish(portal, tenant, older.id, STAFF))
    home = client.get("/").text
    assert home.index("古いお知らせ") < home.index("メンテナンスのお知らせ")  # newest first
    run(service.set_pinned(tenant, notice.id, True, STAFF))
    home = client.get("/").text
    assert home.index("メンテナンスのお知らせ") < home.index("古いお知らせ")  # pinned first
    assert "notices__item--pinned" in home

    run(service.expire(tenant, notice.id, STAFF))
    assert "メンテナンスのお知らせ" not in client.get("/").text
    events = [e["event"] for e in run(AuditLog("nmedia").events())]
    for event in ("admin.notice.saved", "admin.notice.published", "admin.notice.pinned", "admin.notice.expired"):
        assert event in events
    published = run(AuditLog("nmedia").events(event="admin.notice.published"))[-1]
    assert json.loads(published["before"])["draft"] is True and json.loads(published["after"])["draft"] is False
    assert published["actor"] == "山田" and published["staff_id"] == 3
    # publishing twice is refused
    try:
        run(service.publish(portal, tenant, notice.id, STAFF))
        raise AssertionError("published twice")
    except service.NoticeError:
        pass


def test_a_notice_leaves_the_portal_at_its_end_although_the_list_is_cached(app, client_for, portal):
    client = members(client_for)
    tenant = portal.tenants.get("nmedia")
    notice = draft(tenant, title="まもなく終わるお知らせ")
    run(service.publish(portal, tenant, notice.id, STAFF))
    ends = utcnow() + timedelta(seconds=1.5)
    run(Notice.update({Notice.expires_at: ends}).where(Notice.id == notice.id).run())
    forget_notices()
    assert "まもなく終わるお知らせ" in client.get("/").text  # the list is cached now, for less than a minute
    time.sleep(max(0.0, (ends - utcnow()).total_seconds()) + 0.1)
    assert "まもなく終わるお知らせ" not in client.get("/").text


def test_no_raw_html_and_no_script_links(app, client_for, portal):
    client = members(client_for)
    tenant = portal.tenants.get("nmedia")
    notice = draft(
        tenant, title="書式", body="<script>alert(1)</script> [押す](javascript:alert(1)) ![画像](https://evil.example/x.png)"
    )
    run(service.publish(portal, tenant, notice.id, STAFF))
    home = client.get("/").text
    assert "<script>alert(1)</script>" not in home and "&lt;script&gt;" in home
    assert 'href="javascript:' not in home and "<img" not in home.split("notices-heading")[1]


def test_validation(app, portal):
    tenant = portal.tenants.get("nmedia")
    _, errors = run(service.save_draft(tenant, service.NoticeInput(title="", publish_at="31/12/2025"), STAFF))
    assert errors["title"] == "件名を入力してください。" and "日時は" in errors["publish_at"]
    _, errors = run(
        service.save_draft(
            tenant, service.NoticeInput(title="x", publish_at="2030-01-02T10:00", expires_at="2030-01-01T10:00"), STAFF
        )
    )
    assert "掲載終了は掲載開始より後" in errors["expires_at"]
    assert run(Notice.count().run()) == 0


def test_scheduled_notice_is_shown_and_mailed_by_the_worker_when_due(db, app, client_for, portal, mail):
    client = members(client_for)
    tenant = portal.tenants.get("nmedia")
    soon = (utcnow() + timedelta(hours=1)).astimezone(ZoneInfo(tenant.config.timezone)).strftime("%Y-%m-%dT%H:%M")
    notice = draft(tenant, title="予約したお知らせ", publish_at=soon)
    _, mails = run(service.publish(portal, tenant, notice.id, STAFF))
    assert mails == 0
    assert "予約したお知らせ" not in client.get("/").text
    assert run(service.mail_due_notices(portal)) == 0  # not yet

    # its time comes: the job worker of a running server mails it once, and the portal shows it. Its day moves with
    # its time, as the service keeps them (an hour ahead can be tomorrow in the tenant's time zone).
    due = utcnow() - timedelta(seconds=1)
    day = due.astimezone(ZoneInfo(tenant.config.timezone)).date()
    run(Notice.update({Notice.publish_at: due, Notice.published_on: day}).where(Notice.id == notice.id).run())
    forget_notices()
    settings = db.with_(
        smtp_url=mail.url, run_mail_worker=True, mail_worker_interval=0.05, run_job_worker=True, job_worker_interval=0.05
    )
    server = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    with PortalClient(server, base_url="http://nmedia.localhost") as running:
        assert running.get("/healthz").status_code == 200
        deadline = time.monotonic() + 10
        while len(mail.to("example.jp")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert {m["To"] for m in mail.messages} == {"notify@example.jp", "general@example.jp"}
    assert run(service.mail_due_notices(portal)) == 0  # mailed once
    forget_notices()
    assert "予約したお知らせ" in client.get("/").text


def test_cli_notice_uses_the_same_rules(app, portal, deliver):
    customer = make_customer("nmedia", "1000009")
    make_account("nmedia", customer, "adm009", email="cli@example.jp", role="owner")
    notice, mails = run(service.post_notice(portal, portal.tenants.get("nmedia"), title="CLIから", body="本文"))
    assert mails == 1 and not notice.draft and notice.notified_at is not None
    assert run(service.mail_due_notices(portal)) == 0
