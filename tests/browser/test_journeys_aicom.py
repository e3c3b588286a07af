"""Aicom Koka: 初回会員登録 from the login page to そのままログイン, reading the mail from a real SMTP server."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import _serve


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A demo server of this module's own: its journeys register the demo's unregistered customers, which the
    session's shared server may already have seen registered by the tests that ran before."""
    yield from _serve(tmp_path_factory.mktemp("journeys"), "demo")


def test_first_registration_to_login(live_server, page, inbox):
    page.goto(live_server.url("aicom", "/login"))
    page.get_by_role("link", name="初めてログインされる方").click()
    expect(page.locator("body")).to_contain_text("初回会員登録(認証情報)")  # waits for the new page

    # Deliberately "unkind" input: leading zeros dropped, full-width digits with hyphens, half-width kana.
    page.locator("#f-customer_number").fill("1234567")
    page.locator("#f-phone").fill("０７４８－６２－１２３４")
    page.locator("#f-name_kana").fill("ｱｲｺﾑ ﾀﾛｳ")
    page.get_by_role("button", name="認証").click()
    expect(page.locator("body")).to_contain_text("初回会員登録(初期情報)")

    page.locator("#f-login_id").fill("koka-browser")
    page.get_by_role("button", name="IDチェック").click()
    expect(page.locator("main")).to_contain_text("このIDは利用できます")
    page.locator("#f-password").fill("Browser123")
    page.locator("#f-email").fill("koka-browser@example.jp")
    page.locator("#f-nickname").fill("ブラウザ太郎")
    page.get_by_role("button", name="確認する").click()

    page.get_by_role("button", name="入力画面に戻る").click()
    expect(page.locator("#f-login_id")).to_have_value("koka-browser")
    expect(page.locator("#f-email")).to_have_value("koka-browser@example.jp")
    page.locator("#f-password").fill("Browser123")
    page.get_by_role("button", name="確認する").click()

    before = inbox.count("koka-browser@example.jp")
    page.get_by_role("button", name="仮登録する").click()
    expect(page.locator("body")).to_contain_text("仮登録が完了しました。")

    mail = inbox.wait_for("koka-browser@example.jp", before)
    assert "仮登録受付完了" in mail["Subject"]
    link = next(url for url in inbox.links(mail) if "/register/" in url)
    page.goto(link)
    page.locator("#f-password").fill("Browser123")
    page.get_by_role("button", name="本登録する").click()
    expect(page.locator("body")).to_contain_text("本登録が完了しました。")
    page.get_by_role("button", name="そのままログイン").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("body")).to_contain_text("ブラウザ太郎")

    # The link is single use.
    page.goto(link)
    expect(page.locator("body")).to_contain_text("仮登録")
    assert "本登録する" not in page.content()


def test_mismatch_message(live_server, page):
    page.goto(live_server.url("aicom", "/register"))
    page.locator("#f-customer_number").fill("1234567")
    page.locator("#f-phone").fill("0748620000")
    page.locator("#f-name_kana").fill("アイコム　タロウ")
    page.get_by_role("button", name="認証").click()
    expect(page.locator("body")).to_contain_text(
        "入力された内容が契約者情報と一致しません。もう一度お手元の登録書をご確認ください。"
    )
