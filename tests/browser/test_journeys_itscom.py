"""iTSCOM: every identity flow in Chromium, reading the mail from a real SMTP server.

Identities (docs/demo.md): イッツ　ハナコ (1000000001) and the two イッツ　ジロウ customers (1000000002,
1000000003) are registered here, each by one test only; ``aikotoba@itscom.example`` (合言葉) is used
only by the secret-question recovery test. ``demo@itscom.example`` is left to the feature tests. The module
has a server of its own: on the session's shared one the guide-screen tests also recover ``aikotoba``, and a
second recovery link within a minute is refused (the resend interval).
"""

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from .conftest import _serve

TENANT = "itscom"
WRONG_CONTRACT = "入力された内容と一致するご契約者情報が見つかりませんでした。入力内容をご確認ください。"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    yield from _serve(tmp_path_factory.mktemp("journeys-itscom"), "demo")


def _url(live_server, path):
    return live_server.url(TENANT, path)


def _login(live_server, page, login_id, password):
    page.goto(_url(live_server, "/login"))
    page.get_by_label("iTSCOM ID").fill(login_id)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(_url(live_server, "/"))
    expect(page.locator("h1").first).to_contain_text("ようこそ")


def _logout(live_server, page):
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(_url(live_server, "/login"))
    expect(page.locator("main")).to_contain_text("ログアウトしました")


def _login_fails(live_server, page, login_id, password):
    page.goto(_url(live_server, "/login"))
    page.get_by_label("iTSCOM ID").fill(login_id)
    page.locator("#f-password").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator(".form-error")).to_contain_text("iTSCOM IDまたはパスワードが正しくありません。")


def _verify_contract(page, kana, phone, pay_label, pay_value):
    """契約者情報 認証: kana, phone and one お支払情報等 choice → 確認."""
    expect(page.locator("h1")).to_have_text("契約者情報 認証")
    page.get_by_label("ご契約者氏名(カナ)").fill(kana)
    page.get_by_label("登録済みの電話番号").fill(phone)
    page.get_by_role("radio", name=pay_label).check()
    page.get_by_label("お支払情報等の内容").fill(pay_value)
    page.get_by_role("button", name="確認").click()


def _choose_id_and_password(page, login_id, password):
    expect(page.locator("h1")).to_have_text("iTSCOM IDの登録")
    expect(page.locator("#f-login_id-rule")).to_contain_text("入力可能文字数：4～100文字")
    expect(page.locator("#f-password-rule")).to_contain_text("入力可能文字数：6～32文字")
    page.get_by_label("iTSCOM ID").fill(login_id)
    page.locator("#f-password").fill(password)
    page.locator("#f-password_confirm").fill(password)
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("確認メールを送信しました。")
    expect(page.locator("main")).to_contain_text(f"{login_id} 宛に確認メールを送信しました。")


def _confirm_from_mail(page, inbox, login_id, before):
    mail = inbox.wait_for(login_id, before)
    assert "iTSCOM IDの新規登録のお手続きを受け付けました。" in inbox.text(mail)
    link = next(url for url in inbox.links(mail) if "/register/email-id/confirm/" in url)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("iTSCOM ID 新規登録")
    expect(page.locator("dl.facts").first).to_contain_text(login_id)
    return link


def _register(live_server, page, inbox, *, kana, phone, pay_label, pay_value, login_id, password, contact=None):
    """The whole 新規登録 from the login page's link to the completion page. ``contact``: the 連絡先
    メールアドレス to pick when the customer already has one on file (``None``: the new ID is the only
    choice). Returns the mailed link."""
    page.goto(_url(live_server, "/login"))
    page.get_by_role("link", name="iTSCOM IDの新規登録").click()
    _verify_contract(page, kana, phone, pay_label, pay_value)
    before = inbox.count(login_id)
    _choose_id_and_password(page, login_id, password)
    link = _confirm_from_mail(page, inbox, login_id, before)
    if contact is None:
        expect(page.locator("dl.facts").last).to_contain_text(login_id)  # the only 連絡先 is the new ID
        contact = login_id
    else:
        expect(page.locator("fieldset legend")).to_contain_text("連絡先メールアドレス(※)を選択してください。")
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("fieldset .field__error")).to_have_text("連絡先メールアドレスを選択してください。")
        page.get_by_role("radio", name=f"{contact} (現在の連絡先メールアドレス)").check()
    done_before = inbox.count(contact)
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("これでiTSCOM IDの登録は完了です。")
    expect(page.locator("dl.facts")).to_contain_text(login_id)
    done = inbox.wait_for(contact, done_before)
    assert "iTSCOM IDの登録が完了しました。" in inbox.text(done)
    assert login_id in inbox.text(done)
    return link


