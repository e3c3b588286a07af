"""監査ログ in the console: filters by actor, action, customer and date; the CSV export is Excel-safe; only
the tenant's own entries."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from feature_support import make_account, make_customer

from admin_support import make_staff, staff_login
from conftest import run
from mypage.audit.log import AuditLog


def _record(tenant: str, event: str, **fields) -> None:
    run(AuditLog(tenant).record(event, **fields))


def test_filters_and_csv(app, client_for):
    customer = make_customer("aicom", "0000005555")
    account = make_account("aicom", customer, "audited")
    boss = make_staff("aicom", "boss@example.jp", "admin", name="=HYPERLINK(1)")
    viewer = make_staff("aicom", "viewer@example.jp", "viewer")
    client = client_for("aicom")
    assert staff_login(client, boss).status_code == 303
    assert client.submit(f"/admin/customers/{customer}/accounts/{account}", {"action": "end-sessions"}).status_code == 200
    _record("aicom", "login.failure", account_id=account, address="192.0.2.1")
    _record("itscom", "admin.customer.unlock", staff_id=boss.id, actor="other tenant", customer_id=customer)

    everything = client.get("/admin/audit")
    assert (
        everything.status_code == 200 and "admin.customer.end_sessions" in everything.text and "login.failure" in everything.text
    )
    assert "other tenant" not in everything.text
    by_actor = client.get("/admin/audit", params={"actor": boss.id})
    assert "admin.customer.end_sessions" in by_actor.text and "login.failure" not in by_actor.text
    assert "該当する記録はありません" in client.get("/admin/audit", params={"actor": viewer.id}).text
    by_event = client.get("/admin/audit", params={"event": "login"})
    assert "login.failure" in by_event.text and "admin.customer.end_sessions" not in by_event.text
    by_customer = client.get("/admin/audit", params={"customer": "5555"})
    assert "admin.customer.end_sessions" in by_customer.text and "login.failure" not in by_customer.text
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert "該当する記録はありません" in client.get("/admin/audit", params={"from": tomorrow}).text
    assert "admin.customer.end_sessions" in client.get("/admin/audit", params={"to": tomorrow}).text
    bad = client.get("/admin/audit", params={"from": "31/01/2026", "customer": "999"})
    assert bad.status_code == 400 and "2026-01-31 の形式" in bad.text and "このお客様番号のお客様はいません" in bad.text

    exported = client.get("/admin/audit.csv", params={"customer": "0000005555"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["日時", "操作", "スタッフ"]
    assert len(rows) == 2 and rows[1][1] == "admin.customer.end_sessions" and rows[1][3] == "0000005555"
    assert rows[1][2].startswith("'=HYPERLINK")  # a formula-like cell is neutralised
    assert '"credentials_version"' in rows[1][6]

    # Readers may read: the 閲覧 role sees the log too.
    reader = client_for("aicom")
    staff_login(reader, viewer)
    assert reader.get("/admin/audit").status_code == 200
