"""Contracts (upserted by 契約番号) with their billing groups, options and phone lines."""

from __future__ import annotations

from mypage.records.csvparse import RowError
from mypage.records.imports.base import (
    ImportResult,
    NumberedUpsert,
    Progress,
    by_key,
    chunks,
    duplicate_keys,
    insert_rows,
    update_row,
)
from mypage.records.tables import BillingGroup, Contract, ContractOption, Customer, PhoneLine

CONTRACT_FIELDS = [
    "category",
    "service",
    "service_name",
    "plan_name",
    "status",
    "started_on",
    "ended_on",
    "access_key",
    "holder_name",
    "holder_kana",
    "postal_code",
    "address1",
    "address2",
    "building",
    "monthly_fee",
    "call_details_from",
    "phone_detail",
]


async def check(tenant: str, rows) -> tuple[list[RowError], dict]:
    errors = duplicate_keys(rows, "contract_number", "contract_number", "契約番号")
    customers = await by_key(
        Customer, Customer.number, [v["customer_number"] for _, v in rows], tenant, Customer.id, Customer.number
    )
    groups = await by_key(BillingGroup, BillingGroup.code, [v.get("billing_group") for _, v in rows], tenant)
    existing = await by_key(Contract, Contract.number, [v["contract_number"] for _, v in rows], tenant)
    new_groups: dict[str, tuple[str, int]] = {}
    for line, values in rows:
        customer = customers.get(values["customer_number"])
        if customer is None:
            errors.append(
                RowError(
                    line,
                    "customer_number",
                    f"お客様番号「{values['customer_number']}」のお客様が登録されていません(先に customers を取り込んでください)。",
                )
            )
            continue
        code = values.get("billing_group")
        if code:
            group = groups.get(code)
            if group is not None and group["customer"] != customer["id"]:
                errors.append(RowError(line, "billing_group", f"請求グループ「{code}」は別のお客様のものです。"))
            elif group is None:
                other = new_groups.get(code)
                if other is not None and other[0] != values["customer_number"]:
                    errors.append(
                        RowError(line, "billing_group", f"請求グループ「{code}」は{other[1]}行目で別のお客様に使われています。")
                    )
                else:
                    new_groups.setdefault(code, (values["customer_number"], line))
    errors.extend(await _check_phone_numbers(tenant, rows, existing))
    return errors, {"customers": customers, "groups": groups, "existing": existing}


async def _check_phone_numbers(tenant: str, rows, existing: dict) -> list[RowError]:
    if not rows or "phone_numbers" not in rows[0][1]:
        return []
    errors = []
    numbers = [n for _, values in rows for n in values["phone_numbers"]]
    owners = await by_key(PhoneLine, PhoneLine.number, numbers, tenant, PhoneLine.number, PhoneLine.contract)
    in_file_ids = {existing[v["contract_number"]]["id"] for _, v in rows if v["contract_number"] in existing}
    first: dict[str, int] = {}
    for line, values in rows:
        for number in values["phone_numbers"]:
            if number in first:
                errors.append(RowError(line, "phone_numbers", f"電話番号「{number}」が{first[number]}行目にもあります。"))
                continue
            first[number] = line
            owner = owners.get(number)
            if owner is not None and owner["contract"] not in in_file_ids:
                errors.append(RowError(line, "phone_numbers", f"電話番号「{number}」は別の契約に登録されています。"))
    return errors


async def write(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    customers, groups, existing = context["customers"], context["groups"], context["existing"]
    # Billing groups first (new ones are created; names updated where given).
    new_groups = {}
    for _, values in rows:
        code = values.get("billing_group")
        if not code:
            continue
        name = values.get("billing_group_name") or ""
        if code in groups:
            if name and groups[code]["name"] != name:
                await update_row(BillingGroup, tenant, groups[code]["id"], {"name": name})
                groups[code]["name"] = name
        elif code not in new_groups:
            new_groups[code] = {
                "tenant": tenant,
                "customer": customers[values["customer_number"]]["id"],
                "code": code,
                "name": name or code,
            }
    for row in await insert_rows(
        BillingGroup, list(new_groups.values()), BillingGroup.id, BillingGroup.code, BillingGroup.customer
    ):
        groups[row["code"]] = row

    upsert = NumberedUpsert(Contract, tenant, existing)
    for _, values in rows:
        fields = {k: v for k, v in values.items() if k in CONTRACT_FIELDS}
        fields["customer"] = customers[values["customer_number"]]["id"]
        if "billing_group" in values:
            code = values["billing_group"]
            fields["billing_group"] = groups[code]["id"] if code else None
        await upsert.put(values["contract_number"], fields)
        progress.advance(1)
    for row in await upsert.insert_new(Contract.customer):
        result.created += 1
        result.note_added(row["customer"], "contract")
    ids, touched = upsert.ids, upsert.touched

    existing_ids = [ids[n] for n in existing]
    if rows and "options" in rows[0][1]:
        current: dict[int, list[str]] = {}
        for chunk in chunks(existing_ids):
            for row in (
                await ContractOption.select()
                .where(ContractOption.tenant == tenant)
                .where(ContractOption.contract.is_in(chunk))
                .order_by(ContractOption.position)
            ):
                current.setdefault(row["contract"], []).append(row["name"])
        replace, inserts = [], []
        for _, values in rows:
            contract_id = ids[values["contract_number"]]
            if current.get(contract_id, []) == values["options"]:
                continue
            replace.append(contract_id)
            if values["contract_number"] in existing:
                touched.add(values["contract_number"])
            inserts.extend(
                {"tenant": tenant, "contract": contract_id, "position": i, "name": name}
                for i, name in enumerate(values["options"], start=1)
            )
        for chunk in chunks(replace):
            await ContractOption.delete().where(ContractOption.tenant == tenant).where(ContractOption.contract.is_in(chunk))
        await insert_rows(ContractOption, inserts)
    if rows and "phone_numbers" in rows[0][1]:
        current_lines: dict[int, list[tuple[str, str]]] = {}
        for chunk in chunks(existing_ids):
            for row in await PhoneLine.select().where(PhoneLine.tenant == tenant).where(PhoneLine.contract.is_in(chunk)):
                current_lines.setdefault(row["contract"], []).append((row["number"], row["service_name"]))
        replace, inserts = [], []
        for _, values in rows:
            contract_id = ids[values["contract_number"]]
            service_name = values.get("phone_service_name") or "ひかり電話"
            wanted = sorted((n, service_name) for n in values["phone_numbers"])
            if sorted(current_lines.get(contract_id, [])) == wanted:
                continue
            replace.append(contract_id)
            if values["contract_number"] in existing:
                touched.add(values["contract_number"])
            inserts.extend({"tenant": tenant, "contract": contract_id, "number": n, "service_name": s} for n, s in wanted)
        for chunk in chunks(replace):
            await PhoneLine.delete().where(PhoneLine.tenant == tenant).where(PhoneLine.contract.is_in(chunk))
        await insert_rows(PhoneLine, inserts)
    result.updated += len(touched)
    result.unchanged += len(existing) - len(touched)
