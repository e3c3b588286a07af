"""The only code that queries import jobs; within one tenant, except the worker's look-ups named so."""

from __future__ import annotations

from datetime import datetime

from mypage.db.base import utcnow
from mypage.importjobs.tables import ImportJob


class ImportJobRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def _select(self, *columns):
        query = ImportJob.select(*columns) if columns else ImportJob.objects()
        return query.where(ImportJob.tenant == self.tenant)

    async def create(self, **fields) -> ImportJob:
        job = ImportJob(tenant=self.tenant, **fields)
        await job.save()
        return job

    async def by_id(self, job_id: int) -> ImportJob | None:
        """The job, its ``errors`` as a list."""
        return await self._select().where(ImportJob.id == job_id).output(load_json=True).first()

    async def history(self, limit: int = 50) -> list[dict]:
        """Newest first, without the file."""
        columns = [c for c in ImportJob._meta.columns if c._meta.name not in ("content", "errors")]
        return await self._select(*columns).order_by(ImportJob.id, ascending=False).limit(limit)

    async def claim(self, job_id: int) -> ImportJob | None:
        """Marks a queued job running; the job for the one worker that did, else ``None``."""
        claimed = await (
            ImportJob.update({ImportJob.status: "running", ImportJob.phase: "checking", ImportJob.started_at: utcnow()})
            .where(ImportJob.tenant == self.tenant)
            .where(ImportJob.id == job_id)
            .where(ImportJob.status == "queued")
            .returning(ImportJob.id)
        )
        return await self.by_id(job_id) if claimed else None

    async def change(self, job_id: int, **fields) -> None:
        await (
            ImportJob.update({getattr(ImportJob, k): v for k, v in fields.items()})
            .where(ImportJob.tenant == self.tenant)
            .where(ImportJob.id == job_id)
        )


async def queued_all_tenants(limit: int = 10) -> list[dict]:
    """Queued jobs of every tenant, oldest first (the worker's round)."""
    return await (
        ImportJob.select(ImportJob.id, ImportJob.tenant).where(ImportJob.status == "queued").order_by(ImportJob.id).limit(limit)
    )


async def fail_stale_all_tenants(started_before: datetime, message: str) -> int:
    """Jobs still ``running`` since before ``started_before`` (their process ended mid-way: nothing was written,
    the import's transaction died with it) are marked failed."""
    rows = await (
        ImportJob.update(
            {
                ImportJob.status: "failed",
                ImportJob.phase: "",
                ImportJob.finished_at: utcnow(),
                ImportJob.error_count: 1,
                ImportJob.errors: [[0, "", message]],
            }
        )
        .where(ImportJob.status == "running")
        .where(ImportJob.started_at < started_before)
        .returning(ImportJob.id)
    )
    return len(rows)
