"""The fixture tenants of ``tests/fixtures/tenants`` register through the one pipeline, each with a
combination of identity rules none of the operators uses together (HTTP client, real SMTP server).

- kitanet: e-mail ID; contract number and postal code; terms; the address confirmed by a mailed code;
  the contact address chosen among the ID and the address on file; nickname; then login with the mailed
  one-time password.
- minamicable: chosen ID with IDチェック; kana, phone and one of the payment hints; 追加認証 when two
  customers match; password typed twice; a mailed link; then login goes on to the next factor.
"""

from __future__ import annotations

import re

import pytest

from composed_tenants import ComposedApps, register, tenants_folder
from conftest import run
from mypage.identity.tables import Account
from mypage.records.tables import Contract, Customer, Device


@pytest.fixture(scope="module")
def composed(base_settings, tmp_path_factory):
    return ComposedApps(tenants_folder(tmp_path_factory.mktemp("composed") / "tenants"), base_settings)


@pytest.fixture
def client_for(db, composed):
    return composed.client_for(db)


def tenant(composed, slug):
    return composed.portal.tenants.get(slug)


def accounts(slug: str) -> list[dict]:
    async def go():
        return await Account.select().where(Account.tenant == slug)

    return run(go())


def make_kitanet_customer() -> int:
    async def go():
        customer = Customer(tenant="kitanet", number="K0001", name="北 花子", name_kana="キタ　ハナコ", email="onfile@example.jp")
        await customer.save()
        await Contract(tenant="kitanet", customer=customer.id, number="KN00000001", postal_code="0600001").save()
        return customer.id

    return run(go())


def make_minami_twins() -> tuple[int, int]:
    """Two customers whose kana, phone and bank account digits are the same (a family, say)."""

    async def go():
        ids = []
        for number, device in (("7000001", "STBA0001"), ("7000002", "STBB0002")):
            customer = Customer(
                tenant="minamicable",
                number=number,
                name="南 一郎",
                name_kana="ミナミ　イチロウ",
                phone="0661234567",
                bank_last4="4321",
            )
            await customer.save()
            await Device(tenant="minamicable", customer=customer.id, kind="stb", device_id=device).save()
            ids.append(customer.id)
        return tuple(ids)

    return run(go())


KITA_PASSWORD = "Kita-Pass-2026"


