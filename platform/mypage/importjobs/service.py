"""CSV imports from the console as background jobs, with the CLI's rules (``records.importer``: every row
checked first, nothing written when any row has a problem, all of it in one transaction otherwise, members
notified of new invoices afterwards).

Progress: the job row says ``queued`` → ``running`` (``checking``, then ``writing``) → ``succeeded`` /
``failed``, with the row counts; while the rows are written (inside the import's one transaction, which other
connections cannot see into) the rows written so far are counted in the running process (:data:`LIVE`), and
the progress page of that process shows them. The page reads the job again on every poll, so it survives a
reload.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from mypage.audit.actor import Actor, record_action
from mypage.audit.log import AuditLog
from mypage.db.base import utcnow
from mypage.i18n import gettext as _
from mypage.importjobs.repository import ImportJobRepository, fail_stale_all_tenants, queued_all_tenants
from mypage.importjobs.tables import ImportJob
from mypage.records.importer import KINDS, MAX_REPORTED, ImportResult, after_import, import_rows, read_data
from mypage.records.imports.base import Progress
from mypage.tenancy.registry import Tenant

log = logging.getLogger("mypage.imports")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
STALE_AFTER = timedelta(hours=2)
"""A job still running after this long lost its process (a restart): it is marked failed."""


@dataclass
class Live:
    phase: str = "checking"
    processed: int = 0


LIVE: dict[int, Live] = {}
"""Jobs running in this process: their phase and rows written so far (not yet visible in the database)."""


class JobProgress(Progress):
    """What ``import_rows`` advances while it writes (instead of the CLI's progress bar)."""

    def __init__(self, job_id: int):
        super().__init__(0, "", show=False)
        self.live = LIVE.setdefault(job_id, Live())

    def __enter__(self) -> JobProgress:
        self.live.phase = "writing"
        return self

    def __exit__(self, *exc) -> None:
        return None

    def advance(self, count: int) -> None:
        self.live.processed += count


def kind_labels() -> dict[str, str]:
    return {"customers": _("お客様"), "contracts": _("ご契約"), "invoices": _("ご請求"), "calls": _("通話明細")}


async def submit(tenant: Tenant, kind: str, filename: str, data: bytes, actor: Actor) -> tuple[ImportJob | None, dict[str, str]]:
    """Queues the upload; (job, errors by field). The worker runs it."""
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = _("種類を一覧から選択してください。")
    if not data:
        errors["file"] = _("CSVファイルを選択してください。")
    elif len(data) > MAX_UPLOAD_BYTES:
        errors["file"] = _("ファイルが大きすぎます({n}MBまで)。").format(n=MAX_UPLOAD_BYTES // (1024 * 1024))
    if errors:
        return None, errors
    name = (filename or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1][:255]
    job = await ImportJobRepository(tenant.slug).create(
        kind=kind, filename=name, size=len(data), content=data, staff_id=actor.staff_id, staff_name=actor.name
    )
    await record_action(tenant.slug, actor, "admin.import.queued", job_id=job.id, kind=kind, file=name)
    from mypage.jobs.worker import wake

    wake()
    return job, {}


async def run_queued(settings, portal) -> int:
    """The worker's round: every queued job, one after another; returns how many ran here."""
    await fail_stale_all_tenants(
        utcnow() - STALE_AFTER, "取り込みが中断されました(サーバーの再起動など)。何も書き込まれていません。"
    )
    ran = 0
    for row in await queued_all_tenants():
        if row["tenant"] not in portal.tenants.slugs:
            continue
        job = await ImportJobRepository(row["tenant"]).claim(row["id"])
        if job is None:
            continue  # another process took it
        await run_job(settings, portal, job)
        ran += 1
    return ran


async def run_job(settings, portal, job: ImportJob) -> None:
    repo = ImportJobRepository(job.tenant)
    LIVE[job.id] = Live()
    try:
        csv_file = await asyncio.to_thread(read_data, job.kind, job.content or b"")
        if isinstance(csv_file, ImportResult):
            result = csv_file
        else:
            await repo.change(job.id, total=len(csv_file.rows))
            result = await import_rows(
                job.tenant,
                job.kind,
                csv_file,
                progress=JobProgress(job.id),
                staff_id=job.staff_id,
                actor=job.staff_name,
                file=job.filename,
                job_id=job.id,
            )
    except Exception:
        log.exception("import job %s failed", job.id)
        await _finish(repo, job, "failed", errors=[[0, "", "取り込み中にエラーが発生しました。何も書き込まれていません。"]])
        return
    finally:
        LIVE.pop(job.id, None)
    if result.errors:
        errors = [[e.line, e.column, e.reason] for e in result.errors[:MAX_REPORTED]]
        await _finish(repo, job, "failed", errors=errors, error_count=len(result.errors), total=result.rows)
        return
    await _finish(
        repo,
        job,
        "succeeded",
        total=result.rows,
        processed=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    try:
        await after_import(settings, job.tenant, result, portal=portal)
    except Exception:  # the rows are in; a failed notification must not turn the import into a failure
        log.exception("notifying members after import job %s failed", job.id)


async def _finish(repo: ImportJobRepository, job: ImportJob, status: str, *, errors: list | None = None, **counts) -> None:
    fields = {"status": status, "phase": "", "content": None, "finished_at": utcnow(), **counts}
    if errors is not None:
        fields["errors"] = errors
        fields.setdefault("error_count", len(errors))
    await repo.change(job.id, **fields)
    await AuditLog(repo.tenant).record(
        "admin.import.finished",
        actor=job.staff_name,
        staff_id=job.staff_id,
        job_id=job.id,
        kind=job.kind,
        file=job.filename,
        result=status,
        **{k: v for k, v in counts.items() if k in ("created", "updated", "unchanged", "error_count")},
    )


@dataclass
class JobView:
    """A job as the progress page shows it."""

    job: ImportJob
    phase: str
    processed: int
    percent: int

    @property
    def done(self) -> bool:
        return self.job.status in ("succeeded", "failed")


def view(job: ImportJob) -> JobView:
    live = LIVE.get(job.id)
    phase = live.phase if live else job.phase
    processed = live.processed if live else job.processed
    if job.status == "succeeded":
        percent = 100
    elif job.status == "running" and phase == "writing" and job.total:
        percent = min(99, 10 + int(processed * 89 / job.total))
    elif job.status == "running":
        percent = 5
    else:
        percent = 0
    return JobView(job, phase, processed, percent)


async def job_view(tenant: Tenant, job_id: int) -> JobView | None:
    job = await ImportJobRepository(tenant.slug).by_id(job_id)
    return view(job) if job is not None else None


async def history(tenant: Tenant, limit: int = 50) -> list[dict]:
    return await ImportJobRepository(tenant.slug).history(limit)
