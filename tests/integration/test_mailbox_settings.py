"""メール設定 of an address: the servers and web mail from the tenant's config, メールパスワード変更 by the tenant's
rule, and another customer's address is 404."""

from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.identity.passwords import verify_password
from mypage.mailboxes.tables import Mailbox


def _mailbox(customer, local="taro", subdomain="c03"):
    async def make():
        box = Mailbox(
            tenant="itscom",
            customer=customer,
            local_part=local,
            subdomain=subdomain,
            address=f"{local}@{subdomain}.itscom.net",
            password_hash="x",
        )
        await box.save()
        return box.id

    return run(make())


def _password_hash(box_id):
    return run(Mailbox.select(Mailbox.password_hash).where(Mailbox.id == box_id).first().run())["password_hash"]


def test_settings_show_servers_webmail_and_change_the_password(app, client_for, portal):
    customer = make_customer("itscom", "3100001", services="internet")
    client = sign_in(client_for("itscom"), "itscom", make_account("itscom", customer, "box@example.jp", email="box@example.jp"))
    box = _mailbox(customer)
    feature = portal.tenants.get("itscom").config.features.mailboxes
    listing = client.get("/mailboxes").text
    assert f'href="/mailboxes/{box}/settings"' in listing and f'href="{feature.webmail_url}"' in listing
    assert "どこでもメール" in listing
    page = client.get(f"/mailboxes/{box}/settings").text
    for shown in (
        "メール設定",
        "taro@c03.itscom.net",
        feature.pop_server,
        feature.smtp_server,
        "どこでもメール",
        "メールパスワード変更",
    ):
        assert shown in page, shown
    assert str(feature.smtp_port) in page and str(feature.pop_port) in page

    weak = client.submit(f"/mailboxes/{box}/password", {"password": "abcdefgh", "password_confirm": "abcdefgh"})
    assert weak.status_code == 400 and "2種類以上" in weak.text
    differ = client.submit(f"/mailboxes/{box}/password", {"password": "Mail2026x", "password_confirm": "Mail2026y"})
    assert differ.status_code == 400 and "パスワードが一致しません" in differ.text
    assert _password_hash(box) == "x"
    done = client.submit(
        f"/mailboxes/{box}/password", {"password": "Mail2026x", "password_confirm": "Mail2026x"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert verify_password(_password_hash(box), "Mail2026x")
    assert "パスワードを変更しました" in client.get(f"/mailboxes/{box}/settings").text


def test_another_customers_settings_are_404(app, client_for):
    customer = make_customer("itscom", "3100002", services="internet")
    client = sign_in(client_for("itscom"), "itscom", make_account("itscom", customer, "box2@example.jp", email="box2@example.jp"))
    other = _mailbox(make_customer("itscom", "3100003", services="internet"), local="hanako")
    assert client.get(f"/mailboxes/{other}/settings").status_code == 404
    assert (
        client.submit(f"/mailboxes/{other}/password", {"password": "Mail2026x", "password_confirm": "Mail2026x"}).status_code
        == 404
    )
    assert _password_hash(other) == "x"
    assert client_for("aicom").get(f"/mailboxes/{other}/settings", follow_redirects=False).status_code in (302, 303, 404)
