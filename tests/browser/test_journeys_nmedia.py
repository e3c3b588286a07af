"""Nihon Media System: 新規作成 → mailed アクセスID and 仮パスワード → パスワード設定 → login with the
mailed one-time password and the captcha; 「IDまたはパスワードをお忘れの方はこちら」; logout. In Chromium,
reading the mail from a real SMTP server.

Only this module registers 契約番号 CAF0000000001 (the demo's one unregistered customer); the demo accounts
m95au6 and k7p2x9 are left to the feature tests. Forced logout after 10 idle minutes is covered by the
integration tests (a browser test cannot wait that long).
"""

import re

import pytest
from playwright.sync_api import expect

from .conftest import _serve
from .logins import OTP, solve_captcha


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A demo server of this module's own: its journeys register the demo's unregistered customers, which the
    session's shared server may already have seen registered by the tests that ran before."""
    yield from _serve(tmp_path_factory.mktemp("journeys"), "demo")


TENANT = "nmedia"
EMAIL = "media.taro.browser@example.jp"


def _url(live_server, path):
    return live_server.url(TENANT, path)


def _password_step(live_server, page, inbox, access_id, password):
    """アクセスID + パスワード → [送信] → the OTP page; returns the mailed one-time password."""
    page.goto(_url(live_server, "/login"))
    page.get_by_label("アクセスID").fill(access_id)
    page.locator("#f-password").fill(password)
    before = inbox.count(EMAIL)
    page.get_by_role("button", name="送信").click()
    page.wait_for_url(_url(live_server, "/login/email_otp"))
    expect(page.locator("main")).to_contain_text(
        "ご登録のメールアドレス（me***@example.jp）にワンタイムパスワードを送信しました。"
    )
    mail = inbox.wait_for(EMAIL, before)
    found = OTP.search(inbox.text(mail))
    assert found, inbox.text(mail)
    return found.group(1)


def _otp_step(live_server, page, code):
    page.get_by_label("ワンタイムパスワード").fill(code)
    solve_captcha(page)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(_url(live_server, "/"))
    expect(page.locator("main h1").first).to_have_text("契約情報")


def _register(live_server, page, inbox):
    """新規作成 → the mail → the URL → アクセスID + 仮パスワード → パスワード設定. Returns the アクセスID."""
    page.goto(_url(live_server, "/login"))
    page.get_by_role("link", name="新規作成の方はこちら").click()
    expect(page.locator("h1")).to_have_text("初回登録")
    page.get_by_label("メールアドレス").fill(EMAIL)
    page.get_by_label("契約番号").fill("2NCAF0000000001")
    page.get_by_label("郵便番号").fill("534-0024")
    page.get_by_label("お客様名").fill("メディア　タロウ")
    expect(page.locator("#f-contract_number-rule")).to_contain_text("CAFから始まる13桁の英数字")

    corporate = page.locator("details.corporate-forms")
    expect(corporate.locator("li").first).to_be_hidden()
    page.get_by_text("登録済みの法人格を表示").click()
    expect(corporate.get_by_text("株式会社", exact=True)).to_be_visible()

    # Without agreeing to the terms: a message next to the box, the input kept.
    page.get_by_role("button", name="送信").click()
    expect(page.locator("#f-terms-error")).to_have_text("利用規約に同意してください。")
    assert page.get_by_label("契約番号").input_value() == "2NCAF0000000001"
    assert page.get_by_label("メールアドレス").input_value() == EMAIL

    page.locator("#f-terms").check()
    before = inbox.count(EMAIL)
    page.get_by_role("button", name="送信").click()
    expect(page.locator("main")).to_contain_text("ご登録頂いたメールアドレス宛に仮パスワードを発行いたしました。")

    mail = inbox.wait_for(EMAIL, before)
    text = inbox.text(mail)
    access_id = re.search(r"アクセスID\s*:\s*([a-z0-9]{6})\b", text).group(1)
    temporary = re.search(r"仮パスワード\s*:\s*([a-z0-9]{8})\b", text).group(1)
    link = next(url for url in inbox.links(mail) if "/register/issued-id/login/" in url)

    page.goto(link)
    expect(page.locator("h1")).to_have_text("初回登録")
    page.get_by_label("アクセスID").fill(access_id)
    page.get_by_label("仮パスワード (半角英数8桁)").fill("wrong123")
    page.get_by_role("button", name="送信").click()
    expect(page.locator(".form-error")).to_have_text("アクセスIDまたは仮パスワードが正しくありません。")
    page.get_by_label("仮パスワード (半角英数8桁)").fill(temporary)
    page.get_by_role("button", name="送信").click()

    expect(page.locator("h1")).to_have_text("パスワード設定")
    expect(page.locator("#f-password-rule")).to_contain_text("半角英小文字/数字で半角8文字以上32文字以下")
    page.locator("#f-password").fill("onlyletters")
    page.locator("#f-password_confirm").fill("onlyletters")
    page.get_by_role("button", name="送信").click()
    expect(page.locator("#f-password-error")).to_contain_text("英小文字・数字をそれぞれ1文字以上含めてください。")
    page.locator("#f-password").fill("taro2024pass")
    page.locator("#f-password_confirm").fill("taro2024pass")
    page.get_by_role("button", name="送信").click()
    expect(page.locator("main")).to_contain_text("ここまでで初回登録は完了です。")
    expect(page.locator("main")).to_contain_text(access_id)

    # The URL is spent.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("このURLは既に使用されています。")
    return access_id


