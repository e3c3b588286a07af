"""Aicom Koka, more identity flows in Chromium: the rules and messages of 初回会員登録, the forgotten password
by e-mail link, and the authenticator app (TOTP: QR code, login with a recovery code, turning it off).

The demo customer 1234567 belongs to ``test_journeys_aicom.py`` and ``aicom-demo`` to the feature tests,
so these tests register generated demo customers that have no account yet (read from the live server's
database, the last ones first), each test its own.
"""

import re
import sqlite3

import pyotp
import pytest
from playwright.sync_api import expect

TENANT = "aicom"


def _url(live_server, path):
    return live_server.url(TENANT, path)


@pytest.fixture(scope="module")
def free_customers(live_server):
    """Generated aicom customers without an account (お客様番号 without leading zeros, phone, kana)."""
    db = sqlite3.connect(f"file:{live_server.sqlite_path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT number, phone, name_kana FROM customers c WHERE tenant = 'aicom' AND number <> '0001234567'"
            " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.tenant = 'aicom' AND a.customer = c.id)"
            " AND (SELECT COUNT(*) FROM customers d WHERE d.tenant = 'aicom' AND d.phone = c.phone) = 1"
            " ORDER BY id DESC LIMIT 5"
        ).fetchall()
    finally:
        db.close()
    assert len(rows) >= 3, rows
    return [{"number": n.lstrip("0"), "phone": p, "kana": k} for n, p, k in rows]


def _verify(page, customer):
    page.locator("#f-customer_number").fill(customer["number"])
    page.locator("#f-phone").fill(customer["phone"])
    page.locator("#f-name_kana").fill(customer["kana"])
    page.get_by_role("button", name="認証").click()
    expect(page.locator("h1")).to_have_text("初回会員登録(初期情報)")


def _register(live_server, page, inbox, customer, login_id, password, email):
    """初回会員登録 up to [そのままログイン]; ends on the top page, logged in."""
    page.goto(_url(live_server, "/register"))
    _verify(page, customer)
    page.locator("#f-login_id").fill(login_id)
    page.locator("#f-password").fill(password)
    page.locator("#f-email").fill(email)
    page.locator("#f-nickname").fill("ブラウザ利用者")
    page.get_by_role("button", name="確認する").click()
    before = inbox.count(email)
    page.get_by_role("button", name="仮登録する").click()
    expect(page.locator("main")).to_contain_text("仮登録が完了しました。")
    mail = inbox.wait_for(email, before)
    page.goto(next(url for url in inbox.links(mail) if "/register/" in url))
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="本登録する").click()
    expect(page.locator("main")).to_contain_text("本登録が完了しました。")
    page.get_by_role("button", name="そのままログイン").click()
    page.wait_for_url(_url(live_server, "/"))
    expect(page.locator("main")).to_contain_text("お客様メニューリスト")


def _password_step(live_server, page, login_id, password):
    page.goto(_url(live_server, "/login"))
    page.get_by_label("アカウントID").fill(login_id)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="ログイン").click()


def _logout(live_server, page):
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(_url(live_server, "/login"))


