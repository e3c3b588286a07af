"""Browser journeys: a real server process (uvicorn) on a fresh SQLite database with demo data, driven by
Debian's Chromium through Playwright. Mail goes to the outbox and is delivered by the test process to the
real aiosmtpd server of ``tests/conftest.py`` when a test asks for it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Assertions wait as long as actions do (page.set_default_timeout below): a suite on two busy cores can take
# more than Playwright's default 5 s to answer a form that hashes a secret and queues a mail.
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MYPAGE_CHROMIUM", "/usr/bin/chromium")
SECRET = "browser-test-secret-0123456789abcdef0123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, port: int, sqlite_path: Path):
        self.port = port
        self.sqlite_path = sqlite_path

    def url(self, tenant: str, path: str = "/") -> str:
        return f"http://{tenant}.localhost:{self.port}{path}"

    def settings(self):
        from mypage.settings import Settings

        return Settings(sqlite_path=self.sqlite_path, secret_key=SECRET, port=self.port)


def _serve(folder: Path, prepare: str, **extra_env: str):
    """Prepares a fresh SQLite database under ``folder`` with ``mypage <prepare>``, serves it with uvicorn
    (``extra_env`` added to the environment) and yields the :class:`LiveServer` until the caller is done."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run scripts/bootstrap.sh --with-browser")
    sqlite_path = folder / "live.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "MYPAGE_SQLITE_PATH": str(sqlite_path),
        "MYPAGE_SECRET_KEY": SECRET,
        "PORT": str(port),
        "MYPAGE_SMTP_URL": "",
        "MYPAGE_JOB_WORKER": "1",  # console CSV imports and scheduled お知らせ mails run in the server, as under `mypage run`
        "MYPAGE_DATABASE_URL": "",
        "MYPAGE_REDIS_URL": "",
        "PYTHONPATH": str(ROOT / "platform"),
        **extra_env,
    }
    mypage = [sys.executable, "-m", "mypage.cli"]
    subprocess.run([*mypage, prepare], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    log = open(folder / "server.log", "w")  # noqa: SIM115 - the server writes to it until the session ends
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mypage.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except Exception:
            if server.poll() is not None or time.time() > deadline:
                log.close()
                raise RuntimeError(f"server did not start:\n{(folder / 'server.log').read_text()}") from None
            time.sleep(0.2)
    yield LiveServer(port, sqlite_path)
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    yield from _serve(tmp_path_factory.mktemp("live"), "demo")


@pytest.fixture(scope="module")
def composed_server(tmp_path_factory):
    """A server of its own whose tenants folder also holds the test-only tenants of ``tests/fixtures/tenants``
    (``tests/composed_tenants.py``), on a migrated but empty database: the tests write the records they need."""
    from composed_tenants import tenants_folder

    folder = tmp_path_factory.mktemp("composed")
    yield from _serve(folder, "migrate", MYPAGE_TENANTS_DIR=str(tenants_folder(folder / "tenants")))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP *.localhost 127.0.0.1",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    """A smartphone-sized page."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _in_thread(function):
    """Playwright's sync API keeps an event loop running in this thread: run async helpers in another."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


async def _deliver(settings):
    from mypage.db.engine import bind_tables, make_engine
    from mypage.mail.delivery import deliver_due

    bind_tables(make_engine(settings))
    await deliver_due(settings)


@pytest.fixture
def inbox(live_server, smtp_server):
    """``inbox.wait_for(address)``: delivers the live server's outbox over real SMTP and returns the newest mail."""
    return _inbox_of(live_server, smtp_server)


@pytest.fixture
def composed_inbox(composed_server, smtp_server):
    """:func:`inbox` for :func:`composed_server`."""
    return _inbox_of(composed_server, smtp_server)


def _inbox_of(server: LiveServer, smtp_server):
    settings = server.settings().with_(smtp_url=smtp_server.url)

    class Inbox:
        sink = smtp_server

        def wait_for(self, address: str, count_before: int | None = None, timeout: float = 15.0):
            before = len(smtp_server.to(address)) if count_before is None else count_before
            deadline = time.time() + timeout
            while time.time() < deadline:
                _in_thread(lambda: asyncio.run(_deliver(settings)))
                found = smtp_server.to(address)
                if len(found) > before:
                    return found[-1]
                time.sleep(0.2)
            raise AssertionError(f"no new mail to {address}")

        def count(self, address: str) -> int:
            return len(smtp_server.to(address))

        text = staticmethod(smtp_server.text)
        links = staticmethod(smtp_server.links)

    return Inbox()
