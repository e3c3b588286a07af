"""Registration with issued credentials (login_id.kind = "issued"): 初回登録 → mail with
アクセスID / 仮パスワード / URL → 初回登録 at the URL → パスワード設定 → login; plus the ID and password rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest

from conftest import run
from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.identity.issued import create_issued_account, new_access_id, new_temporary_password
from mypage.identity.policy import check_login_id, check_password
from mypage.identity.tables import Account, OneTimeToken
from mypage.records.tables import Contract, Customer

EMAIL = "taro.media@example.jp"
PASSWORD = "mypass2024"


def make_holder(tenant: str = "nmedia", *, name: str = "株式会社メディア商事", number: str = "CAF0000000001") -> int:
    async def go():
        customer = Customer(
            tenant=tenant, number="N" + number[-8:], name=name, name_kana="メディアショウジ", postal_code="5340021"
        )
        await customer.save()
        await Contract(tenant=tenant, customer=customer.id, number=number, postal_code="5340021").save()
        return customer.id

    return run(go())


async def _first(query):
    return await query


def register(client, **overrides):
    data = {
        "email": EMAIL,
        "contract_number": "2NCAF0000000001",
        "postal_code": "５３４－００２１",
        "name": "メディア商事",
        "terms": "1",
    }
    data.update(overrides)
    return client.submit("/register/issued-id", data, follow_redirects=False)


def credentials_from(mail) -> tuple[str, str, str]:
    text = mail.text(mail.last_to(EMAIL))
    access_id = re.search(r"アクセスID : ([a-z0-9]+)", text).group(1)
    temporary = re.search(r"仮パスワード : ([a-z0-9]+)", text).group(1)
    link = next(url for url in mail.links(mail.last_to(EMAIL)) if "/register/issued-id/login/" in url)
    return access_id, temporary, urlparse(link).path


def complete_first_login(client, path: str, access_id: str, temporary: str, password: str = PASSWORD):
    page = client.submit(path, {"step": "credentials", "login_id": access_id, "temporary_password": temporary})
    assert page.status_code == 200, page.text
    assert "パスワード設定" in page.text
    return client.submit(path, {"step": "password", "password": password, "password_confirm": password})


def test_login_page_wording(app, client_for):
    page = client_for("nmedia").get("/login")
    assert page.status_code == 200
    text = page.text
    assert "アクセスID" in text
    assert ">送信</button>" in text
    assert (
        "上記で入力されたアカウントの登録メールアドレスにワンタイムパスワードを送信します。よろしければ送信ボタンを押してください。"
        in text
    )
    assert "メールが届かない場合は「info-mediahikari@n-media.co.jp」からの受信許可設定をご確認ください。" in text
    assert "IDまたはパスワードをお忘れの方はこちら" in text
    assert "新規作成の方はこちら" in text
    # another tenant keeps its own wording
    other = client_for("aicom").get("/login").text
    assert ">ログイン</button>" in other
    assert "ワンタイムパスワードを送信します" not in other


def test_registration_walk_mail_first_login_and_used_link(app, client_for, deliver):
    customer_id = make_holder()
    client = client_for("nmedia")
    assert client.get("/register", follow_redirects=False).headers["location"] == "/register/issued-id"
    form = client.get("/register/issued-id")
    assert form.status_code == 200
    assert "登録済みの法人格を表示" in form.text and "特定非営利活動法人" in form.text
    assert "利用規約" in form.text

    response = register(client)
    assert response.status_code == 303, response.text
    sent = client.get(response.headers["location"])
    assert "ご登録頂いたメールアドレス宛に仮パスワードを発行いたしました。" in sent.text
    assert "受信メールのURLよりログインが可能です。" in sent.text

    mail = deliver()
    message = mail.last_to(EMAIL)
    text = mail.text(message)
    assert text.startswith("平素より弊社サービス等をご利用頂き、厚く御礼申し上げます。")
    assert "【日本メディアシステム マイページ】" in message["Subject"]
    assert "仮登録処理が完了したため仮パスワードを発行いたしました。" in text
    assert "※上記 URL の有効期間は 10 日です。" in text
    assert "※半角英小文字/数字で半角8文字以上32文字以下で、英小文字・数字の2種類を含める必要があります。" in text
    access_id, temporary, path = credentials_from(mail)
    assert re.fullmatch(r"[a-z0-9]{6}", access_id) and re.search(r"[a-z]", access_id) and re.search(r"\d", access_id)
    assert re.fullmatch(r"[a-z0-9]{8}", temporary)

    row = run(_first(Account.objects().where(Account.tenant == "nmedia").where(Account.login_id == access_id).first()))
    assert row.status == "pending" and row.must_change_password and row.customer == customer_id and row.role == "owner"

    # the temporary password works only on the first-login pages of the mailed URL
    early = client_for("nmedia").submit("/login", {"login_id": access_id, "password": temporary}, follow_redirects=False)
    assert early.status_code == 403 and "初回登録が完了していません。" in early.text

    page = client.get(path)
    assert page.status_code == 200 and "仮パスワード (半角英数8桁)" in page.text
    wrong = client.submit(path, {"step": "credentials", "login_id": access_id, "temporary_password": "zz99zz99"})
    assert wrong.status_code == 400 and "アクセスIDまたは仮パスワードが正しくありません。" in wrong.text

    # password step: rule shown, mismatch and policy errors keep the user on the step
    page = client.submit(path, {"step": "credentials", "login_id": access_id.upper(), "temporary_password": temporary})
    assert "※半角英小文字/数字で半角8文字以上32文字以下で、英小文字・数字の2種類を含める必要があります。" in page.text
    bad = client.submit(path, {"step": "password", "password": "onlyletters", "password_confirm": "onlyletters"})
    assert bad.status_code == 400 and "英小文字・数字をそれぞれ1文字以上含めてください。" in bad.text
    mismatch = client.submit(path, {"step": "password", "password": PASSWORD, "password_confirm": PASSWORD + "x"})
    assert mismatch.status_code == 400 and "パスワードが一致しません。" in mismatch.text
    done = client.submit(path, {"step": "password", "password": PASSWORD, "password_confirm": PASSWORD})
    assert done.status_code == 200, done.text
    assert "ここまでで初回登録は完了です。" in done.text and 'href="/login"' in done.text

    row = run(_first(Account.objects().where(Account.id == row.id).first()))
    assert row.status == "active" and not row.must_change_password
    login = client_for("nmedia").submit("/login", {"login_id": access_id, "password": PASSWORD}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/login/email_otp"

    again = client_for("nmedia").get(path)
    assert again.status_code == 410 and "既に使用されています" in again.text

    events = [e["event"] for e in run(AuditLog("nmedia").events())]
    assert {"account.issued", "register.issued", "register.first_login_failed", "register.completed"} <= set(events)

    # a completed registration cannot be repeated for the same contract
    repeat = register(client_for("nmedia"))
    assert repeat.status_code == 409 and "既に登録されています" in repeat.text


def test_unknown_customer_terms_and_field_errors(app, client_for):
    make_holder()
    client = client_for("nmedia")
    response = register(client, postal_code="5340022")
    assert response.status_code == 400
    assert "指定の顧客は存在しません。" in response.text
    assert 'value="taro.media@example.jp"' in response.text  # input kept

    response = register(client, name="別の商事")
    assert "指定の顧客は存在しません。" in response.text

    response = register(client, terms="")
    assert response.status_code == 400 and "利用規約に同意してください。" in response.text

    response = register(client, contract_number="CAF12", email="not-an-address", postal_code="12")
    assert response.status_code == 400
    assert "契約番号の形式が正しくありません。" in response.text
    assert "メールアドレスの形式で入力してください。" in response.text
    assert "郵便番号は7桁の数字で入力してください。" in response.text
    assert run(_first(Account.count().where(Account.tenant == "nmedia"))) == 0

    # the registration pages are only for tenants running this flow
    assert client_for("aicom").get("/register/issued-id").status_code == 404


def test_contract_number_forms_and_pending_registration_replaced(app, client_for, deliver):
    make_holder(number="1234567890", name="日本　花子")
    client = client_for("nmedia")
    assert register(client, contract_number="2N1234567890", name="日本花子").status_code == 303
    first = credentials_from(deliver())
    assert register(client_for("nmedia"), contract_number="１２３４５６７８９０", name="日本 花子").status_code == 303
    second = credentials_from(deliver())
    assert first[0] != second[0]
    rows = run(_first(Account.select().where(Account.tenant == "nmedia")))
    assert len(rows) == 1 and rows[0]["login_id"] == second[0]  # the unfinished one was replaced
    assert client_for("nmedia").get(first[2]).status_code in (404, 410)


def test_expired_link_and_too_many_wrong_temporary_passwords(app, client_for, deliver):
    make_holder()
    assert register(client_for("nmedia")).status_code == 303
    access_id, temporary, path = credentials_from(deliver())

    run(
        _first(
            OneTimeToken.update({OneTimeToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
                OneTimeToken.purpose == "issued_first_login"
            )
        )
    )
    page = client_for("nmedia").get(path)
    assert page.status_code == 410 and "有効期間（10日）が過ぎたため" in page.text and "新規作成の方はこちら" in page.text

    # restart: a new registration mails a new link
    assert register(client_for("nmedia")).status_code == 303
    access_id, temporary, path = credentials_from(deliver())
    client = client_for("nmedia")
    for attempt in range(4):
        r = client.submit(path, {"step": "credentials", "login_id": access_id, "temporary_password": f"bad{attempt}pass"})
        assert r.status_code == 400
    r = client.submit(path, {"step": "credentials", "login_id": access_id, "temporary_password": "bad9pass"})
    assert r.status_code == 410 and "このURLは無効になりました" in r.text
    # even the right password no longer works on that link
    r = client.submit(path, {"step": "credentials", "login_id": access_id, "temporary_password": temporary})
    assert r.status_code == 410


def test_password_step_needs_the_credentials_step(app, client_for, deliver):
    make_holder()
    assert register(client_for("nmedia")).status_code == 303
    _access_id, _temporary, path = credentials_from(deliver())
    r = client_for("nmedia").submit(path, {"step": "password", "password": PASSWORD, "password_confirm": PASSWORD})
    assert r.status_code == 400 and "もう一度アクセスIDと仮パスワードを入力してください。" in r.text


def test_create_issued_account_for_members(app, portal, deliver):
    customer_id = make_holder()
    tenant = portal.tenants.get("nmedia")

    async def go():
        async with atomic():
            return await create_issued_account(
                portal,
                tenant,
                customer_id=customer_id,
                email="member@example.jp",
                display_name="一般",
                role="general",
                mail_notify=False,
            )

    account, temporary = run(go())
    assert account.status == "pending" and account.role == "general" and account.mail_notify is False
    assert check_password(temporary, tenant.config.identity.password) == []
    text = deliver().text(deliver().last_to("member@example.jp"))
    assert account.login_id in text and temporary in text


# ------------------------------------------------------------------ rules (no database)


@pytest.fixture(scope="module")
def nmedia_identity():
    from mypage.settings import Settings
    from mypage.tenancy.registry import TenantRegistry

    settings = Settings()
    return TenantRegistry.load(settings.tenants_dir, settings.themes_dir).get("nmedia")


@pytest.mark.parametrize(
    "password, ok",
    [
        ("abcd123", False),  # 7
        ("abcd1234", True),  # 8
        ("a" * 31 + "1", True),  # 32
        ("a" * 32 + "1", False),  # 33
        ("abcdefgh", False),  # letters only
        ("12345678", False),  # digits only
        ("Abcd1234", False),  # upper case
        ("abcd-1234", False),  # symbol
    ],
)
def test_password_rule_boundaries(nmedia_identity, password, ok):
    assert (check_password(password, nmedia_identity.config.identity.password) == []) is ok


@pytest.mark.parametrize("login_id, ok", [("m95au", False), ("m95au6", True), ("m95au6x", False), ("m95-u6", False)])
def test_access_id_rule_boundaries(nmedia_identity, login_id, ok):
    assert (check_login_id(login_id, nmedia_identity.config.identity.login_id) == []) is ok


def test_generated_ids_and_temporary_passwords_follow_the_rules(nmedia_identity):
    identity = nmedia_identity.config.identity
    for _ in range(300):
        access_id = new_access_id(nmedia_identity)
        temporary = new_temporary_password(nmedia_identity)
        assert check_login_id(access_id, identity.login_id) == []
        assert re.search(r"[a-z]", access_id) and re.search(r"\d", access_id)
        assert len(temporary) == 8 and check_password(temporary, identity.password) == []


def test_failed_matches_are_limited_per_address(app, client_for, portal):
    make_holder()
    client = client_for("nmedia")
    limit = portal.tenants.get("nmedia").config.identity.lockout.per_address_max_failures
    for number in range(limit):  # contracts that do not exist: no customer record is guessed at
        assert register(client, contract_number=f"2NCAF{9000000000 + number}").status_code == 400
    blocked = register(client)  # even the right answers wait now
    assert blocked.status_code == 429 and "時間をおいてから" in blocked.text


def test_failed_matches_are_limited_per_customer_record(app, client_for, portal):
    """Guesses at one customer's record lock its verification for everyone, whatever the address."""
    make_holder()
    limit = portal.tenants.get("nmedia").config.identity.lockout.max_failures
    for _ in range(limit):
        assert register(client_for("nmedia"), postal_code="1000001").status_code == 400
    blocked = register(client_for("nmedia"))
    assert blocked.status_code == 429 and "時間をおいてから" in blocked.text


def test_name_in_katakana_or_with_an_abbreviated_corporate_form_matches(app, client_for):
    """お客様名(全角英数字カナ): the reading in katakana (or hiragana), and 「㈱」「（株）」 for 株式会社, are accepted."""
    make_holder()
    for typed in ("メディアショウジ", "めでぃあしょうじ", "㈱メディア商事", "（株）メディア商事", "メディア商事"):
        response = register(client_for("nmedia"), name=typed)
        assert response.status_code == 303, (typed, response.text[-400:])
        run(_delete_issued_accounts())
    wrong = register(client_for("nmedia"), name="メディアショウジャ")
    assert wrong.status_code == 400


async def _delete_issued_accounts():
    from mypage.identity.tables import Account

    await Account.delete().where(Account.tenant == "nmedia")
