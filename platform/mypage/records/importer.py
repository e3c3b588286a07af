"""``mypage import <tenant> <kind> <file.csv>``: the operator's records from CSV files (docs/import.md).

Every row is parsed and checked first (line, column and reason for each problem); only a file without
any problem is written, all of it inside one transaction. Rows are upserted by their natural key
(customer number, contract number, invoice number, call record key), so importing a file again changes
nothing. Kinds: ``customers``, ``contracts``, ``invoices`` (one row per invoice line), ``calls``.
"""

from __future__ import annotations

from pathlib import Path

import click

from mypage.records import csvparse as p
from mypage.records.csvparse import FieldError, RowError
from mypage.records.imports import calls, contracts, customers, invoices
from mypage.records.imports.base import ImportResult, Progress, parse_rows
from mypage.records.tables import (
    BillingGroup,
    CallRecord,
    Contract,
    ContractOption,
    Customer,
    Device,
    Invoice,
    InvoiceLine,
    PhoneLine,
)

KINDS = ("customers", "contracts", "invoices", "calls")
PROGRESS_FROM = 500
"""Show a progress bar (on stderr) for files with at least this many rows."""
MAX_REPORTED = 200
MODULES = {"customers": customers, "contracts": contracts, "invoices": invoices, "calls": calls}

__all__ = ["KINDS", "ImportResult", "after_import", "import_file", "import_rows", "parse_rows", "read_data", "run_import"]


async def import_rows(
    tenant: str, kind: str, csv_file: p.CsvFile, *, show_progress: bool = False, progress: Progress | None = None, **audit
) -> ImportResult:
    """Validates every row, then (only if there is no problem) writes them all in one transaction.

    ``progress`` (the console's job) is advanced row by row while writing; else a bar on stderr for large files
    when ``show_progress``. ``audit``: more detail for the ``records.import`` audit event (who, which file).
    """
    import asyncio

    from mypage.audit.log import AuditLog
    from mypage.db.transaction import atomic

    if kind == "calls" and _uses_postgres():
        from mypage.records.imports.calls_copy import import_calls

        progress = progress or Progress(
            len(csv_file.rows), f"{kind} を書き込み中", show_progress and len(csv_file.rows) >= PROGRESS_FROM
        )
        with progress:
            return await import_calls(tenant, csv_file.header, lambda: csv_file.rows, progress, **audit)
    result = ImportResult(kind=kind, rows=len(csv_file.rows))
    rows, errors = await asyncio.to_thread(parse_rows, kind, csv_file)  # pure Python: off the server's event loop
    if errors:
        result.errors = errors
        return result
    # Rows whose key columns failed to parse were reported; cross-row checks need the keys.
    errors_after, context = await MODULES[kind].check(tenant, rows)
    if errors_after:
        result.errors = sorted(errors_after, key=lambda e: (e.line, e.column))
        return result
    progress = progress or Progress(len(rows), f"{kind} を書き込み中", show_progress and len(rows) >= PROGRESS_FROM)
    with progress:
        async with atomic():
            await MODULES[kind].write(tenant, rows, context, result, progress)
            await AuditLog(tenant).record(
                "records.import", kind=kind, rows=result.rows, created=result.created, updated=result.updated, **audit
            )
    return result


def _uses_postgres() -> bool:
    from mypage.db.engine import current_engine

    return current_engine().engine_type == "postgres"


async def import_file(
    tenant: str, kind: str, path: str | Path, encoding: str = "auto", *, show_progress: bool = False
) -> ImportResult:
    if kind == "calls" and _uses_postgres():
        return await _stream_calls(tenant, path, encoding, show_progress)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return ImportResult(kind=kind, errors=[RowError(0, "", f"ファイルを読めません: {exc.strerror or exc}")])
    csv_file = read_data(kind, data, encoding)
    if isinstance(csv_file, ImportResult):
        return csv_file
    return await import_rows(tenant, kind, csv_file, show_progress=show_progress)


def read_data(kind: str, data: bytes, encoding: str = "auto") -> p.CsvFile | ImportResult:
    """The file's rows, or a failed result saying why the file cannot be read (empty, not CSV, encoding)."""
    if not data.strip(b"\xef\xbb\xbf \r\n\t"):
        return ImportResult(kind=kind, errors=[RowError(0, "", "ファイルが空です。")])
    try:
        return p.read_csv(data, encoding)
    except p.CsvSyntaxError as exc:
        return ImportResult(kind=kind, errors=[RowError(exc.line, "", str(exc))])
    except FieldError as exc:
        return ImportResult(kind=kind, errors=[RowError(0, "", str(exc))])


