"""Database queries per logged-in page stay few: the session with its account and customer, the page's data.

Counted through the engine's query log, on both databases; the figures are the budget, so a change that
adds a query to every page fails here first.
"""

from __future__ import annotations

from datetime import date

import contract_records as rec
import pytest


def _home_queries(client, counted_queries) -> list[str]:
    client.get("/")  # warm: the first request of a session may write it
    with counted_queries() as seen:
        page = client.get("/")
    assert page.status_code == 200
    return seen


@pytest.mark.parametrize(
    "tenant, budget",
    [
        # session ⋈ account ⋈ customer, contracts (on PostgreSQL the contracts are read with the session)
        ("aicom", {"sqlite": 2, "postgres": 1}),
        ("nmedia", {"sqlite": 2, "postgres": 1}),
        # + whether the security add-on is already taken (the top page offers it otherwise)
        ("itscom", {"sqlite": 3, "postgres": 2}),
    ],
)
def test_home_page_query_budget(app, client_for, counted_queries, db, tenant, budget):
    customer = rec.customer(tenant, "7000001", name="予算 太郎", customer_since=date(2020, 1, 1))
    account = rec.account(tenant, customer, f"budget-{tenant}@example.jp" if tenant == "itscom" else f"budget{tenant}")
    for number in ("CAF7000001", "CAF7000002", "CAF7000003"):
        rec.contract(tenant, customer, number, category="other" if number.endswith("3") else "main")
    neighbour = rec.customer(tenant, "7000009", name="隣 三郎")
    for number in ("CAF7000091", "CAF7000092", "CAF7000093", "CAF7000094"):
        rec.contract(tenant, neighbour, number)  # another customer's: never counted on this home page
    rec.notice(tenant, "お知らせ", date(2023, 10, 1))
    client = rec.sign_in(client_for(tenant), tenant, account)
    seen = _home_queries(client, counted_queries)
    assert len(seen) <= budget["postgres" if db.database_url else "sqlite"], "\n".join(q[:120] for q in seen)
    if tenant == "nmedia":  # the contracts read with the session are counted per category
        text = client.get("/").text
        assert text.index("2件") < text.index("1件") and "6件" not in text and "4件" not in text


def test_notices_are_read_once_a_minute_per_worker(app, client_for, counted_queries):
    customer = rec.customer("aicom", "7000002", name="予算 花子")
    account = rec.account("aicom", customer, "budget-notices")
    client = rec.sign_in(client_for("aicom"), "aicom", account)
    client.get("/")
    with counted_queries() as seen:
        client.get("/")
    assert not [q for q in seen if '"notices"' in q]


@pytest.mark.parametrize(
    "path, budgets",
    [
        # session ⋈ account ⋈ customer, the invoice months, the contracts (on PostgreSQL all three in one statement)
        ("/billing", {"sqlite": 3, "postgres": 1}),
        # session ⋈ account ⋈ customer, the contract, its options, phone lines, documents (on PostgreSQL, where
        # each is a round trip, the contract with the rest in one statement)
        ("/contracts/CAF7000003", {"sqlite": 5, "postgres": 1}),
        # session ⋈ account ⋈ customer, the contract, a screen with the month's totals (on PostgreSQL in one
        # statement, the screen the query asks for included)
        ("/calls/CAF7000003/2023-12", {"sqlite": 3, "postgres": 1}),
        ("/calls/CAF7000003/2023-12?page=2", {"sqlite": 3, "postgres": 1}),
    ],
)
def test_logged_in_page_query_budgets(app, client_for, counted_queries, db, path, budgets):
    budget = budgets.get("postgres" if db.database_url else "sqlite", budgets["sqlite"])
    customer = rec.customer("nmedia", "7000003", name="予算 次郎")
    account = rec.account("nmedia", customer, "budget-pages")
    contract = rec.contract("nmedia", customer, "CAF7000003", call_details_from="2023-12")
    rec.option("nmedia", contract, 1, "オプション")
    rec.phone_line("nmedia", contract, "0500000003")
    rec.document("nmedia", customer, contract, "opening_notice", date(2023, 12, 1))
    rec.calls("nmedia", contract, "2023-12", 130)  # two screens of 100
    client = rec.sign_in(client_for("nmedia"), "nmedia", account)
    client.get(path)  # warm: the first request of a session may write it
    with counted_queries() as seen:
        page = client.get(path)
    assert page.status_code == 200
    assert len(seen) <= budget, "\n".join(q[:120] for q in seen)
    if path.startswith("/contracts/"):
        assert "オプション" in page.text and "0500000003" in page.text
    if path.startswith("/calls/"):
        assert ("2 / 2 ページ" if path.endswith("page=2") else "1 / 2 ページ") in page.text
