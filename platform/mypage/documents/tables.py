"""PDF files uploaded in the console for a document (開通案内, 請求書): served as they are instead of rendered."""

from __future__ import annotations

from piccolo.columns import Bytea, ForeignKey, Integer, Varchar
from piccolo.columns.base import OnDelete

from mypage.db.base import TenantOwned
from mypage.records.tables import Document


class DocumentFile(TenantOwned, tablename="document_files"):
    document = ForeignKey(Document, index=True, on_delete=OnDelete.cascade)
    filename = Varchar(length=255)
    size = Integer(default=0)
    content = Bytea()
    """The PDF (checked: starts with ``%PDF-``, at most ``uploads.MAX_PDF_BYTES``)."""
    staff_id = Integer(null=True, default=None)
    staff_name = Varchar(length=120)
    """Who uploaded it."""

    UNIQUE_TOGETHER = (("tenant", "document"),)
