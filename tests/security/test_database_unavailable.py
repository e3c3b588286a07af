"""PostgreSQL down or its database dropped: the tenant's themed 503 page with security headers and Retry-After,
``/readyz`` 503, ``/healthz`` 200 (the server as ``mypage run`` serves it, over real HTTP).

Before, the session load in the portal middleware failed outside Litestar's exception handlers and uvicorn
answered a bare text/plain "Internal Server Error" without security headers.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest

from mypage.app import create_app
from mypage.db.engine import bind_tables, make_engine, postgres_config, with_database
from mypage.db.migrate import migrate
from mypage.db.registry import all_tables
from mypage.portal import Portal

from .servers import serve

POSTGRES_SERVER = os.environ.get("MYPAGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
NOBODY_LISTENS = "postgresql://postgres@127.0.0.1:1/mypage_nowhere"
UNAVAILABLE_JA = "ただいまサービスを利用できません。しばらく時間をおいてからもう一度お試しください。"
UNAVAILABLE_EN = "The service is temporarily unavailable. Please wait a while and try again."
A_SESSION_COOKIE = {"mypage_session": "s" * 43}

needs_postgres = pytest.mark.skipif(
    "postgres" not in os.environ.get("MYPAGE_TEST_DATABASES", "sqlite,postgres"), reason="PostgreSQL tests are off"
)


@pytest.fixture
def keep_binding():
    """The apps built here bind the tables to their (dead) database: bind them back afterwards."""
    engine = all_tables()[0]._meta._db  # None before any test bound them
    yield
    if engine is not None:
        bind_tables(engine)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**postgres_config(POSTGRES_SERVER))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _app(portal, **changes):
    settings = portal.settings.with_(**changes)
    return create_app(settings, portal=Portal(settings, tenants=portal.tenants)), settings


def assert_unavailable_page(response: httpx.Response, text: str = UNAVAILABLE_JA) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert int(response.headers["retry-after"]) > 0
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert text in html
    assert '<link rel="stylesheet" href="/brand.css?v=' in html  # the tenant's themed layout
    assert "あいコムこうか" in html or "Aicom Koka" in html
    assert "Internal Server Error" not in html


def assert_portal_unavailable(base_url: str) -> None:
    with httpx.Client(base_url=base_url, headers={"Host": "aicom.localhost"}, timeout=30) as client:
        # a page with a session to load: fails in the portal middleware, before Litestar's handlers
        with httpx.Client(base_url=base_url, headers={"Host": "aicom.localhost"}, cookies=A_SESSION_COOKIE) as returning:
            assert_unavailable_page(returning.get("/"))
            assert_unavailable_page(returning.get("/login", headers={"Accept-Language": "en"}), UNAVAILABLE_EN)
            # the probes: readiness follows the database, liveness does not (neither loads the session)
            for host in ("aicom.localhost", "localhost"):
                ready = returning.get("/readyz", headers={"Host": host})
                assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
                assert int(ready.headers["retry-after"]) > 0
                assert ready.headers["x-content-type-options"] == "nosniff"
                live = returning.get("/healthz", headers={"Host": host})
                assert live.status_code == 200 and live.json() == {"status": "ok"}
        # a form whose handler queries the database: fails inside Litestar
        login_page = client.get("/login")
        assert login_page.status_code == 200  # no session, no database needed
        token = client.cookies.get("mypage_csrf")
        failed_login = client.post("/login", data={"login_id": "someone", "password": "Wrong-pass-1", "_csrf_token": token})
        assert_unavailable_page(failed_login)


@pytest.mark.parametrize("pool", [False, True], ids=["connect-per-request", "pool"])
def test_postgres_where_nothing_listens(portal, keep_binding, pool):
    app, settings = _app(portal, database_url=NOBODY_LISTENS, db_pool=pool)
    with serve(app, settings) as base_url:  # starts although the database is down (the pool connects on demand)
        assert_portal_unavailable(base_url)


@needs_postgres
@pytest.mark.parametrize("pool", [False, True], ids=["connect-per-request", "pool"])
def test_database_dropped_while_serving(portal, keep_binding, pool):
    name = f"mypage_test_drop_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(POSTGRES_SERVER, name)
        app, settings = _app(portal, database_url=url, db_pool=pool)
        asyncio.run(migrate(make_engine(settings)))
        bind_tables(app.state.engine)
        with serve(app, settings) as base_url:
            with httpx.Client(base_url=base_url, headers={"Host": "aicom.localhost"}, timeout=30) as client:
                assert client.get("/readyz").status_code == 200
                client.get("/login")
                token = client.cookies.get("mypage_csrf")
                wrong = client.post("/login", data={"login_id": "someone", "password": "Wrong-pass-1", "_csrf_token": token})
                assert wrong.status_code == 400  # the database answers
            asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
            assert_portal_unavailable(base_url)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
