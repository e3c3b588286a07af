"""Every table is tenant-owned (non-null indexed tenant column, tenant-first unique sets, unique indexes
present in the migrated database) or on an explicit global list."""

from __future__ import annotations

import pytest

from conftest import run
from mypage.db.base import GlobalTable, TenantOwned
from mypage.db.errors import is_unique_violation
from mypage.db.registry import all_tables

GLOBAL_TABLES = {
    "web_sessions": "server-side sessions; the data names its tenant and is checked on every request",
    "tenant_generation": "change tokens of tenant folders and overrides that every worker polls (tenancy/reload.py)",
    "platform_staff": "the platform team's accounts: they belong to no tenant (platformconsole/)",
    "platform_recovery_codes": "recovery codes of platform staff (platformconsole/)",
    "platform_audit": "what the platform team did, across tenants; tenant admins never read it (platformconsole/)",
}
PICCOLO_TABLES = {"migration"}


def test_every_table_is_tenant_owned_or_explicitly_global():
    problems = []
    for table in all_tables():
        name = table._meta.tablename
        if issubclass(table, TenantOwned):
            continue
        if name not in GLOBAL_TABLES:
            problems.append(f"{table.__module__}.{table.__name__} ({name}) is neither TenantOwned nor on GLOBAL_TABLES")
        elif not issubclass(table, GlobalTable):
            problems.append(f"{name} is on GLOBAL_TABLES but does not derive from GlobalTable")
    assert not problems, "\n".join(problems)


def test_global_list_has_no_stale_entries():
    names = {t._meta.tablename for t in all_tables()}
    assert set(GLOBAL_TABLES) <= names


@pytest.mark.parametrize("table", [t for t in all_tables() if issubclass(t, TenantOwned)], ids=lambda t: t._meta.tablename)
def test_tenant_owned_table_shape(table):
    tenant = table._meta.get_column_by_name("tenant")
    assert tenant._meta.null is False, "tenant column must be NOT NULL"
    # Indexed on its own, or as the first column of a composite index (which serves tenant-wide reads as well).
    composites = [*getattr(table, "UNIQUE_TOGETHER", ()), *getattr(table, "INDEX_TOGETHER", ())]
    leads = any(columns and columns[0] == "tenant" for columns in composites)
    assert tenant._meta.index is True or leads, "tenant column must be indexed"
    for columns in table.UNIQUE_TOGETHER:
        assert columns and columns[0] == "tenant", f"UNIQUE_TOGETHER {columns} must start with 'tenant'"
        for column in columns:
            table._meta.get_column_by_name(column)  # raises for a misspelt column
    # A globally unique column would make one tenant's values block another's: use UNIQUE_TOGETHER.
    unique = [c._meta.name for c in table._meta.columns if c._meta.unique and c._meta.name != "id"]
    assert not unique, f"columns {unique} are unique across tenants; use UNIQUE_TOGETHER = (('tenant', ...),)"
    # Foreign keys point at tables of the same kind (a tenant row never hangs off a global one).
    for fk in table._meta.foreign_key_columns:
        target = fk._foreign_key_meta.resolved_references
        assert issubclass(target, TenantOwned), f"{fk._meta.name} points at {target._meta.tablename}, not tenant-owned"


async def _database_tables(engine) -> set[str]:
    if engine.engine_type == "postgres":
        rows = await engine.run_ddl("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
    else:
        rows = await engine.run_ddl("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {r["name"] for r in rows}


async def _unique_indexes(engine, table: str) -> list[tuple[str, ...]]:
    """The column lists of the table's unique indexes, read from the database itself."""
    if engine.engine_type == "postgres":
        rows = await engine.run_ddl(
            "SELECT i.relname AS name, array_agg(a.attname ORDER BY k.n) AS columns "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            f"WHERE t.relname = '{table}' AND x.indisunique GROUP BY i.relname"
        )
        return [tuple(r["columns"]) for r in rows]
    found = []
    for index in await engine.run_ddl(f"PRAGMA index_list('{table}')"):
        if index["unique"]:
            info = await engine.run_ddl(f"PRAGMA index_info('{index['name']}')")
            found.append(tuple(r["name"] for r in sorted(info, key=lambda r: r["seqno"])))
    return found


def test_migrated_database_matches_the_tables(db):
    engine = all_tables()[0]._meta.db
    in_db = run(_database_tables(engine))
    known = {t._meta.tablename for t in all_tables()} | PICCOLO_TABLES
    assert not (in_db - known), f"tables in the database that no tables.py defines: {sorted(in_db - known)}"
    assert not (known - PICCOLO_TABLES - in_db), f"tables not migrated: {sorted(known - PICCOLO_TABLES - in_db)}"

    missing = []
    for table in all_tables():
        indexes = set(run(_unique_indexes(engine, table._meta.tablename)))
        for columns in table.UNIQUE_TOGETHER:
            if tuple(columns) not in indexes:
                missing.append(f"{table._meta.tablename}{columns}")
    assert not missing, "unique indexes missing in the migrated database (run mypage makemigrations): " + ", ".join(missing)


def test_a_unique_index_really_refuses_duplicates_within_a_tenant_only(db):
    """One concrete check that the tenant-first unique indexes work on this backend."""
    from mypage.identity.tables import Account

    def account(tenant: str) -> Account:
        return Account(tenant=tenant, login_id="dup", login_id_display="dup", password_hash="x")

    async def go():
        await Account.insert(account("aicom"))
        await Account.insert(account("itscom"))  # the same login ID on another tenant is fine
        with pytest.raises(Exception) as refused:
            await Account.insert(account("aicom"))
        assert is_unique_violation(refused.value)

    run(go())
