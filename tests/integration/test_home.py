"""Home page per tenant: the layout comes from the tenant's home.html, the data from the records."""

from datetime import date

import contract_records as rec


def test_aicom_home_shows_menu_list_and_free_of_charge_note(app, client_for):
    cust = rec.customer("aicom", "1234567", name="甲賀 太郎")
    acc = rec.account("aicom", cust, "koka-taro", nickname="たろう")
    page = rec.sign_in(client_for("aicom"), "aicom", acc).get("/")
    assert page.status_code == 200
    html = page.text
    assert "お客様メニューリスト" in html
    assert "ようこそ、たろう様" in html
    assert "本サービスのご利用は無料ですが、本サービスのご利用にかかる通信料等は、お客様のご負担となります。" in html
    for label, href in (("ご利用料金", "/billing"), ("ご契約内容", "/contracts"), ("会員情報", "/account/profile")):
        assert f'href="{href}">{label}</a>' in html


def test_itscom_home_shows_plan_renewal_tenure_notices_and_menus(app, client_for):
    cust = rec.customer(
        "itscom",
        "500001",
        name="世田谷 花子",
        plan_name="かっとび光 1G + ケーブルプラス電話",
        renewal_window="2025年1月~2025年3月",
        customer_since=date(2020, 1, 1),
    )
    acc = rec.account("itscom", cust, "hanako@example.jp")
    rec.notice("itscom", "メンテナンスのお知らせ", date(2023, 10, 1), body="10月15日 2:00~5:00")
    rec.notice("nmedia", "他社のお知らせ", date(2023, 10, 2))
    page = rec.sign_in(client_for("itscom"), "itscom", acc).get("/")
    assert page.status_code == 200
    html = page.text
    assert "かっとび光 1G + ケーブルプラス電話" in html
    assert "2025年1月~2025年3月" in html
    from mypage.i18n import today as tenant_today

    today = tenant_today("Asia/Tokyo")  # the tenant's zone, as the page counts (not the server's UTC date)
    months = (today.year - 2020) * 12 + today.month - 1
    assert f"{months // 12}年{months % 12}ヵ月" in html
    assert "メンテナンスのお知らせ" in html and "他社のお知らせ" not in html
    assert 'href="/account">お客さま情報を変更' in html
    for group in ("料金", "ご契約・手続き", "各種設定", "ヘルプ"):
        assert f"{group}</h2>" in html
    for label in (
        "ご契約情報確認・変更",
        "サービス加入・変更履歴",
        "契約内容確認書のダウンロード",
        "お友だち紹介",
        "お問い合わせ・サポート",
        "イッツコム 通信速度測定",
    ):
        assert label in html
    assert 'class="side-menu"' in html


def test_tenure_format():
    from mypage.contracts.service import tenure

    assert tenure(date(2022, 8, 15), date(2023, 10, 20)) == "1年2ヵ月"
    assert tenure(date(2022, 8, 25), date(2023, 10, 20)) == "1年1ヵ月"
    assert tenure(date(2023, 10, 1), date(2023, 10, 20)) == "0年0ヵ月"
    assert tenure(None) == ""


def test_nmedia_home_shows_user_info_buttons_and_hides_user_admin_from_general_users(app, client_for):
    cust = rec.customer("nmedia", "CAF0000000001", name="顧客r")
    admin = rec.account("nmedia", cust, "m95au6", display_name="管理者", email="admin@example.jp", role="admin")
    general = rec.account("nmedia", cust, "k12ab3", display_name="一般", email="general@example.jp", role="general")
    rec.contract("nmedia", cust, "CAF0000000001", category="main")
    rec.contract("nmedia", cust, "COP00000001", category="other", service_name="Splashtop")
    rec.notice("nmedia", "請求書をアップロードしました", date(2023, 11, 9))
    page = rec.sign_in(client_for("nmedia"), "nmedia", admin).get("/")
    assert page.status_code == 200
    html = page.text
    assert "ユーザ情報" in html and "管理者" in html and "admin@example.jp" in html and "m95au6" in html
    assert "アクセスID" in html
    assert 'href="/contracts?category=main">mediaひかりのご契約</a>' in html
    assert 'href="/contracts?category=other">その他のご契約</a>' in html
    assert "請求書をアップロードしました" in html
    assert 'href="/members"' in html and "ユーザ管理" in html
    assert "お問い合わせ" in html and "ログアウト" in html
    general_page = rec.sign_in(client_for("nmedia"), "nmedia", general).get("/")
    assert general_page.status_code == 200
    assert "k12ab3" in general_page.text
    assert 'href="/members"' not in general_page.text and "ユーザ管理" not in general_page.text


def test_home_requires_login(app, client_for):
    for tenant in ("aicom", "itscom", "nmedia"):
        response = client_for(tenant).get("/", follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def test_itscom_top_page_offers_the_security_add_on_until_applied(app, client_for, portal):
    from conftest import run
    from mypage.addons import service

    internet = rec.customer("itscom", "500010", services="internet,tv")
    tv_only = rec.customer("itscom", "500011", services="tv")
    online = rec.account("itscom", internet, "net@example.jp")
    offline = rec.account("itscom", tv_only, "tv@example.jp")
    client = rec.sign_in(client_for("itscom"), "itscom", online)
    html = client.get("/").text
    assert 'class="card upsell"' in html and 'href="/security"' in html and "627円" in html
    assert 'class="card upsell"' not in rec.sign_in(client_for("itscom"), "itscom", offline).get("/").text
    run(service.apply(portal, portal.tenants.get("itscom"), online))
    assert 'class="card upsell"' not in client.get("/").text
