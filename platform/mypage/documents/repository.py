"""The only code that queries uploaded document files; always within one tenant."""

from __future__ import annotations

from datetime import date

from mypage.documents.tables import DocumentFile
from mypage.records.tables import Contract, Document


class DocumentFileRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    async def contract(self, number: str) -> Contract | None:
        return await Contract.objects().where(Contract.tenant == self.tenant).where(Contract.number == number).first()

    async def document(self, kind: str, contract_id: int, issued_on: date) -> Document | None:
        return await (
            Document.objects()
            .where(Document.tenant == self.tenant)
            .where(Document.kind == kind)
            .where(Document.contract == contract_id)
            .where(Document.issued_on == issued_on)
            .first()
        )

    async def put(self, document_id: int, **fields) -> None:
        """The document's file, replacing an earlier one."""
        await DocumentFile.delete().where(DocumentFile.tenant == self.tenant).where(DocumentFile.document == document_id)
        await DocumentFile(tenant=self.tenant, document=document_id, **fields).save()

    async def file_of(self, document_id: int) -> DocumentFile | None:
        return await (
            DocumentFile.objects().where(DocumentFile.tenant == self.tenant).where(DocumentFile.document == document_id).first()
        )

    async def has_files(self, document_ids: list[int]) -> set[int]:
        if not document_ids:
            return set()
        rows = await (
            DocumentFile.select(DocumentFile.document)
            .where(DocumentFile.tenant == self.tenant)
            .where(DocumentFile.document.is_in(document_ids))
        )
        return {row["document"] for row in rows}

    async def recent(self, limit: int = 30) -> list[dict]:
        """The latest uploads with their document and contract (the console's list)."""
        return await (
            DocumentFile.select(
                DocumentFile.id,
                DocumentFile.created_at,
                DocumentFile.filename,
                DocumentFile.size,
                DocumentFile.staff_name,
                DocumentFile.document.kind,
                DocumentFile.document.title,
                DocumentFile.document.issued_on,
                DocumentFile.document.contract.number,  # type: ignore[union-attr]
            )
            .where(DocumentFile.tenant == self.tenant)
            .order_by(DocumentFile.id, ascending=False)
            .limit(limit)
        )
