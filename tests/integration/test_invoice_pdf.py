"""The invoice PDF (適格請求書): one file per invoice (billing group), Japanese text, per-rate tax; the renderer's
resource fetcher refuses local files and the network."""

from __future__ import annotations

import io
import re

from billing_data import account, contract, customer, group, invoice, run, sign_in
from pypdf import PdfReader

from mypage.documents import pdf


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_invoice_pdf_is_a_qualified_invoice(client_for, portal):
    cid = customer("nmedia", "CAF0000000401", name="日本　花子")
    g = group("nmedia", cid, "G401", "一括請求")
    hikari = contract("nmedia", cid, "CAF0000000401", group=g)
    cloud = contract("nmedia", cid, "COP00000402", group=g, service_name="Lite Storage")
    invoice(
        "nmedia",
        cid,
        "000000000000000012",
        "2023-10",
        [
            ("mediaITサポート24", 3300, 10, hikari),
            ("情報誌", 1249, 8, hikari),
            ("Lite Storage", 1000, 10, cloud),
            ("キャンペーン割引", -500, 10, cloud),
        ],
        group=g,
    )
    client = sign_in(client_for("nmedia"), "nmedia", account("nmedia", cid, "pdf@example.jp"))

    response = client.get("/billing/000000000000000012/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="invoice-2023-10.pdf"' in disposition
    assert response.content.startswith(b"%PDF")

    text = pdf_text(response.content)
    nmedia = portal.tenants.get("nmedia").config
    assert nmedia.invoicing.registration_number in text and re.search(r"T\d{13}", text)
    assert "日本メディアシステム株式会社" in text
    assert "請求書" in text and "000000000000000012" in text and "2023年10月" in text
    assert "日本　花子" in text or "日本 花子" in text
    assert "CAF0000000401" in text and "COP00000402" in text
    assert "※" in text and "軽減税率対象" in text
    # 10%: 3300 + 1000 - 500 = 3800 -> 380; 8%: 1249 -> 99; total 3800 + 380 + 1249 + 99 = 5528
    assert "3,800円" in text and "380円" in text
    assert "1,249円" in text and "99円" in text
    assert "5,528円" in text
    assert "10%対象計" in text and "消費税（10%）" in text and "8%対象計" in text and "消費税（8%）" in text


def test_pdf_of_another_customer_or_tenant_is_404(client_for):
    mine = customer("aicom", "0000501")
    theirs = customer("aicom", "0000502")
    invoice("aicom", theirs, "THEIRS-1", "2023-10", [("基本料金", 1000, 10)])
    other_tenant = customer("itscom", "0000501")
    invoice("itscom", other_tenant, "ITS-1", "2023-10", [("基本料金", 1000, 10)])
    client = sign_in(client_for("aicom"), "aicom", account("aicom", mine, "pdf-user"))
    assert client.get("/billing/THEIRS-1/pdf").status_code == 404
    assert client.get("/billing/ITS-1/pdf").status_code == 404
    assert client.get("/billing/NOPE/pdf").status_code == 404


def test_two_invoices_in_a_month_get_distinct_file_names(client_for):
    cid = customer("itscom", "0000601")
    invoice("itscom", cid, "ITS-A", "2023-10", [("基本料金", 1000, 10)], group=group("itscom", cid, "GA"))
    invoice("itscom", cid, "ITS-B", "2023-10", [("基本料金", 2000, 10)], group=group("itscom", cid, "GB"))
    client = sign_in(client_for("itscom"), "itscom", account("itscom", cid, "two-groups"))
    a = client.get("/billing/ITS-A/pdf")
    b = client.get("/billing/ITS-B/pdf")
    assert "invoice-2023-10-ITS-A.pdf" in a.headers["content-disposition"]
    assert "1,100円" in pdf_text(a.content) and "2,200円" in pdf_text(b.content)
    assert "2,200円" not in pdf_text(a.content)
    month = client.get("/billing/month/2023-10").text
    assert "3,300円" in month and month.count("請求書ダウンロード") == 2


def test_renderer_refuses_files_and_network(portal, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT", encoding="utf-8")
    tenant = portal.tenants.get("aicom")
    html = pdf.render_html(portal, tenant, "documents/_base.html", {})
    html = html.replace(
        "</body>",
        f'<p>日本語の本文</p><img src="file://{secret}"><img src="http://127.0.0.1:9/x.png">'
        f'<link rel="stylesheet" href="file://{secret}"><object data="file://{secret}"></object>'
        f'<iframe src="file://{secret}"></iframe><embed src="file://{secret}"></body>',
    )
    content = pdf.html_to_pdf(html)
    assert b"TOPSECRET" not in content
    text = pdf_text(content)
    assert "日本語の本文" in text and "TOPSECRET" not in text
    # The tenant logo is embedded as a data: URI (the only scheme allowed).
    assert pdf.logo_data_uri(tenant).startswith("data:image/svg+xml;base64,")


def test_render_pdf_runs_in_a_worker_thread(portal):
    tenant = portal.tenants.get("itscom")
    content = run(pdf.render_pdf(portal, tenant, "documents/_base.html", {}))
    assert content.startswith(b"%PDF")


def test_pdf_response_japanese_file_name():
    response = pdf.pdf_response(b"%PDF-1.7", "契約内容確認書-2023.pdf")
    value = response.headers["content-disposition"]
    assert value.startswith("attachment; filename=")
    assert "filename*=UTF-8''%E5%A5%91%E7%B4%84" in value
    assert response.media_type == "application/pdf"