def test_registration_rules_and_messages(live_server, page, free_customers):
    customer = free_customers[0]
    page.goto(_url(live_server, "/login"))
    page.get_by_role("link", name="初めてログインされる方").click()
    expect(page.locator("h1")).to_have_text("初回会員登録(認証情報)")
    # Each field carries its rule text (tenant wording), tied to the input.
    expect(page.locator("#f-customer_number-rule")).to_contain_text("「0を省いて」入力してください")
    expect(page.locator("#f-phone-rule")).to_contain_text("ハイフン抜きで入力してください")
    expect(page.locator("#f-name_kana-rule")).to_contain_text("全角カナで入力ください")
    assert "f-phone-rule" in page.locator("#f-phone").get_attribute("aria-describedby")

    # Malformed answers: the message next to each field, the input kept.
    page.locator("#f-customer_number").fill(customer["number"])
    page.locator("#f-phone").fill("07486")
    page.locator("#f-name_kana").fill("Sato Naoki")
    page.get_by_role("button", name="認証").click()
    expect(page.locator("#f-phone-error")).to_have_text("電話番号は10桁または11桁の数字で入力してください。")
    expect(page.locator("#f-name_kana-error")).to_have_text("全角カナで入力してください。")
    assert page.locator("#f-customer_number").input_value() == customer["number"]
    assert page.locator("#f-phone").input_value() == "07486"

    # ひらがな is accepted for the kana name (normalised).
    hiragana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in customer["kana"])
    page.locator("#f-phone").fill(customer["phone"])
    page.locator("#f-name_kana").fill(hiragana)
    page.get_by_role("button", name="認証").click()
    expect(page.locator("h1")).to_have_text("初回会員登録(初期情報)")
    expect(page.locator("#f-login_id-rule")).to_contain_text("※半角英数記号で5〜30文字で設定できます。")
    expect(page.locator("#f-password-rule")).to_contain_text(
        "※大文字・小文字を含む、半角英数字の最低2種類を使用し8〜16文字で設定できます。"
    )

    # IDチェック names the broken rule, or says the ID is taken.
    page.locator("#f-login_id").fill("abc")
    page.get_by_role("button", name="IDチェック").click()
    expect(page.locator("#id-check-result")).to_have_text("5～30文字で入力してください。")
    page.locator("#f-login_id").fill("AICOM-DEMO")
    page.get_by_role("button", name="IDチェック").click()
    expect(page.locator("#id-check-result")).to_have_text("このIDは既に使用されています")

    # 確認する with a bad ID, password, address and no nickname: every message at its field, input kept.
    page.locator("#f-login_id").fill("ab cd")
    page.locator("#f-password").fill("password")
    page.locator("#f-email").fill("someone@")
    page.locator("#f-nickname").fill("")
    page.get_by_role("button", name="確認する").click()
    expect(page.locator("#f-login_id-error")).to_have_text("使用できない文字が含まれています: 「スペース」")
    expect(page.locator("#f-password-error")).to_have_text("英大文字・英小文字・数字のうち2種類以上を使用してください。")
    expect(page.locator("#f-email-error")).to_have_text("メールアドレスの形式で入力してください。")
    expect(page.locator("#f-nickname-error")).to_have_text("入力してください。")
    assert page.locator("#f-login_id").input_value() == "ab cd"
    assert page.locator("#f-email").input_value() == "someone@"
    assert page.locator("#f-password").input_value() == ""  # never sent back

    page.locator("#f-login_id").fill("rules-browser")
    page.locator("#f-password").fill("Ab1!Ab1!")
    page.locator("#f-email").fill("rules-browser@example.jp")
    page.locator("#f-nickname").fill("ルール確認")
    page.get_by_role("button", name="確認する").click()
    expect(page.locator("#f-password-error")).to_have_text("使用できない文字が含まれています: 「!」")
    page.locator("#f-password").fill("Abcdefghijklmnopq")
    assert page.locator("#f-password").input_value() == "Abcdefghijklmnop"  # maxlength=16
    page.locator("#f-password").fill("Ab1")
    page.get_by_role("button", name="確認する").click()
    expect(page.locator("#f-password-error")).to_have_text("8～16文字で入力してください。")
    assert page.locator("#f-nickname").input_value() == "ルール確認"


