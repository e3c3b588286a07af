"""nmedia: パスワード変更 while logged in, enabled by ``[identity.account_changes]`` (the アクセスID never changes)."""

from __future__ import annotations

from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.identity.passwords import verify_password
from mypage.identity.tables import Account


def _hash(account_id: int) -> str:
    async def go():
        return (await Account.select(Account.password_hash).where(Account.id == account_id).first())["password_hash"]

    return run(go())


def test_password_change_from_the_menu(client_for, deliver):
    cid = make_customer("nmedia", "CAF0000000301")
    account_id = make_account("nmedia", cid, "abc123", email="owner@example.jp")
    client = sign_in(client_for("nmedia"), "nmedia", account_id)

    home = client.get("/")
    assert 'href="/account/change/password"' in home.text and "パスワード変更" in home.text
    assert client.get("/account/change/id").status_code == 404  # アクセスIDは変更しない
    menu = client.get("/account/change")
    assert menu.status_code == 200 and 'href="/account/change/id"' not in menu.text

    page = client.get("/account/change/password")
    assert page.status_code == 200 and "アクセスIDのパスワード変更" in page.text
    refused = client.submit(
        "/account/change/password", {"current_password": "Passw0rd1", "password": "short1", "password_confirm": "short1"}
    )
    assert refused.status_code == 400  # the tenant's password rule (8-32 characters) applies
    response = client.submit(
        "/account/change/password",
        {"current_password": "Passw0rd1", "password": "fresh2026ab", "password_confirm": "fresh2026ab"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/account/change/password/confirm"
    response = client.submit("/account/change/password/confirm", {}, follow_redirects=False)
    assert response.headers["location"] == "/account/change/password/done"
    done = client.get("/account/change/password/done")
    assert done.status_code == 200 and "●" * 11 in done.text
    assert verify_password(_hash(account_id), "fresh2026ab")
    assert deliver().last_to("owner@example.jp")


def test_password_change_needs_login(client_for):
    response = client_for("nmedia").get("/account/change/password", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
