"""お問い合わせ: send with an acceptance mail, validation, rate limit, staff approval applying next month."""

import re
from datetime import date

from feature_support import make_account, make_contract, make_customer, sign_in

from conftest import run
from mypage.audit.log import AuditLog
from mypage.inquiries import staff
from mypage.inquiries.tables import Inquiry, PaperStop
from mypage.records.tables import Contract


def fetch(query):
    return run(query.run())


def nmedia_client(client_for, email="taro@example.jp"):
    customer = make_customer("nmedia", "1000001")
    account = make_account("nmedia", customer, "abc123", email=email, display_name="日本太郎")
    return sign_in(client_for("nmedia"), "nmedia", account), customer, account


def test_inquiry_form_submit_and_acceptance_mail(app, client_for, deliver):
    client, customer, _account = nmedia_client(client_for)
    page = client.get("/inquiries")
    assert page.status_code == 200
    for label in ("種別", "件名", "内容", "送信", "通話明細記録について", "その他"):
        assert label in page.text
    response = client.submit(
        "/inquiries",
        {"category": "other", "subject": "請求書について", "body": "請求書の宛名を変更したい。"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/inquiries/done"
    done = client.get("/inquiries/done")
    assert "お問い合わせを受け付けました" in done.text and "請求書について" in done.text
    # the completion page is shown once
    assert client.get("/inquiries/done", follow_redirects=False).status_code == 303

    rows = fetch(Inquiry.select().where(Inquiry.tenant == "nmedia"))
    assert len(rows) == 1 and rows[0]["customer"] == customer and rows[0]["status"] == "received"
    message = deliver().last_to("taro@example.jp")
    assert "お問い合わせ受付完了" in message["Subject"]
    text = deliver().text(message)
    assert "請求書の宛名を変更したい。" in text and f"{rows[0]['id']:08d}" in text


def test_call_details_category_is_prefilled(app, client_for):
    client, _, _ = nmedia_client(client_for)
    page = client.get("/inquiries?category=call_details")
    assert 'value="通話明細記録の希望"' in page.text
    assert "お客様名・担当者名をご記入願います。" in page.text
    assert '<option value="call_details" selected' in page.text
    # an unknown category preselects nothing
    assert " selected" not in client.get("/inquiries?category=nope").text.split('name="category"')[1].split("</select>")[0]


def test_validation_errors_keep_the_input(app, client_for, deliver):
    client, _, _ = nmedia_client(client_for)
    response = client.submit("/inquiries", {"category": "", "subject": "x" * 101, "body": ""})
    assert response.status_code == 400
    assert "種別を選択してください。" in response.text
    assert "件名は100文字以内で入力してください。" in response.text
    assert "内容を入力してください。" not in response.text  # 内容 is optional for nmedia (body_required = false)
    assert "x" * 101 in response.text
    response = client.submit("/inquiries", {"category": "bogus", "subject": "件名", "body": "あ" * 2001})
    assert response.status_code == 400
    assert "種別を一覧から選択してください。" in response.text
    assert "内容は2000文字以内で入力してください。" in response.text
    assert response.text.count("あ" * 2001) == 1
    assert fetch(Inquiry.count()) == 0
    assert deliver().messages == []


def test_rate_limit(app, client_for):
    client, _, _account = nmedia_client(client_for)
    for i in range(10):
        assert client.submit("/inquiries", {"category": "other", "body": f"本文{i}"}, follow_redirects=False).status_code == 303
    limited = client.submit("/inquiries", {"category": "other", "body": "11件目"})
    assert limited.status_code == 429
    assert "しばらく時間をおいてから" in limited.text and "11件目" in limited.text
    assert fetch(Inquiry.count()) == 10
    assert run(AuditLog("nmedia").events(event="inquiry.rate_limited"))


def test_feature_off_and_login_required(app, client_for):
    customer = make_customer("itscom", "2000001")
    account = make_account("itscom", customer, "taro@example.jp")
    assert sign_in(client_for("itscom"), "itscom", account).get("/inquiries").status_code == 404
    response = client_for("nmedia").get("/inquiries", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def test_call_details_application_approved_from_next_month(app, client_for, portal, deliver):
    client, customer, _account = nmedia_client(client_for)
    with_phone = make_contract("nmedia", customer, "CAF0000000001", phone="0612345678")
    other_phone = make_contract("nmedia", customer, "CAF0000000002", phone="0612345679")
    no_phone = make_contract("nmedia", customer, "CAF0000000003", service="internet")
    page = client.get("/inquiries?category=call_details")
    assert "CAF0000000001" in page.text and "CAF0000000003" not in page.text
    # another customer's contract cannot be chosen
    stranger = make_customer("nmedia", "1000002")
    foreign = make_contract("nmedia", stranger, "CAF0000000009", phone="0612340000")
    bad = client.submit(
        "/inquiries", {"category": "call_details", "subject": "通話明細記録の希望", "body": "日本太郎", "contract": str(foreign)}
    )
    assert bad.status_code == 400 and "対象のご契約を一覧から選択してください。" in bad.text

    client.submit("/inquiries", {"category": "call_details", "subject": "通話明細記録の希望", "body": "日本太郎・担当 山田"})
    inquiry = fetch(Inquiry.objects().where(Inquiry.tenant == "nmedia").first())
    assert inquiry.applies == "call_details"
    tenant = portal.tenants.get("nmedia")
    pending = run(staff.list_inquiries(tenant, status="received"))
    assert [i.id for i in pending] == [inquiry.id]

    run(staff.approve(portal, tenant, inquiry.id, staff="山田", on=date(2024, 12, 10)))
    months = {r["id"]: r["call_details_from"] for r in fetch(Contract.select(Contract.id, Contract.call_details_from))}
    assert months[with_phone] == "2025-01" and months[other_phone] == "2025-01"
    assert months[no_phone] is None and months[foreign] is None
    decided = fetch(Inquiry.objects().where(Inquiry.id == inquiry.id).first())
    assert decided.status == "approved" and decided.effective_from == "2025-01" and decided.decided_by == "山田"
    assert run(AuditLog("nmedia").events(event="inquiry.approved"))
    assert "2025年1月" in deliver().text(deliver().last_to("taro@example.jp"))
    # deciding twice is refused; another tenant cannot see it
    try:
        run(staff.approve(portal, tenant, inquiry.id))
        raise AssertionError("approved twice")
    except staff.StaffError:
        pass
    try:
        run(staff.approve(portal, portal.tenants.get("aicom"), inquiry.id))
        raise AssertionError("approved from another tenant")
    except staff.StaffError:
        pass


def test_call_details_for_the_chosen_contract_only(app, client_for, portal):
    client, customer, _ = nmedia_client(client_for)
    first = make_contract("nmedia", customer, "CAF0000000001", phone="0612345678")
    second = make_contract("nmedia", customer, "CAF0000000002", phone="0612345679")
    client.submit(
        "/inquiries", {"category": "call_details", "subject": "通話明細記録の希望", "body": "日本太郎", "contract": str(second)}
    )
    inquiry = fetch(Inquiry.objects().first())
    run(staff.approve(portal, portal.tenants.get("nmedia"), inquiry.id, on=date(2025, 3, 31)))
    months = {r["id"]: r["call_details_from"] for r in fetch(Contract.select(Contract.id, Contract.call_details_from))}
    assert months == {first: None, second: "2025-04"}


def test_paper_stop_approval_and_rejection(app, client_for, portal):
    client, customer, _ = nmedia_client(client_for)
    client.submit(
        "/inquiries", {"category": "paper_stop_opening_notice", "subject": "開通案内の紙発送停止希望", "body": "日本太郎"}
    )
    client.submit("/inquiries", {"category": "other", "body": "その他の問い合わせ"})
    first, second = fetch(Inquiry.objects().order_by(Inquiry.id))
    tenant = portal.tenants.get("nmedia")
    run(staff.approve(portal, tenant, first.id, on=date(2025, 5, 1)))
    stops = fetch(PaperStop.select().where(PaperStop.tenant == "nmedia"))
    assert [(s["customer"], s["kind"], s["effective_from"]) for s in stops] == [(customer, "opening_notice", "2025-06")]
    run(staff.reject(tenant, second.id, staff="山田", note="対象外"))
    assert fetch(Inquiry.objects().where(Inquiry.id == second.id).first()).status == "rejected"


def _options(page_text):
    select = page_text.split('name="category"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', select)


def test_nmedia_form_as_the_guide_shows_it(app, client_for):
    """種別 lists 通話明細記録について and その他; 件名 and 内容 are optional; the paper stops are その他 with their 件名."""
    client, _, _ = nmedia_client(client_for)
    page = client.get("/inquiries")
    assert _options(page.text) == ["", "call_details", "other"]
    body_label = page.text.split('<label for="f-body">', 1)[1].split("</label>", 1)[0]
    assert "必須" not in body_label
    assert 'name="body" rows="8" maxlength="2000" aria-describedby' in page.text  # not required
    guide = page.text.split("お申込みの際の入力内容", 1)[1]
    rows = re.findall(r'<td><a href="/inquiries\?category=(\w+)">([^<]+)</a></td>\s*<td>([^<]*)</td>', guide)
    assert rows == [
        ("call_details", "通話明細記録について", "通話明細記録の希望"),
        ("paper_stop_opening_notice", "その他", "開通案内の紙発送停止希望"),
        ("paper_stop_transfer_notice", "その他", "口座振替案内書の紙発送停止希望"),
    ]
    opened = client.get("/inquiries?category=paper_stop_transfer_notice")
    assert '<option value="other" selected' in opened.text
    assert 'value="口座振替案内書の紙発送停止希望"' in opened.text and "お客様名・担当者名をご記入願います。" in opened.text


def test_paper_stop_filed_as_other_keeps_its_marker_for_approval(app, client_for, portal, deliver):
    client, customer, _ = nmedia_client(client_for)
    response = client.submit(
        "/inquiries", {"category": "other", "subject": "口座振替案内書の紙発送停止希望", "body": ""}, follow_redirects=False
    )
    assert response.status_code == 303  # 内容 may be left empty
    client.submit("/inquiries", {"category": "other", "subject": "開通案内の紙発送停止希望　", "body": "日本太郎"})
    client.submit("/inquiries", {"category": "other", "subject": "請求書の宛名", "body": ""})
    rows = fetch(Inquiry.select(Inquiry.category, Inquiry.applies, Inquiry.subject).order_by(Inquiry.id))
    assert [(r["category"], r["applies"]) for r in rows] == [
        ("other", "paper_stop_transfer_notice"),
        ("other", "paper_stop_opening_notice"),
        ("other", "none"),
    ]
    assert "その他" in deliver().text(deliver().last_to("taro@example.jp"))
    first, second, third = fetch(Inquiry.objects().order_by(Inquiry.id))
    tenant = portal.tenants.get("nmedia")
    run(staff.approve(portal, tenant, first.id, on=date(2025, 5, 1)))
    run(staff.approve(portal, tenant, second.id, on=date(2025, 5, 1)))
    run(staff.approve(portal, tenant, third.id, on=date(2025, 5, 1)))
    stops = fetch(PaperStop.select().where(PaperStop.tenant == "nmedia").order_by(PaperStop.id))
    assert [(s["customer"], s["kind"], s["effective_from"]) for s in stops] == [
        (customer, "transfer_notice", "2025-06"),
        (customer, "opening_notice", "2025-06"),
    ]