def test_registration_login_logout_and_forgotten_password(live_server, page, inbox):
    access_id = _register(live_server, page, inbox)

    # Login: password step, then the one-time password and the captcha on one screen.
    code = _password_step(live_server, page, inbox, access_id, "taro2024pass")
    page.get_by_label("ワンタイムパスワード").fill(code)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("#f-captcha-error")).to_have_text("「私はロボットではありません」にチェックを入れてください。")
    wrong = "000000" if code != "000000" else "111111"
    page.get_by_label("ワンタイムパスワード").fill(wrong)
    solve_captcha(page)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("#f-otp-error")).to_have_text("ワンタイムパスワードが正しくありません。")
    _otp_step(live_server, page, code)
    expect(page.locator("main")).to_contain_text("メディア　タロウ")
    expect(page.locator("main")).to_contain_text(EMAIL)

    # The logout button is on every page of the menu; it ends the session.
    menu = [a.get_attribute("href") for a in page.locator("header nav a[href^='/']").all()]
    assert "/inquiries" in menu and "/members" in menu, menu
    for path in menu:
        page.goto(_url(live_server, path))
        expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
    page.goto(_url(live_server, "/inquiries"))
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(_url(live_server, "/login"))
    expect(page.locator("main")).to_contain_text("ログアウトしました。")
    page.goto(_url(live_server, "/"))
    assert page.url.startswith(_url(live_server, "/login"))

    # 「IDまたはパスワードをお忘れの方はこちら」: the mail names the アクセスID and carries a reset URL.
    page.goto(_url(live_server, "/login"))
    page.get_by_role("link", name="IDまたはパスワードをお忘れの方はこちら").click()
    expect(page.locator("h1")).to_have_text("IDまたはパスワードをお忘れの方はこちら")
    page.get_by_label("メールアドレス").fill("not-an-address")
    page.get_by_role("button", name="送信する").click()
    expect(page.locator("#f-email-error")).to_have_text("メールアドレスの形式で入力してください。")
    before = inbox.count(EMAIL)
    page.get_by_label("メールアドレス").fill(EMAIL)
    page.get_by_role("button", name="送信する").click()
    expect(page.locator("main")).to_contain_text("入力されたメールアドレスがご登録のものであれば")
    mail = inbox.wait_for(EMAIL, before)
    assert f"アクセスID: {access_id}" in inbox.text(mail)
    link = next(url for url in inbox.links(mail) if "/forgot/email/reset" in url)
    page.goto(link)
    expect(page.locator("dl.facts")).to_contain_text(access_id)
    page.locator("#f-password").fill("taro2025pass")
    page.locator("#f-password_confirm").fill("taro2025pasz")
    page.get_by_role("button", name="パスワードを再設定する").click()
    expect(page.locator("#f-password_confirm-error")).to_have_text("パスワードが一致しません。もう一度入力してください。")
    page.locator("#f-password").fill("taro2025pass")
    page.locator("#f-password_confirm").fill("taro2025pass")
    page.get_by_role("button", name="パスワードを再設定する").click()
    expect(page.locator("main")).to_contain_text("パスワードを再設定しました。新しいパスワードでログインしてください。")
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("このURLは既に使用されたか、無効になっています。")

    # The old password no longer works; the new one does. On the OTP page, 「登録済みメールアドレスを
    # お忘れの方はこちら」 says whom to contact.
    page.goto(_url(live_server, "/login"))
    page.get_by_label("アクセスID").fill(access_id)
    page.locator("#f-password").fill("taro2024pass")
    page.get_by_role("button", name="送信").click()
    expect(page.locator(".form-error")).to_have_text("アクセスIDまたはパスワードが正しくありません。")
    code = _password_step(live_server, page, inbox, access_id, "taro2025pass")
    page.get_by_role("link", name="登録済みメールアドレスをお忘れの方はこちら").click()
    expect(page.locator("h1")).to_have_text("登録済みメールアドレスをお忘れの方")
    expect(page.locator("main")).to_contain_text("0120-518-868")
    page.go_back()
    _otp_step(live_server, page, code)


def test_wrong_registration_is_refused(live_server, page):
    page.goto(_url(live_server, "/register"))
    expect(page.locator("h1")).to_have_text("初回登録")
    page.get_by_label("メールアドレス").fill("nobody.browser@example.jp")
    page.get_by_label("契約番号").fill("CAF0000000001")
    page.get_by_label("郵便番号").fill("1000001")
    page.get_by_label("お客様名").fill("メディア　タロウ")
    page.locator("#f-terms").check()
    page.get_by_role("button", name="送信").click()
    expect(page.locator(".form-error")).to_have_text("指定の顧客は存在しません。")
    assert page.get_by_label("郵便番号").input_value() == "1000001"

    page.get_by_label("契約番号").fill("XYZ123")
    page.get_by_role("button", name="送信").click()
    expect(page.locator("#f-contract_number-error")).to_have_text("契約番号の形式が正しくありません。")


def test_email_forgotten_page(live_server, page):
    page.goto(_url(live_server, "/login/email_forgotten"))
    expect(page.locator("h1")).to_have_text("登録済みメールアドレスをお忘れの方")
    expect(page.locator("main")).to_contain_text("日本メディアシステム料金担当")
    expect(page.get_by_role("link", name="info-mediahikari@n-media.co.jp").first).to_be_visible()
    page.get_by_role("link", name="ログイン画面へ戻る").click()
    page.wait_for_url(_url(live_server, "/login"))
