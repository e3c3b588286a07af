"""インターネットセキュリティサービス: product page, apply with confirmation, status, cancel, mails, upsell."""

from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.addons import service
from mypage.addons.tables import AddonSubscription
from mypage.audit.log import AuditLog
from mypage.identity.tables import Account


def fetch(query):
    return run(query.run())


def itscom_client(client_for, services="internet", number="3000001", login="taro@example.jp"):
    customer = make_customer("itscom", number, services=services)
    account = make_account("itscom", customer, login, email=login, display_name="イッツ太郎")
    return sign_in(client_for("itscom"), "itscom", account), customer, account


def test_product_apply_status_cancel(app, client_for, deliver):
    client, customer, _account = itscom_client(client_for)
    page = client.get("/security")
    assert page.status_code == 200
    for text in (
        "マルチデバイスセキュリティ with Norton Security",
        "627円",
        "(税込)",
        "3台まで",
        "Windows/macOS/iOS/Android",
        "オンラインデータバックアップ",
        "未申込",
        "申し込む",
    ):
        assert text in page.text, text
    confirm = client.get("/security/apply")
    assert "お申込み内容の確認" in confirm.text and "627円" in confirm.text
    assert fetch(AddonSubscription.count()) == 0
    assert client.submit("/security/apply", {}, follow_redirects=False).status_code == 303
    page = client.get("/security")
    assert "お申込みを受け付けました。" in page.text and "お申込み済み" in page.text and "解約する" in page.text
    row = fetch(AddonSubscription.objects().first())
    assert row.customer == customer and row.cancelled_on is None and row.price_yen == 627
    mail = deliver().last_to("taro@example.jp")
    assert "お申込み受付" in mail["Subject"] and "627円" in deliver().text(mail)
    # a second application is refused
    assert client.get("/security/apply", follow_redirects=False).status_code == 303
    client.submit("/security/apply", {})
    assert fetch(AddonSubscription.count()) == 1

    assert "以下のサービスを解約します。" in client.get("/security/cancel").text
    assert client.submit("/security/cancel", {}, follow_redirects=False).status_code == 303
    page = client.get("/security")
    assert "解約を受け付けました。" in page.text and "未申込" in page.text
    assert fetch(AddonSubscription.objects().first()).cancelled_on is not None
    assert "解約受付" in deliver().last_to("taro@example.jp")["Subject"]
    assert {e["event"] for e in run(AuditLog("itscom").events())} >= {"addon.applied", "addon.cancelled"}
    # apply again after cancelling
    client.submit("/security/apply", {})
    assert fetch(AddonSubscription.count()) == 2


def test_customer_without_internet(app, client_for):
    client, _customer, _account = itscom_client(client_for, services="tv")
    page = client.get("/security")
    assert page.status_code == 200 and "インターネットサービスご契約のお客さまがお申込みいただける" in page.text
    assert "/security/apply" not in page.text
    assert client.get("/security/apply", follow_redirects=False).status_code == 303
    client.submit("/security/apply", {})
    assert fetch(AddonSubscription.count()) == 0


def test_upsell_for(app, client_for, portal):
    itscom = portal.tenants.get("itscom")
    client, _customer, account_id = itscom_client(client_for)
    account = fetch(Account.objects().where(Account.id == account_id).first())
    offer = run(service.upsell_for(itscom, account))
    assert offer["price_yen"] == 627 and offer["href"] == "/security" and offer["name"].ja.startswith("マルチデバイス")
    html = portal.templates_for(itscom).render("partials/home_upsell.html", {"security_upsell": offer, "ltext": lambda p: p.ja})
    assert "627円" in html and 'href="/security"' in html
    assert portal.templates_for(itscom).render("partials/home_upsell.html", {"security_upsell": None}).strip() == ""
    assert portal.templates_for(itscom).render("partials/home_upsell.html", {}).strip() == ""

    client.submit("/security/apply", {})
    assert run(service.upsell_for(itscom, account)) is None  # already applied
    tv_only = make_customer("itscom", "3000002", services="tv")
    tv_account = fetch(Account.objects().where(Account.id == make_account("itscom", tv_only, "tv@example.jp")).first())
    assert run(service.upsell_for(itscom, tv_account)) is None
    assert run(service.upsell_for(itscom, None)) is None
    nmedia_customer = make_customer("nmedia", "1000001", services="internet")
    nmedia_account = fetch(Account.objects().where(Account.id == make_account("nmedia", nmedia_customer, "abc123")).first())
    assert run(service.upsell_for(portal.tenants.get("nmedia"), nmedia_account)) is None


def test_feature_off_for_other_tenants(app, client_for):
    customer = make_customer("nmedia", "1000001", services="internet")
    account = make_account("nmedia", customer, "abc123")
    assert sign_in(client_for("nmedia"), "nmedia", account).get("/security").status_code == 404


def test_application_and_cancellation_appear_in_the_service_history(app, client_for, portal):
    from mypage import i18n

    client, _customer, _account = itscom_client(client_for)
    assert client.submit("/security/apply", {}, follow_redirects=False).status_code == 303
    history = client.get("/contracts/history")
    today = i18n.today(portal.tenants.get("itscom").config.timezone)  # the tenant's date, as the application's
    row = f'<time datetime="{today.isoformat()}">'
    assert "オプション加入: マルチデバイスセキュリティ with Norton Security" in history.text and row in history.text
    assert client.submit("/security/cancel", {}, follow_redirects=False).status_code == 303
    history = client.get("/contracts/history").text
    assert history.index("オプション解約: マルチデバイスセキュリティ") < history.index(
        "オプション加入: マルチデバイスセキュリティ"
    )


def test_download_and_licence_information_once_applied(app, client_for, deliver, portal):
    client, _customer, _account = itscom_client(client_for, number="3000077", login="norton@example.jp")
    product = portal.tenants.get("itscom").config.features.security_addon
    assert product.download_url and product.setup_steps
    before = client.get("/security").text
    assert "ダウンロード・ライセンス情報" not in before and product.download_url not in before
    client.submit("/security/apply", {})
    page = client.get("/security").text
    row = fetch(AddonSubscription.objects().first())
    assert "ダウンロード・ライセンス情報" in page and f"{row.id:08d}" in page
    assert f'href="{product.download_url}"' in page and "ソフトウェアをダウンロード" in page
    assert "ライセンス数" in page and "3台まで" in page
    assert product.setup_steps[0].ja in page
    text = deliver().text(deliver().last_to("norton@example.jp"))
    assert product.download_url in text and product.setup_steps[-1].ja in text
    # after cancelling, the download is no longer offered
    client.submit("/security/cancel", {})
    assert product.download_url not in client.get("/security").text
