"""Shared fixtures: a real database (SQLite and PostgreSQL), the app, tenant clients, a real SMTP server.

Database-backed tests take the ``db`` fixture (directly or through ``app``/``client``) and run once per
backend in ``MYPAGE_TEST_DATABASES`` (default ``sqlite,postgres``). PostgreSQL tests use a database
created for this run (``MYPAGE_TEST_POSTGRES``, default ``postgresql://postgres@127.0.0.1:5432/test``
names the server) and dropped afterwards, so parallel runs do not meet.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from litestar.testing import TestClient

from mypage.app import create_app
from mypage.db.engine import bind_tables, make_engine, with_database
from mypage.db.migrate import migrate
from mypage.db.registry import all_tables

# Still argon2id, with light parameters: production cost would dominate the suite's time.
from mypage.identity.passwords import use_light_parameters
from mypage.portal import Portal
from mypage.settings import Settings

use_light_parameters()

POSTGRES_SERVER = os.environ.get("MYPAGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("MYPAGE_TEST_DATABASES", "sqlite,postgres").split(",") if b.strip()]
TENANTS = ("aicom", "itscom", "nmedia")


def run(coro):
    return asyncio.run(coro)


async def _admin_execute(sql: str) -> None:
    import asyncpg

    from mypage.db.engine import postgres_config

    conn = await asyncpg.connect(**postgres_config(POSTGRES_SERVER))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory) -> Settings:
    return Settings(
        secret_key="test-secret-key-0123456789abcdef0123456789",
        sqlite_path=tmp_path_factory.mktemp("db") / "test.sqlite3",
        dev_mode=True,
    )


@pytest.fixture(scope="session", params=BACKENDS)
def backend_settings(request, base_settings) -> Settings:
    if request.param == "sqlite":
        settings = base_settings
    else:
        name = f"mypage_test_{uuid.uuid4().hex[:10]}"
        try:
            run(_admin_execute(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # pragma: no cover - only when the server is missing
            pytest.fail(f"PostgreSQL at {POSTGRES_SERVER} is not reachable: {exc}")
        settings = base_settings.with_(database_url=with_database(POSTGRES_SERVER, name))
        request.addfinalizer(lambda: run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    engine = make_engine(settings)
    bind_tables(engine)
    run(migrate(engine))
    return settings


async def _truncate() -> None:
    tables = all_tables()
    engine = tables[0]._meta.db
    if engine.engine_type == "postgres":
        names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
        await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for table in reversed(tables):
            await engine.run_ddl(f'DELETE FROM "{table._meta.tablename}"')


@pytest.fixture
def db(backend_settings) -> Settings:
    """An empty, migrated database on the current backend; yields its settings."""
    from mypage.notices.repository import forget_notices

    engine = make_engine(backend_settings)
    bind_tables(engine)
    run(_truncate())
    forget_notices()  # the database was emptied under the app: what it cached from it is gone too
    return backend_settings


@pytest.fixture(scope="session")
def portal(base_settings) -> Portal:
    return Portal(base_settings)


_portals: dict[str, Portal] = {}
_apps: dict[str, object] = {}


@pytest.fixture
def app(db, portal):
    """The app on the current backend (built once per backend: the database is emptied per test instead)."""
    key = db.database_url or "sqlite"
    if key not in _apps:
        backend_portal = portal if db is portal.settings else Portal(db, tenants=portal.tenants)
        _portals[key] = backend_portal
        _apps[key] = create_app(db, portal=backend_portal)
    bind_tables(make_engine(db))
    return _apps[key]


WATCHER_TABLES = ('"tenant_generation"', '"tenant_config_versions"')
"""Read by the app's background tenant-change watcher once a second, in no request: not a page's queries."""


@pytest.fixture
def counted_queries(monkeypatch):
    """``with counted_queries() as seen:`` the SQL of every query the tables' engine runs meanwhile."""
    seen: list[str] = []

    def log(self, query_id, query) -> None:
        if not any(table in str(query) for table in WATCHER_TABLES):
            seen.append(query)

    @contextmanager
    def counting():
        engine = all_tables()[0]._meta.db
        monkeypatch.setattr(type(engine), "print_query", log)
        seen.clear()
        engine.log_queries = True
        try:
            yield seen
        finally:
            engine.log_queries = False

    return counting