# -- login page ------------------------------------------------------------------------------------


def test_login_page_links_and_password_toggle(live_server, page):
    page.goto(_url(live_server, "/login"))
    password = page.locator("#f-password")
    password.fill("secret-1")
    assert password.get_attribute("type") == "password"
    page.get_by_label("パスワードを表示").check()
    expect(password).to_have_attribute("type", "text")
    assert password.input_value() == "secret-1"
    page.get_by_label("パスワードを表示").uncheck()
    expect(password).to_have_attribute("type", "password")

    page.get_by_role("link", name="iTSCOM IDの新規登録").click()
    expect(page.locator("h1")).to_have_text("契約者情報 認証")
    page.go_back()
    page.get_by_role("link", name="ID,またはパスワードをお忘れですか?").click()
    expect(page.locator("h1")).to_have_text("iTSCOM ID・パスワードがご不明なお客様")
    # 「IDがご不明な場合」 leads to the registration (re-registration replaces the ID and password).
    page.get_by_role("radio", name="iTSCOM IDがご不明な場合(iTSCOM ID新規登録)").check()
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("契約者情報 認証")


# -- 新規登録 ---------------------------------------------------------------------------------------


def test_registration_to_login(live_server, page, inbox):
    login_id = "hanako.browser@example.jp"
    link = _register(
        live_server,
        page,
        inbox,
        kana="イッツ　ハナコ",
        phone="0337001234",
        pay_label="機器情報",
        pay_value="STB0000001",
        login_id=login_id,
        password="hanako-pass1",
        contact="user0000@example.ne.jp",
    )
    page.get_by_role("link", name="ログイン画面へ").click()
    _login(live_server, page, login_id, "hanako-pass1")
    expect(page.locator("h1").first).to_contain_text("伊津　花子")
    page.get_by_role("link", name="お客さま情報確認・変更").first.click()
    expect(page.locator("dl.facts").first).to_contain_text("user0000@example.ne.jp")

    # The mailed link is single use.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("このURLはすでに使用されています。")


def test_registration_input_errors_and_mismatch(live_server, page):
    page.goto(_url(live_server, "/register/email-id"))
    # Nothing chosen among お支払情報等: the message sits next to the choice, the input is kept.
    page.get_by_label("ご契約者氏名(カナ)").fill("イッツ　ハナコ")
    page.get_by_label("登録済みの電話番号").fill("0337001234")
    page.get_by_role("button", name="確認").click()
    expect(page.locator("fieldset .field__error")).to_have_text("いずれか1つを選択してください。")
    assert page.get_by_label("ご契約者氏名(カナ)").input_value() == "イッツ　ハナコ"
    assert page.get_by_label("登録済みの電話番号").input_value() == "0337001234"

    # A wrong customer number: no account enumeration, one generic message, input kept.
    page.get_by_role("radio", name="お客さま番号").check()
    page.get_by_label("お支払情報等の内容").fill("1000000099")
    page.get_by_role("button", name="確認").click()
    expect(page.locator(".form-error")).to_have_text(WRONG_CONTRACT)
    assert page.get_by_role("radio", name="お客さま番号").is_checked()
    assert page.get_by_label("お支払情報等の内容").input_value() == "1000000099"


def test_registration_with_extra_information(live_server, page):
    """イッツ　ジロウ / 0337005678 fits two customers: 追加認証情報 asks for お客さま番号 or the STB ID and
    picks 1000000002. (Stops at the ID step: the customer is registered by the next test.)"""
    page.goto(_url(live_server, "/register/email-id"))
    _verify_contract(page, "イッツ　ジロウ", "0337005678", "口座番号 下4桁", "5678")
    expect(page.locator("h1")).to_have_text("追加認証情報")
    kinds = page.get_by_label("認証情報の種類")  # a choice of the item, as the guide's screen
    options = kinds.locator("option").all_inner_texts()
    assert options[0] == "お客さま番号" and "セットアップボックス (STB/Hit pot) のID" in options[1]
    page.get_by_role("button", name="確認").click()
    expect(page.locator(".form-error")).to_have_text("いずれか1つ以上を入力してください。")
    kinds.select_option("customer_number")
    page.get_by_label("追加認証情報の内容").fill("1000000002")
    page.get_by_role("button", name="確認").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDの登録")


