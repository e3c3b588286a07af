"""``mypage import``: CSV files of customers, contracts, invoices and calls (docs/import.md)."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from conftest import run
from mypage.records.importer import import_file, run_import
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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"


def q(query):
    """Runs a Piccolo query to completion."""
    return run(query.run())


def imp(settings, tenant, kind, name, encoding="auto") -> int:
    return run(run_import(settings, tenant, kind, str(FIXTURES / name), encoding))


def count(table, tenant="aicom") -> int:
    return q(table.count().where(table.tenant == tenant))


def customer(number, tenant="aicom") -> dict:
    return q(Customer.select().where(Customer.tenant == tenant).where(Customer.number == number).first())


def load_all(settings, tenant="aicom") -> None:
    for kind, name in (
        ("customers", "customers.csv"),
        ("contracts", "contracts.csv"),
        ("invoices", "invoices.csv"),
        ("calls", "calls.csv"),
    ):
        assert imp(settings, tenant, kind, name) == 0, kind


def test_customers_utf8_bom_normalised(db, capsys):
    assert imp(db, "aicom", "customers", "customers.csv") == 0
    assert "新規 3件" in capsys.readouterr().out
    taro = customer("0001234567")
    assert taro["name"] == "甲賀\u3000太郎"
    assert taro["name_kana"] == "コウカ\u3000タロウ"
    assert taro["phone"] == "0748621234"
    assert taro["postal_code"] == "5280005"
    assert taro["address2"] == "1-2-3"
    assert taro["email"] == "taro@example.jp"
    assert taro["payment_method"] == "bank" and taro["bank_last4"] == "1234"
    assert taro["services"] == "internet,tv"
    assert str(taro["customer_since"]) == "2019-04-01"
    assert customer("0001234568")["name_kana"] == "ミナクチ\u3000ハナコ"
    devices = q(Device.select(Device.kind, Device.device_id).where(Device.tenant == "aicom").order_by(Device.device_id))
    assert devices == [
        {"kind": "STB", "device_id": "STB9000001"},
        {"kind": "STB", "device_id": "STB9000002"},
        {"kind": "Hit pot", "device_id": "HP9000003"},
    ] or sorted(d["device_id"] for d in devices) == ["HP9000003", "STB9000001", "STB9000002"]


def test_customers_cp932_with_japanese_headers_updates_existing(db, capsys):
    assert imp(db, "aicom", "customers", "customers.csv") == 0
    capsys.readouterr()
    assert imp(db, "aicom", "customers", "customers_cp932.csv") == 0
    out = capsys.readouterr().out
    assert "新規 1件" in out and "更新 1件" in out
    jiro = customer("0001234570")
    assert jiro["name_kana"] == "シガラキ\u3000ジロウ"
    assert jiro["payment_method"] == "card" and jiro["card_last4"] == "1111"
    taro = customer("0001234567")
    assert taro["services"] == "internet,tv"
    assert taro["email"] == "taro@example.jp", "columns missing from the file are left as they were"
    assert count(Customer) == 4
    # Explicit encodings work too, and the wrong one is a clear error.
    assert imp(db, "aicom", "customers", "customers_cp932.csv", "cp932") == 0
    assert imp(db, "aicom", "customers", "customers_cp932.csv", "utf-8") == 1
    assert "文字コード" in capsys.readouterr().err


def test_file_with_errors_writes_nothing_and_reports_line_column_reason(db, capsys):
    assert imp(db, "aicom", "customers", "customers_errors.csv") == 1
    err = capsys.readouterr().err
    assert "3行目 列「phone」: 電話番号は10桁または11桁" in err
    assert "4行目 列「customer_since」" in err
    assert "5行目 列「name」: 必須です" in err
    assert "6行目 列「payment_method」" in err
    assert "何も取り込んでいません" in err
    assert count(Customer) == 0

    result = run(import_file("aicom", "customers", FIXTURES / "customers_errors.csv"))
    assert {(e.line, e.column) for e in result.errors} == {
        (3, "phone"),
        (4, "customer_since"),
        (5, "name"),
        (6, "payment_method"),
    }
    # After fixing the field errors, the duplicate key (line 7) is still refused, and nothing is written.
    fixed = (FIXTURES / "customers_errors.csv").read_text(encoding="utf-8").splitlines()
    good = [fixed[0], fixed[1], fixed[6]]
    result = run(_import_text(db, "\n".join(good) + "\n"))
    assert [(e.line, e.column) for e in result.errors] == [(3, "customer_number")]
    assert "2行目にもあります" in result.errors[0].reason
    assert count(Customer) == 0


async def _import_text(settings, text, kind="customers", tenant="aicom", encoding="utf-8"):
    from mypage.records.csvparse import read_csv
    from mypage.records.importer import import_rows

    return await import_rows(tenant, kind, read_csv(text.encode(encoding)))


def test_hostile_files_never_crash(db, tmp_path, capsys):
    cases = {
        "empty.csv": b"",
        "blank.csv": b"\r\n\r\n",
        "header_only.csv": b"customer_number,name\n",
        "wrong_header.csv": "番号,氏名\n1,a\n".encode(),
        "binary.csv": b"\x00\x01\x02\xff\xfe",
        "huge_number.csv": b"invoice_number,customer_number,month,issued_on,description,amount\nX1,1,2024-10,2024-11-01,a,99999999999999999999999\n",
        "bad_dates.csv": b"invoice_number,customer_number,month,issued_on,description,amount\nX1,1,2024-13,2024-11-31,a,1\n",
        "unknown_customer.csv": b"invoice_number,customer_number,month,issued_on,description,amount\nX1,999,2024-10,2024-11-01,a,1\n",
        "ragged.csv": b'customer_number,name\n1,a,b,c\n"unterminated,x\n',
        "long.csv": ("customer_number,name\n1," + "長" * 500 + "\n").encode(),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        kind = "invoices" if name in ("huge_number.csv", "bad_dates.csv", "unknown_customer.csv") else "customers"
        assert run(run_import(db, "aicom", kind, str(path), "auto")) == 1, name
    err = capsys.readouterr().err
    assert "ファイルが空です" in err
    assert "不明な列です" in err
    assert "お客様番号「999」のお客様が登録されていません" in err
    assert "年月は YYYY-MM" in err and "日付は YYYY-MM-DD" in err
    assert "Traceback" not in err
    assert count(Customer) == 0 and count(Invoice) == 0


def test_unknown_tenant_and_cli(db, tmp_path, monkeypatch):
    assert imp(db, "nosuch", "customers", "customers.csv") == 2
    from mypage import cli

    monkeypatch.setattr(cli, "_settings", lambda: db)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["import", "nosuch", "customers", str(FIXTURES / "customers.csv")])
    assert result.exit_code == 2
    result = runner.invoke(cli.main, ["import", "aicom", "customers", str(FIXTURES / "customers.csv")])
    assert result.exit_code == 0, result.output
    assert "新規 3件" in result.output


def test_full_import_and_double_import_does_not_duplicate(db, capsys):
    load_all(db)
    counts = {
        t: count(t)
        for t in (Customer, Device, BillingGroup, Contract, ContractOption, PhoneLine, Invoice, InvoiceLine, CallRecord)
    }
    assert counts[Customer] == 3 and counts[Contract] == 3 and counts[BillingGroup] == 1
    assert counts[ContractOption] == 2 and counts[PhoneLine] == 2
    assert counts[Invoice] == 2 and counts[InvoiceLine] == 6 and counts[CallRecord] == 5

    contract = q(Contract.select().where(Contract.number == "CAF9000000001").first())
    assert contract["call_details_from"] == "2024-01" and contract["access_key"] == "aaAA1234"
    group = q(BillingGroup.select().first())
    assert group["code"] == "BG9001" and group["name"] == "甲賀太郎様 一括"
    invoice = q(Invoice.select().where(Invoice.number == "INV202410001").first())
    lines = q(InvoiceLine.select().where(InvoiceLine.invoice == invoice["id"]).order_by(InvoiceLine.position))
    assert [line["amount"] for line in lines] == [5280, 3300, 124, 1000]
    assert [line["tax_rate"] for line in lines] == [10, 10, 10, 8]
    assert invoice["billing_group"] == group["id"] and invoice["month"] == "2024-10"
    calls = q(CallRecord.select().order_by(CallRecord.started_at))
    assert [c["duration_seconds"] for c in calls] == [34, 62, 186, 5, 600]
    assert calls[3]["callee"] == "09030606544" and calls[3]["record_key"] == "K-0001"
    assert all(c["month"] == "2024-10" for c in calls), "23:59 JST on the 31st stays in October"
    assert calls[0]["record_key"].startswith("h:")
    capsys.readouterr()

    load_all(db)
    out = capsys.readouterr().out
    assert out.count("新規 0件 / 更新 0件") == 4, out
    assert {t: count(t) for t in counts} == counts

    # Changing a line of an invoice replaces its lines; the invoice is updated, not duplicated.
    changed = (FIXTURES / "invoices.csv").read_text(encoding="utf-8").replace("3300,10,", "3500,10,")
    result = run(_import_text(db, changed, kind="invoices"))
    assert result.ok and result.updated == 1 and result.unchanged == 1 and result.created == 0
    lines = q(InvoiceLine.select().where(InvoiceLine.invoice == invoice["id"]).order_by(InvoiceLine.position))
    assert [line["amount"] for line in lines] == [5280, 3500, 124, 1000]
    assert count(InvoiceLine) == 6


def test_new_records_are_listed_for_notification(db):
    for kind, name in (("customers", "customers.csv"), ("contracts", "contracts.csv")):
        assert imp(db, "aicom", kind, name) == 0
    result = run(import_file("aicom", "invoices", FIXTURES / "invoices.csv"))
    taro, shoji = customer("0001234567")["id"], customer("0001234569")["id"]
    assert result.added == [(taro, "invoice"), (shoji, "invoice")]
    again = run(import_file("aicom", "invoices", FIXTURES / "invoices.csv"))
    assert again.added == []


def test_tenant_isolation(db):
    load_all(db, "aicom")
    load_all(db, "nmedia")
    for table in (Customer, Contract, Invoice, InvoiceLine, CallRecord, Device, PhoneLine):
        assert count(table, "aicom") == count(table, "nmedia") > 0
    aicom, nmedia = customer("0001234567", "aicom"), customer("0001234567", "nmedia")
    assert aicom["id"] != nmedia["id"]
    contract = q(Contract.select().where(Contract.tenant == "nmedia").where(Contract.number == "CAF9000000001").first())
    assert contract["customer"] == nmedia["id"]
    # A contract file for itscom cannot refer to another tenant's customers.
    result = run(import_file("itscom", "contracts", FIXTURES / "contracts.csv"))
    assert not result.ok and all(e.column == "customer_number" for e in result.errors)
    assert count(Contract, "itscom") == 0


def test_reference_checks(db):
    assert imp(db, "aicom", "customers", "customers.csv") == 0
    assert imp(db, "aicom", "contracts", "contracts.csv") == 0
    text = (
        "invoice_number,customer_number,month,issued_on,contract_number,billing_group,description,amount\n"
        "X1,0001234568,2024-10,2024-11-01,CAF9000000001,,a,1\n"
        "X2,0001234568,2024-10,2024-11-01,,BG9001,a,1\n"
        "X3,0001234568,2024-10,2024-11-01,CAF0000009999,,a,1\n"
        "X3,0001234568,2024-11,2024-11-01,,,b,1\n"
    )
    result = run(_import_text(db, text, kind="invoices"))
    assert [(e.line, e.column) for e in result.errors] == [
        (2, "contract_number"),
        (3, "billing_group"),
        (4, "contract_number"),
        (5, "month"),
    ]
    calls = "contract_number,started_at,kind,caller,callee,duration,charge\nNOPE,2024-10-01 10:00,x,0748621234,117,00:00:10,8\n"
    result = run(_import_text(db, calls, kind="calls"))
    assert [(e.line, e.column) for e in result.errors] == [(2, "contract_number")]
    phones = "contract_number,customer_number,phone_numbers\nCAF9000000009,0001234568,0748621234\n"
    result = run(_import_text(db, phones, kind="contracts"))
    assert [(e.line, e.column) for e in result.errors] == [(2, "phone_numbers")]
    assert count(Invoice) == 0 and count(CallRecord) == 0 and count(Contract) == 3


def _calls_file(tmp_path, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / "calls.csv"
    header = "contract_number,started_at,kind,caller,callee,duration,charge,record_key"
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


GOOD_CALL = "CAF9000000002,2024-10-01 10:19:05,ひかり電話・県内,0748621235,0638846327,00:00:34,8,K-{n}"


def test_call_import_with_a_bad_line_writes_nothing(db, tmp_path):
    """On PostgreSQL the call records go through COPY into a temporary table, in the transaction: a file with a
    bad line anywhere (or a problem only the whole file shows) leaves the table as it was."""
    for kind, name in (("customers", "customers.csv"), ("contracts", "contracts.csv")):
        assert imp(db, "aicom", kind, name) == 0
    good = [GOOD_CALL.format(n=n) for n in range(1, 1201)]
    bad_duration = [*good[:900], "CAF9000000002,2024-10-01 10:19:05,x,0748621235,0638846327,長い,8,K-bad", *good[900:]]
    result = run(import_file("aicom", "calls", _calls_file(tmp_path, bad_duration)))
    assert [(e.line, e.column) for e in result.errors] == [(902, "duration")]
    assert count(CallRecord) == 0

    unknown_and_twice = [*good, GOOD_CALL.format(n=7), GOOD_CALL.replace("CAF9000000002", "CAF0000009999").format(n="x")]
    result = run(import_file("aicom", "calls", _calls_file(tmp_path, unknown_and_twice)))
    assert [(e.line, e.column) for e in result.errors] == [(1202, "record_key"), (1203, "contract_number")]
    assert "8行目にもあります" in result.errors[0].reason
    assert count(CallRecord) == 0

    unclosed = [*good[:1000], 'CAF9000000002,"2024-10-01 10:19:05,x', *good[1000:]]
    result = run(import_file("aicom", "calls", _calls_file(tmp_path, unclosed)))
    assert [e.line for e in result.errors] == [1002] and "引用符" in result.errors[0].reason
    assert count(CallRecord) == 0

    # The same file without the bad line goes in whole, read in CP932 as well; a second time changes nothing.
    result = run(import_file("aicom", "calls", _calls_file(tmp_path, good, "cp932")))
    assert result.ok and result.created == 1200 and count(CallRecord) == 1200
    assert result.added == [(customer("0001234567")["id"], "call")]
    changed = [g.replace(",8,", ",9,") if g.endswith("K-5") else g for g in good]
    result = run(import_file("aicom", "calls", _calls_file(tmp_path, changed)))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1199)
    assert q(CallRecord.select(CallRecord.charge).where(CallRecord.record_key == "K-5").first())["charge"] == 9


def test_call_import_reports_bytes_that_are_no_text(db, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_bytes(b"contract_number,started_at,kind,caller,callee,duration,charge\n" + b"A,\xff\xfe,x\n" * 3)
    result = run(import_file("aicom", "calls", path, "utf-8"))
    assert len(result.errors) == 1 and "2行目: 文字コード" in result.errors[0].reason
    assert count(CallRecord) == 0


def _calls(settings, tmp_path, lines: list[str]):
    for kind, name in (("customers", "customers.csv"), ("contracts", "contracts.csv")):
        assert imp(settings, "aicom", kind, name) == 0
    return run(import_file("aicom", "calls", _calls_file(tmp_path, lines)))


def test_call_values_whatever_the_cell_formats(db, tmp_path):
    """PostgreSQL's COPY path reads plain cells itself and the others through the columns' parsers: every
    row must come out as the parsers say (the same derived 明細キー for the same call), on both databases."""
    from datetime import datetime

    from mypage.records.csvparse import JST
    from mypage.records.imports.calls import derived_record_key

    c = "CAF9000000002"
    lines = [
        f"{c},2024-10-31 23:59:59,ひかり電話・県内,0748621235,0638846327,34,8,",
        f"{c},2024-11-01T00:00,ひかり電話・県内,0748621235,117,00:01:02,1000,",
        f"{c},2024-11-01T09:30:00+09:00,ひかり電話・県外,0748621235,0638846327,62,16,",
        f"{c},2024/11/02 8:05,移動体,０７４８６２１２３５,非通知,1:02,24,",
        rf"{c},2024-11-03 10:00:00,ひかり電話\国際	など,0748621235,0638846327,5,8,K\1",
        f"{c},2024-11-04 10:00:00,ひかり電話・県内,0748621235,0638846327,5,8,  ",
    ]
    result = _calls(db, tmp_path, lines)
    assert result.ok and result.created == 6, result.errors
    rows = q(CallRecord.select().where(CallRecord.tenant == "aicom").order_by(CallRecord.started_at))
    got = [
        (r["started_at"].astimezone(JST), r["month"], r["kind"], r["caller"], r["callee"], r["duration_seconds"], r["charge"])
        for r in rows
    ]
    at = [datetime(2024, 10, 31, 23, 59, 59), datetime(2024, 11, 1, 0, 0), datetime(2024, 11, 1, 9, 30)]
    at += [datetime(2024, 11, 2, 8, 5), datetime(2024, 11, 3, 10), datetime(2024, 11, 4, 10)]
    at = [t.replace(tzinfo=JST) for t in at]
    assert got == [
        (at[0], "2024-10", "ひかり電話・県内", "0748621235", "0638846327", 34, 8),
        (at[1], "2024-11", "ひかり電話・県内", "0748621235", "117", 62, 1000),
        (at[2], "2024-11", "ひかり電話・県外", "0748621235", "0638846327", 62, 16),
        (at[3], "2024-11", "移動体", "0748621235", "非通知", 62, 24),
        (at[4], "2024-11", "ひかり電話\\国際\tなど", "0748621235", "0638846327", 5, 8),
        (at[5], "2024-11", "ひかり電話・県内", "0748621235", "0638846327", 5, 8),
    ]
    keys = [r["record_key"] for r in rows]
    assert keys[4] == "K\\1"
    for i in (0, 1, 2, 3, 5):
        _, caller, callee, seconds = got[i][0], got[i][3], got[i][4], got[i][5]
        assert keys[i] == derived_record_key(c, at[i], caller, callee, seconds)


def test_call_keys_met_late_in_the_file(db, tmp_path, monkeypatch):
    """A 明細キー already stored or twice in the file is found wherever it is (on PostgreSQL the COPY path
    looks up the first rows' keys; for later rows the unique index refuses and the file goes the slow way)."""
    from mypage.records.imports import calls_direct

    monkeypatch.setattr(calls_direct, "CHUNK", 10)
    good = [GOOD_CALL.format(n=n) for n in range(1, 101)]
    result = _calls(db, tmp_path, good[50:])
    assert result.ok and result.created == 50
    result = run(import_file("aicom", "calls", _calls_file(tmp_path, good)))
    assert (result.created, result.updated, result.unchanged) == (50, 0, 50)
    assert count(CallRecord) == 100

    twice = [*[GOOD_CALL.format(n=f"new{n}") for n in range(40)], GOOD_CALL.format(n="new3")]
    result = run(import_file("aicom", "calls", _calls_file(tmp_path, twice)))
    assert [(e.line, e.column) for e in result.errors] == [(42, "record_key")]
    assert "5行目にもあります" in result.errors[0].reason
    assert count(CallRecord) == 100


def test_a_large_import_refreshes_the_planners_statistics(db, monkeypatch):
    """On PostgreSQL, an import that wrote at least ``ANALYZE_FROM`` rows ends with ``ANALYZE`` of the tables of
    its kind (and of no other), so the next pages are planned from the rows just loaded; a smaller one does not."""
    from mypage.db.engine import current_engine
    from mypage.records import importer

    tables = ("customers", "contracts", "contract_options", "invoices")

    def last_analysed() -> dict:
        if not db.uses_postgres:
            return dict.fromkeys(tables)  # SQLite plans without statistics: nothing is run
        rows = run(current_engine().run_ddl("SELECT relname, last_analyze FROM pg_stat_user_tables"))
        return {row["relname"]: row["last_analyze"] for row in rows if row["relname"] in tables}

    before = last_analysed()
    assert imp(db, "aicom", "customers", "customers.csv") == 0
    assert last_analysed() == before, "3 rows: below the threshold"
    monkeypatch.setattr(importer, "ANALYZE_FROM", 3)
    assert imp(db, "aicom", "contracts", "contracts.csv") == 0
    expected = {"contracts", "contract_options"} if db.uses_postgres else set()
    for _ in range(20):  # the server's statistics views may show a report a moment later
        after = last_analysed()
        changed = {table for table in tables if after[table] != before[table]}
        if changed == expected:
            break
        time.sleep(0.1)
    assert changed == expected
