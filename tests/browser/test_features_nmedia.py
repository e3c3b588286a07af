"""日本メディアシステム customer features in Chromium with demo data (customer 5000000002 株式会社 メディア商事):
契約情報, 契約回線, ご契約情報 (開通案内 PDF), 料金明細 by 年度 and 請求月, 通話明細 (paged, CSV), お問い合わせ,
ユーザ管理 as the admin and its absence for the general member. Login: アクセスID + password, the mailed
ワンタイムパスワード and the self-hosted captcha (``logins.login_nmedia``)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from .logins import NMEDIA_ADMIN, NMEDIA_MEMBER, download, login_nmedia, pdf_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JST = timezone(timedelta(hours=9))
ADMIN_MAIL = NMEDIA_ADMIN["email"]
CSV_HEADER = ["日時", "利用種類", "通話元", "通話先", "通話時間", "料金(円)"]


def number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_contract_information_lines_detail_and_opening_notice(live_server, page, inbox):
    login_nmedia(page, live_server, inbox)
    main = page.locator("main")
    user = main.locator("dl.facts").first
    expect(user).to_contain_text("メディア商事 管理者")
    expect(user).to_contain_text(ADMIN_MAIL)
    expect(user).to_contain_text("m95au6")
    expect(main).to_contain_text("mediaひかりおよびmediaひかりのオプションサービスのご利用に関する内容")
    expect(main).to_contain_text("Splashtop、Lite Storage等日本メディアシステムご提供のクラウドサービス等のご利用に関する内容")

    main.get_by_role("link", name="その他のご契約").click()
    expect(main.locator("table tbody tr")).to_have_count(1)
    expect(main.locator("table tbody")).to_contain_text("COP00000004")
    main.get_by_role("link", name="契約情報へ戻る").click()
    page.wait_for_url(live_server.url("nmedia", "/"))

    main.get_by_role("link", name="mediaひかりのご契約").click()
    expect(main).to_contain_text("契約回線")
    expect(main).to_contain_text("※契約一覧は一括請求/一括送付に基づき表示されます。")
    expect(main.locator("table thead")).to_contain_text("契約番号")
    expect(main.locator("table thead")).to_contain_text("設置場所住所")
    rows = main.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("CAF0000000002")
    expect(rows.nth(1)).to_contain_text("CAF0000000003")
    expect(rows.nth(0)).to_contain_text("株式会社　メディア商事")

    rows.nth(0).get_by_role("link", name="詳細").click()
    page.wait_for_url(live_server.url("nmedia", "/contracts/CAF0000000002"))
    terms = [t.strip() for t in main.locator("dl.facts dt").all_inner_texts()]
    for label in (
        "契約番号",
        "顧客カナ",
        "顧客名",
        "郵便番号",
        "住所①",
        "住所②",
        "建物名",
        "サービス名",
        "契約ステータス",
        "開始日",
        "アクセスキー",
        "契約電話番号",
        "サービス名①",
        "サービス名②",
        "サービス名③",
        "サービス名④",
        "サービス名⑤",
    ):
        assert label in terms, label
    for heading in ("概要情報", "届出場所住所", "アクセスライン", "ひかり電話", "オプション"):
        expect(main.locator("h2", has_text=heading)).to_have_count(1)
    facts = main.inner_text()
    for value in (
        "CAF0000000002",
        "カブシキガイシャ　メディアショウジ",
        "株式会社　メディア商事",
        "5300001",
        "mediaひかり",
        "[1G] ビジネス",
        "ご利用中",
        "0669005678",
        "mediaITサポート24",
        "固定IPアドレス",
    ):
        assert value in facts, value
    access_key = main.locator("dt", has_text="アクセスキー").locator("xpath=following-sibling::dd[1]").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{8}", access_key), access_key

    select = page.get_by_label("開通案内日付選択")
    option = select.locator("option").first.inner_text()
    assert re.fullmatch(r"\d{4}年\d{2}月\d{2}日分", option), option
    name, data = download(page, lambda: main.get_by_role("button", name="開通案内ダウンロード").click())
    assert name.endswith(".pdf") and "CAF0000000002" in name
    text = pdf_text(data)
    for expected in (
        "開 通 案 内",
        "株式会社　メディア商事",
        "C A F 0 0 0 0 0 0 0 0 0 2",
        "アクセスキー",
        "ご契約内容",
        "0669005678",
    ):
        assert expected in text, expected
    assert " ".join(access_key) in re.sub(r"\s+", " ", text), access_key


def test_billing_by_year_and_month_then_call_details_and_csv(live_server, page, inbox):
    login_nmedia(page, live_server, inbox)
    page.goto(live_server.url("nmedia", "/contracts/CAF0000000002"))
    main = page.locator("main")
    main.get_by_role("link", name="請求情報").click()
    page.wait_for_url(live_server.url("nmedia", "/billing/contract/CAF0000000002"))
    expect(main.locator("h1")).to_have_text("料金明細")
    expect(main).to_contain_text("年度選択から、確認したい請求年度を選んでください。")
    years = [v for v in page.get_by_label("年度選択").locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    assert years == sorted(years, reverse=True) and len(years) >= 2, years

    # Choosing the year shows its months (portal.js); 表示 stays for a browser without script.
    expect(main.get_by_role("button", name="表示")).to_be_visible()
    page.get_by_label("年度選択").select_option(years[0])
    page.wait_for_url(re.compile(rf"year={years[0]}$"))
    months = main.locator("details.billing-month")
    titles = [t.strip() for t in months.locator("summary").all_inner_texts()]
    assert titles and all(re.fullmatch(rf"{years[0]}年\d{{2}}月（請求月）", t) for t in titles), titles
    assert titles == sorted(titles, reverse=True)

    # Open the newest month whose invoice has a 通話料 (the demo customer has 通話明細 for 6 months).
    month = months.first
    month.locator("summary").click()
    expect(month.locator("table")).to_be_visible()
    expect(month.locator("thead")).to_contain_text("料金内訳")
    expect(month.locator("thead")).to_contain_text("金額（円）")
    base = number(month.locator("tr", has_text="10%対象計").locator("td").first.inner_text())
    tax = number(month.locator("tr", has_text="消費税（10%）").locator("td").first.inner_text())
    subtotal = number(month.locator("tr", has_text="小計").locator("td").first.inner_text())
    assert tax == base * 10 // 100 and base + tax == subtotal
    call_charge = number(month.locator("tr", has_text="通話料").locator("td.num").inner_text())

    invoice_number = month.locator("tr.billing-breakdown__number").inner_text().strip()
    # One PDF per 一括請求 invoice: this contract's lines are in it, with the other contracts of the group.
    name, data = download(page, lambda: month.get_by_role("link", name="請求書ダウンロード").click())
    text = pdf_text(data)
    assert invoice_number in text and "株式会社　メディア商事" in text and "CAF0000000002" in text
    assert "10%対象計" in text and "消費税（10%）" in text and "合計（税込）" in text

    month.get_by_role("link", name="通話明細").click()
    page.wait_for_url(re.compile(r"/calls/CAF0000000002/\d{4}-\d{2}$"))
    expect(main.locator("h1")).to_have_text("通話料金明細")
    facts = main.locator("dl.facts")
    count = number(facts.locator("dd").nth(2).inner_text())
    total = number(facts.locator("dd").nth(3).inner_text())
    assert total == call_charge, "the invoice's 通話料 is the total of the month's calls"
    rows = main.locator("table.calls__table tbody tr")
    expect(rows).to_have_count(count)
    expect(main.locator("table.calls__table thead th")).to_have_text(["日時", "利用種類", "通話元", "通話先", "通話時間", "料金"])
    assert re.fullmatch(r"\d{2}/\d{2} \d{2}:\d{2}", rows.first.locator("td").first.inner_text())
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", rows.first.locator("td").nth(4).inner_text())

    name, data = download(page, lambda: main.get_by_role("link", name="CSVダウンロード", exact=True).click())
    assert name.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM for Excel"
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == CSV_HEADER
    assert len(table) == count + 1
    assert sum(int(row[5]) for row in table[1:]) == total
    assert all(re.fullmatch(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}", row[0]) for row in table[1:])

    name, data = download(page, lambda: main.get_by_role("link", name="CSVダウンロード（Shift_JIS）").click())
    assert not data.startswith(b"\xef\xbb\xbf")
    sjis = list(csv.reader(io.StringIO(data.decode("cp932"))))
    assert sjis[0] == CSV_HEADER and len(sjis) == count + 1


def _import_calls(live_server, rows: list[list[str]]) -> None:
    """Load call records the way an operator does: ``mypage import nmedia calls FILE.csv``."""
    path = live_server.sqlite_path.parent / "browser-calls.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["contract_number", "started_at", "kind", "caller", "callee", "duration", "charge", "record_key"])
        writer.writerows(rows)
    env = {
        **os.environ,
        "MYPAGE_SQLITE_PATH": str(live_server.sqlite_path),
        "MYPAGE_SECRET_KEY": live_server.settings().secret_key,
        "MYPAGE_DATABASE_URL": "",
        "MYPAGE_REDIS_URL": "",
        "MYPAGE_SMTP_URL": "",
        "PYTHONPATH": os.path.join(ROOT, "platform"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "mypage.cli", "import", "nmedia", "calls", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_call_details_are_paged(live_server, page, inbox):
    # The current month (not invoiced yet) gets 130 calls: more than one page of 100.
    now = datetime.now(JST)
    month = now.strftime("%Y-%m")
    start = now.replace(day=1, hour=8, minute=0, second=0, microsecond=0)
    rows = [
        [
            "CAF0000000002",
            (start + timedelta(minutes=7 * i)).strftime("%Y-%m-%d %H:%M:%S"),
            "ひかり電話・県内",
            "0669005678",
            f"06{1000000 + i:08d}",
            f"00:0{i % 6}:1{i % 10}",
            "8",
            f"browser-paging-{i:03d}",
        ]
        for i in range(130)
    ]
    _import_calls(live_server, rows)

    login_nmedia(page, live_server, inbox)
    page.goto(live_server.url("nmedia", "/calls/CAF0000000002"))
    main = page.locator("main")
    main.get_by_role("link", name=re.compile(rf"{now.year}年0?{now.month}月")).first.click()
    page.wait_for_url(live_server.url("nmedia", f"/calls/CAF0000000002/{month}"))
    facts = main.locator("dl.facts")
    count = number(facts.locator("dd").nth(2).inner_text())
    assert 130 <= count <= 200, count
    table_rows = main.locator("table.calls__table tbody tr")
    expect(table_rows).to_have_count(100)
    pager = main.get_by_role("navigation", name="ページ")
    expect(pager).to_contain_text("1 / 2 ページ")
    first_page = table_rows.all_inner_texts()
    pager.get_by_role("link", name="次へ").click()
    page.wait_for_url(re.compile(r"\?page=2$"))
    expect(pager).to_contain_text("2 / 2 ページ")
    expect(table_rows).to_have_count(count - 100)
    assert not set(first_page) & set(table_rows.all_inner_texts())
    pager.get_by_role("link", name="前へ").click()
    expect(pager).to_contain_text("1 / 2 ページ")

    # The CSV has every call of the month, not just one page.
    _name, data = download(page, lambda: main.get_by_role("link", name="CSVダウンロード", exact=True).click())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == CSV_HEADER and len(table) == count + 1


def test_contract_without_call_details_shows_how_to_apply_then_inquiry(live_server, page, inbox):
    login_nmedia(page, live_server, inbox)
    page.goto(live_server.url("nmedia", "/contracts/CAF0000000003"))
    main = page.locator("main")
    main.get_by_role("link", name="通話明細").click()
    page.wait_for_url(live_server.url("nmedia", "/calls/CAF0000000003"))
    expect(main).to_contain_text("通話明細のご利用には別途申請が必要です。")
    expect(main).to_contain_text("翌月の通話明細記録より閲覧が可能です。")
    expect(main.locator("table")).to_have_count(0)
    assert page.goto(live_server.url("nmedia", "/calls/CAF0000000003/2026-01/csv")).status == 404
    page.go_back()

    main.get_by_role("link", name="通話明細の利用を申請する").click()
    expect(main.locator("h1").first).to_have_text("お問い合わせ")
    expect(page.get_by_label("種別")).to_have_value("call_details")
    expect(page.get_by_label("件名")).to_have_value("通話明細記録の希望")

    # 件名 and 内容 are optional (「任意で件名、内容を入力します」): 内容 is not marked 必須.
    expect(page.locator("label[for=f-body]")).not_to_contain_text("必須")
    expect(page.get_by_label("種別")).to_have_value("call_details")

    body = "株式会社メディア商事 経理 山田です。通話明細記録の利用を希望します。"
    page.get_by_label("内容").fill(body)
    before = inbox.count(ADMIN_MAIL)
    main.get_by_role("button", name="送信").click()
    page.wait_for_url(live_server.url("nmedia", "/inquiries/done"))
    expect(main).to_contain_text("お問い合わせを受け付けました。")
    reference = main.locator("dt", has_text="受付番号").locator("xpath=following-sibling::dd[1]").inner_text().strip()
    assert re.fullmatch(r"\d+", reference), reference
    mail = inbox.wait_for(ADMIN_MAIL, before)
    text = inbox.text(mail)
    assert reference in text and body in text and "通話明細記録について" in text


def test_user_management_register_update_delete(live_server, page, inbox):
    login_nmedia(page, live_server, inbox)
    page.get_by_role("link", name="ユーザ管理").first.click()
    page.wait_for_url(live_server.url("nmedia", "/members"))
    main = page.locator("main")
    expect(main.locator("table tbody tr")).to_have_count(2)
    expect(main).to_contain_text("登録できるユーザは20人までです。")

    address = "tanaka-browser@nmedia.example"
    page.get_by_label("メールアドレス").fill(address)
    page.get_by_label("ユーザ名").fill("メディア商事 田中")
    before = inbox.count(address)
    main.get_by_role("button", name="登録").click()
    expect(page.locator(".flash").first).to_contain_text("仮パスワードを発行いたしました。")
    row = main.locator("table tbody tr", has_text=address)
    expect(row).to_contain_text("メディア商事 田中")
    expect(row).to_contain_text("一般")
    mail = inbox.wait_for(address, before)
    text = inbox.text(mail)
    access_id = re.search(r"アクセスID\s*:\s*(\S+)", text)
    temporary = re.search(r"仮パスワード\s*:\s*(\S+)", text)
    assert access_id and temporary, text
    assert re.fullmatch(r"[a-z0-9]{6}", access_id.group(1))
    assert any("/register/issued-id/login/" in link for link in inbox.links(mail))
    assert temporary.group(1) not in page.content()

    # Update: name, role and mail notification.
    row.get_by_role("link", name=address).click()
    expect(page.get_by_label("メールアドレス")).to_have_value(address)
    page.get_by_label("ユーザ名").fill("メディア商事 田中 営業")
    page.get_by_label("管理者", exact=True).check()
    page.get_by_label("なし").check()
    main.get_by_role("button", name="更新").click()
    expect(page.locator(".flash").first).to_contain_text("ユーザ情報を更新しました。")
    row = main.locator("table tbody tr", has_text=address)
    expect(row).to_contain_text("メディア商事 田中 営業")
    expect(row).to_contain_text("管理者")
    expect(row).to_contain_text("なし")

    # Delete with a confirmation screen.
    row.get_by_role("link", name=address).click()
    main.get_by_role("button", name="削除").click()
    expect(main.locator("h1")).to_have_text("ユーザの削除")
    expect(main.locator("dl.facts")).to_contain_text(address)
    main.get_by_role("button", name="削除").click()
    page.wait_for_url(re.compile(r"/members"))
    expect(main.locator("table tbody tr", has_text=address)).to_have_count(0)
    expect(main.locator("table tbody tr")).to_have_count(2)


def test_general_member_has_no_user_management(live_server, page, inbox):
    member = NMEDIA_MEMBER
    login_nmedia(page, live_server, inbox, member["login_id"], member["password"], member["email"])
    expect(page.locator("main dl.facts").first).to_contain_text("メディア商事 経理担当")
    expect(page.get_by_role("link", name="契約情報").first).to_be_visible()
    expect(page.get_by_role("link", name="お問い合わせ").first).to_be_visible()
    expect(page.get_by_role("link", name="ユーザ管理")).to_have_count(0)
    response = page.goto(live_server.url("nmedia", "/members"))
    assert response.status == 403  # told that the page is for administrators, not "not found"
    expect(page.locator("main")).to_contain_text("管理者ユーザのみご利用いただけます")
    # The member still sees the shared contracts.
    page.goto(live_server.url("nmedia", "/contracts?category=main"))
    expect(page.locator("main table tbody tr")).to_have_count(2)


def test_menu_at_the_top_right_on_desktop_and_behind_a_button_on_a_phone(live_server, page, inbox):
    """The guide: 「右上のメニューボタンから…」 with 契約情報 お問い合わせ ユーザ管理 ログアウト in the header's row."""
    login_nmedia(page, live_server, inbox)
    header = page.locator("header.site-header").bounding_box()
    brand = page.locator("header .brand").bounding_box()
    logout = page.get_by_role("button", name="ログアウト").bounding_box()
    expect(page.locator("header summary.menu__toggle")).to_be_hidden()
    links = page.locator("header .menu__items a")
    expect(links.first).to_be_visible()
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box["x"] > brand["x"] + brand["width"] + 40, (links.nth(index).inner_text(), box)  # right of the title
        assert box["y"] < brand["y"] + brand["height"], (links.nth(index).inner_text(), box, brand)  # the brand's row
        assert box["x"] + box["width"] <= logout["x"], (box, logout)  # before ログアウト
    assert header["height"] < 100, header

    page.set_viewport_size({"width": 390, "height": 844})
    toggle = page.locator("header summary.menu__toggle")
    expect(toggle).to_be_visible()
    expect(links.first).to_be_hidden()
    toggle.click()
    expect(links.first).to_be_visible()
