"""``mypage demo --scale N``: generated customers with a contract, a phone line, 12 invoices and 20 calls each,
written with COPY on PostgreSQL (indexes dropped and made again) and executemany on SQLite."""

from __future__ import annotations

from datetime import date

from conftest import run
from mypage.demo.loader import _months_back
from mypage.demo.scale import CALLS_PER_CUSTOMER, MONTHS, load_scale
from mypage.records.tables import CallRecord, Contract, Customer, Invoice, InvoiceLine, PhoneLine


def q(query):
    return run(query.run())


def indexes() -> list[str]:
    engine = Customer._meta.db
    if engine.engine_type != "postgres":
        return []
    rows = run(
        engine.run_ddl(
            "SELECT indexdef FROM pg_indexes WHERE tablename IN ('customers', 'contracts', 'phone_lines', 'invoices', "
            "'invoice_lines', 'call_records') UNION ALL SELECT conname || pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f'"
        )
    )
    return sorted(r["indexdef"] for r in rows)


def test_scale_adds_customers_with_their_records_and_a_second_run_continues(db, capsys):
    before = indexes()
    assert run(load_scale(db, 25, ["nmedia"])) == {
        "customers": 25,
        "contracts": 25,
        "phone_lines": 25,
        "invoices": 25 * MONTHS,
        "invoice_lines": 25 * MONTHS,
        "call_records": 25 * CALLS_PER_CUSTOMER,
    }
    run(load_scale(db, 20, ["nmedia", "aicom"]))
    assert indexes() == before, "the indexes and foreign keys dropped for the load are all back"

    assert q(Customer.count().where(Customer.tenant == "nmedia")) == 35
    assert q(Customer.count().where(Customer.tenant == "aicom")) == 10
    for table, key in ((Customer, Customer.number), (Contract, Contract.number), (PhoneLine, PhoneLine.number)):
        assert len({r[key._meta.name] for r in q(table.select(key))}) == q(table.count()), "numbers never repeat"
    months = sorted(r["month"] for r in q(Invoice.select(Invoice.month).distinct()))
    assert months == _months_back(date.today(), MONTHS)
    customer = q(Customer.select().where(Customer.tenant == "nmedia").first())
    contract = q(Contract.select().where(Contract.customer == customer["id"]).first())
    assert contract["tenant"] == "nmedia" and contract["call_details_from"] == months[0]
    calls = q(CallRecord.select().where(CallRecord.contract == contract["id"]))
    assert len(calls) == CALLS_PER_CUSTOMER and {c["tenant"] for c in calls} == {"nmedia"}
    assert {c["month"] for c in calls} == set(months)
    invoice = q(Invoice.select().where(Invoice.customer == customer["id"]).first())
    line = q(InvoiceLine.select().where(InvoiceLine.invoice == invoice["id"]).first())
    assert line["amount"] == contract["monthly_fee"] and line["contract"] == contract["id"]

    # The id sequences continue after the loaded rows (PostgreSQL: set after COPY's explicit ids).
    q(Customer.insert(Customer(tenant="nmedia", number="X-after-scale")))
    assert q(Customer.count()) == 46
