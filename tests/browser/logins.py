"""Shared steps for browser journeys: log in as the demo identities of docs/demo.md, read downloads.

Use with the fixtures of ``tests/browser/conftest.py``::

    from .logins import login_aicom, login_itscom, login_nmedia

    def test_something(live_server, page, inbox):
        login_nmedia(page, live_server, inbox)

Every helper starts on the tenant's /login page and returns when the top page after login is shown.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

AICOM = {"login_id": "aicom-demo", "password": "Demo1234"}
ITSCOM = {"login_id": "demo@itscom.example", "password": "demo-pass1"}
NMEDIA_ADMIN = {"login_id": "m95au6", "password": "mediapass1", "email": "m95au6@nmedia.example"}
NMEDIA_MEMBER = {"login_id": "k7p2x9", "password": "memberpass1", "email": "k7p2x9@nmedia.example"}

OTP = re.compile(r"^\s*(\d{6})\s*$", re.M)


def _password_login(page: Page, live, tenant: str, label: str, login_id: str, password: str, button: str = "ログイン") -> None:
    page.goto(live.url(tenant, "/login"))
    page.get_by_label(label).fill(login_id)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(live.url(tenant, "/"))


def login_aicom(page: Page, live, login_id: str = AICOM["login_id"], password: str = AICOM["password"]) -> None:
    """あいコムこうか: アカウントID + パスワード → お客様メニューリスト."""
    _password_login(page, live, "aicom", "アカウントID", login_id, password)
    expect(page.locator("main")).to_contain_text("お客様メニューリスト")


def login_itscom(page: Page, live, login_id: str = ITSCOM["login_id"], password: str = ITSCOM["password"]) -> None:
    """iTSCOM: iTSCOM ID + パスワード → the top page (契約プラン, menus A–D)."""
    _password_login(page, live, "itscom", "iTSCOM ID", login_id, password)
    expect(page.locator("main")).to_contain_text("契約プラン")


def solve_captcha(page: Page) -> None:
    """Tick 私はロボットではありません and wait until the browser has solved the proof of work."""
    page.get_by_label("私はロボットではありません").check()
    page.wait_for_function("() => { const f = document.querySelector('input[name=altcha]'); return f && f.value !== ''; }")
    expect(page.locator("[data-altcha-status]")).to_have_text("確認しました")


def login_nmedia(
    page: Page,
    live,
    inbox,
    login_id: str = NMEDIA_ADMIN["login_id"],
    password: str = NMEDIA_ADMIN["password"],
    email: str = NMEDIA_ADMIN["email"],
) -> None:
    """日本メディアシステム: アクセスID + パスワード → [送信] → the ワンタイムパスワード mailed to ``email``
    (delivered over real SMTP by ``inbox``) + the captcha → [ログイン] → 契約情報."""
    page.goto(live.url("nmedia", "/login"))
    page.get_by_label("アクセスID").fill(login_id)
    page.locator("#f-password").fill(password)
    before = inbox.count(email)
    page.get_by_role("button", name="送信").click()
    page.wait_for_url(live.url("nmedia", "/login/email_otp"))
    mail = inbox.wait_for(email, before)
    assert "ワンタイムパスワード" in mail["Subject"]
    code = OTP.search(inbox.text(mail))
    assert code, inbox.text(mail)
    page.get_by_label("ワンタイムパスワード").fill(code.group(1))
    solve_captcha(page)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("nmedia", "/"))
    expect(page.locator("main h1").first).to_have_text("契約情報")


def pdf_text(data: bytes) -> str:
    """All text of a PDF (pypdf), pages joined by newlines."""
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-"), data[:40]
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def download(page: Page, click) -> tuple[str, bytes]:
    """Run ``click()`` (which starts a download) and return (suggested file name, content)."""
    with page.expect_download() as info:
        click()
    item = info.value
    assert item.failure() is None, item.failure()
    return item.suggested_filename, Path(item.path()).read_bytes()
