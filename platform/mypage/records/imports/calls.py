"""Call records (upserted by their 明細キー, derived from the call where the file has none)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from mypage.records import csvparse as p
from mypage.records.csvparse import RowError
from mypage.records.imports.base import ImportResult, Progress, by_key, changed_fields, duplicate_keys, insert_rows, update_row
from mypage.records.tables import CallRecord, Contract


def derived_record_key(contract_number: str, started_at: datetime, caller: str, callee: str, seconds: int) -> str:
    """A stable key for a call record without one: the same call always gets the same key."""
    t = started_at.astimezone(UTC)
    moment = f"{t.year:04d}{t.month:02d}{t.day:02d}T{t.hour:02d}{t.minute:02d}{t.second:02d}Z"  # strftime's, faster
    digest = hashlib.sha256(f"{contract_number}|{moment}|{caller}|{callee}|{seconds}".encode()).hexdigest()
    return f"h:{digest[:40]}"


async def check(tenant: str, rows) -> tuple[list[RowError], dict]:
    errors: list[RowError] = []
    for _, values in rows:
        if not values.get("record_key") and all(k in values for k in ("started_at", "caller", "callee", "duration")):
            values["record_key"] = derived_record_key(
                values["contract_number"], values["started_at"], values["caller"], values["callee"], values["duration"]
            )
    errors.extend(duplicate_keys(rows, "record_key", "record_key", "明細キー"))
    contracts = await by_key(
        Contract,
        Contract.number,
        [v["contract_number"] for _, v in rows],
        tenant,
        Contract.id,
        Contract.number,
        Contract.customer,
    )
    for line, values in rows:
        if values["contract_number"] not in contracts:
            errors.append(
                RowError(line, "contract_number", f"契約番号「{values['contract_number']}」の契約が登録されていません。")
            )
    existing = await by_key(CallRecord, CallRecord.record_key, [v.get("record_key") for _, v in rows], tenant)
    return errors, {"contracts": contracts, "existing": existing}


async def write(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    contracts, existing = context["contracts"], context["existing"]
    new_rows = []
    for _, values in rows:
        contract = contracts[values["contract_number"]]
        started_at: datetime = values["started_at"]
        fields = {
            "contract": contract["id"],
            "month": values.get("month") or started_at.astimezone(p.JST).strftime("%Y-%m"),
            "started_at": started_at,
            "kind": values["kind"],
            "caller": values["caller"],
            "callee": values["callee"],
            "duration_seconds": values["duration"],
            "charge": values["charge"],
        }
        current = existing.get(values["record_key"])
        if current is None:
            new_rows.append({"tenant": tenant, "record_key": values["record_key"], **fields})
            result.note_added(contract["customer"], "call")
        else:
            changes = changed_fields(current, fields)
            if changes:
                await update_row(CallRecord, tenant, current["id"], changes)
                result.updated += 1
            else:
                result.unchanged += 1
        progress.advance(1)
    await insert_rows(CallRecord, new_rows)
    result.created += len(new_rows)
