"""The test-only tenants of ``tests/fixtures/tenants`` in Chromium, each in one browser context from the
first screen to the last, reading mail from the real SMTP server (``composed_server``: its own server whose
tenants folder holds them; the records each journey needs are written here).

- kitanet (at 390 px): registration by contract number + postal code + terms, the login e-mail confirmed by
  a mailed code, the contact address chosen, a nickname; login with the mailed one-time password; logout;
  recovery by the secret question (registered, confirmed by a mailed link, answered); login again.
- minamicable: registration by kana + phone + one of the payment hints, 追加認証 between two customers,
  IDチェック, password twice, a mailed link; the first login enrols the authenticator app (the code computed
  from the 設定キー shown beside the QR code), then the captcha; logout; recovery by a mailed code; login
  with the app's code; a member added under ユーザ管理 sets a password by the mailed link and, at the first
  login, enrols the app as well.
"""

from __future__ import annotations

import asyncio
import re
import time

import pyotp
from playwright.sync_api import Page, expect

from .conftest import _in_thread
from .logins import solve_captcha


def _records(server, write) -> None:
    """Runs ``write()`` (a coroutine function saving Piccolo rows) against the composed server's database."""
    from mypage.db.engine import bind_tables, make_engine

    async def go():
        bind_tables(make_engine(server.settings()))
        await write()

    _in_thread(lambda: asyncio.run(go()))


def _mailed_code(inbox, address: str, before: int, pattern: str = r"認証コード\s*:\s*(\d{6})") -> str:
    text = inbox.text(inbox.wait_for(address, before))
    found = re.search(pattern, text, re.M)
    assert found, text
    return found.group(1)


def _logout(server, page: Page, tenant: str) -> None:
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(server.url(tenant, "/login"))
    expect(page.locator("main")).to_contain_text("ログアウトしました")


