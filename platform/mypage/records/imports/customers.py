"""Customers (upserted by お客様番号) and their devices."""

from __future__ import annotations

from typing import Any

from mypage.records.csvparse import RowError
from mypage.records.imports.base import ImportResult, NumberedUpsert, Progress, by_key, chunks, duplicate_keys, insert_rows
from mypage.records.imports.columns import SPECS
from mypage.records.tables import Customer, Device

CUSTOMER_FIELDS = [c.name for c in SPECS["customers"] if c.name not in ("customer_number", "devices")]


async def check(tenant: str, rows: list[tuple[int, dict]]) -> tuple[list[RowError], dict]:
    errors = duplicate_keys(rows, "customer_number", "customer_number", "お客様番号")
    numbers = [values["customer_number"] for _, values in rows]
    existing = await by_key(Customer, Customer.number, numbers, tenant)
    context: dict[str, Any] = {"existing": existing}
    if rows and "devices" in rows[0][1]:
        in_file = set(numbers)
        device_ids = [d for _, values in rows for _, d in values.get("devices", [])]
        owners = await by_key(Device, Device.device_id, device_ids, tenant, Device.device_id, Device.customer)
        owner_numbers = {}
        owner_ids = {row["customer"] for row in owners.values()}
        for chunk in chunks(list(owner_ids)):
            for row in (
                await Customer.select(Customer.id, Customer.number)
                .where(Customer.tenant == tenant)
                .where(Customer.id.is_in(chunk))
            ):
                owner_numbers[row["id"]] = row["number"]
        first: dict[str, int] = {}
        for line, values in rows:
            for _, device_id in values.get("devices", []):
                if device_id in first:
                    errors.append(RowError(line, "devices", f"機器ID「{device_id}」が{first[device_id]}行目にもあります。"))
                    continue
                first[device_id] = line
                owner = owners.get(device_id)
                if owner is not None:
                    number = owner_numbers.get(owner["customer"])
                    if number != values["customer_number"] and number not in in_file:
                        errors.append(
                            RowError(
                                line, "devices", f"機器ID「{device_id}」は別のお客様({number})の機器として登録されています。"
                            )
                        )
    return errors, context


async def write(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    existing: dict = context["existing"]
    upsert = NumberedUpsert(Customer, tenant, existing)
    for _, values in rows:
        await upsert.put(values["customer_number"], {k: v for k, v in values.items() if k in CUSTOMER_FIELDS})
        progress.advance(1)
    for row in await upsert.insert_new():
        result.created += 1
        result.note_added(row["id"], "customer")
    ids, touched = upsert.ids, upsert.touched
    if rows and "devices" in rows[0][1]:
        touched |= await _replace_devices(tenant, rows, existing, ids)
    result.updated += len(touched)
    result.unchanged += len(existing) - len(touched)


async def _replace_devices(tenant: str, rows, existing: dict, ids: dict) -> set[str]:
    """Makes each customer's devices those of the file; returns the numbers of existing customers changed."""
    current: dict[int, list[tuple[str, str]]] = {}
    for chunk in chunks([ids[n] for n in existing]):
        for row in await Device.select().where(Device.tenant == tenant).where(Device.customer.is_in(chunk)):
            current.setdefault(row["customer"], []).append((row["kind"], row["device_id"]))
    replace, inserts, touched = [], [], set()
    for _, values in rows:
        number = values["customer_number"]
        customer_id = ids[number]
        if sorted(current.get(customer_id, [])) == sorted(values["devices"]):
            continue
        replace.append(customer_id)
        if number in existing:
            touched.add(number)
        inserts.extend({"tenant": tenant, "customer": customer_id, "kind": k, "device_id": d} for k, d in values["devices"])
    for chunk in chunks(replace):
        await Device.delete().where(Device.tenant == tenant).where(Device.customer.is_in(chunk))
    # A device moving from one customer of the file to another (checked before) is removed from the first.
    for chunk in chunks([row["device_id"] for row in inserts]):
        await Device.delete().where(Device.tenant == tenant).where(Device.device_id.is_in(chunk))
    await insert_rows(Device, inserts)
    return touched
