"""ユーザ管理 on tenants whose login IDs are not issued (``tests/variants.py``): with e-mail IDs the member's
address is the ID; with chosen IDs the administrator proposes one, checked against the tenant's rules and
availability. Either way the member sets a password by a mailed link, then logs in."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.identity.tables import Account
from variants import client, variant, variant_app

MEMBERS = {"features.members": {"max_members": 3}}
EMAIL_IDS = variant("itscom", "teammail", MEMBERS)
CHOSEN_IDS = variant("aicom", "teamchosen", MEMBERS)


@pytest.fixture
def served(db, portal):
    return variant_app(db, portal, [EMAIL_IDS, CHOSEN_IDS])


def accounts_of(customer: int) -> list[Account]:
    return run(Account.objects().where(Account.customer == customer).order_by(Account.id).run())


def register(admin, **form):
    data = {"action": "register", "display_name": "メンバー", "role": "general", "mail_notify": "yes", **form}
    return admin.submit("/members", data, follow_redirects=False)


def welcome_path(sink, address: str) -> str:
    links = [link for link in sink.links(sink.last_to(address)) if "/welcome/" in link]
    assert len(links) == 1
    return urlsplit(links[0]).path


def set_password(app, tenant: str, path: str, password: str):
    member = client(app, tenant)
    page = member.get(path)
    assert page.status_code == 200 and 'name="password_confirm"' in page.text
    return member.submit(path, {"password": password, "password_confirm": password})


def log_in(app, tenant: str, login_id: str, password: str):
    return client(app, tenant).submit("/login", {"login_id": login_id, "password": password}, follow_redirects=False)


def test_members_with_email_ids_set_their_password_by_mail(served, deliver):
    app, _portal = served
    customer = make_customer("teammail", "2000001")
    owner = make_account("teammail", customer, "owner@example.jp", role="owner", display_name="代表")
    admin = sign_in(client(app, "teammail"), "teammail", owner)
    page = admin.get("/members")
    assert page.status_code == 200 and "メールアドレスがiTSCOM IDになります" in page.text
    assert 'name="login_id"' not in page.text
    assert "owner@example.jp" in page.text  # the owner's address is the login ID

    assert register(admin, email="Member@Example.jp").status_code == 303
    assert "パスワード設定用のURLをお送りしました" in admin.get("/members").text
    member = accounts_of(customer)[-1]
    assert member.login_id == "member@example.jp" and member.status == "pending" and member.role == "general"
    sink = deliver()
    text = sink.text(sink.last_to("member@example.jp"))
    assert "Member@example.jp" in text and "ユーザ登録のご案内" in sink.last_to("member@example.jp")["Subject"]
    path = welcome_path(sink, "member@example.jp")
    # nothing logs in before the password is set
    assert log_in(app, "teammail", "member@example.jp", "whatever1").status_code == 400

    weak = client(app, "teammail").submit(path, {"password": "a b", "password_confirm": "a b"})
    assert weak.status_code == 400
    differs = client(app, "teammail").submit(path, {"password": "member-pass1", "password_confirm": "member-pass2"})
    assert differs.status_code == 400 and "パスワードが一致しません" in differs.text
    done = set_password(app, "teammail", path, "member-pass1")
    assert done.status_code == 200 and "初回登録は完了です" in done.text and 'href="/login"' in done.text
    assert client(app, "teammail").get(path).status_code == 410  # single use
    logged = log_in(app, "teammail", "member@example.jp", "member-pass1")
    assert logged.status_code == 303 and logged.headers["location"] == "/"

    # the address is the ID: taken by another customer's account, refused; not changed by the administrator
    other = make_customer("teammail", "2000002")
    make_account("teammail", other, "taken@example.jp", role="owner")
    taken = register(admin, email="taken@example.jp")
    assert taken.status_code == 400 and "このメールアドレスは既にiTSCOM IDとして使われています。" in taken.text
    bad = register(admin, email="not-an-address")
    assert bad.status_code == 400 and "メールアドレスの形式" in bad.text
    member_row = accounts_of(customer)[-1]
    changed = admin.submit(
        "/members",
        {"action": "update", "id": str(member_row.id), "email": "new@example.jp", "display_name": "メンバー", "role": "general"},
    )
    assert changed.status_code == 400 and "iTSCOM IDを兼ねるため" in changed.text
    # max_members (3) holds as for issued IDs
    assert register(admin, email="third@example.jp").status_code == 303
    full = register(admin, email="fourth@example.jp")
    assert full.status_code == 400 and "登録できるユーザは3人までです。" in full.text
    assert len(accounts_of(customer)) == 3


def test_members_with_chosen_ids_get_the_id_the_administrator_proposes(served, deliver):
    app, _portal = served
    customer = make_customer("teamchosen", "3000001")
    owner = make_account("teamchosen", customer, "boss-id", email="boss@example.jp", role="owner", display_name="代表")
    admin = sign_in(client(app, "teamchosen"), "teamchosen", owner)
    page = admin.get("/members")
    assert 'name="login_id"' in page.text and "アカウントID" in page.text and "boss-id" in page.text

    short = register(admin, email="kana@example.jp", login_id="ab")
    assert short.status_code == 400 and "kana@example.jp" in short.text  # the input is kept
    missing = register(admin, email="kana@example.jp")
    assert missing.status_code == 400 and "入力してください" in missing.text
    make_account("teamchosen", make_customer("teamchosen", "3000002"), "kana-id", role="owner")
    taken = register(admin, email="kana@example.jp", login_id="KANA-ID")  # IDs ignore case on this tenant
    assert taken.status_code == 400 and "このアカウントIDは既に使われています。" in taken.text
    assert register(admin, email="kana@example.jp", login_id="kana-2024").status_code == 303
    member = accounts_of(customer)[-1]
    assert member.login_id == "kana-2024" and member.email == "kana@example.jp" and member.status == "pending"

    path = welcome_path(deliver(), "kana@example.jp")
    assert "kana-2024" in deliver().text(deliver().last_to("kana@example.jp"))
    assert set_password(app, "teamchosen", path, "Kana2024x").status_code == 200
    logged = log_in(app, "teamchosen", "kana-2024", "Kana2024x")
    assert logged.status_code == 303 and logged.headers["location"] == "/"
    # the ID is not in the form when editing a member
    assert 'name="login_id"' not in admin.get(f"/members?edit={member.id}").text


def test_an_unknown_or_foreign_welcome_link_is_refused(served, deliver):
    app, _portal = served
    customer = make_customer("teammail", "2000003")
    owner = make_account("teammail", customer, "lead@example.jp", role="owner")
    admin = sign_in(client(app, "teammail"), "teammail", owner)
    register(admin, email="guest@example.jp")
    path = welcome_path(deliver(), "guest@example.jp")
    assert client(app, "teammail").get("/welcome/not-a-token").status_code == 400
    assert client(app, "teamchosen").get(path).status_code == 400  # another tenant's link
