"""Prepared selects (``mypage.db.prepared``): the same rows as the Piccolo query they were built from, on both
databases, with each run's own values (the tenant among them), inside a transaction too."""

from __future__ import annotations

import asyncio

import pytest

from mypage.db.prepared import PreparedSelect
from mypage.db.transaction import atomic
from mypage.records.tables import Customer


def _customers_named(tenant, name):
    return Customer.select().where(Customer.tenant == tenant).where(Customer.name == name).order_by(Customer.id)


BY_NAME = PreparedSelect(Customer, _customers_named, arity=2)


async def _add(tenant: str, number: str, name: str) -> None:
    await Customer.insert(Customer(tenant=tenant, number=number, name=name, name_kana="カナ", phone="0300000000"))


def test_prepared_select_gives_the_rows_of_its_query_for_each_runs_values(db):
    async def go():
        await _add("aicom", "1", "山田")
        await _add("aicom", "2", "山田")
        await _add("itscom", "3", "山田")
        await _add("aicom", "4", "田中")
        results = []
        for tenant, name in (("aicom", "山田"), ("itscom", "山田"), ("aicom", "田中"), ("nmedia", "山田")):
            results.append((await BY_NAME.run(tenant, name), await _customers_named(tenant, name)))
        objects = await BY_NAME.objects("aicom", "田中")
        piccolo_objects = await Customer.objects().where(Customer.tenant == "aicom").where(Customer.name == "田中")
        objects[0].name = "田中 改"
        await objects[0].save([Customer.name])  # an object from a prepared select updates its own row
        renamed = await Customer.select(Customer.number).where(Customer.name == "田中 改")
        first = await BY_NAME.first("itscom", "山田")
        async with atomic():  # inside a transaction it runs on the transaction's connection
            await _add("aicom", "5", "田中")
            inside = await BY_NAME.run("aicom", "田中")
        return results, objects, first, inside, piccolo_objects, renamed

    results, objects, first, inside, piccolo_objects, renamed = asyncio.run(go())
    for prepared, piccolo in results:
        assert prepared == piccolo
    assert [len(prepared) for prepared, _ in results] == [2, 1, 1, 0]
    assert [(c.number, c.tenant, c._exists_in_db) for c in objects] == [("4", "aicom", True)]
    assert [vars(c) | {"name": "田中"} for c in objects] == [vars(c) for c in piccolo_objects]
    assert renamed == [{"number": "4"}]
    assert first["number"] == "3"
    assert [row["number"] for row in inside] == ["5"]  # 4 was renamed above


def test_a_parameter_missing_from_the_query_is_refused(db):
    forgetful = PreparedSelect(Customer, lambda tenant, name: Customer.select().where(Customer.tenant == tenant), arity=2)
    with pytest.raises(ValueError, match="missing"):
        asyncio.run(forgetful.run("aicom", "山田"))


def test_nested_output_is_the_same_as_piccolos(db):
    from mypage.records.tables import Contract

    def contracts_with_customer(tenant, number):
        return (
            Contract.select(Contract.number, *Contract.customer.all_columns())
            .where(Contract.tenant == tenant)
            .where(Contract.number == number)
            .output(nested=True)
        )

    prepared = PreparedSelect(Contract, contracts_with_customer, arity=2)

    async def go():
        await _add("aicom", "N-1", "入れ子")
        (customer,) = await Customer.select(Customer.id).where(Customer.number == "N-1")
        await Contract.insert(Contract(tenant="aicom", customer=customer["id"], number="C-1"))
        return (
            await prepared.run("aicom", "C-1"),
            await contracts_with_customer("aicom", "C-1"),
            await prepared.run("itscom", "C-1"),
        )

    mine, piccolos, other_tenant = asyncio.run(go())
    assert mine == piccolos
    assert mine[0]["customer"]["name"] == "入れ子"
    assert other_tenant == []


def test_prepared_sql_gives_what_the_piccolo_join_gives(db):
    """Hand-written SQL (``$n`` parameters, also on SQLite, a parameter used twice) nested on the dots of its
    column names: the same values as Piccolo's nested select of the same join, inline and in a transaction."""
    from mypage.db.prepared import PreparedSQL
    from mypage.records.tables import Contract

    columns = ", ".join(f'cu."{c._meta.db_column_name}" AS "customer.{c._meta.name}"' for c in Customer._meta.columns)
    joined = PreparedSQL(
        Contract,
        f'SELECT co."number", {columns} FROM "contracts" AS co '
        'JOIN "customers" AS cu ON cu."id" = co."customer" AND cu."tenant" = $1 '
        'WHERE co."tenant" = $1 AND co."number" = $2',
    )

    def piccolo(tenant, number):
        return (
            Contract.select(Contract.number, *Contract.customer.all_columns())
            .where(Contract.tenant == tenant)
            .where(Contract.number == number)
            .output(nested=True)
        )

    async def go():
        await _add("aicom", "S-1", "手書き")
        (customer,) = await Customer.select(Customer.id).where(Customer.number == "S-1")
        await Contract.insert(Contract(tenant="aicom", customer=customer["id"], number="C-9"))
        async with atomic():
            inside = await joined.first("aicom", "C-9")
        return await joined.run("aicom", "C-9"), await piccolo("aicom", "C-9"), inside, await joined.first("itscom", "C-9")

    mine, piccolos, inside, other_tenant = asyncio.run(go())
    assert mine == piccolos and inside == piccolos[0]
    assert mine[0]["customer"]["name"] == "手書き" and mine[0]["customer"]["created_at"] is not None
    assert other_tenant is None
