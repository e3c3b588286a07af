"""メールアドレスの登録: local-part rules, sub-domain candidates, the walk, limit, password shown once,
virus check, delete, ineligible customers and tenant isolation."""

import re

from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.audit.log import AuditLog
from mypage.identity.passwords import verify_password
from mypage.mailboxes import service
from mypage.mailboxes.tables import Mailbox


def fetch(query):
    return run(query.run())


def itscom_client(client_for, services="internet,tv", number="3000001", login="taro@example.jp"):
    customer = make_customer("itscom", number, services=services)
    account = make_account("itscom", customer, login, email=login)
    return sign_in(client_for("itscom"), "itscom", account), customer


def test_local_part_rules_at_the_boundaries():
    assert service.check_local("ab") == ["3～20文字で入力してください。"]
    assert service.check_local("abc") == []
    assert service.check_local("a" * 20) == []
    assert service.check_local("a" * 21) == ["3～20文字で入力してください。"]
    assert service.check_local("a-b_c") == []
    for bad in ("-abc", "abc-", "_abc", "abc_"):
        assert service.check_local(bad) == ["「-」「_」は先頭、末尾には使用できません。"], bad
    assert service.check_local("ab.c") == ["使用できない文字が含まれています: 「.」"]
    assert service.check_local("") == ["メールアドレスを入力してください。"]
    assert service.normalize_local(" Ｔａｒｏ－１ ".replace("－", "-")) == "taro-1"


def test_registration_walk_password_shown_once(app, client_for, portal):
    client, customer = itscom_client(client_for)
    listing = client.get("/mailboxes")
    assert listing.status_code == 200 and "新規登録" in listing.text
    page = client.get("/mailboxes/new")
    assert (
        "入力可能文字数：3～20文字 ご利用可能文字：半角英数字、「-」(マイナス)、「_」(アンダースコア) ※ただし、「-」「_」は先頭、末尾には使用できません。"
        in page.text
    )

    bad = client.submit("/mailboxes/new", {"local": "-a"})
    assert (
        bad.status_code == 400
        and "3～20文字で入力してください。" in bad.text
        and "「-」「_」は先頭、末尾には使用できません。" in bad.text
    )
    assert 'value="-a"' in bad.text

    assert (
        client.submit("/mailboxes/new", {"local": "Taro_Y"}, follow_redirects=False).headers["location"]
        == "/mailboxes/new/subdomain"
    )
    page = client.get("/mailboxes/new/subdomain")
    first = re.findall(r'name="subdomain" value="([^"]+)"', page.text)
    assert len(first) == 3 and all(re.fullmatch(r"[a-z]0[0-9]", s) for s in first)
    assert "taro_y@" in page.text and "他のサブドメイン候補を表示する" in page.text
    client.submit("/mailboxes/new/subdomain", {"action": "more"})
    second = re.findall(r'name="subdomain" value="([^"]+)"', client.get("/mailboxes/new/subdomain").text)
    assert len(second) == 3 and not set(first) & set(second)
    # a sub-domain that was never offered is refused
    never = next(s for s in service.ALL_SUBDOMAINS if s not in first + second)
    assert client.submit("/mailboxes/new/subdomain", {"subdomain": never}).status_code == 400
    assert client.submit("/mailboxes/new/subdomain", {"subdomain": first[0]}, follow_redirects=False).status_code == 303

    options = client.get("/mailboxes/new/options")
    assert "契約約款" in options.text and "メールウィルスチェック" in options.text
    refused = client.submit("/mailboxes/new/options", {"virus_check": "off"})
    assert refused.status_code == 400 and "契約約款に同意いただく必要があります。" in refused.text
    client.submit("/mailboxes/new/options", {"virus_check": "off", "agree": "yes"})
    address = f"taro_y@{first[0]}.itscom.net"
    confirm = client.get("/mailboxes/new/confirm")
    assert address in confirm.text and "OFF" in confirm.text
    assert client.submit("/mailboxes/new/confirm", {}, follow_redirects=False).headers["location"] == "/mailboxes/new/done"

    done = client.get("/mailboxes/new/done")
    assert "この内容は今後確認ができません。印刷をするか、メモなどに控えてください。" in done.text and "印刷画面へ" in done.text
    password = re.search(r'<code class="secret">([^<]+)</code>', done.text).group(1)
    row = fetch(Mailbox.objects().where(Mailbox.address == address).first())
    assert row.customer == customer and row.virus_check is False and row.tenant == "itscom"
    assert password not in row.password_hash and verify_password(row.password_hash, password)
    # shown once
    again = client.get("/mailboxes/new/done", follow_redirects=False)
    assert again.status_code == 303
    assert password not in client.get("/mailboxes").text
    assert run(AuditLog("itscom").events(event="mailbox.created"))


