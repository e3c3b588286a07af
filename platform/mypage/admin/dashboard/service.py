"""What the dashboard shows: the portal's use per day (from the audit log) and the work waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mypage import i18n
from mypage.audit.log import AuditFilter, AuditLog
from mypage.i18n import N_
from mypage.inquiries.repository import InquiryRepository
from mypage.mail.outbox import backlog
from mypage.tenancy.registry import Tenant

DAYS = 14
OPEN_INQUIRIES_SHOWN = 1000
SERIES = (
    ("registrations", N_("新規登録数"), ("register.completed", "registration.completed")),
    ("logins", N_("ログイン数"), ("login.success",)),
    ("failures", N_("ログイン失敗数"), ("login.failure",)),
    ("lockouts", N_("ロック数"), ("account.locked",)),
)
"""(key, label, audit events counted)."""


@dataclass
class Series:
    key: str
    label: str
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass
class Dashboard:
    days: list[date]
    series: list[Series]
    open_inquiries: int
    outbox: dict[str, int]
    imports: list[dict]


async def daily(tenant: Tenant, today: date | None = None) -> tuple[list[date], list[Series]]:
    zone = ZoneInfo(tenant.config.timezone)
    today = today or i18n.today(tenant.config.timezone)
    days = [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    starts = [datetime.combine(day, time(), tzinfo=zone) for day in [*days, today + timedelta(days=1)]]
    log = AuditLog(tenant.slug)
    series = []
    for key, label, events in SERIES:
        values = [await log.count(events, starts[n], starts[n + 1]) for n in range(DAYS)]
        series.append(Series(key, label, values))
    return days, series


async def dashboard(tenant: Tenant) -> Dashboard:
    days, series = await daily(tenant)
    waiting = 0
    if tenant.config.features.enabled("inquiries"):
        waiting = len(await InquiryRepository(tenant.slug).listing(status="received", limit=OPEN_INQUIRIES_SHOWN))
    imports = await AuditLog(tenant.slug).search(AuditFilter(event_prefix="records.import"), limit=5)
    return Dashboard(days, series, waiting, await backlog(tenant.slug), imports)
