"""A credential change ends every other session of the account (the session that made it stays), on the
running portal with both databases; a password reset while logged out ends them all."""

from __future__ import annotations

from security.accounts import PASSWORD, last_mail_to, make_account
from security.conftest import mailed_code


def logged_in(attacker) -> bool:
    return attacker.get("/").status_code == 200


def login(live, slug: str, login_id: str, password: str = PASSWORD):
    browser = live.tenant(slug)
    response = browser.submit("/login", {"login_id": login_id, "password": password})
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    return browser


def test_password_change_ends_the_other_sessions(live):
    make_account("aicom", "twodevices")
    phone, laptop, thief = (login(live, "aicom", "twodevices") for _ in range(3))
    response = phone.submit(
        "/account/profile/password",
        {"current_password": PASSWORD, "new_password": "Renewed2025", "new_password_confirm": "Renewed2025"},
    )
    assert response.status_code == 303, response.text
    assert logged_in(phone)
    assert not logged_in(laptop) and not logged_in(thief)
    page = laptop.get("/login")
    assert "ログアウトしました" in page.text or logged_in(login(live, "aicom", "twodevices", "Renewed2025"))


def test_login_id_change_ends_the_other_sessions(live):
    make_account("itscom", "idchange@itscom.example", email="idchange.contact@example.jp")
    mine, other = (login(live, "itscom", "idchange@itscom.example") for _ in range(2))
    assert mine.submit("/account/change/id", {"login_id": "renamed@itscom.example"}).status_code == 303
    code = mailed_code(last_mail_to("idchange.contact@example.jp"))
    assert mine.submit("/account/change/id/code", {"code": code}).status_code == 303
    done = mine.submit("/account/change/id/confirm", {"contact": "keep"})
    assert done.status_code == 303, done.text
    assert logged_in(mine)
    assert not logged_in(other)


def test_password_reset_ends_every_session(live):
    make_account("itscom", "reset.me@itscom.example", email="reset.contact@example.jp", recovery_method="email_code")
    session = login(live, "itscom", "reset.me@itscom.example")
    stranger = live.tenant("itscom")
    stranger.submit("/forgot", {"what": "password"})
    assert stranger.submit("/forgot/identify", {"login_id": "reset.me@itscom.example"}).status_code == 303
    code = mailed_code(last_mail_to("reset.contact@example.jp"))
    assert stranger.submit("/forgot/code", {"code": code}).status_code == 303
    reset = stranger.submit("/forgot/code/password", {"password": "Another2025", "password_confirm": "Another2025"})
    assert reset.status_code == 303, reset.text
    assert not logged_in(session)
