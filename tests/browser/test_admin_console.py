"""The staff console in Chromium: a サポート member invited from the command line enrols a password and an
authenticator app, logs in with a code, unlocks a customer locked out by wrong passwords, and views the
portal as that customer (read-only: a POST is refused with the themed page). Then the console at 390 px."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time

import pyotp
from playwright.sync_api import Page, expect

from .conftest import ROOT, _in_thread

STAFF_EMAIL = "support-browser@example.jp"
STAFF_PASSWORD = "browser-staff-pass-1"
CUSTOMER_LOGIN = "admin-browser-user"
CUSTOMER_PASSWORD = "Browser1234"


def _cli(live_server, *args: str) -> str:
    env = {
        **os.environ,
        "MYPAGE_SQLITE_PATH": str(live_server.sqlite_path),
        "MYPAGE_SECRET_KEY": live_server.settings().secret_key,
        "MYPAGE_DATABASE_URL": "",
        "MYPAGE_REDIS_URL": "",
        "MYPAGE_SMTP_URL": "",
        "PORT": str(live_server.port),
        "PYTHONPATH": os.path.join(ROOT, "platform"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "mypage.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _make_customer(live_server) -> None:
    async def go():
        from mypage.db.engine import bind_tables, make_engine
        from mypage.identity.passwords import hash_password
        from mypage.identity.tables import Account
        from mypage.records.tables import Customer

        bind_tables(make_engine(live_server.settings()))
        if await Account.exists().where(Account.tenant == "aicom").where(Account.login_id == CUSTOMER_LOGIN):
            return
        customer = Customer(
            tenant="aicom", number="0009990001", name="画面　確認", name_kana="ガメン　カクニン", phone="0748999001"
        )
        await customer.save()
        await Account(
            tenant="aicom",
            customer=customer.id,
            login_id=CUSTOMER_LOGIN,
            login_id_display=CUSTOMER_LOGIN,
            password_hash=hash_password(CUSTOMER_PASSWORD),
            email="browser-customer@example.jp",
        ).save()

    _in_thread(lambda: asyncio.run(go()))


def _staff_login(page: Page, live_server, secret: str, offset: int) -> None:
    page.goto(live_server.url("aicom", "/admin"))
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.get_by_label("メールアドレス").fill(STAFF_EMAIL)
    page.locator("#f-password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("確認コードまたはリカバリーコード").fill(pyotp.TOTP(secret).at(time.time() + offset))
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("h1")).to_have_text("ダッシュボード")


def test_support_invited_unlocks_a_customer_and_views_as_them(live_server, browser, page, inbox):
    _make_customer(live_server)
    output = _cli(
        live_server, "staff", "invite", "aicom", "--email", STAFF_EMAIL, "--name", "サポート　花子", "--role", "support"
    )
    assert "/admin/invite/" in output
    mail = inbox.wait_for(STAFF_EMAIL)
    link = next(link for link in inbox.links(mail) if "/admin/invite/" in link)

    # Enrolment: password, the authenticator app (key read from the page), recovery codes shown once.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("スタッフアカウントの設定")
    expect(page.locator(".totp-qr img")).to_be_visible()
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    page.locator("#f-password").fill(STAFF_PASSWORD)
    page.locator("#f-password_confirm").fill(STAFF_PASSWORD)
    page.get_by_label("確認コード").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="設定する").click()
    expect(page.locator("h1")).to_have_text("リカバリーコード")
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="控えました").click()

    # Login with the app's code (another time step than the one used at enrolment).
    _staff_login(page, live_server, secret, 30)

    # The customer locks the account with wrong passwords (another browser).
    customer_context = browser.new_context(locale="ja-JP")
    customer = customer_context.new_page()
    for _ in range(5):
        customer.goto(live_server.url("aicom", "/login"))
        customer.get_by_label("アカウントID").fill(CUSTOMER_LOGIN)
        customer.locator("#f-password").fill("wrong-password")
        customer.get_by_role("button", name="ログイン").click()
    expect(customer.locator("main")).to_contain_text("一時的に停止")

    # Support finds the customer by kana (hiragana typed), sees the lock and lifts it.
    page.get_by_role("link", name="お客様サポート").click()
    page.get_by_label("お客様番号・お名前(カナ)・電話番号・メールアドレス・ログインID").fill("がめん かくにん")
    page.get_by_role("button", name="検索").click()
    page.get_by_role("link", name="0009990001").click()
    expect(page.locator("main")).to_contain_text("ロック中")
    page.get_by_role("button", name="ロック解除").click()
    expect(page.locator(".flash--success")).to_contain_text("ロックを解除しました")
    expect(page.locator("main")).not_to_contain_text("ロック中")

    customer.goto(live_server.url("aicom", "/login"))
    customer.get_by_label("アカウントID").fill(CUSTOMER_LOGIN)
    customer.locator("#f-password").fill(CUSTOMER_PASSWORD)
    customer.get_by_role("button", name="ログイン").click()
    customer.wait_for_url(live_server.url("aicom", "/"))
    customer_context.close()

    # View as the customer: the banner, then a POST (the header's logout button) is refused.
    page.get_by_role("button", name=re.compile("お客様として表示")).click()
    page.wait_for_url(live_server.url("aicom", "/"))
    expect(page.locator(".view-as-banner")).to_contain_text("お客様として閲覧中")
    expect(page.locator(".view-as-banner")).to_contain_text("サポート　花子")
    page.locator(".header-nav").get_by_role("button", name="ログアウト").click()
    expect(page.locator("h1")).to_have_text("この操作は許可されていません")
    expect(page.locator("main")).to_contain_text("お客様としての閲覧中は、変更・送信の操作はできません。")
    page.goto(live_server.url("aicom", "/"))
    page.locator(".view-as-banner").get_by_role("button", name="閲覧を終了").click()
    expect(page).to_have_url(re.compile(r"/admin/customers/\d+$"))
    page.goto(live_server.url("aicom", "/admin/audit?event=admin.customer"))
    expect(page.locator("main")).to_contain_text("admin.customer.view_as_started")
    expect(page.locator("main")).to_contain_text("admin.customer.unlock")


def test_console_fits_a_phone(live_server, phone):
    """At 390 px: no page of the console scrolls sideways; the menu scrolls on its own."""
    _make_customer(live_server)
    phone_email = "phone-admin@example.jp"
    output = _cli(live_server, "staff", "create-admin", "aicom", "--email", phone_email, "--name", "電話　確認")
    link = re.search(r"(http://\S+/admin/invite/\S+)", output).group(1)
    phone.goto(link)
    secret = phone.locator(".totp-secret").inner_text().replace(" ", "")
    phone.locator("#f-password").fill(STAFF_PASSWORD)
    phone.locator("#f-password_confirm").fill(STAFF_PASSWORD)
    phone.get_by_label("確認コード").fill(pyotp.TOTP(secret).now())
    phone.get_by_role("button", name="設定する").click()
    phone.goto(live_server.url("aicom", "/admin/login"))
    phone.get_by_label("メールアドレス").fill(phone_email)
    phone.locator("#f-password").fill(STAFF_PASSWORD)
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_label("確認コードまたはリカバリーコード").fill(pyotp.TOTP(secret).at(time.time() + 30))
    phone.get_by_role("button", name="ログイン").click()
    expect(phone.locator("h1")).to_have_text("ダッシュボード")
    phone.goto(live_server.url("aicom", "/admin/customers?q=0009990001"))
    phone.get_by_role("link", name="0009990001").click()
    customer_url = phone.url
    for url in (
        live_server.url("aicom", "/admin"),
        customer_url,
        live_server.url("aicom", "/admin/audit"),
        live_server.url("aicom", "/admin/staff"),
    ):
        phone.goto(url)
        width = phone.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"{url} is {width}px wide at 390px"
