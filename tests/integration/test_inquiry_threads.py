"""お問い合わせ as threads (portal side and the services the console calls): staff replies mailed and shown,
the customer's answer reopening the thread, internal notes hidden, states, assignment, the inbox filter."""

import json
from datetime import date, timedelta

import pytest
from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.audit.log import AuditLog
from mypage.db.base import utcnow
from mypage.inquiries import staff, threads
from mypage.inquiries.repository import InboxFilter
from mypage.inquiries.tables import Inquiry, InquiryMessage

STAFF = threads.Actor("山田", staff_id=7)


def nmedia_client(client_for, number="1000001", login="abc123", email="taro@example.jp"):
    customer = make_customer("nmedia", number)
    account = make_account("nmedia", customer, login, email=email, display_name="日本太郎")
    return sign_in(client_for("nmedia"), "nmedia", account), customer, account


def send(client, body="ルーターが繋がりません。", subject="接続について"):
    client.submit("/inquiries", {"category": "other", "subject": subject, "body": body})
    return run(Inquiry.objects().order_by(Inquiry.id, ascending=False).first().run())


def test_staff_reply_is_mailed_and_shown_and_the_customer_answers(app, client_for, portal, deliver):
    client, _customer, _account = nmedia_client(client_for)
    inquiry = send(client)
    assert inquiry.state == "new"
    tenant = portal.tenants.get("nmedia")
    deliver()
    deliver().clear()

    run(threads.add_note(tenant, inquiry.id, "社内メモ: 回線工事の履歴を確認", STAFF))
    run(threads.staff_reply(portal, tenant, inquiry.id, "ルーターの再起動をお試しください。", STAFF))
    mail = deliver().last_to("taro@example.jp")
    assert "お問い合わせへの回答" in mail["Subject"]
    text = deliver().text(mail)
    assert "ルーターの再起動をお試しください。" in text and f"/inquiries/{inquiry.id}" in text
    assert "社内メモ" not in text

    # the portal: the history lists it, the thread shows the reply but never the note
    listing = client.get("/inquiries")
    assert "お問い合わせ履歴" in listing.text and f'href="/inquiries/{inquiry.id}"' in listing.text and "回答済み" in listing.text
    page = client.get(f"/inquiries/{inquiry.id}")
    assert page.status_code == 200
    assert "ルーターが繋がりません。" in page.text and "ルーターの再起動をお試しください。" in page.text
    assert "社内メモ" not in page.text and "回答済み" in page.text

    # the customer's answer: empty refused next to the field, then stored and the state back to 対応中
    empty = client.submit(f"/inquiries/{inquiry.id}/answer", {"body": "  "})
    assert empty.status_code == 400 and "内容を入力してください。" in empty.text
    answered = client.submit(f"/inquiries/{inquiry.id}/answer", {"body": "再起動しても駄目でした。"}, follow_redirects=False)
    assert answered.status_code == 303
    assert "再起動しても駄目でした。" in client.get(f"/inquiries/{inquiry.id}").text
    assert run(Inquiry.select(Inquiry.state).where(Inquiry.id == inquiry.id).first().run())["state"] == "open"
    authors = [m["author"] for m in run(InquiryMessage.select().order_by(InquiryMessage.id).run())]
    assert authors == ["note", "staff", "customer"]
    events = {e["event"]: e for e in run(AuditLog("nmedia").events())}
    replied = events["admin.inquiry.replied"]
    assert json.loads(replied["before"]) == {"state": "new"} and json.loads(replied["after"]) == {"state": "answered"}
    assert replied["actor"] == "山田" and replied["staff_id"] == 7 and replied["customer_id"] == _customer
    assert json.loads(events["inquiry.customer_answer"]["after"]) == {"state": "open"}


def test_closed_thread_takes_no_answer_and_others_get_404(app, client_for, portal):
    client, _customer, _account = nmedia_client(client_for)
    inquiry = send(client)
    tenant = portal.tenants.get("nmedia")
    run(threads.set_state(tenant, inquiry.id, "closed", STAFF))
    refused = client.submit(f"/inquiries/{inquiry.id}/answer", {"body": "まだ質問があります"})
    assert refused.status_code == 400 and "このお問い合わせは完了しています" in refused.text
    assert run(InquiryMessage.count().run()) == 0
    # another customer of the same tenant, and the same id on another tenant's host
    other, _, _ = nmedia_client(client_for, number="1000002", login="xyz789", email="hanako@example.jp")
    assert other.get(f"/inquiries/{inquiry.id}").status_code == 404
    assert other.submit(f"/inquiries/{inquiry.id}/answer", {"body": "x"}).status_code == 404
    with pytest.raises(threads.ThreadError):
        run(threads.staff_reply(portal, portal.tenants.get("aicom"), inquiry.id, "x", STAFF))


def test_approval_closes_the_thread_and_shows_the_month(app, client_for, portal):
    client, _customer, _account = nmedia_client(client_for)
    client.submit("/inquiries", {"category": "other", "subject": "開通案内の紙発送停止希望", "body": "日本太郎"})
    inquiry = run(Inquiry.objects().first().run())
    run(staff.approve(portal, portal.tenants.get("nmedia"), inquiry.id, staff="山田", on=date(2025, 5, 1)))
    page = client.get(f"/inquiries/{inquiry.id}")
    assert "完了" in page.text and "2025-06" in page.text


def test_inbox_filters_and_assignment(app, client_for, portal):
    client, customer, _ = nmedia_client(client_for)
    first = send(client, subject="一件目")
    client.submit("/inquiries", {"category": "call_details", "subject": "通話明細記録の希望", "body": "日本太郎"})
    other_client, _, _ = nmedia_client(client_for, number="1000002", login="xyz789", email="hanako@example.jp")
    third = send(other_client, subject="三件目")
    tenant = portal.tenants.get("nmedia")
    run(threads.assign(tenant, first.id, 7, "山田", STAFF))
    run(threads.set_state(tenant, third.id, "open", STAFF))

    def subjects(**wanted):
        return [i.subject for i in run(threads.inbox(tenant, InboxFilter(**wanted)))]

    assert subjects() == ["三件目", "通話明細記録の希望", "一件目"]
    assert subjects(state="open") == ["三件目"]
    assert subjects(category="call_details") == ["通話明細記録の希望"]
    assert subjects(customer_number="1000001") == ["通話明細記録の希望", "一件目"]
    assert subjects(customer_number="9999999") == []
    assert subjects(assignee_id=7) == ["一件目"]
    assert subjects(since=utcnow() + timedelta(days=1)) == []
    assert subjects(until=utcnow() + timedelta(days=1)) == ["三件目", "通話明細記録の希望", "一件目"]
    assert run(threads.inbox(portal.tenants.get("aicom"), InboxFilter())) == []
    assigned = run(AuditLog("nmedia").events(event="admin.inquiry.assigned"))[0]
    assert json.loads(assigned["before"]) == {"id": None, "name": ""} and json.loads(assigned["after"]) == {
        "id": 7,
        "name": "山田",
    }
    assert customer
