"""Import jobs: one uploaded CSV file each, and what became of it (the import history)."""

from __future__ import annotations

from piccolo.columns import JSON, Bytea, Integer, Timestamptz, Varchar

from mypage.db.base import TenantOwned


class ImportJob(TenantOwned, tablename="import_jobs"):
    kind = Varchar(length=20)
    """``customers``, ``contracts``, ``invoices`` or ``calls``."""
    filename = Varchar(length=255)
    size = Integer(default=0)
    """Bytes uploaded."""
    content = Bytea(null=True, default=None)
    """The uploaded file until the job has run (then emptied)."""
    staff_id = Integer(null=True, default=None)
    staff_name = Varchar(length=120)
    """Who uploaded it."""
    status = Varchar(length=20, default="queued", index=True)
    """``queued``, ``running``, ``succeeded`` or ``failed`` (nothing written)."""
    phase = Varchar(length=20, default="")
    """While running: ``checking`` (every row validated) or ``writing``."""
    total = Integer(default=0)
    """Data rows in the file."""
    processed = Integer(default=0)
    """Rows written so far (the progress bar)."""
    created = Integer(default=0)
    updated = Integer(default=0)
    unchanged = Integer(default=0)
    error_count = Integer(default=0)
    errors = JSON(default=[])
    """The problems, ``[[line, column, message], ...]`` (the first ``MAX_REPORTED``)."""
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