class Authenticator:
    """The customer's app: codes of the secret shown at enrolment, never the same time step twice (the
    portal refuses a step already used and accepts one step of drift either way)."""

    def __init__(self, secret: str):
        self.totp = pyotp.TOTP(secret)
        self.used: set[int] = set()

    def code(self) -> str:
        now = time.time()
        for offset in (0, 1, -1):
            step = int(now // self.totp.interval) + offset
            if step not in self.used:
                self.used.add(step)
                return self.totp.at(step * self.totp.interval)
        raise AssertionError("three codes used within one time step")


def _enrol_app(page: Page) -> Authenticator:
    """/login/totp_setup: the 設定キー beside the QR code → a code → the recovery codes → 控えました."""
    expect(page.locator("h1")).to_have_text("認証アプリの設定")
    expect(page.get_by_role("status").first).to_contain_text("2段階認証(認証アプリ)の設定が必要です")
    expect(page.get_by_role("img", name="認証アプリ設定用QRコード")).to_be_visible()
    app = Authenticator(page.locator("code.totp-secret").inner_text().replace(" ", ""))
    page.get_by_label("確認コード").fill(app.code())
    page.get_by_role("button", name="設定する").click()
    expect(page.locator("main code")).to_have_count(10)
    page.get_by_role("button", name="控えました").click()
    return app


# -- kitanet ------------------------------------------------------------------------------------------------

KITA = "kitanet"
KITA_ID = "hana.kita@example.jp"
KITA_PASSWORD = "Kita-Pass-2026"
KITA_CONTACT = "hana.onfile@example.jp"  # the address on file, chosen as the contact address


def _kita_login(server, page: Page, inbox, password: str) -> None:
    """Password, then the one-time password mailed to the contact address."""
    page.goto(server.url(KITA, "/login"))
    page.get_by_label("ログインメールアドレス").fill(KITA_ID)
    page.locator("#f-password").fill(password)
    before = inbox.count(KITA_CONTACT)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(server.url(KITA, "/login/email_otp"))
    page.get_by_label("ワンタイムパスワード").fill(_mailed_code(inbox, KITA_CONTACT, before, r"^\s*(\d{6})\s*$"))
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(server.url(KITA, "/"))


def test_kitanet_on_a_phone(composed_server, composed_inbox, browser):
    from mypage.records.tables import Contract, Customer

    server, inbox = composed_server, composed_inbox

    async def customer():
        holder = Customer(tenant=KITA, number="K0001", name="北 花子", name_kana="キタ　ハナコ", email=KITA_CONTACT)
        await holder.save()
        await Contract(tenant=KITA, customer=holder.id, number="KN00000001", postal_code="0600001").save()

    _records(server, customer)
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        # 新規登録: contract number + postal code + terms → ID, password, nickname → the mailed code + contact
        page.goto(server.url(KITA, "/login"))
        page.get_by_role("link", name="初めてログインされる方").click()
        expect(page.locator("h1")).to_have_text("契約者情報 認証")
        expect(page.locator("main")).to_contain_text("契約書に記載の契約番号(KN + 8桁)")
        page.locator("#f-contract_number").fill("KN00000001")
        page.locator("#f-postal_code").fill("060-0001")
        page.get_by_role("button", name="確認").click()
        expect(page.locator("#f-terms-error")).to_have_text("利用規約に同意してください。")
        page.locator("#f-terms").check()
        page.get_by_role("button", name="確認").click()

        expect(page.locator("h1")).to_have_text("ログインメールアドレスの登録")
        page.get_by_label("ログインメールアドレス").fill(KITA_ID)
        page.locator("#f-password").fill(KITA_PASSWORD)
        page.locator("#f-password_confirm").fill(KITA_PASSWORD)
        page.get_by_label("ニックネーム").fill("はなちゃん")
        before = inbox.count(KITA_ID)
        page.get_by_role("button", name="次へ").click()

        expect(page.locator("h1")).to_have_text("ログインメールアドレス 新規登録")
        page.get_by_label("認証コード").fill(_mailed_code(inbox, KITA_ID, before))
        expect(page.get_by_role("radio", name=f"{KITA_ID} (新しいログインメールアドレス)")).to_be_visible()
        page.get_by_role("radio", name=f"{KITA_CONTACT} (現在の連絡先メールアドレス)").check()
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("main")).to_contain_text("登録は完了")

        _kita_login(server, page, inbox, KITA_PASSWORD)
        expect(page.locator("main")).to_contain_text("はなちゃん")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _logout(server, page, KITA)

        # パスワードを忘れた: the secret question registered, confirmed by a mailed link, answered
        page.get_by_role("link", name="IDまたはパスワードをお忘れの方").click()
        page.get_by_role("radio", name=re.compile("パスワードがご不明な場合")).check()
        page.get_by_role("button", name="次へ").click()
        page.get_by_label("ログインメールアドレス").fill(KITA_ID)
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("h1")).to_have_text("合言葉登録")
        page.get_by_label("秘密の質問").select_option(label="好きな色は?")
        page.get_by_label("答え").fill("みどり")
        before = inbox.count(KITA_CONTACT)
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("h1")).to_have_text("本人認証 完了")
        mail = inbox.wait_for(KITA_CONTACT, before)
        link = next(url for url in inbox.links(mail) if "/forgot/question/answer/" in url)
        page.goto(link)
        expect(page.locator("h1")).to_have_text("合言葉入力")
        page.get_by_label("秘密の質問").select_option(label="好きな色は?")
        page.get_by_label("答え").fill("ミドリ")
        page.get_by_role("button", name=re.compile("再発行")).click()
        expect(page.locator("main")).to_contain_text("これでパスワードの再発行は完了です。")
        password = page.locator("code.secret").inner_text().strip()
        assert password != KITA_PASSWORD

        page.goto(server.url(KITA, "/login"))
        page.get_by_label("ログインメールアドレス").fill(KITA_ID)
        page.locator("#f-password").fill(KITA_PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        expect(page.locator(".form-error")).to_be_visible()
        _kita_login(server, page, inbox, password)
        _logout(server, page, KITA)
    finally:
        context.close()


# -- minamicable ------------------------------------------------------------------------------------------

MINAMI = "minamicable"
MINAMI_ID = "Minami_1"
MINAMI_EMAIL = "ichiro@example.jp"
MEMBER_ID = "jiro-minami"
MEMBER_EMAIL = "jiro@example.jp"


def _minami_password_step(server, page: Page, login_id: str, password: str) -> None:
    page.goto(server.url(MINAMI, "/login"))
    page.get_by_label("マイページID").fill(login_id)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="ログイン").click()


def _captcha_step(server, page: Page) -> None:
    page.wait_for_url(server.url(MINAMI, "/login/captcha"))
    solve_captcha(page)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(server.url(MINAMI, "/"))


def _minami_login(server, page: Page, login_id: str, password: str, app: Authenticator) -> None:
    _minami_password_step(server, page, login_id, password)
    page.wait_for_url(server.url(MINAMI, "/login/totp"))
    page.get_by_label("確認コード").fill(app.code())
    page.get_by_role("button", name="ログイン").click()
    _captcha_step(server, page)


