"""Invoices (upserted by ご請求番号), one CSV row per invoice line."""

from __future__ import annotations

from mypage.records.csvparse import RowError
from mypage.records.imports.base import (
    ImportResult,
    Progress,
    by_key,
    changed_fields,
    chunks,
    insert_rows,
    same_value,
    update_row,
)
from mypage.records.tables import BillingGroup, Contract, Customer, Invoice, InvoiceLine

INVOICE_HEADER = ("customer_number", "month", "issued_on", "due_on", "payment_method", "billing_group")
LINE_FIELDS = ("contract", "description", "amount", "tax_rate", "note")


async def check(tenant: str, rows) -> tuple[list[RowError], dict]:
    errors: list[RowError] = []
    invoices: dict[str, dict] = {}
    for line, values in rows:
        number = values["invoice_number"]
        invoice = invoices.get(number)
        if invoice is None:
            invoices[number] = {"line": line, "header": {k: values.get(k) for k in INVOICE_HEADER if k in values}, "lines": []}
            invoice = invoices[number]
        else:
            for k in INVOICE_HEADER:
                if k in values and not same_value(invoice["header"].get(k), values[k]):
                    errors.append(
                        RowError(
                            line,
                            k,
                            f"ご請求番号「{number}」の{invoice['line']}行目と値が異なります(同じ請求書の行は同じ値にしてください)。",
                        )
                    )
        invoice["lines"].append((line, values))
    customers = await by_key(
        Customer, Customer.number, [v["customer_number"] for _, v in rows], tenant, Customer.id, Customer.number
    )
    contracts = await by_key(
        Contract,
        Contract.number,
        [v.get("contract_number") for _, v in rows],
        tenant,
        Contract.id,
        Contract.number,
        Contract.customer,
    )
    groups = await by_key(
        BillingGroup,
        BillingGroup.code,
        [v.get("billing_group") for _, v in rows],
        tenant,
        BillingGroup.id,
        BillingGroup.code,
        BillingGroup.customer,
    )
    for line, values in rows:
        customer = customers.get(values["customer_number"])
        if customer is None:
            errors.append(
                RowError(line, "customer_number", f"お客様番号「{values['customer_number']}」のお客様が登録されていません。")
            )
            continue
        contract_number = values.get("contract_number")
        if contract_number:
            contract = contracts.get(contract_number)
            if contract is None:
                errors.append(RowError(line, "contract_number", f"契約番号「{contract_number}」の契約が登録されていません。"))
            elif contract["customer"] != customer["id"]:
                errors.append(RowError(line, "contract_number", f"契約番号「{contract_number}」は別のお客様の契約です。"))
        code = values.get("billing_group")
        if code:
            group = groups.get(code)
            if group is None:
                errors.append(
                    RowError(line, "billing_group", f"請求グループ「{code}」が登録されていません(contracts で作られます)。")
                )
            elif group["customer"] != customer["id"]:
                errors.append(RowError(line, "billing_group", f"請求グループ「{code}」は別のお客様のものです。"))
    existing = await by_key(Invoice, Invoice.number, list(invoices), tenant)
    return errors, {"invoices": invoices, "customers": customers, "contracts": contracts, "groups": groups, "existing": existing}


async def write(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    invoices, customers, contracts, groups, existing = (
        context["invoices"],
        context["customers"],
        context["contracts"],
        context["groups"],
        context["existing"],
    )
    current_lines: dict[int, list[dict]] = {}
    for chunk in chunks([row["id"] for row in existing.values()]):
        for row in (
            await InvoiceLine.select()
            .where(InvoiceLine.tenant == tenant)
            .where(InvoiceLine.invoice.is_in(chunk))
            .order_by(InvoiceLine.position)
        ):
            current_lines.setdefault(row["invoice"], []).append(row)

    def header_fields(invoice: dict) -> dict:
        header = invoice["header"]
        fields = {k: v for k, v in header.items() if k in ("month", "issued_on", "due_on", "payment_method")}
        fields["customer"] = customers[header["customer_number"]]["id"]
        if "billing_group" in header:
            fields["billing_group"] = groups[header["billing_group"]]["id"] if header["billing_group"] else None
        return fields

    def line_fields(values: dict) -> dict:
        contract_number = values.get("contract_number")
        return {
            "contract": contracts[contract_number]["id"] if contract_number else None,
            "description": values["description"],
            "amount": values["amount"],
            "tax_rate": values.get("tax_rate", 10),
            "note": values.get("note", ""),
        }

    ids: dict[str, int] = {}
    replace: list[int] = []
    new_rows = []
    for number, invoice in invoices.items():
        fields = header_fields(invoice)
        current = existing.get(number)
        if current is None:
            new_rows.append({"tenant": tenant, "number": number, **fields})
            continue
        ids[number] = current["id"]
        wanted = [line_fields(v) for _, v in invoice["lines"]]
        have = [{k: row[k] for k in LINE_FIELDS} for row in current_lines.get(current["id"], [])]
        changes = changed_fields(current, fields)
        if changes:
            await update_row(Invoice, tenant, current["id"], changes)
        if have != wanted:
            replace.append(current["id"])
        if changes or have != wanted:
            result.updated += 1
        else:
            result.unchanged += 1
        progress.advance(len(invoice["lines"]))
    for row in await insert_rows(Invoice, new_rows, Invoice.id, Invoice.number, Invoice.customer):
        ids[row["number"]] = row["id"]
        result.created += 1
        result.note_added(row["customer"], "invoice")
        progress.advance(len(invoices[row["number"]]["lines"]))
    for chunk in chunks(replace):
        await InvoiceLine.delete().where(InvoiceLine.tenant == tenant).where(InvoiceLine.invoice.is_in(chunk))
    replaced = set(replace)
    lines = []
    for number, invoice in invoices.items():
        invoice_id = ids[number]
        if number in existing and invoice_id not in replaced:
            continue
        lines.extend(
            {"tenant": tenant, "invoice": invoice_id, "position": i, **line_fields(values)}
            for i, (_, values) in enumerate(invoice["lines"], start=1)
        )
    await insert_rows(InvoiceLine, lines)
