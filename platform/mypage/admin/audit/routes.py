"""監査ログ: every staff action and security event of the tenant, filtered by actor, action, customer and
date; the same selection as a CSV file that is safe to open in Excel."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get

from mypage.admin.auth import CurrentStaff
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.staff.repository import StaffRepository
from mypage.admin.support.repository import SupportRepository
from mypage.audit.log import AuditFilter, AuditLog
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.tenancy.registry import Tenant
from mypage.web.csvout import safe_row
from mypage.web.render import tenant_of

PAGE = 100
CSV_MAX_ROWS = 10000
CSV_HEADER = (
    N_("日時"),
    N_("操作"),
    N_("スタッフ"),
    N_("お客様番号"),
    N_("アカウント内部番号"),
    N_("IPアドレス"),
    N_("変更前"),
    N_("変更後"),
    N_("詳細"),
)


@dataclass
class Selection:
    wanted: AuditFilter
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    customer_numbers: dict[int, str] = field(default_factory=dict)


def _day(raw: str, zone: ZoneInfo) -> datetime | None:
    return datetime.combine(date.fromisoformat(raw), time(), tzinfo=zone)


async def _selection(request: Request, tenant: Tenant) -> Selection:
    params = request.query_params
    values = {key: (params.get(key) or "").strip()[:60] for key in ("actor", "event", "customer", "from", "to")}
    errors: dict[str, str] = {}
    staff_id = int(values["actor"]) if values["actor"].isdigit() and len(values["actor"]) < 10 else None
    customer_id = None
    if values["customer"]:
        customer = await SupportRepository(tenant.slug).by_number(values["customer"])
        if customer is None:
            errors["customer"] = _("このお客様番号のお客様はいません。")
        else:
            customer_id = customer.id
    zone = ZoneInfo(tenant.config.timezone)
    since = until = None
    for key in ("from", "to"):
        if values[key]:
            try:
                moment = _day(values[key], zone)
            except ValueError:
                errors[key] = _("日付は 2026-01-31 の形式で入力してください。")
                continue
            if key == "from":
                since = moment
            else:
                until = moment + timedelta(days=1) if moment else None
    wanted = AuditFilter(staff_id=staff_id, event_prefix=values["event"], customer_id=customer_id, since=since, until=until)
    return Selection(wanted, values, errors)


async def _numbers(tenant: Tenant, rows: list[dict]) -> dict[int, str]:
    ids = {row["customer_id"] for row in rows if row["customer_id"] is not None}
    repo = SupportRepository(tenant.slug)
    numbers = {}
    for customer_id in ids:
        customer = await repo.customer(customer_id)
        if customer is not None:
            numbers[customer_id] = customer.number
    return numbers


def compact(value: dict | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""


async def _page(request: Request, tenant: Tenant, selection: Selection) -> Response:
    before = request.query_params.get("before") or ""
    before_id = int(before) if before.isdigit() and len(before) < 12 else None
    rows = [] if selection.errors else await AuditLog(tenant.slug).search(selection.wanted, before_id=before_id, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    query = urlencode({k: v for k, v in selection.values.items() if v})
    return admin_page(
        request,
        "admin/audit.html",
        status_code=400 if selection.errors else 200,
        rows=rows,
        values=selection.values,
        errors=selection.errors,
        members=await StaffRepository(tenant.slug).listing(),
        numbers=await _numbers(tenant, rows),
        compact=compact,
        next_before=rows[-1]["id"] if more and rows else None,
        query=query,
    )


@get("/audit")
async def audit_page(request: Request, staff: CurrentStaff) -> Response:
    tenant = tenant_of(request)
    return await _page(request, tenant, await _selection(request, tenant))


@get("/audit.csv")
async def audit_csv(request: Request, staff: CurrentStaff) -> Response:
    tenant = tenant_of(request)
    selection = await _selection(request, tenant)
    if selection.errors:
        return await _page(request, tenant, selection)  # the page with the messages next to the fields
    rows = await AuditLog(tenant.slug).search(selection.wanted, limit=CSV_MAX_ROWS)
    numbers = await _numbers(tenant, rows)
    zone = ZoneInfo(tenant.config.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_(title) for title in CSV_HEADER])
    for row in rows:
        created = row["created_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if row["created_at"] else ""
        writer.writerow(
            safe_row(
                [
                    created,
                    row["event"],
                    row["actor"],
                    numbers.get(row["customer_id"], ""),
                    row["account_id"] if row["account_id"] is not None else "",
                    row["address"],
                    compact(row["before"]),
                    compact(row["after"]),
                    compact(row["detail"]),
                ]
            )
        )
    stamp = datetime.now(zone).strftime("%Y%m%d-%H%M")
    return Response(
        content=buffer.getvalue().encode("utf-8-sig"),  # the BOM: Excel then reads UTF-8 (Japanese) correctly
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="audit-{tenant.slug}-{stamp}.csv"'},
    )


ADMIN_ROUTES = [audit_page, audit_csv]
ADMIN_NAV = [NavItem("/admin/audit", N_("監査ログ"), order=80)]
