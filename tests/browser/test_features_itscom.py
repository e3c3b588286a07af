"""iTSCOM customer features in Chromium with demo data (customer 1000000010, demo@itscom.example):
the top page, ご請求明細, お支払い方法 (change to a card), ご契約・手続き (PDF), メールアドレス and
インターネットセキュリティサービス. Every journey that changes something undoes it, so the order does not matter."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .logins import ITSCOM, download, login_itscom, pdf_text

EMAIL = ITSCOM["login_id"]


def yen(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_top_page_summary_notices_and_menus(live_server, page):
    login_itscom(page, live_server)
    summary = page.locator("section.home-summary")
    expect(summary.locator("h1")).to_have_text("ようこそ、玉川　一郎様")
    expect(summary.locator("dt")).to_have_text(["契約プラン", "更新月", "プラン継続年数"])
    expect(summary.locator(".home-summary__plan")).to_contain_text("イッツコム光 かっとび光 1ギガ")
    assert re.fullmatch(r"\d{4}年\d{1,2}月~\d{4}年\d{1,2}月", summary.locator(".home-summary__renewal").inner_text().strip())
    assert re.fullmatch(r"(\d+年)?\d+ヵ月|\d+年", summary.locator(".home-summary__tenure").inner_text().strip())
    expect(page.locator("main")).to_contain_text("お知らせ")
    expect(page.locator("main")).to_contain_text("【重要】迷惑メールにご注意ください")

    groups = page.locator("nav.side-menu .side-menu__group")
    expect(groups.locator("h2")).to_have_text(["A料金", "Bご契約・手続き", "C各種設定", "Dヘルプ"])
    expected = {
        0: ["ご請求明細の確認", "お支払い方法の確認・変更"],
        1: ["ご契約情報確認・変更", "サービス加入・変更履歴", "契約内容確認書のダウンロード", "お友だち紹介"],
        2: ["お客さま情報確認・変更", "メールアドレスの設定・変更", "インターネットセキュリティサービスの設定・変更"],
        3: ["お問い合わせ・サポート", "イッツコム 通信速度測定"],
    }
    for index, labels in expected.items():
        expect(groups.nth(index).locator("a")).to_have_text(labels)
    # Every internal menu entry opens (no 404 / 500 behind a menu).
    hrefs = [a.get_attribute("href") for a in page.locator("nav.side-menu a").all()]
    for href in hrefs:
        if href.startswith("/"):
            response = page.goto(live_server.url("itscom", href))
            assert response.status == 200, href


def test_top_page_offers_the_security_service_when_eligible(live_server, page):
    login_itscom(page, live_server)
    upsell = page.locator("section.upsell")
    expect(upsell).to_contain_text("インターネットセキュリティサービスのご案内")
    expect(upsell).to_contain_text("マルチデバイスセキュリティ")
    upsell.get_by_role("link", name="詳しく見る・申し込む").click()
    page.wait_for_url(live_server.url("itscom", "/security"))


def test_billing_detail_per_rate_tax(live_server, page):
    login_itscom(page, live_server)
    page.get_by_role("link", name="ご請求明細の確認").first.click()
    page.wait_for_url(live_server.url("itscom", "/billing"))
    main = page.locator("main")
    expect(main).to_contain_text("請求年月の新しい順に最大13カ月間のご利用料金が確認できます。")
    rows = main.locator("table tbody tr")
    expect(rows).to_have_count(13)
    rows.first.get_by_role("link", name="詳細").click()
    expect(page.locator("main h1")).to_have_text("ご利用料金の明細")
    table = main.locator("table.billing-lines")
    amounts = [yen(c.inner_text()) for c in table.locator("tbody td[data-label='金額(税抜)']").all()]
    bases = table.locator("tr.billing-totals__base")
    taxes = table.locator("tr.billing-totals__tax")
    expect(bases.first.locator("th")).to_contain_text("対象計")
    base_total = sum(yen(b.locator("td").first.inner_text()) for b in bases.all())
    tax_total = sum(yen(t.locator("td").first.inner_text()) for t in taxes.all())
    assert sum(amounts) == base_total
    total = yen(table.locator("tr.billing-totals__total td").first.inner_text())
    assert base_total + tax_total == total
    _name, data = download(page, lambda: main.get_by_role("link", name="請求書ダウンロード").click())
    text = pdf_text(data)
    assert "玉川　一郎" in text and f"{total:,}円" in text
    assert re.search(r"登録番号\s*T\d{13}", text), text


def test_change_payment_method_to_a_card(live_server, page, inbox):
    login_itscom(page, live_server)
    page.get_by_role("link", name="お支払い方法の確認・変更").first.click()
    page.wait_for_url(live_server.url("itscom", "/billing/payment-method"))
    main = page.locator("main")
    expect(main).to_contain_text("現在のお支払い方法")
    expect(main).to_contain_text("クレジットカードへの変更が可能です。")
    main.get_by_role("link", name=re.compile("クレジットカード(に|を)変更する")).click()

    # A bad expiry: message next to the field, the rest kept.
    page.get_by_label("カード番号").fill("4242 4242 4242 4242")
    page.get_by_label("有効期限").fill("01/20")
    page.get_by_label("カード名義").fill("ICHIRO TAMAGAWA")
    page.get_by_label("セキュリティコード").fill("123")
    page.get_by_role("button", name="確認画面へ").click()
    expect(page.locator("#f-expiry-error")).to_be_visible()
    expect(page.locator("#f-expiry")).to_have_attribute("aria-invalid", "true")
    assert page.get_by_label("カード名義").input_value() == "ICHIRO TAMAGAWA"

    page.get_by_label("カード番号").fill("4242 4242 4242 4242")
    page.get_by_label("有効期限").fill("12/39")
    page.get_by_label("セキュリティコード").fill("123")
    page.get_by_role("button", name="確認画面へ").click()
    page.wait_for_url(live_server.url("itscom", "/billing/payment-method/card/confirm"))
    expect(main).to_contain_text("**** **** **** 4242")
    expect(main).to_contain_text("Visa")
    expect(main).to_contain_text("12/39")
    assert "4242 4242 4242 4242" not in page.content() and "4242424242424242" not in page.content()

    before = inbox.count(EMAIL)
    main.get_by_role("button", name="変更する").click()
    page.wait_for_url(live_server.url("itscom", "/billing/payment-method/card/done"))
    expect(main).to_contain_text("お支払い方法をクレジットカードに変更しました。")
    mail = inbox.wait_for(EMAIL, before)
    assert "お支払い方法変更" in mail["Subject"]
    assert "4242424242424242" not in inbox.text(mail)

    main.get_by_role("link", name="お支払い方法の確認へ").click()
    facts = main.locator("dl.facts").first
    expect(facts).to_contain_text("クレジットカード")
    expect(facts).to_contain_text("**** **** **** 4242")
    expect(facts).to_contain_text("12/39")


def test_contract_pages_confirmation_pdf_and_referral(live_server, page):
    login_itscom(page, live_server)
    page.get_by_role("link", name="ご契約情報確認・変更").first.click()
    main = page.locator("main")
    expect(main).to_contain_text("1000000010")
    rows = main.locator("table tbody tr")
    for number, service in (
        ("IT00100005", "イッツコム光"),
        ("IT00100006", "イッツコムテレビ"),
        ("IT00100007", "イッツコムひかり電話"),
    ):
        expect(main).to_contain_text(number)
        expect(main).to_contain_text(service)
    assert rows.count() >= 3

    page.goto(live_server.url("itscom", "/"))
    page.get_by_role("link", name="サービス加入・変更履歴").first.click()
    expect(page.locator("main h1")).to_have_text("サービス加入・変更履歴")
    expect(main.locator("table tbody tr").first).to_contain_text("加入")

    page.goto(live_server.url("itscom", "/"))
    page.get_by_role("link", name="契約内容確認書のダウンロード").first.click()
    name, data = download(page, lambda: main.get_by_role("link", name="契約内容確認書をダウンロード").click())
    assert name.endswith(".pdf")
    text = pdf_text(data)
    assert "契 約 内 容 確 認 書" in text or "契約内容確認書" in text
    for expected in ("玉川　一郎", "1000000010", "IT00100005", "かっとび光 1ギガ", "更新月", "5,720円"):
        assert expected in text, expected

    page.goto(live_server.url("itscom", "/"))
    page.get_by_role("link", name="お友だち紹介").first.click()
    expect(page.locator("main h1")).to_have_text("お友だち紹介")
    code = main.locator("dl.facts dd").first.inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{8,}", code), code
    page.reload()
    assert main.locator("dl.facts dd").first.inner_text().strip() == code  # stable per customer


def test_referral_link_opens(live_server, page):
    login_itscom(page, live_server)
    page.goto(live_server.url("itscom", "/contracts/referral"))
    link = page.locator("main a[href*='/referral/']").first.get_attribute("href")
    code = link.rsplit("/", 1)[1]
    page.context.clear_cookies()  # the friend is not logged in
    response = page.goto(link)
    assert response.status == 200
    assert code in page.locator("main").inner_text()
    assert "0120-125607" in page.locator("main").inner_text()


def test_register_and_delete_a_mail_address(live_server, page):
    login_itscom(page, live_server)
    page.get_by_role("link", name="メールアドレスの設定・変更").first.click()
    page.wait_for_url(live_server.url("itscom", "/mailboxes"))
    main = page.locator("main")
    expect(main).to_contain_text("標準でメールアドレスを5つまで登録可能です。")
    main.get_by_role("link", name="新規登録").click()

    # A bad local part first: message next to the field, the input kept.
    page.get_by_label("メールアドレス").fill("-ab")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("#f-local-error")).to_contain_text("「-」「_」は先頭、末尾には使用できません。")
    assert page.get_by_label("メールアドレス").input_value() == "-ab"
    assert page.url.endswith("/mailboxes/new")

    page.get_by_label("メールアドレス").fill("ichiro-web")
    page.get_by_role("button", name="次へ").click()
    page.wait_for_url(live_server.url("itscom", "/mailboxes/new/subdomain"))
    candidates = page.locator("input[name=subdomain]")
    first = [c.get_attribute("value") for c in candidates.all()]
    assert first and all(re.fullmatch(r"[a-z]0\d", value) for value in first), first
    expect(main.locator("fieldset")).to_contain_text("ichiro-web@")
    with page.expect_navigation():
        main.get_by_role("button", name="他のサブドメイン候補を表示する").click()
    expect(candidates.first).to_be_visible()
    others = [c.get_attribute("value") for c in candidates.all()]
    assert others and all(re.fullmatch(r"[a-z]0\d", value) for value in others), others
    assert others != first
    chosen = others[-1]
    candidates.nth(len(others) - 1).check()
    main.get_by_role("button", name="次へ").click()
    page.wait_for_url(live_server.url("itscom", "/mailboxes/new/options"))
    address = f"ichiro-web@{chosen}.itscom.net"
    expect(main.locator("dl.facts")).to_contain_text(address)

    # Terms must be accepted.
    main.get_by_role("button", name="確認").click()
    assert page.url.endswith("/mailboxes/new/options")
    expect(main).to_contain_text("契約約款")
    page.get_by_label("契約約款に同意する").check()
    page.get_by_label("OFF").check()
    main.get_by_role("button", name="確認").click()
    page.wait_for_url(live_server.url("itscom", "/mailboxes/new/confirm"))
    expect(main.locator("dl.facts")).to_contain_text(address)
    expect(main.locator("dl.facts")).to_contain_text("OFF")
    main.get_by_role("button", name="登録").click()
    page.wait_for_url(live_server.url("itscom", "/mailboxes/new/done"))
    expect(main).to_contain_text("これでメールアドレスの登録は完了です。")
    expect(main).to_contain_text(address)
    password = main.locator("code.secret").inner_text().strip()
    assert len(password) >= 8
    expect(main).to_contain_text("この内容は今後確認ができません。")

    # The password is shown once only.
    page.reload()
    assert password not in page.content()
    page.goto(live_server.url("itscom", "/mailboxes"))
    row = main.locator("table tbody tr", has_text=address)
    expect(row).to_contain_text("OFF")
    assert password not in page.content()

    # Virus check toggled on from the list.
    row.get_by_role("button", name="ONにする").click()
    expect(main.locator("table tbody tr", has_text=address)).to_contain_text("ON")

    main.locator("table tbody tr", has_text=address).get_by_role("link", name="削除").click()
    expect(main.locator("dl.facts")).to_contain_text(address)
    main.get_by_role("button", name="削除").click()
    page.wait_for_url(live_server.url("itscom", "/mailboxes"))
    expect(main.locator("table tbody tr", has_text=address)).to_have_count(0)


def test_security_service_apply_status_cancel(live_server, page, inbox):
    login_itscom(page, live_server)
    page.get_by_role("link", name="インターネットセキュリティサービスの設定・変更").first.click()
    page.wait_for_url(live_server.url("itscom", "/security"))
    main = page.locator("main")
    status = main.locator("dl.facts").first
    expect(status).to_contain_text("未申込")
    expect(main).to_contain_text("月額 627円(税込)")
    main.get_by_role("link", name="申し込む").click()
    page.wait_for_url(live_server.url("itscom", "/security/apply"))
    expect(main.locator("h1")).to_have_text("お申込み内容の確認")
    expect(main.locator("dl.facts")).to_contain_text("3台まで")

    before = inbox.count(EMAIL)
    main.get_by_role("button", name="申し込む").click()
    page.wait_for_url(live_server.url("itscom", "/security"))
    expect(page.locator(".flash").first).to_contain_text("お申込みを受け付けました。")
    expect(status).to_contain_text("お申込み済み")
    mail = inbox.wait_for(EMAIL, before)
    assert "お申込み受付" in mail["Subject"]
    assert "マルチデバイスセキュリティ" in inbox.text(mail)
    # Applied: the top page no longer offers it.
    page.goto(live_server.url("itscom", "/"))
    expect(page.locator("section.home-summary")).to_be_visible()
    expect(page.locator("section.upsell")).to_have_count(0)
    page.goto(live_server.url("itscom", "/security"))

    main.get_by_role("link", name="解約する").click()
    page.wait_for_url(live_server.url("itscom", "/security/cancel"))
    expect(main.locator("h1")).to_have_text("解約の確認")
    before = inbox.count(EMAIL)
    main.get_by_role("button", name="解約する").click()
    page.wait_for_url(live_server.url("itscom", "/security"))
    expect(page.locator(".flash").first).to_contain_text("解約を受け付けました。")
    expect(status).to_contain_text("未申込")
    mail = inbox.wait_for(EMAIL, before)
    assert "解約受付" in mail["Subject"]
