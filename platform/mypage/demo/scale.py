"""``mypage demo --scale N``: N generated customers on top of the demo data, to measure the portal at scale.

Each generated customer has one contract with a phone line (calls recorded from the first month), an invoice
with one line for each of the last ``MONTHS`` months, and ``CALLS_PER_CUSTOMER`` call records. The values
come from the tenant's ``demo.toml`` (plans, areas, call kinds, number formats) and are derived from the
customer's index by a cheap hash, so every table's rows are produced by their own generator in one pass,
without keeping anything per customer in memory: the ids are assigned here (after the table's highest id).

PostgreSQL: rows stream into the tables with COPY (asyncpg's ``copy_records_to_table``) inside one
transaction; the secondary indexes and foreign keys of the tables written are dropped first and made again
after the load (one sort per index instead of millions of insertions; the foreign keys are validated then),
and the tables are analysed. SQLite: ``executemany`` in batches inside one transaction (a smaller N).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from mypage.demo import names
from mypage.demo.loader import JST, SPACE, Profile, _month_end, _month_start, _months_back, _next_month
from mypage.records.tables import CallRecord, Contract, Customer, Invoice, InvoiceLine, PhoneLine

MONTHS = 12
CALLS_PER_CUSTOMER = 20
NUMBER_OFFSET = 10_000_000
"""Generated customers, contracts and invoices are numbered from the profile's start plus this (clear of the
few hundred demo customers before them)."""
SQLITE_BATCH = 5_000
TABLES = (Customer, Contract, PhoneLine, Invoice, InvoiceLine, CallRecord)
DEFAULT_CALL_KINDS: list[dict[str, Any]] = [
    {"kind": "通話", "seconds_per_unit": 180, "yen_per_unit": 8, "mean_seconds": 120, "callee_prefix": "03"}
]


def _mix(i: int) -> int:
    """A cheap, well-spread 32-bit hash of a customer index (Knuth's multiplicative hash, xor-folded)."""
    h = (i * 2654435761) & 0xFFFFFFFF
    return h ^ (h >> 15)


@dataclass(frozen=True)
class _Month:
    month: str
    start: datetime
    seconds: int
    issued_on: date
    due_on: date


class ScaleRows:
    """The rows of ``count`` generated customers of one tenant, one generator per table."""

    def __init__(self, slug: str, profile: Profile, count: int, first_ids: dict[str, int], today: date):
        self.slug, self.p, self.count, self.ids = slug, profile, count, first_ids
        self.base = first_ids["customers"]
        """Numbers, phone numbers and hashes go by the customer's id (not its index in this run), so a later run
        continues after an earlier one."""
        self.now = datetime.now(UTC)
        main = [x for x in profile.plans if x.get("category", "main") == "main"] or profile.plans
        self.plans = [x for x in main if x.get("phone_line")] or main
        self.areas = [(a, town, postal) for a in profile.areas for town, postal in a["towns"]]
        self.months = []
        for month in _months_back(today, MONTHS):
            start = _month_start(month)
            following = _next_month(month)
            self.months.append(
                _Month(
                    month=month,
                    start=datetime(start.year, start.month, 1, 7, tzinfo=JST),
                    seconds=((_month_end(month) - start).days + 1) * 86400 - 16 * 3600,
                    issued_on=min(following.replace(day=min(profile.issue_day, 28)), today),
                    due_on=following.replace(day=min(profile.due_day, 28)),
                )
            )
        self.first_month = self.months[0].month
        kinds = profile.call_kinds or DEFAULT_CALL_KINDS
        weighted = [k for k in kinds for _ in range(int(k.get("weight", 1)))]
        # 1,024 ready-made calls (kind, callee prefix, seconds, charge): a call picks one by hash.
        self.calls: list[tuple[str, str, int, int]] = []
        for n in range(1024):
            kind = weighted[n % len(weighted)]
            seconds = 10 + (_mix(n) % (2 * int(kind.get("mean_seconds", 120))))
            charge = -(-seconds // kind["seconds_per_unit"]) * kind["yen_per_unit"]
            prefix = kind.get("callee_prefix", "03")
            self.calls.append((kind["kind"], "090" if prefix == "mobile" else prefix, seconds, charge))

    def number(self, kind: str, i: int, **extra) -> str:
        return self.p.number(kind, self.p.numbers.get(f"{kind}_start", 1) + NUMBER_OFFSET + self.base + i, **extra)

    def phone(self, i: int) -> str:
        """A 050 number (IP phone): the demo customers' numbers use area codes, so these never collide."""
        return f"050{NUMBER_OFFSET + self.base + i:08d}"

    def person(self, h: int) -> tuple[str, str]:
        family, family_kana = names.FAMILY[h % len(names.FAMILY)]
        given_names = names.GIVEN_MALE if h & 0x100 else names.GIVEN_FEMALE
        given, given_kana = given_names[(h >> 9) % len(given_names)]
        return f"{family}{SPACE}{given}", f"{family_kana}{SPACE}{given_kana}"

    def since(self, h: int) -> date:
        first = self.months[0].start.date()
        return date(first.year - 1 - (h >> 20) % 12, 1 + (h >> 4) % 12, 1 + (h >> 12) % 28)

    customer_columns = (
        "id", "tenant", "created_at", "number", "name", "name_kana", "phone", "postal_code", "prefecture",
        "address1", "address2", "building", "email", "bank_name", "bank_last4", "card_last4", "payment_method",
        "plan_name", "renewal_window", "customer_since", "services",
    )  # fmt: skip

    def customers(self) -> Iterator[tuple]:
        first, slug, now, domain = self.ids["customers"], self.slug, self.now, self.p.email_domain
        for i in range(self.count):
            h = _mix(self.base + i)
            name, kana = self.person(h)
            area, town, postal = self.areas[h % len(self.areas)]
            plan = self.plans[(h >> 3) % len(self.plans)]
            card = h % 10 < 3
            yield (
                first + i, slug, now, self.number("customer", i), name, kana, self.phone(i), postal,
                area["prefecture"], f"{area['city']}{town}", f"{1 + h % 5}-{1 + (h >> 5) % 30}-{1 + (h >> 10) % 20}",
                "", f"scale{self.base + i}@{domain}", "" if card else names.BANKS[h % len(names.BANKS)],
                "" if card else f"{h % 10000:04d}", f"{h % 10000:04d}" if card else "", "card" if card else "bank",
                f"{plan['service_name']} {plan['plan_name']}", "", self.since(h), plan["service"],
            )  # fmt: skip

    contract_columns = (
        "id", "tenant", "created_at", "customer", "number", "category", "service", "service_name", "plan_name",
        "status", "started_on", "access_key", "holder_name", "holder_kana", "postal_code", "address1", "address2",
        "building", "monthly_fee", "call_details_from", "phone_detail",
    )  # fmt: skip

    def contracts(self) -> Iterator[tuple]:
        first, customer0, slug, now = self.ids["contracts"], self.ids["customers"], self.slug, self.now
        for i in range(self.count):
            h = _mix(self.base + i)
            name, kana = self.person(h)
            area, town, postal = self.areas[h % len(self.areas)]
            plan = self.plans[(h >> 3) % len(self.plans)]
            yield (
                first + i, slug, now, customer0 + i, self.number("contract", i), "main", plan["service"],
                plan["service_name"], plan["plan_name"], plan.get("status", "ご利用中"), self.since(h), "", name, kana,
                postal, f"{area['prefecture']}{area['city']}{town}", f"{1 + h % 5}-{1 + (h >> 5) % 30}-{1 + (h >> 10) % 20}",
                "", plan["fee"], self.first_month, "",
            )  # fmt: skip

    phone_line_columns = ("tenant", "created_at", "contract", "service_name", "number")

    def phone_lines(self) -> Iterator[tuple]:
        first, slug, now = self.ids["contracts"], self.slug, self.now
        for i in range(self.count):
            yield (slug, now, first + i, "ひかり電話", self.phone(i))

    invoice_columns = ("id", "tenant", "created_at", "customer", "number", "month", "issued_on", "due_on", "payment_method")

    def invoices(self) -> Iterator[tuple]:
        first, customer0, slug, now = self.ids["invoices"], self.ids["customers"], self.slug, self.now
        months = [(m, m.month.replace("-", "")) for m in self.months]
        for i in range(self.count):
            method = "card" if _mix(self.base + i) % 10 < 3 else "bank"
            for m, (month, compact) in enumerate(months):
                yield (
                    first + i * MONTHS + m, slug, now, customer0 + i, self.number("invoice", i, month=compact),
                    month.month, month.issued_on, month.due_on, method,
                )  # fmt: skip

    invoice_line_columns = (
        "tenant",
        "created_at",
        "invoice",
        "contract",
        "position",
        "description",
        "amount",
        "tax_rate",
        "note",
    )

    def invoice_lines(self) -> Iterator[tuple]:
        first, contract0, slug, now = self.ids["invoices"], self.ids["contracts"], self.slug, self.now
        labels = [f"{plan['service_name']} {plan['plan_name']}" for plan in self.plans]
        for i in range(self.count):
            index = (_mix(self.base + i) >> 3) % len(self.plans)
            label, fee = labels[index], self.plans[index]["fee"]
            for m in range(MONTHS):
                yield (slug, now, first + i * MONTHS + m, contract0 + i, 1, label, fee, 10, "")

    call_columns = (
        "tenant", "created_at", "contract", "month", "started_at", "kind", "caller", "callee", "duration_seconds",
        "charge", "record_key",
    )  # fmt: skip

    def call_records(self) -> Iterator[tuple]:
        first, slug, now, calls, months = self.ids["contracts"], self.slug, self.now, self.calls, self.months
        second = timedelta(seconds=1)
        for i in range(self.count):
            h, caller, contract = _mix(self.base + i), self.phone(i), first + i
            for k in range(CALLS_PER_CUSTOMER):
                month = months[MONTHS - 1 - k % MONTHS]  # the latest months first: 20 calls over the 12 months
                x = _mix(h + k)
                kind, prefix, seconds, charge = calls[x & 1023]
                yield (
                    slug, now, contract, month.month, month.start + (x % month.seconds) * second, kind, caller,
                    f"{prefix}{x % 10**(10 - len(prefix)) :0{10 - len(prefix)}d}", seconds, charge,
                    f"scale-{contract}-{k}",
                )  # fmt: skip


# --- writing ------------------------------------------------------------------------------------------------


def _counted(rows: Iterable[tuple], counts: dict[str, int], key: str) -> Iterator[tuple]:
    for row in rows:
        counts[key] = counts.get(key, 0) + 1
        yield row


class PostgresWriter:
    def __init__(self, connection):
        self.connection = connection
        self.saved: list[str] = []

    async def first_id(self, tablename: str) -> int:
        return int(await self.connection.fetchval(f'SELECT coalesce(max(id), 0) + 1 FROM "{tablename}"'))

    async def drop_indexes(self, tablenames: list[str]) -> None:
        """Drops the secondary indexes and foreign keys of the tables (primary keys stay), remembering how to
        make them again."""
        names_ = list(tablenames)
        foreign = await self.connection.fetch(
            "SELECT conrelid::regclass::text AS tab, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(SELECT oid FROM pg_class WHERE relname = ANY($1::text[]))",
            names_,
        )
        indexes = await self.connection.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname AND c.contype IN ('p', 'u', 'x'))",
            names_,
        )
        for row in foreign:
            await self.connection.execute(f'ALTER TABLE {row["tab"]} DROP CONSTRAINT "{row["conname"]}"')
        for row in indexes:
            await self.connection.execute(f'DROP INDEX "{row["indexname"]}"')
        self.saved = [row["indexdef"] for row in indexes]
        self.saved += [f'ALTER TABLE {row["tab"]} ADD CONSTRAINT "{row["conname"]}" {row["def"]}' for row in foreign]

    async def write(self, tablename: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        await self.connection.copy_records_to_table(tablename, records=rows, columns=list(columns))

    async def finish(self, tablenames: list[str]) -> None:
        await self.connection.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in self.saved:
            await self.connection.execute(statement)
        for name in tablenames:
            await self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT coalesce(max(id), 1) FROM \"{name}\"))"
            )