def test_kitanet_registers_with_terms_a_mailed_code_and_a_contact_choice(composed, client_for, deliver):
    customer_id = make_kitanet_customer()
    client = client_for("kitanet")
    verify = client.get("/register/email-id")
    assert "利用規約" in verify.text and "契約書に記載の契約番号(KN + 8桁)" in verify.text
    # terms consent is required; the answers are kept
    refused = client.submit("/register/email-id", {"contract_number": "KN00000001", "postal_code": "060-0001"})
    assert refused.status_code == 400 and "利用規約に同意してください。" in refused.text and 'value="KN00000001"' in refused.text
    wrong = client.submit("/register/email-id", {"contract_number": "KN00000001", "postal_code": "0600002", "terms": "1"})
    assert wrong.status_code == 400 and "一致するご契約者情報が見つかりませんでした" in wrong.text
    # the other shipped pipelines' paths are not this tenant's
    assert client.get("/register/chosen-id").status_code == 404

    login_id = register(
        client,
        tenant(composed, "kitanet"),
        deliver,
        answers={"contract_number": "KN00000001", "postal_code": "0600001"},
        login_id="hana@example.jp",
        email="hana@example.jp",
        password=KITA_PASSWORD,
        nickname="はな",
    )
    [account] = accounts("kitanet")
    assert account["login_id"] == login_id == "hana@example.jp" and account["customer"] == customer_id
    assert account["nickname"] == "はな" and account["email"] == "hana@example.jp" and account["status"] == "active"

    # login: password, then the one-time password mailed to the contact address
    browser = client_for("kitanet")
    step = browser.submit("/login", {"login_id": "HANA@example.jp", "password": KITA_PASSWORD}, follow_redirects=False)
    assert step.status_code == 303 and step.headers["location"] == "/login/email_otp"
    assert browser.get("/login/email_otp").status_code == 200
    mail = deliver().last_to("hana@example.jp")
    otp = re.search(r"(?<!\d)(\d{6})(?!\d)", deliver().text(mail)).group(1)
    home = browser.submit("/login/email_otp", {"otp": otp}, follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/"


def test_kitanet_code_page_offers_the_address_on_file_and_counts_wrong_codes(composed, client_for, deliver):
    make_kitanet_customer()
    client = client_for("kitanet")
    verified = client.submit("/register/email-id", {"contract_number": "KN00000001", "postal_code": "0600001", "terms": "1"})
    assert verified.status_code == 200 and "ログインメールアドレス" in verified.text  # the account page
    form = {"login_id": "new@example.jp", "password": KITA_PASSWORD, "password_confirm": KITA_PASSWORD, "nickname": "はな"}
    sent = client.submit("/register/email-id/account", form, follow_redirects=False)
    assert sent.headers["location"] == "/register/email-id/code"
    page = client.get("/register/email-id/code")
    assert "onfile@example.jp" in page.text and "new@example.jp" in page.text and 'name="code"' in page.text
    code = re.search(r"認証コード : (\d{6})", deliver().text(deliver().last_to("new@example.jp"))).group(1)
    wrong = client.submit("/register/email-id/code", {"code": "000000" if code != "000000" else "111111", "contact": "1"})
    assert wrong.status_code == 400 and "認証コードが正しくありません" in wrong.text
    unchosen = client.submit("/register/email-id/code", {"code": code})
    assert unchosen.status_code == 400 and "連絡先メールアドレスを選択してください。" in unchosen.text
    done = client.submit("/register/email-id/code", {"code": code, "contact": "1"})
    assert done.status_code == 200 and "登録は完了" in done.text
    [account] = accounts("kitanet")
    assert account["login_id"] == "new@example.jp" and account["email"] == "onfile@example.jp"


def test_minamicable_registers_with_one_of_disambiguation_and_a_link(composed, client_for, deliver):
    first, second = make_minami_twins()
    client = client_for("minamicable")
    page = client.get("/register")
    assert page.status_code == 200 and "お支払情報等" in page.text and 'name="pay_kind"' in page.text
    answers = {"name_kana": "ﾐﾅﾐ ｲﾁﾛｳ", "phone": "06-6123-4567"}
    # the 追加認証 page answers only after a verification with several matches
    assert client.get("/register/chosen-id/extra", follow_redirects=False).status_code == 303

    login_id = register(
        client,
        tenant(composed, "minamicable"),
        deliver,
        answers=answers,
        pay=("bank_last4", "4321"),
        extra={"device_id": "stbb0002"},
        login_id="Minami_1",
        email="ichiro@example.jp",
        password="minami2026",
    )
    [account] = accounts("minamicable")
    assert account["customer"] == second != first
    assert account["login_id"] == login_id.lower() and account["email"] == "ichiro@example.jp"
    # the next factors follow the password (captcha and authenticator app are configured)
    step = client_for("minamicable").submit("/login", {"login_id": "minami_1", "password": "minami2026"}, follow_redirects=False)
    assert step.status_code == 303 and step.headers["location"] != "/"


def test_minamicable_id_check_password_twice_and_taken_ids(composed, client_for, deliver):
    make_minami_twins()
    client = client_for("minamicable")
    first = client.submit(
        "/register/chosen-id",
        {"name_kana": "ミナミ　イチロウ", "phone": "0661234567", "pay_kind": "customer_number", "pay_value": "7000001"},
    )
    assert first.status_code == 200 and "IDチェック" in first.text and 'name="password_confirm"' in first.text
    checked = client.submit("/register/chosen-id/profile", {"login_id": "abc", "action": "check"})
    assert "4～20文字で入力してください" in checked.text or "文字で入力してください" in checked.text
    ok = client.submit("/register/chosen-id/profile", {"login_id": "ichiro", "action": "check"})
    assert "このIDは利用できます" in ok.text
    mismatch = client.submit(
        "/register/chosen-id/profile",
        {"login_id": "ichiro", "password": "minami2026", "password_confirm": "minami2027", "email": "i@example.jp"},
    )
    assert mismatch.status_code == 400 and "パスワードが一致しません" in mismatch.text
    # no 確認 page: the link goes out at once, to the contact address
    sent = client.submit(
        "/register/chosen-id/profile",
        {"login_id": "ichiro", "password": "minami2026", "password_confirm": "minami2026", "email": "i@example.jp"},
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/register/chosen-id/sent"
    assert client.get("/register/chosen-id/confirm", follow_redirects=False).status_code == 404
    link = next(u for u in deliver().links(deliver().last_to("i@example.jp")) if "/register/chosen-id/confirm/" in u)
    assert link