def test_recovery_by_code(live_server, page, inbox):
    """Registers イッツ　ジロウ 1000000002 (by お客さま番号), then パスワードを忘れた (B): a code mailed to
    the 連絡先メールアドレス, a new password twice, login."""
    login_id = "jiro2.browser@example.jp"
    _register(
        live_server,
        page,
        inbox,
        kana="イッツ　ジロウ",
        phone="0337005678",
        pay_label="お客さま番号",
        pay_value="1000000002",
        login_id=login_id,
        password="jiro-pass1",
    )
    _login(live_server, page, login_id, "jiro-pass1")
    _logout(live_server, page)

    page.get_by_role("link", name="ID,またはパスワードをお忘れですか?").click()
    page.get_by_role("radio", name="パスワードがご不明な場合").check()
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("本人認証")
    before = inbox.count(login_id)
    page.get_by_label("iTSCOM ID").fill(login_id)
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("認証コード入力")
    mail = inbox.wait_for(login_id, before)
    code = re.search(r"認証コード\s*:\s*(\d{6})", inbox.text(mail)).group(1)

    wrong = "000000" if code != "000000" else "111111"
    page.get_by_label("認証コード").fill(wrong)
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("#f-code-error")).to_have_text("認証コードが正しくありません。")
    page.get_by_label("認証コード").fill(code)
    page.get_by_role("button", name="次へ").click()

    expect(page.locator("h1")).to_have_text("パスワード登録")
    page.locator("#f-password").fill("jiro-new2")
    page.locator("#f-password_confirm").fill("jiro-new3")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("#f-password_confirm-error")).to_have_text("パスワードが一致しません。同じパスワードを入力してください。")
    page.locator("#f-password").fill("jiro-new2")
    page.locator("#f-password_confirm").fill("jiro-new2")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("これでパスワードの再発行は完了です。")
    done = inbox.wait_for(login_id, before + 1)
    assert "パスワードの再発行が完了しました。" in inbox.text(done)

    page.get_by_role("link", name="ログイン画面へ").click()
    _login_fails(live_server, page, login_id, "jiro-pass1")
    _login(live_server, page, login_id, "jiro-new2")


# -- パスワードを忘れた (A): 合言葉 ------------------------------------------------------------------


def test_recovery_by_secret_question(live_server, page, inbox):
    login_id = "aikotoba@itscom.example"
    page.goto(_url(live_server, "/login"))
    page.get_by_role("link", name="ID,またはパスワードをお忘れですか?").click()
    page.get_by_role("radio", name="パスワードがご不明な場合").check()
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("iTSCOM ID").fill(login_id)
    page.get_by_role("button", name="次へ").click()

    expect(page.locator("h1")).to_have_text("合言葉登録")
    page.get_by_label("秘密の質問").select_option(label="母親の旧姓は?")
    page.get_by_label("答え").fill("さくら")
    before = inbox.count(login_id)
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("本人認証 完了")
    expect(page.locator("main")).to_contain_text("連絡先メールアドレス宛に確認メールを送信しました。")

    mail = inbox.wait_for(login_id, before)
    assert "パスワード再発行のための本人認証が完了しました。" in inbox.text(mail)
    link = next(url for url in inbox.links(mail) if "/forgot/question/answer/" in url)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("合言葉入力")
    page.get_by_label("秘密の質問").select_option(label="母親の旧姓は?")
    page.get_by_label("答え").fill("ｻｸﾗ")  # width and kana kind do not matter
    page.get_by_role("button", name="ID・パスワード再発行").click()

    expect(page.locator("h1")).to_have_text("ID・パスワード再発行")
    expect(page.locator("main")).to_contain_text("これでパスワードの再発行は完了です。")
    expect(page.locator("dl.facts")).to_contain_text(login_id)
    password = page.locator("code.secret").inner_text().strip()
    assert 6 <= len(password) <= 32
    expect(page.locator("main")).to_contain_text("なお、この内容は今後確認ができません。")

    # Shown once: the link is spent, the page cannot be seen again.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("このURLはすでに使用されています。")
    assert password not in page.content()

    _login_fails(live_server, page, login_id, "demo-pass2")
    _login(live_server, page, login_id, password)


# -- お客さま情報確認・変更 ---------------------------------------------------------------------------


