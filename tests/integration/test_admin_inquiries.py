"""The console's お問い合わせ over HTTP: the inbox and its filters, a reply mailed and shown in the portal, the
customer's answer back in the inbox, notes, state, assignment, approval; 閲覧 reads only, another tenant 404."""

import json

from feature_support import make_account, make_customer, sign_in

from admin_support import make_staff, staff_login
from conftest import run
from mypage import i18n
from mypage.audit.tables import AuditEvent
from mypage.inquiries.tables import Inquiry, PaperStop


def customer_client(client_for, number="1000001", login="abc123", email="taro@example.jp"):
    customer = make_customer("nmedia", number)
    account = make_account("nmedia", customer, login, email=email, display_name="日本太郎")
    return sign_in(client_for("nmedia"), "nmedia", account), customer


def console(client_for, tenant="nmedia", role="support", email="support@example.jp"):
    staff = make_staff(tenant, email, role, name=f"{role}担当")
    client = client_for(tenant)
    assert staff_login(client, staff).status_code == 303
    return client, staff


def test_reply_reaches_the_customer_and_the_answer_comes_back(app, client_for, deliver):
    customer, _ = customer_client(client_for)
    customer.submit("/inquiries", {"category": "other", "subject": "接続について", "body": "繋がりません。"})
    inquiry = run(Inquiry.objects().first().run())
    deliver().clear()
    support, staff = console(client_for)

    inbox = support.get("/admin/inquiries")
    assert inbox.status_code == 200 and "接続について" in inbox.text and "新規" in inbox.text and "1000001" in inbox.text
    page = support.get(f"/admin/inquiries/{inquiry.id}")
    assert page.status_code == 200 and "繋がりません。" in page.text

    empty = support.submit(f"/admin/inquiries/{inquiry.id}/reply", {"body": ""})
    assert empty.status_code == 400 and "内容を入力してください。" in empty.text
    assert support.submit(f"/admin/inquiries/{inquiry.id}/note", {"note": "回線工事を確認中"}).status_code == 200
    sent = support.submit(f"/admin/inquiries/{inquiry.id}/reply", {"body": "再起動をお試しください。"}, follow_redirects=False)
    assert sent.status_code == 303
    assert "回答を送信しました。" in support.get(sent.headers["location"]).text
    mail = deliver().last_to("taro@example.jp")
    assert "再起動をお試しください。" in deliver().text(mail) and "回線工事" not in deliver().text(mail)

    thread = customer.get(f"/inquiries/{inquiry.id}").text
    assert "再起動をお試しください。" in thread and "回線工事" not in thread
    customer.submit(f"/inquiries/{inquiry.id}/answer", {"body": "まだ駄目です。"})
    assert "まだ駄目です。" in support.get(f"/admin/inquiries/{inquiry.id}").text
    assert "接続について" in support.get("/admin/inquiries?state=open").text
    assert "接続について" not in support.get("/admin/inquiries?state=answered").text

    assert support.submit(f"/admin/inquiries/{inquiry.id}/assign", {"assignee": str(staff.id)}).status_code == 200
    assert "接続について" in support.get("/admin/inquiries?mine=1").text
    bogus = support.submit(f"/admin/inquiries/{inquiry.id}/assign", {"assignee": "999999"})
    assert bogus.status_code == 400 and "担当者を一覧から選択してください。" in bogus.text
    assert support.submit(f"/admin/inquiries/{inquiry.id}/state", {"state": "closed"}).status_code == 200
    assert "完了" in customer.get(f"/inquiries/{inquiry.id}").text

    events = run(AuditEvent.select().where(AuditEvent.event.like("admin.inquiry.%")).order_by(AuditEvent.id).run())
    assert [e["event"] for e in events] == [
        "admin.inquiry.noted",
        "admin.inquiry.replied",
        "admin.inquiry.assigned",
        "admin.inquiry.state_changed",
    ]
    assert all(e["staff_id"] == staff.id and "support担当" in e["actor"] for e in events)
    assert json.loads(events[-1]["after"]) == {"state": "closed"}


def test_filters(app, client_for):
    customer, _ = customer_client(client_for)
    customer.submit("/inquiries", {"category": "other", "subject": "その他の件", "body": "x"})
    customer.submit("/inquiries", {"category": "call_details", "subject": "通話明細記録の希望", "body": "x"})
    support, _ = console(client_for)
    assert "その他の件" not in support.get("/admin/inquiries?category=call_details").text
    assert "通話明細記録の希望" in support.get("/admin/inquiries?category=call_details").text
    today = i18n.today("Asia/Tokyo").isoformat()  # the tenant's day
    assert "その他の件" in support.get(f"/admin/inquiries?since={today}&until={today}").text
    assert "その他の件" not in support.get("/admin/inquiries?since=2099-01-01").text
    assert "その他の件" not in support.get("/admin/inquiries?customer=9999999").text
    assert "その他の件" in support.get("/admin/inquiries?customer=1000001").text
    assert support.get("/admin/inquiries?since=garbage&state=bogus").status_code == 200


def test_approval_from_the_console_applies_next_month(app, client_for):
    customer, customer_id = customer_client(client_for)
    customer.submit("/inquiries", {"category": "other", "subject": "開通案内の紙発送停止希望", "body": "日本太郎"})
    inquiry = run(Inquiry.objects().first().run())
    support, _ = console(client_for)
    page = support.get(f"/admin/inquiries/{inquiry.id}")
    assert "承認する" in page.text
    done = support.submit(f"/admin/inquiries/{inquiry.id}/decide", {"decision": "approve"}, follow_redirects=False)
    assert done.status_code == 303
    [stop] = run(PaperStop.select().run())
    assert stop["customer"] == customer_id and stop["kind"] == "opening_notice"
    assert "から適用" in support.get(done.headers["location"]).text
    again = support.submit(f"/admin/inquiries/{inquiry.id}/decide", {"decision": "approve"})
    assert again.status_code == 400 and "処理済み" in again.text
    approved = run(AuditEvent.select().where(AuditEvent.event == "inquiry.approved").first().run())
    assert approved["customer_id"] == customer_id and approved["staff_id"] is not None


def test_viewer_reads_only_and_other_tenants_get_404(app, client_for):
    customer, _ = customer_client(client_for)
    customer.submit("/inquiries", {"category": "other", "subject": "閲覧テスト", "body": "x"})
    inquiry = run(Inquiry.objects().first().run())
    viewer, _ = console(client_for, role="viewer", email="viewer@example.jp")
    page = viewer.get(f"/admin/inquiries/{inquiry.id}")
    assert page.status_code == 200 and "回答を送信" not in page.text
    for action, data in (
        ("reply", {"body": "x"}),
        ("note", {"note": "x"}),
        ("state", {"state": "closed"}),
        ("decide", {"decision": "approve"}),
    ):
        assert viewer.submit(f"/admin/inquiries/{inquiry.id}/{action}", data).status_code == 403
    assert run(Inquiry.select(Inquiry.state).first().run())["state"] == "new"
    other, _ = console(client_for, tenant="aicom", role="admin", email="admin@aicom.example")
    assert other.get(f"/admin/inquiries/{inquiry.id}").status_code == 404
    assert other.submit(f"/admin/inquiries/{inquiry.id}/reply", {"body": "x"}).status_code == 404
    assert "閲覧テスト" not in other.get("/admin/inquiries").text
