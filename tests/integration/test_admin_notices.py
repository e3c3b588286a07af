"""The console's お知らせ over HTTP: a draft with a preview, published with mails, a scheduled one, pin,
expire; 管理者 only write (サポート and 閲覧 read), another tenant's notice 404."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from feature_support import make_account, make_customer, sign_in

from admin_support import make_staff, staff_login
from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.db.base import utcnow
from mypage.notices.tables import Notice


def console(client_for, role="admin", email="admin@example.jp", tenant="nmedia"):
    staff = make_staff(tenant, email, role)
    client = client_for(tenant)
    assert staff_login(client, staff).status_code == 303
    return client


def test_write_preview_publish_pin_expire(app, client_for, deliver):
    customer = make_customer("nmedia", "1000001")
    account = make_account("nmedia", customer, "adm001", email="notify@example.jp")
    portal_user = sign_in(client_for("nmedia"), "nmedia", account)
    admin = console(client_for)

    bad = admin.submit("/admin/notices", {"title": "", "body": "x", "publish_at": "tomorrow"})
    assert bad.status_code == 400 and "件名を入力してください。" in bad.text and "日時は" in bad.text
    created = admin.submit(
        "/admin/notices", {"title": "年末年始の営業", "body": "**12/29**から休業\n<b>x</b>"}, follow_redirects=False
    )
    assert created.status_code == 303
    page = admin.get(created.headers["location"])
    assert "<strong>12/29</strong>" in page.text and "&lt;b&gt;x&lt;/b&gt;" in page.text and "下書き" in page.text
    assert "年末年始の営業" not in portal_user.get("/").text
    notice_id = int(created.headers["location"].rsplit("/", 1)[1])

    published = admin.submit(f"/admin/notices/{notice_id}/publish", {}, follow_redirects=False)
    assert "お知らせメール 1 件" in admin.get(published.headers["location"]).text
    assert "年末年始の営業" in deliver().text(deliver().last_to("notify@example.jp"))
    assert "年末年始の営業" in portal_user.get("/").text
    admin.submit(f"/admin/notices/{notice_id}/pin", {})
    assert run(Notice.select(Notice.pinned).first().run())["pinned"] is True
    admin.submit(f"/admin/notices/{notice_id}/expire", {})
    assert "年末年始の営業" not in portal_user.get("/").text
    assert "掲載終了" in admin.get("/admin/notices").text

    later = (utcnow() + timedelta(days=2)).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%dT%H:%M")
    scheduled = admin.submit(
        "/admin/notices", {"title": "予約のお知らせ", "body": "", "publish_at": later}, follow_redirects=False
    )
    scheduled_id = int(scheduled.headers["location"].rsplit("/", 1)[1])
    done = admin.submit(f"/admin/notices/{scheduled_id}/publish", {}, follow_redirects=False)
    assert "公開を予約しました" in admin.get(done.headers["location"]).text
    assert "公開予約" in admin.get("/admin/notices").text
    assert "予約のお知らせ" not in portal_user.get("/").text
    events = [e["event"] for e in run(AuditEvent.select(AuditEvent.event).where(AuditEvent.event.like("admin.notice.%")).run())]
    assert events.count("admin.notice.published") == 2 and "admin.notice.expired" in events


def test_support_and_viewer_read_only_and_tenants_apart(app, client_for):
    admin = console(client_for)
    created = admin.submit("/admin/notices", {"title": "読むだけ", "body": ""}, follow_redirects=False)
    notice_id = int(created.headers["location"].rsplit("/", 1)[1])
    for role in ("support", "viewer"):
        reader = console(client_for, role=role, email=f"{role}@example.jp")
        assert "読むだけ" in reader.get("/admin/notices").text
        page = reader.get(f"/admin/notices/{notice_id}")
        assert page.status_code == 200 and "今すぐ公開する" not in page.text
        assert reader.get("/admin/notices/new").status_code == 403
        assert reader.submit(f"/admin/notices/{notice_id}/publish", {}).status_code == 403
        assert reader.submit("/admin/notices", {"title": "x"}).status_code == 403
    assert run(Notice.select(Notice.draft).where(Notice.id == notice_id).first().run())["draft"] is True
    other = console(client_for, tenant="aicom", email="admin@aicom.example")
    assert other.get(f"/admin/notices/{notice_id}").status_code == 404
    assert other.submit(f"/admin/notices/{notice_id}/publish", {}).status_code == 404
