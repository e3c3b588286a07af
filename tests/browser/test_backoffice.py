"""Console journeys in Chromium: an inquiry answered by staff and the customer reading the reply in the portal;
a CSV import with a bad row (errors per line, nothing written) and a good one (progress to 100%, history row),
run by the live server's job worker."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from .conftest import _in_thread
from .logins import NMEDIA_ADMIN, login_nmedia

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
STAFF_PASSWORD = "staff-pass-0123"


def make_live_staff(live_server, tenant: str, email: str, role: str, name: str) -> str:
    """A staff member in the live server's database (active, password and authenticator set); returns the secret."""
    from mypage.admin.staff.repository import StaffRepository
    from mypage.db.engine import bind_tables, make_engine
    from mypage.identity.passwords import hash_password

    secret = pyotp.random_base32()

    async def go():
        bind_tables(make_engine(live_server.settings()))
        await StaffRepository(tenant).create(
            email=email, name=name, role=role, status="active", password_hash=hash_password(STAFF_PASSWORD), totp_secret=secret
        )

    _in_thread(lambda: asyncio.run(go()))
    return secret


def staff_login(page: Page, live_server, tenant: str, email: str, secret: str) -> None:
    page.goto(live_server.url(tenant, "/admin/login"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="次へ").click()
    page.wait_for_url(live_server.url(tenant, "/admin/login/totp"))
    page.get_by_label("確認コードまたはリカバリーコード").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("ログイン|確認")).click()
    page.wait_for_url(live_server.url(tenant, "/admin"))


def test_inquiry_answered_by_staff_and_read_in_the_portal(live_server, browser, page, inbox):
    # The customer sends an inquiry from the portal.
    login_nmedia(page, live_server, inbox)
    page.goto(live_server.url("nmedia", "/inquiries"))
    page.get_by_label("種別").select_option("other")
    page.get_by_label("件名").fill("ルーターの設定について")
    page.get_by_label("内容").fill("ルーターの管理画面に入れません。")
    page.get_by_role("button", name="送信").click()
    page.wait_for_url(live_server.url("nmedia", "/inquiries/done"))

    # Support answers it in the console (another browser).
    secret = make_live_staff(live_server, "nmedia", "support@nmedia.example", "support", "山田　サポート")
    staff_context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    staff_page = staff_context.new_page()
    staff_page.set_default_timeout(15000)
    staff_login(staff_page, live_server, "nmedia", "support@nmedia.example", secret)
    staff_page.get_by_role("link", name="お問い合わせ").first.click()
    staff_page.get_by_label("対応状況").select_option("new")
    staff_page.get_by_role("button", name="絞り込む").click()
    row = staff_page.locator("tr", has_text="ルーターの設定について")
    expect(row).to_contain_text("新規")
    row.get_by_role("link").first.click()
    expect(staff_page.locator("main")).to_contain_text("ルーターの管理画面に入れません。")
    staff_page.get_by_label("社内メモ").fill("初期化手順を案内する")
    staff_page.get_by_role("button", name="メモを追加").click()
    expect(staff_page.locator(".flash")).to_contain_text("社内メモを追加しました。")
    before = inbox.count(NMEDIA_ADMIN["email"])
    staff_page.get_by_label("回答", exact=True).fill("本体裏のリセットボタンを10秒押して初期化してください。")
    staff_page.get_by_role("button", name="回答を送信").click()
    expect(staff_page.locator(".flash")).to_contain_text("回答を送信しました。")
    expect(staff_page.locator("main")).to_contain_text("回答済み")

    # The reply is mailed, and shown in the portal under お問い合わせ (the note is not).
    mail = inbox.wait_for(NMEDIA_ADMIN["email"], before)
    assert "お問い合わせへの回答" in mail["Subject"]
    assert "リセットボタン" in inbox.text(mail)
    page.goto(live_server.url("nmedia", "/inquiries"))
    history = page.locator("#history")
    expect(history).to_contain_text("回答済み")
    history.get_by_role("link", name="ルーターの設定について").click()
    expect(page.locator(".thread")).to_contain_text("本体裏のリセットボタンを10秒押して初期化してください。")
    expect(page.locator("main")).not_to_contain_text("初期化手順を案内する")

    # The customer answers; the console shows it and the state is 対応中 again.
    page.get_by_label("内容").fill("初期化したら入れました。ありがとうございました。")
    page.get_by_role("button", name="送信").click()
    expect(page.locator(".thread")).to_contain_text("初期化したら入れました。")
    staff_page.reload()
    expect(staff_page.locator(".thread")).to_contain_text("初期化したら入れました。")
    expect(staff_page.locator("main dl")).to_contain_text("対応中")

    # Phones first: the thread and the console's inbox fit a 390 px screen (no sideways scrolling).
    for context, url in ((page.context, page.url), (staff_context, live_server.url("nmedia", "/admin/inquiries"))):
        phone = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.add_cookies(context.cookies())
        screen = phone.new_page()
        screen.goto(url)
        assert screen.evaluate("document.documentElement.scrollWidth") <= 390, url
        phone.close()
    staff_context.close()


def test_csv_import_bad_row_then_good_file(live_server, page):
    secret = make_live_staff(live_server, "aicom", "support@aicom.example", "support", "佐藤　サポート")
    staff_login(page, live_server, "aicom", "support@aicom.example", secret)
    page.get_by_role("link", name="データ取り込み").click()

    # A file with a bad row: errors per line, nothing written.
    page.get_by_label("種類").select_option("customers")
    page.get_by_label("CSVファイル").set_input_files(str(FIXTURES / "customers_errors.csv"))
    page.get_by_role("button", name="取り込む").click()
    expect(page.locator("main")).to_contain_text("取り込めませんでした", timeout=30000)  # the page refreshes itself
    errors = page.locator("table.import-errors")
    expect(errors).to_contain_text("phone")
    expect(errors.locator("tbody tr").first).to_contain_text("3")

    # A good file: progress to 100% and a row in the history.
    page.get_by_role("link", name="データ取り込みへ戻る").click()
    page.get_by_label("種類").select_option("customers")
    page.get_by_label("CSVファイル").set_input_files(str(FIXTURES / "customers.csv"))
    page.get_by_role("button", name="取り込む").click()
    expect(page.locator("main")).to_contain_text("取り込みが完了しました", timeout=30000)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    page.reload()  # nothing lost on a reload
    expect(page.locator(".import-progress__percent")).to_have_text("100%")
    page.get_by_role("link", name="データ取り込みへ戻る").click()
    history = page.locator("table.admin-table")
    expect(history.locator("tr", has_text="customers.csv").first).to_contain_text("完了")
    expect(history.locator("tr", has_text="customers_errors.csv")).to_contain_text("エラー")
    expect(history).to_contain_text("佐藤　サポート")
