"""Each tenant's health on one page of the tenant list: one grouped query per figure for the whole page.

The figures are read with ``tenant IN (<the page's tenants>)`` and ``GROUP BY tenant``, so a page costs
the same number of queries whether it shows 1 tenant or 100.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count, Max

from mypage.audit.tables import AuditEvent
from mypage.identity.tables import Account
from mypage.importjobs.tables import ImportJob
from mypage.mail.tables import OutboxMail
from mypage.records.tables import Customer
from mypage.web.tables import ServerErrorRecord, SessionRecord

LOGIN_OK = ("login.success",)
LOGIN_FAILED = ("login.failure", "login.locked", "login.totp_failure", "login.otp_failed")


@dataclass
class Health:
    customers: int = 0
    accounts: int = 0
    active_sessions: int = 0
    logins_today: int = 0
    login_failures_today: int = 0
    outbox_backlog: int = 0
    outbox_failures: int = 0
    last_import: dict | None = field(default=None)
    """``status``, ``finished_at``, ``error_count`` of the tenant's latest import job."""
    errors_last_hour: int = 0
    """Unhandled server errors (500 pages) of the tenant's hosts in the last hour (``web/error_log.py``)."""


async def _counts(table, tenants: list[str], *conditions) -> dict[str, int]:
    query = table.select(table.tenant, Count(table.id, alias="n")).where(table.tenant.is_in(tenants))
    for condition in conditions:
        query = query.where(condition)
    return {row["tenant"]: row["n"] for row in await query.group_by(table.tenant)}


async def _logins(tenants: list[str], since: datetime) -> tuple[Counter[str], Counter[str]]:
    rows = await (
        AuditEvent.select(AuditEvent.tenant, AuditEvent.event, Count(AuditEvent.id, alias="n"))
        .where(AuditEvent.tenant.is_in(tenants))
        .where(AuditEvent.event.is_in([*LOGIN_OK, *LOGIN_FAILED]))
        .where(AuditEvent.created_at >= since)
        .group_by(AuditEvent.tenant, AuditEvent.event)
    )
    ok: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for row in rows:
        (ok if row["event"] in LOGIN_OK else failed)[row["tenant"]] += row["n"]
    return ok, failed


async def _active_sessions(tenants: list[str]) -> Counter[str]:
    """Logged-in customer sessions not yet expired (server-side sessions in the database; a Redis store is
    not counted here). The tenant is inside the session data, so the rows are counted here, in one query."""
    wanted = set(tenants)
    counts: Counter[str] = Counter()
    rows = await SessionRecord.select(SessionRecord.value).where(SessionRecord.expires_at > datetime.now(UTC))
    for row in rows:
        try:
            data = json.loads(bytes(row["value"]).decode())
        except (ValueError, TypeError):
            continue
        if isinstance(data, dict) and data.get("_tenant") in wanted and data.get("account_id") is not None:
            counts[data["_tenant"]] += 1
    return counts


async def _last_imports(tenants: list[str]) -> dict[str, dict]:
    latest = await (
        ImportJob.select(Max(ImportJob.id, alias="last")).where(ImportJob.tenant.is_in(tenants)).group_by(ImportJob.tenant)
    )
    ids = [row["last"] for row in latest]
    if not ids:
        return {}
    rows = await ImportJob.select(
        ImportJob.tenant, ImportJob.status, ImportJob.finished_at, ImportJob.error_count, ImportJob.filename
    ).where(ImportJob.id.is_in(ids))
    return {row["tenant"]: row for row in rows}


def start_of_day(zone: str, now: datetime | None = None) -> datetime:
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    return datetime.combine(local.date(), time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def health_of(tenants: list[str], zone: str) -> dict[str, Health]:
    """The health of these tenants; "today" starts at midnight in ``zone``."""
    if not tenants:
        return {}
    customers = await _counts(Customer, tenants)
    accounts = await _counts(Account, tenants)
    sessions = await _active_sessions(tenants)
    ok, failed = await _logins(tenants, start_of_day(zone))
    backlog = await _counts(OutboxMail, tenants, OutboxMail.sent_at.is_null())
    failures = await _counts(OutboxMail, tenants, OutboxMail.sent_at.is_null(), OutboxMail.last_error != "")
    imports = await _last_imports(tenants)
    errors = await _counts(ServerErrorRecord, tenants, ServerErrorRecord.created_at >= datetime.now(UTC) - timedelta(hours=1))
    return {
        slug: Health(
            customers=customers.get(slug, 0),
            accounts=accounts.get(slug, 0),
            active_sessions=sessions[slug],
            logins_today=ok[slug],
            login_failures_today=failed[slug],
            outbox_backlog=backlog.get(slug, 0),
            outbox_failures=failures.get(slug, 0),
            last_import=imports.get(slug),
            errors_last_hour=errors.get(slug, 0),
        )
        for slug in tenants
    }
