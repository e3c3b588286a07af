"""CSV formula injection: exported text cells that a spreadsheet would run are neutralised (numbers stay
numbers), imported free text that would become a formula is refused, and an unclosed quote is an error with
its line instead of silently merging rows."""

from __future__ import annotations

import csv
import io
import secrets
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import run
from mypage.calls.export import csv_row
from mypage.identity.tables import Account
from mypage.records.csvparse import CsvSyntaxError, read_csv
from mypage.records.importer import import_file, import_rows
from mypage.records.tables import CallRecord, Contract, Customer
from mypage.web.csvout import neutralise, safe_row
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key

JST = timezone(timedelta(hours=9))
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",  # full-width: stored before normalisation, or normalised by the spreadsheet
    "＋1",
    "－1+1",
    "＠SUM(1)",
    "=1+1",  # what NFKC makes of ＝1+1
]


def test_neutralise_text_but_not_numbers():
    for payload in PAYLOADS:
        assert neutralise(payload) == "'" + payload
    assert neutralise("ひかり電話・県内") == "ひかり電話・県内"
    assert neutralise("a=b") == "a=b"
    # numbers stay numbers, negative ones included (a discount must remain summable)
    assert neutralise(-300) == -300 and neutralise(0) == 0 and neutralise(12.5) == 12.5
    assert safe_row(["=1", -5, "x"]) == ["'=1", -5, "x"]