async def _stream_calls(tenant: str, path: str | Path, encoding: str, show_progress: bool) -> ImportResult:
    """Call records on PostgreSQL, read from the file a row at a time into COPY (files of any size)."""
    from mypage.records.imports.calls_copy import import_calls

    try:
        _, header, rows = p.stream_csv(path, encoding)
        if not header:
            return ImportResult(kind="calls", errors=[RowError(0, "", "ファイルが空です。")])
        size = Path(path).stat().st_size
    except OSError as exc:
        return ImportResult(kind="calls", errors=[RowError(0, "", f"ファイルを読めません: {exc.strerror or exc}")])
    except p.CsvSyntaxError as exc:
        return ImportResult(kind="calls", errors=[RowError(exc.line, "", str(exc))])
    except FieldError as exc:
        return ImportResult(kind="calls", errors=[RowError(0, "", str(exc))])
    # The number of rows is not known before the end: the bar goes by an estimate (about 80 bytes a row).
    estimate = max(1, size // 80)
    with Progress(estimate, "calls を書き込み中", show_progress and estimate >= PROGRESS_FROM) as progress:
        opened = [rows]  # read again from the start if the fast path gives up
        return await import_calls(tenant, header, lambda: opened.pop() if opened else p.stream_csv(path, encoding)[2], progress)


ANALYZE_FROM = 1000
"""Rows created or changed by one import from which its tables' statistics are refreshed (PostgreSQL)."""
TABLES_OF_KIND = {
    "customers": (Customer, Device),
    "contracts": (BillingGroup, Contract, ContractOption, PhoneLine),
    "invoices": (Invoice, InvoiceLine),
    "calls": (CallRecord,),
}


async def after_import(settings, tenant: str, result: ImportResult, portal=None) -> None:
    """Called once the import's transaction has committed, with ``result.added`` = [(customer_id, kind), ...]
    of what was newly added (kinds: ``customer``, ``contract``, ``invoice``, ``call``).

    Hook for notifying members (e.g. of new invoices): add the call here.
    """
    if result.created + result.updated >= ANALYZE_FROM:
        from mypage.db.engine import refresh_statistics

        await refresh_statistics(TABLES_OF_KIND[result.kind])
    new_invoices = [customer_id for customer_id, kind in result.added if kind == "invoice"]
    if new_invoices:
        from mypage.members.notify import notify_members
        from mypage.portal import Portal

        portal = portal or Portal(settings)
        config = portal.tenants.get(tenant)
        for customer_id in new_invoices:
            await notify_members(portal, config, customer_id, "invoice", {})


async def run_import(settings, tenant: str, kind: str, path: str, encoding: str = "auto") -> int:
    """The CLI's ``mypage import``: 0 on success, 1 when the file has problems (nothing written), 2 for usage errors."""
    from mypage.tenancy.registry import TenantConfigError, TenantRegistry

    try:
        registry = TenantRegistry.load(settings.tenants_dir, settings.themes_dir)
    except TenantConfigError as exc:
        click.echo(f"エラー: テナント設定を読めません:\n{exc}", err=True)
        return 2
    if tenant not in registry.slugs:
        click.echo(f"エラー: テナント「{tenant}」はありません(あるのは: {', '.join(registry.slugs)})。", err=True)
        return 2
    if kind not in KINDS:
        click.echo(f"エラー: 種類「{kind}」には対応していません({', '.join(KINDS)})。", err=True)
        return 2
    result = await import_file(tenant, kind, path, encoding, show_progress=True)
    if result.errors:
        for error in result.errors[:MAX_REPORTED]:
            click.echo(f"{path}: {error}", err=True)
        if len(result.errors) > MAX_REPORTED:
            click.echo(f"ほか {len(result.errors) - MAX_REPORTED} 件のエラーがあります。", err=True)
        click.echo(f"{len(result.errors)} 件のエラーがあるため、何も取り込んでいません。", err=True)
        return 1
    await after_import(settings, tenant, result)
    click.echo(result.summary())
    return 0
