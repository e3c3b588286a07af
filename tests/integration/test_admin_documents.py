"""Console PDF uploads attached to contracts: PDF magic and size checked next to the field, an opening notice
served as uploaded in the portal's 開通案内, an invoice listed on the contract page; members with メール通知 あり
mailed; 閲覧 cannot upload; another customer or tenant cannot download."""

import json

from contract_records import contract, customer
from feature_support import make_account, sign_in

from admin_support import make_staff, staff_login
from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.documents.tables import DocumentFile

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def console(client_for, role="support", email="support@example.jp", tenant="nmedia"):
    staff = make_staff(tenant, email, role, name="鈴木　サポート")
    client = client_for(tenant)
    assert staff_login(client, staff).status_code == 303
    return client


def upload(client, data, *, file=PDF, name="notice.pdf"):
    return client.post(
        "/admin/documents",
        data={**data, "_csrf_token": client.csrf()},
        files={"file": (name, file, "application/pdf")},
        follow_redirects=False,
    )


def test_upload_notifies_and_the_customer_downloads(app, client_for, deliver):
    owner = customer("nmedia", "1000001")
    line = contract("nmedia", owner, "CAF0000000001")
    account = make_account("nmedia", owner.id, "own001", email="notify@example.jp")
    make_account("nmedia", owner.id, "gen001", email="quiet@example.jp", role="general", mail_notify=False)
    portal_user = sign_in(client_for("nmedia"), "nmedia", account)
    support = console(client_for)

    base = {"contract_number": "CAF0000000001", "kind": "opening_notice", "issued_on": "2025-04-01", "title": ""}
    not_pdf = upload(support, base, file=b"<html>not a pdf</html>", name="x.pdf")
    assert not_pdf.status_code == 400 and "PDFファイルではありません。" in not_pdf.text
    too_big = upload(support, base, file=PDF + b"0" * (5 * 1024 * 1024))
    assert too_big.status_code == 400 and "大きすぎます" in too_big.text
    unknown = upload(support, {**base, "contract_number": "CAF9999999999", "issued_on": "x"})
    assert "契約番号が見つかりません。" in unknown.text and "発行日を" in unknown.text
    assert run(DocumentFile.count().run()) == 0

    done = upload(support, base)
    assert done.status_code == 303
    assert "アップロードしました（お知らせメール 1 件）" in support.get("/admin/documents").text
    mail = deliver().last_to("notify@example.jp")
    assert "開通案内" in deliver().text(mail) and "/contracts/CAF0000000001" in deliver().text(mail)
    assert not deliver().to("quiet@example.jp")
    detail = portal_user.get("/contracts/CAF0000000001")
    assert "2025年04月01日" in detail.text
    served = portal_user.get("/contracts/CAF0000000001/opening-notice")
    assert served.status_code == 200 and served.content == PDF

    invoice = upload(
        support, {**base, "kind": "invoice_pdf", "issued_on": "2025-05-10", "title": "2025年4月分 請求書"}, name="inv.pdf"
    )
    assert invoice.status_code == 303
    detail = portal_user.get("/contracts/CAF0000000001").text
    assert "2025年4月分 請求書" in detail
    link = detail.split('href="/contracts/CAF0000000001/documents/', 1)[1].split('"', 1)[0]
    assert portal_user.get(f"/contracts/CAF0000000001/documents/{link}").content == PDF

    # another customer of the tenant, and another tenant's host
    stranger = customer("nmedia", "1000002")
    contract("nmedia", stranger, "CAF0000000002")
    other = sign_in(client_for("nmedia"), "nmedia", make_account("nmedia", stranger.id, "str002", email="s@example.jp"))
    assert other.get(f"/contracts/CAF0000000001/documents/{link}").status_code == 404
    assert other.get(f"/contracts/CAF0000000002/documents/{link}").status_code == 404
    event = run(AuditEvent.select().where(AuditEvent.event == "admin.document.uploaded").first().run())
    assert event["customer_id"] == owner.id and json.loads(event["after"])["contract"] == "CAF0000000001"
    assert line


def test_viewer_cannot_upload(app, client_for):
    owner = customer("nmedia", "1000001")
    contract("nmedia", owner, "CAF0000000001")
    viewer = console(client_for, role="viewer", email="viewer@example.jp")
    assert viewer.get("/admin/documents").status_code == 200
    assert (
        upload(viewer, {"contract_number": "CAF0000000001", "kind": "opening_notice", "issued_on": "2025-04-01"}).status_code
        == 403
    )
    other = console(client_for, role="admin", email="admin@aicom.example", tenant="aicom")
    refused = upload(other, {"contract_number": "CAF0000000001", "kind": "opening_notice", "issued_on": "2025-04-01"})
    assert refused.status_code == 400 and "契約番号が見つかりません。" in refused.text
    assert run(DocumentFile.count().run()) == 0