def test_change_login_id_and_password(live_server, page, inbox):
    """Registers イッツ　ジロウ 1000000003 (by the STB ID), then changes the iTSCOM ID (code from the mail,
    the new ID becomes the 連絡先) and the password; logs in with the new values."""
    old_id = "jiro3.browser@example.jp"
    new_id = "jiro3.renamed@example.jp"
    _register(
        live_server,
        page,
        inbox,
        kana="イッツ　ジロウ",
        phone="0337005678",
        pay_label="機器情報",
        pay_value="STB0000003",
        login_id=old_id,
        password="jiro3-pass1",
    )
    _login(live_server, page, old_id, "jiro3-pass1")

    page.get_by_role("link", name="お客さま情報確認・変更").first.click()
    expect(page.locator("h1")).to_have_text("お客さま情報確認・変更")
    expect(page.locator("dl.facts").first).to_contain_text(old_id)
    page.get_by_role("link", name="アカウント情報を変更する").click()
    expect(page.locator("h1")).to_have_text("アカウント情報の変更")

    # iTSCOM ID 変更: 変更内容の入力 → 認証コード入力 → 変更内容の確認 → 変更完了.
    page.get_by_role("link", name="変更 (iTSCOM ID)").click()
    expect(page.locator("dl.facts")).to_contain_text(old_id)
    page.get_by_label("新しいiTSCOM ID").fill(old_id)
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("#f-login_id-error")).to_have_text("現在のiTSCOM IDと異なるiTSCOM IDを入力してください。")
    page.get_by_label("新しいiTSCOM ID").fill(new_id)
    before = inbox.count(old_id)
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("認証コード入力")
    mail = inbox.wait_for(old_id, before)
    assert "iTSCOM IDの変更のための認証コードをお知らせします。" in inbox.text(mail)
    code = re.search(r"認証コード\s*:\s*(\d{6})", inbox.text(mail)).group(1)
    page.get_by_label("認証コード").fill(code)
    page.get_by_role("button", name="次へ").click()

    expect(page.locator("h1")).to_have_text("変更内容の確認")
    expect(page.locator("dl.facts")).to_contain_text(new_id)
    page.get_by_role("button", name="この内容で登録する").click()
    expect(page.locator("fieldset .field__error")).to_have_text("いずれか1つを選択してください。")
    page.get_by_role("radio", name="連絡先メールアドレスに設定する").check()
    new_before, old_before = inbox.count(new_id), inbox.count(old_id)
    page.get_by_role("button", name="この内容で登録する").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDの変更が完了しました。")
    expect(page.locator("dl.facts")).to_contain_text(new_id)
    expect(page.locator("main")).to_contain_text("連絡先メールアドレスに確認メールを送信しました。")
    confirmation = inbox.wait_for(new_id, new_before)
    assert "iTSCOM ID変更完了のお知らせ" in confirmation["Subject"]
    assert new_id in inbox.text(confirmation)
    inbox.wait_for(old_id, old_before)  # the previous address is told as well

    # 「印刷用画面へ」 opens the print view in a new tab; 閉じる closes it.
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="印刷用画面へ").click()
    printout = opened.value
    printout.wait_for_load_state()
    expect(printout.locator("h1")).to_have_text("iTSCOM ID")
    expect(printout.locator("dl.facts")).to_contain_text(new_id)
    expect(printout.get_by_role("button", name="印刷")).to_be_visible()
    with printout.expect_event("close"):
        try:
            printout.get_by_role("link", name="閉じる").click(no_wait_after=True)
        except PlaywrightError:  # the tab may close while Playwright still finishes the click: what it should do
            if not printout.is_closed():
                raise

    page.get_by_role("link", name="お客さま情報確認・変更へ").click()
    expect(page.locator("dl.facts").first).to_contain_text(new_id)

    # パスワード変更: 変更内容の入力 → 変更内容の確認 [登録] → 変更完了.
    page.get_by_role("link", name="アカウント情報を変更する").click()
    page.get_by_role("link", name="変更 (パスワード)").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDのパスワード変更")
    page.get_by_label("現在のパスワード").fill("wrong-pass1")
    page.locator("#f-password").fill("jiro3-new2")
    page.get_by_label("新しいパスワード 再入力").fill("jiro3-new2")
    page.get_by_role("button", name="この内容で登録する").click()
    expect(page.locator("#f-current_password-error")).to_have_text("現在のパスワードが正しくありません。")
    page.get_by_label("現在のパスワード").fill("jiro3-pass1")
    page.locator("#f-password").fill("jiro3-new2")
    page.get_by_label("新しいパスワード 再入力").fill("jiro3-new2")
    page.get_by_role("button", name="この内容で登録する").click()
    expect(page.locator("h1")).to_have_text("新しいiTSCOM IDのパスワードの登録確認")
    before = inbox.count(new_id)
    page.get_by_role("button", name="登録").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDのパスワード変更が完了しました。")
    expect(page.locator("dl.facts")).to_contain_text("●" * len("jiro3-new2"))
    assert "jiro3-new2" not in page.content()
    inbox.wait_for(new_id, before)

    _logout(live_server, page)
    _login_fails(live_server, page, old_id, "jiro3-new2")
    _login_fails(live_server, page, new_id, "jiro3-pass1")
    _login(live_server, page, new_id, "jiro3-new2")
