"""``mypage demo``: realistic demo data per tenant, and the fixed identities documented in docs/demo.md."""

from __future__ import annotations

from datetime import date

from conftest import run
from mypage.demo.loader import _months_back, database_is_empty, load_demo
from mypage.identity import normalize
from mypage.identity.passwords import verify_password
from mypage.identity.tables import Account
from mypage.identity.verification import CustomerMatcher
from mypage.records.tables import (
    BillingGroup,
    CallRecord,
    Contract,
    Customer,
    Device,
    Document,
    Invoice,
    InvoiceLine,
    Notice,
    PhoneLine,
    ServiceHistory,
)


def q(query):
    return run(query.run())


def count(table, tenant) -> int:
    return q(table.count().where(table.tenant == tenant))


def test_demo_loads_every_tenant_with_fixed_identities(db, portal, capsys):
    assert run(database_is_empty())
    summary = run(load_demo(db))
    assert set(summary) == {"aicom", "itscom", "nmedia"}
    assert not run(database_is_empty())

    months = _months_back(date.today(), 18)
    for tenant in ("aicom", "itscom", "nmedia"):
        assert count(Customer, tenant) == 300
        assert count(Notice, tenant) >= 3
        rows = q(Invoice.select(Invoice.month).where(Invoice.tenant == tenant).distinct())
        assert sorted(r["month"] for r in rows) == months, "18 months of invoices ending last month"
        assert count(InvoiceLine, tenant) > count(Invoice, tenant)
    # Reduced-rate (8%) lines where the operator has such items.
    for tenant in ("itscom", "nmedia"):
        assert q(InvoiceLine.count().where(InvoiceLine.tenant == tenant).where(InvoiceLine.tax_rate == 8)) > 0
    # nmedia: billing groups with several lines, call records, opening notices.
    assert 1000 <= count(CallRecord, "nmedia") <= 10000
    assert count(CallRecord, "aicom") == 0
    assert count(PhoneLine, "nmedia") > 0
    assert q(Document.count().where(Document.tenant == "nmedia").where(Document.kind == "opening_notice")) > 300
    assert count(BillingGroup, "nmedia") == 300
    # itscom: STB devices, service history, contract confirmations, customers without internet.
    assert q(Device.count().where(Device.tenant == "itscom").where(Device.kind == "STB")) > 50
    assert count(ServiceHistory, "itscom") > 300
    assert q(Document.count().where(Document.tenant == "itscom").where(Document.kind == "contract_confirmation")) == 300
    assert q(Customer.count().where(Customer.tenant == "itscom").where(Customer.services.not_like("%internet%"))) > 0
    assert q(Customer.count().where(Customer.tenant == "itscom").where(Customer.payment_method == "card")) > 0

    tenants = portal.tenants

    async def match(slug, answers):
        return await CustomerMatcher(tenants.get(slug)).match(answers)

    # Not yet registered customers answer the registration questions.
    found = run(match("aicom", {"customer_number": "1234567", "phone": "0748621234", "name_kana": "アイコム　タロウ"}))
    assert [c["number"] for c in found] == ["0001234567"]
    for extra in ({"customer_number": "1000000001"}, {"bank_last4": "1234"}, {"card_last4": "4242"}, {"device_id": "STB0000001"}):
        found = run(match("itscom", {"name_kana": "イッツ　ハナコ", "phone": "0337001234", **extra}))
        assert [c["number"] for c in found] == ["1000000001"], extra
    found = run(match("itscom", {"name_kana": "イッツ　ジロウ", "phone": "0337005678"}))
    assert sorted(c["number"] for c in found) == ["1000000002", "1000000003"]
    found = run(match("itscom", {"name_kana": "イッツ　ジロウ", "phone": "0337005678", "device_id": "STB0000003"}))
    assert [c["number"] for c in found] == ["1000000003"]
    found = run(match("nmedia", {"contract_number": "CAF0000000001", "postal_code": "5340024", "name": "メディア　タロウ"}))
    assert len(found) == 1
    hanako = q(Customer.select().where(Customer.tenant == "itscom").where(Customer.number == "1000000001").first())
    assert "internet" in hanako["services"]
    for slug, number in (("aicom", "0001234567"), ("itscom", "1000000001"), ("itscom", "1000000002"), ("nmedia", "5000000001")):
        customer = q(Customer.select(Customer.id).where(Customer.tenant == slug).where(Customer.number == number).first())
        assert q(Account.count().where(Account.customer == customer["id"])) == 0, (slug, number)

    # Registered accounts: normalised login IDs, passwords verify.
    def account(slug, login_id):
        return q(Account.select().where(Account.tenant == slug).where(Account.login_id == login_id).first())

    aicom = account("aicom", "aicom-demo")
    assert verify_password(aicom["password_hash"], "Demo1234")
    assert aicom["nickname"] == "こうか花子" and aicom["email"] == "aicom-demo@example.jp" and aicom["customer"]
    demo = account("itscom", "demo@itscom.example")
    assert verify_password(demo["password_hash"], "demo-pass1") and demo["recovery_method"] == "email_code"
    assert demo["email"] == "demo@itscom.example"
    owner = q(Customer.select().where(Customer.id == demo["customer"]).first())
    assert "internet" in owner["services"]
    aikotoba = account("itscom", "aikotoba@itscom.example")
    assert aikotoba["recovery_method"] == "secret_question" and aikotoba["secret_question"] == 0
    assert verify_password(aikotoba["secret_answer_hash"], normalize.name_key("サクラ"))
    admin = account("nmedia", "m95au6")
    assert verify_password(admin["password_hash"], "mediapass1")
    assert admin["role"] == "admin" and admin["email"] == "m95au6@nmedia.example"
    members = q(Account.select().where(Account.tenant == "nmedia").where(Account.customer == admin["customer"]))
    assert sorted(m["role"] for m in members) == ["admin", "general"]
    lines = q(Contract.select().where(Contract.tenant == "nmedia").where(Contract.customer == admin["customer"]))
    main = [c for c in lines if c["category"] == "main"]
    assert 2 <= len(main) <= 3 and len({c["billing_group"] for c in lines}) == 1 and lines[0]["billing_group"]
    assert any(c["call_details_from"] for c in main) and any(not c["call_details_from"] for c in main)
    with_calls = next(c for c in main if c["call_details_from"])
    assert q(CallRecord.count().where(CallRecord.contract == with_calls["id"])) > 0

    # Loading again adds nothing (tenants that have customers are skipped).
    capsys.readouterr()
    assert run(load_demo(db)) == {}
    assert "skipped" in capsys.readouterr().out
    assert count(Customer, "aicom") == 300