class PortalClient(TestClient):
    """A TestClient for one tenant host, with a helper that adds the CSRF token to form posts."""

    def csrf(self) -> str:
        token = self.cookies.get("mypage_csrf")
        if not token:
            self.get("/login")
            token = self.cookies.get("mypage_csrf")
        return token

    def submit(self, url: str, data: dict | None = None, **kwargs):
        payload = dict(data or {})
        payload["_csrf_token"] = self.csrf()
        return self.post(url, data=payload, **kwargs)


@pytest.fixture
def rendered(monkeypatch):
    """``(html, stylesheets)`` of each PDF document a route renders while the test runs (the PDF cache emptied
    first, so that every document is laid out)."""
    from mypage.documents import pdf

    seen: list[tuple[str, list]] = []
    html_to_pdf = pdf.html_to_pdf

    def record(html, stylesheets=None):
        seen.append((html, list(stylesheets or [pdf.base_stylesheet()])))
        return html_to_pdf(html, stylesheets)

    monkeypatch.setattr(pdf, "html_to_pdf", record)
    pdf.pdf_cache.clear()
    return seen


@pytest.fixture
def client_for(app):
    """``client_for("aicom")``: a client on that tenant's host (each call a new browser-like client)."""

    def make(tenant: str) -> PortalClient:
        return PortalClient(app, base_url=f"http://{tenant}.localhost")

    return make


@dataclass
class MailSink:
    """Messages received by the test SMTP server (aiosmtpd)."""

    messages: list[EmailMessage] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    @staticmethod
    def links(message: EmailMessage) -> list[str]:
        return re.findall(r"https?://[^\s<>\"']+", MailSink.text(message))

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    sink = MailSink()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    import socket

    # aiosmtpd's start() connects to the configured port to check readiness: port 0 cannot be used.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port)
    controller.start()
    sink.port = free_port
    sink.url = f"smtp://127.0.0.1:{sink.port}"
    yield sink
    controller.stop()


@pytest.fixture
def mail(smtp_server) -> MailSink:
    smtp_server.clear()
    return smtp_server


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def deliver(db, mail):
    """``deliver()`` sends the outbox to the test SMTP server and returns the mail received so far."""
    from mypage.mail.delivery import deliver_due

    def go() -> MailSink:
        run(deliver_due(db.with_(smtp_url=mail.url)))
        return mail

    return go


def pytest_collection_modifyitems(config, items):
    """Browser journeys run last: Playwright's sync API keeps an event loop running in the main thread for the
    rest of the session, where ``asyncio.run`` (used by the other tests) refuses to start."""
    browser_dir = Path(__file__).resolve().parent / "browser"
    for item in items:
        if browser_dir in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend_settings") if callspec is not None else None
        if work_unit(item.nodeid) != (f"db-{backend}" if backend else module_of(item.nodeid)):
            raise pytest.UsageError(f"{item.nodeid}: a parameter named like a database backend confuses work_unit()")
    items.sort(key=lambda item: 1 if item.get_closest_marker("browser") else 0)


def module_of(nodeid: str) -> str:
    return nodeid.split("::")[0]


def work_unit(nodeid: str) -> str:
    """What one pytest-xdist worker runs whole (``scripts/test.sh`` runs ``pytest -n 2``).

    The tests of one database backend form one unit: a worker that went from one backend to the other and
    back would drop and re-create its PostgreSQL database each time. Every other module stays whole, so its
    module-scoped servers are made once and its tests keep their order. The scheduler only sees node IDs,
    hence the backend read from the parameter ID (checked against the real parameter at collection)."""
    params = nodeid.rsplit("[", 1)[1].rstrip("]").split("-") if nodeid.endswith("]") else []
    for backend in BACKENDS:
        if backend in params:
            return f"db-{backend}"
    return module_of(nodeid)


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # units in collection order: browser journeys last in each worker
    return WorkUnits(config, log)
