"""An お知らせ in Chromium: a 管理者 logs into the console (TOTP) and schedules a notice with Markdown-like
formatting a few seconds ahead; it is listed as 公開予約 and not on the portal yet; the live server's job
worker publishes it at its time: it shows on the customer's top page (a ``<script>`` in the body as text) and
members with メール通知 あり get the mail over real SMTP, those with なし do not; then it is pinned, and leaves
the portal at its 掲載終了.

The console's ``datetime-local`` inputs carry minutes; Chromium accepts and submits a value with seconds too
(the server reads it as such), which lets the journey schedule a few seconds ahead instead of a minute.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from .conftest import _in_thread
from .logins import NMEDIA_ADMIN, NMEDIA_MEMBER, login_nmedia
from .test_backoffice import make_live_staff, staff_login

TENANT = "nmedia"
ZONE = ZoneInfo("Asia/Tokyo")  # nmedia's tenant.toml keeps the default time zone
STAFF_EMAIL = "notices-admin@nmedia.example"
PUBLISH_IN = 20  # seconds: the console steps and the portal's "not yet" check happen before
SHOWN_FOR = 25  # seconds from publication to 掲載終了: the mails, the portal and the pin happen before
BODY = "**回線工事**のお知らせです。\n\n- 12月5日 2:00〜5:00\n- 対象: 全地域\n\n<script>document.title = 'pwned'</script>"


def _local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S")


def _set_mail_notify(live_server, login_id: str, on: bool) -> None:
    from mypage.db.engine import bind_tables, make_engine
    from mypage.identity.tables import Account

    async def go():
        bind_tables(make_engine(live_server.settings()))
        await Account.update({Account.mail_notify: on}).where(Account.tenant == TENANT).where(Account.login_id == login_id)

    _in_thread(lambda: asyncio.run(go()))


def test_notice_scheduled_published_with_mails_pinned_and_expired(live_server, browser, page, inbox):
    title = f"回線工事のお知らせ {int(time.time())}"

    # The customer's 管理者 user sets the other member's メール通知 to なし (ユーザ管理).
    login_nmedia(page, live_server, inbox)
    try:
        _journey(live_server, browser, page, inbox, title)
    finally:  # the demo member stays as the other journeys expect it
        _set_mail_notify(live_server, NMEDIA_MEMBER["login_id"], True)


def _journey(live_server, browser, page, inbox, title: str) -> None:
    page.goto(live_server.url(TENANT, "/members"))
    page.locator("table tbody tr", has_text=NMEDIA_MEMBER["email"]).get_by_role("link").click()
    page.get_by_label("なし").check()
    page.get_by_role("button", name="更新").click()
    expect(page.locator("main")).to_contain_text("ユーザ情報を更新しました。")
    expect(page.locator("table tbody tr", has_text=NMEDIA_MEMBER["email"])).to_contain_text("なし")
    expect(page.locator("table tbody tr", has_text=NMEDIA_ADMIN["email"])).to_contain_text("あり")

    # A 管理者 of the console writes the notice, scheduled a few seconds ahead with a 掲載終了.
    secret = make_live_staff(live_server, TENANT, STAFF_EMAIL, "admin", "広報　担当")
    staff_context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    staff = staff_context.new_page()
    staff.set_default_timeout(15000)
    staff_login(staff, live_server, TENANT, STAFF_EMAIL, secret)
    staff.locator("nav").get_by_role("link", name="お知らせ").first.click()
    staff.get_by_role("link", name="新しいお知らせを書く").click()
    publish_at = datetime.now(ZONE).replace(microsecond=0) + timedelta(seconds=PUBLISH_IN)
    staff.get_by_label("件名").fill(title)
    staff.get_by_label("本文").fill(BODY)
    staff.get_by_label("掲載開始").fill(_local(publish_at))
    staff.get_by_label("掲載終了").fill(_local(publish_at + timedelta(seconds=SHOWN_FOR)))
    staff.get_by_role("button", name="下書きを保存").click()
    expect(staff.locator(".flash")).to_contain_text("下書きを保存しました。")
    preview = staff.locator(".notices__body")
    expect(preview.locator("strong")).to_have_text("回線工事")
    expect(preview.locator("li")).to_have_count(2)
    staff.get_by_role("button", name="公開を予約する").click()
    expect(staff.locator(".flash")).to_contain_text("公開を予約しました。")
    notice_url = staff.url
    staff.get_by_role("link", name="お知らせ一覧へ戻る").click()
    row = staff.locator("table tbody tr", has_text=title)
    expect(row).to_contain_text("公開予約")
    expect(row).to_contain_text("広報　担当")

    # Not on the portal before its time, and nobody is mailed yet.
    admin_before, member_before = inbox.count(NMEDIA_ADMIN["email"]), inbox.count(NMEDIA_MEMBER["email"])
    page.goto(live_server.url(TENANT, "/"))
    expect(page.locator(".notices")).not_to_contain_text(title)
    assert datetime.now(ZONE) < publish_at, "the steps before publication took too long"

    # At its time the worker publishes and mails it: to the member with メール通知 あり, not to the one with なし.
    mail = inbox.wait_for(NMEDIA_ADMIN["email"], admin_before, timeout=PUBLISH_IN + 15)
    assert datetime.now(ZONE) >= publish_at
    assert "お知らせ情報更新のお知らせ" in mail["Subject"]
    assert f"件名 : {title}" in inbox.text(mail)
    assert live_server.url(TENANT, "/") in inbox.links(mail)
    recipients = {m["To"] for m in inbox.sink.messages if title in inbox.text(m)}
    assert NMEDIA_ADMIN["email"] in recipients and NMEDIA_MEMBER["email"] not in recipients, recipients
    assert inbox.count(NMEDIA_MEMBER["email"]) == member_before

    # On the customer's top page, formatted, the <script> shown as text and not run.
    page.goto(live_server.url(TENANT, "/"))
    item = page.locator(".notices__list li", has_text=title)
    body = item.locator(".notices__body")
    expect(body.locator("strong")).to_have_text("回線工事")
    expect(body.locator("li")).to_have_count(2)
    expect(body).to_contain_text("<script>document.title = 'pwned'</script>")
    expect(body.locator("script")).to_have_count(0)
    assert page.title() != "pwned"
    staff.goto(live_server.url(TENANT, "/admin/notices"))
    expect(staff.locator("table tbody tr", has_text=title)).to_contain_text("掲載中")

    # Pinned: first on the portal.
    staff.goto(notice_url)
    staff.get_by_role("button", name="先頭に固定する").click()
    expect(staff.locator(".flash")).to_contain_text("固定表示を変更しました。")
    page.reload()
    first = page.locator(".notices__list > li").first
    expect(first).to_contain_text(title)
    expect(first).to_have_class("notices__item--pinned")

    # At its 掲載終了 it leaves the portal and is listed as such.
    ends = publish_at + timedelta(seconds=SHOWN_FOR)
    assert datetime.now(ZONE) < ends, "the steps after publication took too long"
    time.sleep(max(0.0, (ends - datetime.now(ZONE)).total_seconds()) + 0.5)
    page.reload()
    expect(page.locator(".notices")).not_to_contain_text(title)
    staff.goto(live_server.url(TENANT, "/admin/notices"))
    expect(staff.locator("table tbody tr", has_text=title)).to_contain_text("掲載終了")
    staff_context.close()