def test_minamicable(composed_server, composed_inbox, browser):
    from mypage.records.tables import Customer, Device

    server, inbox = composed_server, composed_inbox

    async def twins():
        """Two customers whose kana, phone and bank account digits are the same (a family, say)."""
        for number, device in (("7000001", "STBA0001"), ("7000002", "STBB0002")):
            customer = Customer(
                tenant=MINAMI, number=number, name="南 一郎", name_kana="ミナミ　イチロウ", phone="0661234567", bank_last4="4321"
            )
            await customer.save()
            await Device(tenant=MINAMI, customer=customer.id, kind="stb", device_id=device).save()

    _records(server, twins)
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        # 新規登録: kana + phone + 口座 → 追加認証 (the STB of the second) → ID, password twice, address → link
        page.goto(server.url(MINAMI, "/login"))
        page.get_by_role("link", name="初めてログインされる方").click()
        expect(page.locator("h1")).to_have_text("契約者情報 認証")
        page.locator("#f-name_kana").fill("ﾐﾅﾐ ｲﾁﾛｳ")
        page.locator("#f-phone").fill("06-6123-4567")
        page.locator("input[name=pay_kind][value=bank_last4]").check()
        page.get_by_label("お支払情報等の内容").fill("4321")
        page.get_by_role("button", name="確認").click()

        expect(page.locator("h1")).to_have_text("追加認証情報")
        page.get_by_label("認証情報の種類").select_option("device_id")
        page.get_by_label("追加認証情報の内容").fill("STBB0002")
        page.get_by_role("button", name="確認").click()

        expect(page.locator("h1")).to_have_text("マイページIDの登録")
        page.get_by_label("マイページID").fill(MINAMI_ID)
        page.get_by_role("button", name="IDチェック").click()
        expect(page.locator("#id-check-result")).to_contain_text("このIDは利用できます")
        page.locator("#f-password").fill("minami2026")
        page.locator("#f-password_confirm").fill("minami2026")
        page.get_by_label("メールアドレス").fill(MINAMI_EMAIL)
        before = inbox.count(MINAMI_EMAIL)
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("main")).to_contain_text("確認メールを送信しました")
        mail = inbox.wait_for(MINAMI_EMAIL, before)
        page.goto(next(url for url in inbox.links(mail) if "/register/chosen-id/confirm/" in url))
        expect(page.locator("dl.facts").first).to_contain_text(MINAMI_ID)
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("main")).to_contain_text("登録は完了")

        # first login: password → the app enrolled → captcha
        _minami_password_step(server, page, MINAMI_ID.lower(), "minami2026")
        page.wait_for_url(server.url(MINAMI, "/login/totp_setup"))
        app = _enrol_app(page)
        _captcha_step(server, page)
        _logout(server, page, MINAMI)

        # パスワードを忘れた: a code mailed to the contact address, a new password twice
        page.get_by_role("link", name="IDまたはパスワードをお忘れの方").click()
        page.get_by_role("radio", name=re.compile("パスワードがご不明な場合")).check()
        page.get_by_role("button", name="次へ").click()
        page.get_by_label("マイページID").fill(MINAMI_ID)
        before = inbox.count(MINAMI_EMAIL)
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("h1")).to_have_text("認証コード入力")
        page.get_by_label("認証コード").fill(_mailed_code(inbox, MINAMI_EMAIL, before))
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("h1")).to_have_text("パスワード登録")
        page.locator("#f-password").fill("minami2027")
        page.locator("#f-password_confirm").fill("minami2027")
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("main")).to_contain_text("これでパスワードの再発行は完了です。")

        # login with every factor: password, the app's code, the captcha
        _minami_login(server, page, MINAMI_ID, "minami2027", app)

        # ユーザ管理: the administrator proposes the member's ID; the member sets a password by the mailed link
        page.get_by_role("link", name="ユーザ管理").first.click()
        page.get_by_label("メールアドレス").fill(MEMBER_EMAIL)
        page.get_by_label("マイページID").fill(MEMBER_ID)
        page.get_by_label("ユーザ名").fill("南 次郎")
        before = inbox.count(MEMBER_EMAIL)
        page.get_by_role("button", name="登録", exact=True).click()
        expect(page.locator("main")).to_contain_text("パスワード設定用のURLをお送りしました")
        mail = inbox.wait_for(MEMBER_EMAIL, before)
        assert MEMBER_ID in inbox.text(mail)
        welcome = next(url for url in inbox.links(mail) if "/welcome/" in url)
        _logout(server, page, MINAMI)

        page.goto(welcome)
        page.locator("#f-password").fill("jiro2026x")
        page.locator("#f-password_confirm").fill("jiro2026x")
        page.get_by_role("button", name="送信").click()
        expect(page.locator("main")).to_contain_text("初回登録は完了です")

        # the member's first login: the tenant's policy asks for the app there too
        _minami_password_step(server, page, MEMBER_ID, "jiro2026x")
        page.wait_for_url(server.url(MINAMI, "/login/totp_setup"))
        _enrol_app(page)
        _captcha_step(server, page)
        expect(page.get_by_role("link", name="ユーザ管理")).to_have_count(0)  # a general member manages no one
        _logout(server, page, MINAMI)
    finally:
        context.close()
