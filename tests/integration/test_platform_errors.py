"""Errors in the last hour: every unhandled server error (the 500 page) is recorded for its tenant (route
template, exception class, time; nothing of the request), counted on the platform console's list and tenant
page, pruned after a week, and a failure to record it never changes the error page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import get
from litestar.params import FromPath
from piccolo.engine.sqlite import SQLiteEngine

from conftest import PortalClient, run
from mypage.app import create_app
from mypage.db.base import utcnow
from mypage.platformconsole import health
from mypage.portal import Portal
from mypage.web.tables import ServerErrorRecord
from platform_support import login, make_member, platform_client

TOKEN = "a-secret-token-in-the-path-0123456789"


@get("/_test/boom/{token:str}", sync_to_thread=False)
def boom(token: FromPath[str]) -> str:
    raise RuntimeError(f"internal detail {token}")


@get("/platform/_test/boom", sync_to_thread=False)
def platform_boom() -> str:
    raise RuntimeError("internal detail")


@pytest.fixture
def failing_app(db, portal):
    app = create_app(db, portal=Portal(db, tenants=portal.tenants))
    app.register(boom)
    app.register(platform_boom)
    return app


def _rows() -> list[dict]:
    return ServerErrorRecord.select().order_by(ServerErrorRecord.id).run_sync()


def _errors_cell(page_text: str, slug: str) -> str:
    row = page_text.split(f'data-tenant="{slug}"', 1)[1].split("</tr>", 1)[0]
    return row.split('class="errors', 1)[1].split("</td>", 1)[0]


def test_a_500_is_counted_for_its_tenant_only(failing_app):
    page = PortalClient(failing_app, base_url="http://nmedia.localhost").get(f"/_test/boom/{TOKEN}")
    assert page.status_code == 500 and "ただいま処理できません" in page.text
    [row] = _rows()
    assert (row["tenant"], row["path"], row["exception"]) == ("nmedia", "/_test/boom/{token}", "RuntimeError")
    assert TOKEN not in str(row)  # the route's template, never the path or the message
    figures = run(health.health_of(["aicom", "itscom", "nmedia"], "Asia/Tokyo"))
    assert [figures[s].errors_last_hour for s in ("aicom", "itscom", "nmedia")] == [0, 0, 1]
    member = make_member()
    console = platform_client(failing_app)
    login(console, member)
    listing = console.get("/platform").text
    assert _errors_cell(listing, "nmedia").endswith(">1") and _errors_cell(listing, "aicom").endswith(">0")
    assert '<dd class="errors">1</dd>' in console.get("/platform/tenants/nmedia").text
    assert '<dd class="errors">0</dd>' in console.get("/platform/tenants/aicom").text


def test_older_errors_are_not_counted_and_a_week_old_ones_are_pruned_on_write(failing_app):
    now = utcnow()
    for age in (timedelta(hours=2), timedelta(days=8)):
        ServerErrorRecord.insert(
            ServerErrorRecord(tenant="aicom", path="/old", exception="ValueError", created_at=now - age)
        ).run_sync()
    assert run(health.health_of(["aicom"], "Asia/Tokyo"))["aicom"].errors_last_hour == 0
    PortalClient(failing_app, base_url="http://aicom.localhost").get("/_test/boom/x")
    paths = [(row["path"], row["tenant"]) for row in _rows()]
    assert paths == [("/old", "aicom"), ("/_test/boom/{token}", "aicom")]  # the 8-day-old row is gone
    assert run(health.health_of(["aicom"], "Asia/Tokyo"))["aicom"].errors_last_hour == 1


def test_errors_outside_a_tenant_are_kept_apart(failing_app):
    assert PortalClient(failing_app, base_url="http://platform.localhost").get("/platform/_test/boom").status_code == 500
    assert [row["tenant"] for row in _rows()] == ["_platform"]


def test_an_error_table_that_cannot_be_written_leaves_the_error_page_as_it_is(failing_app, tmp_path):
    engine = ServerErrorRecord._meta.db
    ServerErrorRecord._meta.db = SQLiteEngine(path=str(tmp_path / "missing-folder" / "no.sqlite3"))  # a real failure
    try:
        # raise_server_exceptions: anything escaping the recording would fail this request here.
        page = PortalClient(failing_app, base_url="http://itscom.localhost", raise_server_exceptions=True).get("/_test/boom/x")
    finally:
        ServerErrorRecord._meta.db = engine
    assert page.status_code == 500 and "ただいま処理できません" in page.text
    assert _rows() == []