class SQLiteWriter:
    def __init__(self, connection):
        self.connection = connection

    async def first_id(self, tablename: str) -> int:
        async with self.connection.execute(f'SELECT coalesce(max(id), 0) + 1 AS next_id FROM "{tablename}"') as cursor:
            return int((await cursor.fetchone())["next_id"])  # Piccolo's connections return rows as dicts

    async def drop_indexes(self, tablenames: list[str]) -> None:
        """SQLite keeps its indexes (a smaller N)."""

    async def write(self, tablename: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        # Piccolo's adapters (registered with sqlite3 for the whole process) store dates and times as it does.
        sql = f'INSERT INTO "{tablename}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= SQLITE_BATCH:
                await self.connection.executemany(sql, batch)
                batch = []
        if batch:
            await self.connection.executemany(sql, batch)

    async def finish(self, tablenames: list[str]) -> None:
        """Nothing to do: SQLite's ids continue after the highest."""


async def load_scale(settings, count: int, slugs: list[str] | None = None, today: date | None = None) -> dict[str, int]:
    """Adds ``count`` generated customers (split evenly over ``slugs``, default: every tenant with a
    ``demo.toml``) in one transaction; prints and returns the rows written per table."""
    from mypage.db.engine import refresh_statistics
    from mypage.db.transaction import atomic
    from mypage.tenancy.registry import TenantRegistry

    today = today or date.today()
    registry = TenantRegistry.load(settings.tenants_dir, settings.themes_dir)
    chosen = slugs or [s for s in registry.slugs if (registry.get(s).folder / "demo.toml").is_file()]
    for slug in chosen:
        if slug not in registry.slugs or not (registry.get(slug).folder / "demo.toml").is_file():
            raise click.ClickException(f"tenant {slug!r} has no demo.toml")
    tablenames = [t._meta.tablename for t in TABLES]
    counts: dict[str, int] = {}
    started = time.monotonic()
    async with atomic() as transaction:
        connection = transaction.connection
        writer = PostgresWriter(connection) if settings.uses_postgres else SQLiteWriter(connection)
        await writer.drop_indexes(tablenames)
        for position, slug in enumerate(chosen):
            share = count // len(chosen) + (1 if position < count % len(chosen) else 0)
            if not share:
                continue
            ids = {name: await writer.first_id(name) for name in ("customers", "contracts", "invoices")}
            rows = ScaleRows(slug, Profile.load(registry.get(slug).folder / "demo.toml"), share, ids, today)
            for table, columns, generate in (
                (Customer, rows.customer_columns, rows.customers),
                (Contract, rows.contract_columns, rows.contracts),
                (PhoneLine, rows.phone_line_columns, rows.phone_lines),
                (Invoice, rows.invoice_columns, rows.invoices),
                (InvoiceLine, rows.invoice_line_columns, rows.invoice_lines),
                (CallRecord, rows.call_columns, rows.call_records),
            ):
                name = table._meta.tablename
                step = time.monotonic()
                before = counts.get(name, 0)
                await writer.write(name, columns, _counted(generate(), counts, name))
                click.echo(f"{slug}: {counts[name] - before:,} {name} ({time.monotonic() - step:.1f} s)")
        step = time.monotonic()
        await writer.finish(tablenames)
        if settings.uses_postgres:
            click.echo(f"indexes and foreign keys made again ({time.monotonic() - step:.1f} s)")
    if settings.uses_postgres:
        step = time.monotonic()
        await refresh_statistics(TABLES)
        click.echo(f"analysed ({time.monotonic() - step:.1f} s)")
    click.echo(
        f"{count:,} customers in {time.monotonic() - started:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )
    return counts
