"""PDF documents uploaded in the console and attached to a contract: 開通案内 (shown in the contract's
開通案内日付選択 and downloaded as uploaded) and 請求書 (listed on the contract's page). Members of the customer
with メール通知 あり are mailed, as the operators' guide says (開通案内や請求書のアップロード時)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mypage.audit.actor import Actor, record_action
from mypage.contracts.repository import INVOICE_PDF
from mypage.db.transaction import atomic
from mypage.documents.repository import DocumentFileRepository
from mypage.i18n import gettext as _
from mypage.members.notify import notify_members
from mypage.records.tables import Document
from mypage.tenancy.registry import Tenant

MAX_PDF_BYTES = 5 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
KINDS = {"opening_notice": "opening_notice", INVOICE_PDF: "invoice"}
"""Document kind → the kind of お知らせメール (``members.notify``)."""


def kind_labels() -> dict[str, str]:
    return {"opening_notice": _("開通案内"), INVOICE_PDF: _("請求書")}


@dataclass
class UploadInput:
    contract_number: str = ""
    kind: str = ""
    issued_on: str = ""
    title: str = ""


@dataclass
class Uploaded:
    document: Document
    mails: int


async def upload(
    portal, tenant: Tenant, data: UploadInput, filename: str, content: bytes, actor: Actor
) -> tuple[Uploaded | None, dict]:
    """Checks and stores the PDF for the contract's document of that kind and date (a new upload replaces the
    file), and mails the customer's members; (result, errors by field)."""
    errors: dict[str, str] = {}
    repo = DocumentFileRepository(tenant.slug)
    contract = await repo.contract(data.contract_number.strip().upper()) if data.contract_number.strip() else None
    if contract is None:
        errors["contract_number"] = _("契約番号が見つかりません。")
    if data.kind not in KINDS:
        errors["kind"] = _("種類を一覧から選択してください。")
    try:
        issued_on = date.fromisoformat(data.issued_on)
    except ValueError:
        errors["issued_on"] = _("発行日を「2025-01-31」の形で入力してください。")
    if len(data.title) > 200:
        errors["title"] = _("件名は{n}文字以内で入力してください。").format(n=200)
    if not content:
        errors["file"] = _("PDFファイルを選択してください。")
    elif len(content) > MAX_PDF_BYTES:
        errors["file"] = _("ファイルが大きすぎます({n}MBまで)。").format(n=MAX_PDF_BYTES // (1024 * 1024))
    elif not content.startswith(PDF_MAGIC):
        errors["file"] = _("PDFファイルではありません。")
    if errors or contract is None:
        return None, errors
    labels = kind_labels()
    title = data.title.strip() or labels[data.kind]
    name = (filename or "document.pdf").replace("\\", "/").rsplit("/", 1)[-1][:255]
    async with atomic():
        document = await repo.document(data.kind, contract.id, issued_on)
        replaced = document is not None
        if document is None:
            document = Document(
                tenant=tenant.slug,
                customer=contract.customer,
                contract=contract.id,
                kind=data.kind,
                issued_on=issued_on,
                title=title,
            )
            await document.save()
        await repo.put(
            document.id, filename=name, size=len(content), content=content, staff_id=actor.staff_id, staff_name=actor.name
        )
        mails = await notify_members(
            portal, tenant, contract.customer, KINDS[data.kind], {"path": f"/contracts/{contract.number}"}
        )
        await record_action(
            tenant.slug,
            actor,
            "admin.document.uploaded",
            customer_id=contract.customer,
            before={"replaced": True} if replaced else None,
            after={
                "contract": contract.number,
                "kind": data.kind,
                "issued_on": issued_on.isoformat(),
                "file": name,
                "size": len(content),
            },
            document_id=document.id,
            mails=mails,
        )
    return Uploaded(document, mails), {}
