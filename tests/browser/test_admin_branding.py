"""The branding journey in Chromium against ``mypage run --workers 2``: a staff 管理者 on a phone sees a
failing contrast refused, previews a good draft in the desktop and phone frames, publishes it; the customer
login page (served by whichever worker) shows it without a restart; a restore rolls it back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from admin_support import STAFF_PASSWORD, make_staff
from mypage.db.engine import bind_tables, make_engine
from mypage.db.migrate import migrate
from mypage.settings import Settings

from .conftest import CHROMIUM, ROOT, _free_port, _in_thread

pytestmark = pytest.mark.browser
SECRET = "test-secret-key-0123456789abcdef0123456789"


@pytest.fixture
def workers(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}")
    port = _free_port()
    settings = Settings(sqlite_path=tmp_path / "branding.sqlite3", secret_key=SECRET, port=port)
    env = {
        **os.environ,
        "MYPAGE_SQLITE_PATH": str(settings.sqlite_path),
        "MYPAGE_SECRET_KEY": SECRET,
        "PORT": str(port),
        "MYPAGE_SMTP_URL": "",
        "MYPAGE_DATABASE_URL": "",
        "MYPAGE_REDIS_URL": "",
        "PYTHONPATH": str(ROOT / "platform"),
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-c", "from mypage.cli import main; main()", "run", "--workers", "2", "--no-demo"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the workers go with it if start-up fails
    )
    deadline = time.time() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except Exception:
            if server.poll() is not None or time.time() > deadline:
                os.killpg(server.pid, signal.SIGKILL)
                raise RuntimeError((tmp_path / "server.log").read_text()) from None
            time.sleep(0.3)

    def staff():
        import asyncio

        engine = make_engine(settings)
        bind_tables(engine)
        asyncio.run(migrate(engine))
        return make_staff("aicom", "chief@aicom.example", "admin", secret_key=SECRET)

    account = _in_thread(staff)
    yield port, account
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def header_colour(page) -> str:
    return page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")


def wait_for_colour(page, url: str, colour: str, seconds: float = 30) -> None:
    """Reloads until ``colour``, then 10 loads in a row (each worker answers some of them)."""
    deadline = time.time() + seconds
    streak = 0
    while streak < 10:
        assert time.time() < deadline, f"{url}: header is {header_colour(page)}, not {colour}"
        page.goto(url)
        streak = streak + 1 if header_colour(page) == colour else 0


def test_branding_refused_previewed_published_and_rolled_back(workers, browser):
    port, staff = workers
    base = f"http://aicom.localhost:{port}"
    phone_context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    customer_context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    try:
        admin = phone_context.new_page()
        admin.set_default_timeout(20000)
        admin.goto(f"{base}/admin/login")
        admin.locator("#f-email").fill(staff.email)
        admin.locator("#f-password").fill(STAFF_PASSWORD)
        admin.locator("#f-password").press("Enter")
        admin.locator("#f-code").fill(staff.next_code())
        admin.locator("#f-code").press("Enter")
        admin.wait_for_url(f"{base}/admin")
        admin.get_by_role("link", name="ブランディング").click()
        admin.wait_for_url(f"{base}/admin/branding")

        admin.locator("#f-accent_colour").fill("#f29b00")
        admin.get_by_role("button", name="下書きに保存", exact=True).click()
        error = admin.locator("#f-accent_colour-error")
        expect(error).to_contain_text("フォーカス枠: #f29b00 と #f6f8fa のコントラスト比は 2.08:1")

        admin.locator("#f-primary_colour").fill("#145a32")
        admin.locator("#f-accent_colour").fill("#a05a00")
        admin.get_by_role("button", name="下書きに保存", exact=True).click()
        admin.wait_for_url(f"{base}/admin/branding")
        assert "下書きを保存しました" in admin.content()
        assert admin.evaluate("document.documentElement.scrollWidth") <= 390  # the editor fits the phone
        frames = admin.locator("iframe")
        assert frames.count() == 4
        frames.first.scroll_into_view_if_needed()
        preview = admin.frame_locator("iframe").first
        # the lazy frame's stylesheet may still be loading: a retrying assertion, not one read
        expect(preview.locator(".site-header")).to_have_css("background-color", "rgb(20, 90, 50)")

        customer = customer_context.new_page()
        customer.goto(f"{base}/login")
        assert header_colour(customer) == "rgb(10, 125, 59)"  # the draft is not live

        admin.get_by_role("button", name="公開する").click()
        expect(admin.locator("main")).to_contain_text("バージョン1を公開しました")
        wait_for_colour(customer, f"{base}/login", "rgb(20, 90, 50)")

        admin.locator("#f-primary_colour").fill("#1b6e3f")
        admin.get_by_role("button", name="下書きに保存", exact=True).click()
        admin.get_by_role("button", name="公開する").click()
        wait_for_colour(customer, f"{base}/login", "rgb(27, 110, 63)")

        admin.get_by_role("button", name="この版に戻す").click()
        expect(admin.locator("main")).to_contain_text("バージョン1の内容をバージョン3として公開しました")
        wait_for_colour(customer, f"{base}/login", "rgb(20, 90, 50)")
    finally:
        phone_context.close()
        customer_context.close()