def _setup_calls(tenant: str = "nmedia") -> dict[str, str]:
    async def go():
        customer = Customer(tenant=tenant, number="CAF0000000001", name="顧客", name_kana="コキヤク")
        await customer.save()
        account = Account(
            tenant=tenant,
            customer=customer.id,
            login_id="csvuser",
            login_id_display="csvuser",
            email="csv@example.jp",
            password_hash="x",
            role="owner",
        )
        await account.save()
        contract = Contract(
            tenant=tenant, customer=customer.id, number="CAF0000000001", service="phone", call_details_from="2023-12"
        )
        await contract.save()
        start = datetime(2023, 12, 1, 10, 0, tzinfo=JST)
        for index, kind in enumerate([*PAYLOADS, "ひかり電話・県内"]):
            await CallRecord(
                tenant=tenant,
                contract=contract.id,
                month="2023-12",
                started_at=start + timedelta(minutes=index),
                kind=kind,
                caller="0611115555",
                callee="0638840000",
                duration_seconds=34,
                charge=-300 if index == 0 else 8,
                record_key=f"k{index}",
            ).save()
        session_id = secrets.token_urlsafe(32)
        now = int(time.time())
        await DatabaseSessionStore().save(
            _store_key(session_id), {"_tenant": tenant, "account_id": account.id, "login_at": now, "_last_seen": now}, 3600
        )
        return {COOKIE_NAME: session_id}

    return run(go())


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_exported_call_csv_neutralises_formula_cells(live, encoding):
    cookies = _setup_calls()
    attacker = live.tenant("nmedia")
    try:
        for name, value in cookies.items():
            attacker.client.cookies.set(name, value)
        response = attacker.get(f"/calls/CAF0000000001/2023-12/csv?encoding={encoding}")
        assert response.status_code == 200, response.text[:300]
        content_type = response.headers["content-type"]
        assert content_type.count("charset") == 1
        assert content_type == ("text/csv; charset=shift_jis" if encoding == "cp932" else "text/csv; charset=utf-8")
        text = response.content.decode("cp932" if encoding == "cp932" else "utf-8-sig", errors="replace")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    finally:
        attacker.close()
    kinds = [row[1] for row in rows[1:]]
    for kind in kinds[:-1]:
        assert kind.startswith("'"), kind
    if encoding == "utf-8":
        assert kinds == ["'" + p for p in PAYLOADS] + ["ひかり電話・県内"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r", "＝", "＋", "＠")), row
            assert not cell.startswith("-") or cell.lstrip("-").isdigit(), row
    assert rows[1][5] == "-300"  # a negative amount stays a number
    assert rows[2][5] == "8"


def test_csv_row_cells_are_neutralised_after_normalisation():
    row = {
        "started_at": datetime(2023, 12, 1, tzinfo=JST),
        "kind": "=1+1",
        "caller": "+81",
        "callee": "@x",
        "duration_seconds": 1,
        "charge": -1,
    }
    cells = safe_row(csv_row(row))
    assert cells[1:4] == ["'=1+1", "'+81", "'@x"] and cells[5] == -1


CALLS_HEADER = "contract_number,started_at,kind,caller,callee,duration,charge\n"


def _calls_contract(tenant="aicom"):
    async def go():
        customer = Customer(tenant=tenant, number="0001234567", name="顧客")
        await customer.save()
        await Contract(tenant=tenant, customer=customer.id, number="CAF9000000001", service="phone").save()

    run(go())


@pytest.mark.parametrize(
    "kind", ["=cmd|' /C calc'!A0", "+SUM(1)", "@SUM(1)", "＝1+1", "＋1", "＠SUM(1)", "-2+3+cmd|' /C calc'!A0", "－1+1"]
)
def test_import_refuses_free_text_that_is_a_formula(db, kind):
    _calls_contract()
    text = CALLS_HEADER + f'CAF9000000001,2024-01-05 10:00:00,"{kind}",0611115555,0638840000,00:00:34,8\n'
    result = run(import_rows("aicom", "calls", read_csv(text.encode())))
    assert result.errors, kind
    error = result.errors[0]
    assert error.line == 2 and error.column == "kind" and "数式" in error.reason
    assert str(error).startswith("2行目 列「kind」: ")
    assert run(CallRecord.count().where(CallRecord.tenant == "aicom").run()) == 0


def test_import_keeps_ordinary_text_and_plain_dashes(db):
    _calls_contract()
    rows = "".join(
        f"CAF9000000001,2024-01-05 10:0{i}:00,{kind},0611115555,0638840000,00:00:34,8\n"
        for i, kind in enumerate(["ひかり電話・県内", "-", "--", "a=b"])
    )
    result = run(import_rows("aicom", "calls", read_csv((CALLS_HEADER + rows).encode())))
    assert not result.errors, [str(e) for e in result.errors]
    # customer names go through the same check
    names = 'customer_number,name\n0000001,=HYPERLINK("http://x")\n0000002,山田　太郎\n'
    result = run(import_rows("aicom", "customers", read_csv(names.encode())))
    assert [(e.line, e.column) for e in result.errors] == [(2, "name")]


def test_negative_amounts_are_still_numbers_on_import(db):
    from mypage.records import csvparse

    assert csvparse.integer("-300") == -300 and csvparse.integer("▲300") == -300


def test_unclosed_quote_is_an_error_with_its_line(db, tmp_path):
    text = (
        CALLS_HEADER
        + "CAF9000000001,2024-01-05 10:00:00,ひかり電話,0611115555,0638840000,00:00:34,8\n"
        + 'CAF9000000001,2024-01-05 10:01:00,"ひかり電話,0611115555,0638840000,00:00:34,8\n'
        + "CAF9000000001,2024-01-05 10:02:00,ひかり電話,0611115555,0638840000,00:00:34,8\n"
    )
    with pytest.raises(CsvSyntaxError) as raised:
        read_csv(text.encode())
    assert raised.value.line == 3
    path = tmp_path / "calls.csv"
    path.write_text(text, encoding="utf-8")
    result = run(import_file("aicom", "calls", path))
    assert len(result.errors) == 1
    assert result.errors[0].line == 3 and "引用符" in result.errors[0].reason
    assert str(result.errors[0]).startswith("3行目: 引用符")


def test_quote_closed_on_a_later_line_does_not_merge_rows(db, tmp_path):
    # the quote opened on line 3 is "closed" by the one on line 4: rows 3 and 4 would become one
    text = (
        CALLS_HEADER
        + 'CAF9000000001,2024-01-05 10:01:00,"ひかり電話,0611115555,0638840000,00:00:34,8\n'
        + 'CAF9000000001,2024-01-05 10:02:00,"x",0611115555,0638840000,00:00:34,8\n'
        + "CAF9000000001,2024-01-05 10:03:00,ひかり電話,0611115555,0638840000,00:00:34,8\n"
    )
    with pytest.raises(CsvSyntaxError) as raised:
        read_csv(text.encode())
    assert raised.value.line == 2
    # and a quote closed right before a comma (csv would accept it) is caught by the line break it swallowed
    sneaky = CALLS_HEADER + 'CAF9000000001,"2024-01-05 10:01:00,x\nCAF9000000001",ひかり電話,0611115555,0638840000,00:00:34,8\n'
    with pytest.raises(CsvSyntaxError) as raised:
        read_csv(sneaky.encode())
    assert raised.value.line == 2