def test_candidates_are_only_free_addresses(app, portal):
    tenant = portal.tenants.get("itscom")
    customer = make_customer("itscom", "3000009")
    taken = [s for s in service.ALL_SUBDOMAINS if s != "k07"]

    async def fill():
        await Mailbox.insert(
            *(
                Mailbox(
                    tenant="itscom",
                    customer=customer,
                    local_part="popular",
                    subdomain=sub,
                    address=f"popular@{sub}.itscom.net",
                    password_hash="x",
                )
                for sub in taken
            )
        )
        # the same local part on another tenant does not count
        await Mailbox(
            tenant="aicom",
            customer=customer,
            local_part="popular",
            subdomain="k07",
            address="popular@k07.itscom.net",
            password_hash="x",
        ).save()

    run(fill())
    assert run(service.candidates(tenant, "popular")) == ["k07"]
    assert run(service.candidates(tenant, "popular", exclude=["k07"])) == []
    assert len(run(service.candidates(tenant, "unused"))) == 3


def test_at_most_five_and_delete_and_virus_toggle(app, client_for):
    client, customer = itscom_client(client_for)

    async def fill():
        for i in range(5):
            await Mailbox(
                tenant="itscom",
                customer=customer,
                local_part=f"user{i}",
                subdomain="a01",
                address=f"user{i}@a01.itscom.net",
                password_hash="x",
                virus_check=True,
            ).save()

    run(fill())
    listing = client.get("/mailboxes")
    assert "新規登録" not in listing.text.split("</h1>", 1)[1] and "5つまで" in listing.text
    assert client.get("/mailboxes/new", follow_redirects=False).status_code == 303
    assert client.submit("/mailboxes/new", {"local": "another"}, follow_redirects=False).headers["location"] == "/mailboxes"

    first = fetch(Mailbox.objects().where(Mailbox.local_part == "user0").first())
    assert client.submit(f"/mailboxes/{first.id}/virus-check", {"virus_check": "off"}, follow_redirects=False).status_code == 303
    assert fetch(Mailbox.objects().where(Mailbox.id == first.id).first()).virus_check is False
    assert "メールウィルスチェックをOFFにしました" in client.get("/mailboxes").text

    confirm = client.get(f"/mailboxes/{first.id}/delete")
    assert confirm.status_code == 200 and first.address in confirm.text
    assert client.submit(f"/mailboxes/{first.id}/delete", {}, follow_redirects=False).status_code == 303
    assert fetch(Mailbox.count().where(Mailbox.customer == customer)) == 4
    assert client.get("/mailboxes/new").status_code == 200


def test_another_customers_mailbox_is_404(app, client_for):
    client, _customer = itscom_client(client_for)
    other = make_customer("itscom", "3000002")

    async def make():
        box = Mailbox(
            tenant="itscom",
            customer=other,
            local_part="other",
            subdomain="b02",
            address="other@b02.itscom.net",
            password_hash="x",
        )
        await box.save()
        return box.id

    box = run(make())
    assert client.get(f"/mailboxes/{box}/delete").status_code == 404
    assert client.submit(f"/mailboxes/{box}/delete", {}).status_code == 404
    assert client.submit(f"/mailboxes/{box}/virus-check", {"virus_check": "off"}).status_code == 404
    assert fetch(Mailbox.count()) == 1 and "other@b02" not in client.get("/mailboxes").text


def test_customer_without_internet_sees_an_explanation(app, client_for):
    client, _ = itscom_client(client_for, services="tv")
    page = client.get("/mailboxes")
    assert page.status_code == 200
    assert (
        "インターネットサービスご契約のお客さまがご利用いただけます" in page.text
        and "新規登録" not in page.text.split("</h1>", 1)[1]
    )
    assert client.get("/mailboxes/new", follow_redirects=False).status_code == 303
    assert client.submit("/mailboxes/new", {"local": "taro"}, follow_redirects=False).headers["location"] == "/mailboxes"


def test_feature_off_for_other_tenants(app, client_for):
    customer = make_customer("nmedia", "1000001", services="internet")
    account = make_account("nmedia", customer, "abc123")
    assert sign_in(client_for("nmedia"), "nmedia", account).get("/mailboxes").status_code == 404
