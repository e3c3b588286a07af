"""お客さま情報確認・変更: the iTSCOM ID change (code to the contact address) and the password change."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from mypage.identity.passwords import hash_password, verify_password
from mypage.identity.tables import Account, OneTimeToken


def run(coro):
    return asyncio.run(coro)


def make_account(login_id, password="secret1", contact="contact@example.jp"):
    async def go():
        account = Account(
            tenant="itscom", login_id=login_id, login_id_display=login_id, password_hash=hash_password(password), email=contact
        )
        await account.save()
        return account.id

    return run(go())


def account_row(account_id):
    async def go():
        return await Account.select().where(Account.id == account_id).first()

    return run(go())


def logged_in(client_for, login_id, password="secret1"):
    client = client_for("itscom")
    response = client.submit("/login", {"login_id": login_id, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def read_code(deliver, address):
    return re.search(r"\b(\d{6})\b", deliver().text(deliver().last_to(address))).group(1)


def test_pages_need_login_and_config(client_for):
    anonymous = client_for("itscom").get("/account", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")
    assert client_for("aicom").get("/account/change").status_code == 404


def test_login_id_change(client_for, deliver):
    account_id = make_account("old@example.jp")
    make_account("taken@example.jp", contact="t@example.jp")
    client = logged_in(client_for, "old@example.jp")
    overview = client.get("/account")
    assert "アカウント情報" in overview.text and "old@example.jp" in overview.text and "アカウント情報を変更する" in overview.text
    menu = client.get("/account/change")
    assert "ご希望の「変更」ボタンをクリックしてください。" in menu.text and 'href="/account/change/id"' in menu.text

    page = client.get("/account/change/id")
    assert "変更内容の入力" in page.text and "認証コード入力" in page.text and "入力可能文字数：4～100文字" in page.text
    short = client.submit("/account/change/id", {"login_id": "a@b"})
    assert short.status_code == 400 and "4～100文字で入力してください。" in short.text
    taken = client.submit("/account/change/id", {"login_id": "TAKEN@example.jp"})
    assert taken.status_code == 400 and "すでに使用されています" in taken.text
    same = client.submit("/account/change/id", {"login_id": "old@example.jp"})
    assert same.status_code == 400 and "異なる" in same.text
    assert client.get("/account/change/id/confirm", follow_redirects=False).status_code == 303

    response = client.submit("/account/change/id", {"login_id": "New.Id@example.jp"}, follow_redirects=False)
    assert response.headers["location"] == "/account/change/id/code"
    page = client.get("/account/change/id/code")
    assert "連絡先メールアドレスに認証コードを送信しました。" in page.text
    assert "認証コードの有効期限は30分です。有効期限が切れてしまった場合には、手続きをはじめからやり直してください。" in page.text
    code = read_code(deliver, "contact@example.jp")
    wrong = client.submit("/account/change/id/code", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "認証コードが正しくありません。" in wrong.text
    response = client.submit("/account/change/id/code", {"code": code}, follow_redirects=False)
    assert response.headers["location"] == "/account/change/id/confirm"

    confirm = client.get("/account/change/id/confirm")
    assert "New.Id@example.jp" in confirm.text and "この内容で登録する" in confirm.text
    assert client.submit("/account/change/id/confirm", {}).status_code == 400
    response = client.submit("/account/change/id/confirm", {"contact": "new"}, follow_redirects=False)
    assert response.headers["location"] == "/account/change/id/done"
    done = client.get("/account/change/id/done")
    assert "iTSCOM IDの変更が完了しました。" in done.text and "New.Id@example.jp" in done.text
    assert "変更日" in done.text and "印刷用画面へ" in done.text
    assert "New.Id@example.jp" not in client.get("/account/change/id/done", follow_redirects=False).text  # shown once

    row = account_row(account_id)
    assert row["login_id"] == "new.id@example.jp" and row["email"] == "New.Id@example.jp"
    sink = deliver()
    assert "変更完了" in sink.last_to("New.Id@example.jp")["Subject"]
    assert "変更完了" in sink.last_to("contact@example.jp")["Subject"]  # the previous contact address is told too
    assert (
        client_for("itscom")
        .submit("/login", {"login_id": "new.id@example.jp", "password": "secret1"}, follow_redirects=False)
        .status_code
        == 303
    )


def test_login_id_change_code_expiry_and_keep_contact(client_for, deliver):
    account_id = make_account("keep@example.jp")
    client = logged_in(client_for, "keep@example.jp")
    client.submit("/account/change/id", {"login_id": "keep2@example.jp"})
    code = read_code(deliver, "contact@example.jp")

    async def expire():
        await OneTimeToken.update({OneTimeToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
            OneTimeToken.tenant == "itscom"
        )

    run(expire())
    expired = client.submit("/account/change/id/code", {"code": code})
    assert expired.status_code == 400 and "有効期限が切れています" in expired.text

    async def age():
        await OneTimeToken.update({OneTimeToken.created_at: datetime.now(UTC) - timedelta(minutes=5)}).where(
            OneTimeToken.tenant == "itscom"
        )

    run(age())
    client.submit("/account/change/id", {"login_id": "keep2@example.jp"})
    code = read_code(deliver, "contact@example.jp")
    client.submit("/account/change/id/code", {"code": code})
    replay = client.submit("/account/change/id/code", {"code": code})
    assert replay.status_code == 400 and "すでに使用されています" in replay.text
    client.submit("/account/change/id/confirm", {"contact": "keep"})
    row = account_row(account_id)
    assert row["login_id"] == "keep2@example.jp" and row["email"] == "contact@example.jp"


def test_password_change(client_for, deliver):
    account_id = make_account("pw@example.jp")
    client = logged_in(client_for, "pw@example.jp")
    page = client.get("/account/change/password")
    assert "現在のパスワード" in page.text and "新しいパスワード 再入力" in page.text and "この内容で登録する" in page.text
    wrong = client.submit(
        "/account/change/password", {"current_password": "nope12", "password": "fresh1", "password_confirm": "fresh1"}
    )
    assert wrong.status_code == 400 and "現在のパスワードが正しくありません。" in wrong.text
    bad = client.submit(
        "/account/change/password", {"current_password": "secret1", "password": "fr!sh1", "password_confirm": "fr!sh1"}
    )
    assert bad.status_code == 400 and "使用できない文字" in bad.text
    mismatch = client.submit(
        "/account/change/password", {"current_password": "secret1", "password": "fresh1", "password_confirm": "fresh2"}
    )
    assert mismatch.status_code == 400 and "パスワードが一致しません" in mismatch.text

    response = client.submit(
        "/account/change/password",
        {"current_password": "secret1", "password": "fresh/1", "password_confirm": "fresh/1"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/account/change/password/confirm"
    confirm = client.get("/account/change/password/confirm")
    assert "新しいiTSCOM IDのパスワードの登録確認" in confirm.text and "登録" in confirm.text and "戻る" in confirm.text
    assert verify_password(account_row(account_id)["password_hash"], "secret1")  # nothing changed yet
    response = client.submit("/account/change/password/confirm", {}, follow_redirects=False)
    assert response.headers["location"] == "/account/change/password/done"
    done = client.get("/account/change/password/done")
    assert "iTSCOM IDのパスワード変更が完了しました。" in done.text and "印刷画面へ" in done.text
    assert "fresh/1" not in done.text and "fresh/1" not in confirm.text
    assert verify_password(account_row(account_id)["password_hash"], "fresh/1")
    mail = deliver().last_to("contact@example.jp")
    assert "パスワード変更完了" in mail["Subject"] and "fresh/1" not in deliver().text(mail)
    assert (
        client_for("itscom")
        .submit("/login", {"login_id": "pw@example.jp", "password": "fresh/1"}, follow_redirects=False)
        .status_code
        == 303
    )


def test_wrong_current_password_is_limited(client_for):
    make_account("limit@example.jp")
    client = logged_in(client_for, "limit@example.jp")
    for _ in range(5):
        client.submit(
            "/account/change/password", {"current_password": "wrong1", "password": "fresh1", "password_confirm": "fresh1"}
        )
    blocked = client.submit(
        "/account/change/password", {"current_password": "secret1", "password": "fresh1", "password_confirm": "fresh1"}
    )
    assert blocked.status_code == 429 and "一時的に変更できません" in blocked.text


def test_refused_characters_are_named_and_each_message_stands_alone(client_for):
    make_account("chars@example.jp")
    client = logged_in(client_for, "chars@example.jp")
    spaced = client.submit("/account/change/id", {"login_id": "new id@example.jp"})
    assert spaced.status_code == 400 and "使用できない文字が含まれています: 「スペース」" in spaced.text
    wide = client.submit(
        "/account/change/password", {"current_password": "secret1", "password": "ｆ　ｆ", "password_confirm": "ｆ　ｆ"}
    )
    assert wide.status_code == 400
    assert (
        '<span class="field__error-item">6～32文字で入力してください。</span> '
        '<span class="field__error-item">使用できない文字が含まれています: 「ｆ」「全角スペース」</span>'
    ) in wide.text


def test_throttled_code_resend_says_how_long_to_wait(client_for, deliver):
    make_account("wait@example.jp")
    client = logged_in(client_for, "wait@example.jp")
    first = client.submit("/account/change/id", {"login_id": "wait2@example.jp"}, follow_redirects=False)
    assert first.headers["location"] == "/account/change/id/code"
    again = client.submit("/account/change/id", {"login_id": "wait2@example.jp"})
    assert again.status_code == 429
    assert "認証コードを送信したばかりです。60秒ほど時間をおいてからお試しください。" in again.text


def test_login_id_change_tells_the_new_address_and_records_both_ids(client_for, deliver):
    """Decision: the new ID is not proven by a second code (the guide sends the code to the contact address);
    the new address is told of the change and the audit event keeps the old and the new ID."""
    from mypage.audit.log import AuditLog

    account_id = make_account("before@example.jp")
    client = logged_in(client_for, "before@example.jp")
    client.submit("/account/change/id", {"login_id": "after@example.jp"})
    assert not deliver().to("after@example.jp")  # the code goes to the contact address only
    client.submit("/account/change/id/code", {"code": read_code(deliver, "contact@example.jp")})
    client.submit("/account/change/id/confirm", {"contact": "keep"})
    assert account_row(account_id)["login_id"] == "after@example.jp"
    notice = deliver().last_to("after@example.jp")
    assert "after@example.jp" in deliver().text(notice) and "お心当たりのない場合" in deliver().text(notice)
    assert len(deliver().to("contact@example.jp")) == 2  # the code, then the notice
    import json

    changed = run(AuditLog("itscom").events(event="login_id.changed", account_id=account_id))[0]
    detail = changed["detail"] if isinstance(changed["detail"], dict) else json.loads(changed["detail"])
    assert detail["old"] == "before@example.jp" and detail["new"] == "after@example.jp"