def test_forgotten_password_by_email_link(live_server, page, inbox, free_customers):
    email = "forgot-browser@example.jp"
    _register(live_server, page, inbox, free_customers[1], "forgot-browser", "Forgot123", email)
    _logout(live_server, page)

    page.get_by_role("link", name="IDまたはパスワードをお忘れの方").click()
    expect(page.locator("h1")).to_have_text("IDまたはパスワードをお忘れの方")
    before = inbox.count(email)
    page.get_by_label("メールアドレス").fill("forgot-browser@EXAMPLE.JP")  # the domain is case-insensitive
    page.get_by_role("button", name="送信する").click()
    expect(page.locator("main")).to_contain_text(
        "入力されたメールアドレスがご登録のものであれば、アカウントIDとパスワード再設定用のURLをお送りしました。"
    )
    mail = inbox.wait_for(email, before)
    assert "アカウントID: forgot-browser" in inbox.text(mail)
    link = next(url for url in inbox.links(mail) if "/forgot/email/reset" in url)

    page.goto(link)
    expect(page.locator("dl.facts")).to_contain_text("forgot-browser")
    expect(page.locator("#f-password-rule")).to_contain_text("8〜16文字")
    page.locator("#f-password").fill("short1A")
    page.locator("#f-password_confirm").fill("short1A")
    page.get_by_role("button", name="パスワードを再設定する").click()
    expect(page.locator("#f-password-error")).to_have_text("8～16文字で入力してください。")
    before = inbox.count(email)
    page.locator("#f-password").fill("Renewed123")
    page.locator("#f-password_confirm").fill("Renewed123")
    page.get_by_role("button", name="パスワードを再設定する").click()
    expect(page.locator("main")).to_contain_text("パスワードを再設定しました。新しいパスワードでログインしてください。")
    inbox.wait_for(email, before)  # the notice of the change

    _password_step(live_server, page, "forgot-browser", "Forgot123")
    expect(page.locator(".form-error")).to_have_text("アカウントIDまたはパスワードが正しくありません。")
    _password_step(live_server, page, "forgot-browser", "Renewed123")
    page.wait_for_url(_url(live_server, "/"))


def test_totp_setup_login_with_recovery_code_and_disable(live_server, page, inbox, free_customers):
    _register(live_server, page, inbox, free_customers[2], "totp-browser", "Totp12345", "totp-browser@example.jp")
    page.get_by_role("link", name="会員情報").first.click()
    page.get_by_role("link", name="2段階認証(認証アプリ)の設定").click()
    expect(page.locator("dl.facts")).to_contain_text("未設定")
    page.get_by_role("link", name="認証アプリを設定する").click()

    expect(page.locator("h1")).to_have_text("認証アプリの設定")
    qr = page.get_by_role("img", name="認証アプリ設定用QRコード")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", qr.element_handle())
    secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret

    page.get_by_label("確認コード").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="設定する").click()
    expect(page.locator("#f-code-error")).to_contain_text("確認コードが正しくありません。")
    page.get_by_label("確認コード").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="設定する").click()
    expect(page.locator("h1")).to_have_text("リカバリーコード")
    codes = [c.strip() for c in page.locator("ul.recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    page.get_by_role("link", name="控えました").click()
    expect(page.locator("dl.facts")).to_contain_text("設定済み")

    # Next login asks for the second factor; a recovery code works once.
    _logout(live_server, page)
    _password_step(live_server, page, "totp-browser", "Totp12345")
    page.wait_for_url(_url(live_server, "/login/totp"))
    page.get_by_label("確認コード").fill(codes[0])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(_url(live_server, "/"))
    expect(page.locator("main")).to_contain_text("残りのリカバリーコードは9個です。")

    # Turn it off again with the current password; the next login needs only the password.
    page.goto(_url(live_server, "/account/security"))
    expect(page.locator("dl.facts")).to_contain_text("9個")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#f-disable_password").fill("Totp12345")
    page.get_by_role("button", name="2段階認証を解除する").click()
    expect(page.locator("main")).to_contain_text("2段階認証(認証アプリ)を解除しました。")
    expect(page.locator("dl.facts")).to_contain_text("未設定")
    _logout(live_server, page)
    _password_step(live_server, page, "totp-browser", "Totp12345")
    page.wait_for_url(_url(live_server, "/"))
