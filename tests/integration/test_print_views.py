"""Print views of the completion pages (「印刷用画面へ」/「印刷画面へ」): the facts with the seed's title while
the completion is kept, "no longer shown" (404) without it, login where the completion needs it, and
nothing on another tenant's host."""

from __future__ import annotations

import re

from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.identity import normalize
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account
from mypage.web import printview
from mypage.web.sessions import COOKIE_NAME

GONE = "この画面の内容は表示できなくなりました。"


def itscom_client(client_for, login="print@example.jp"):
    customer = make_customer("itscom", "3000009", services="internet,tv")
    account = make_account("itscom", customer, login, email="contact@example.jp")
    return sign_in(client_for("itscom"), "itscom", account)


def same_session_on(client_for, client, tenant):
    """Another tenant's host presented with this browser's session cookie."""
    other = client_for(tenant)
    other.cookies.set(COOKIE_NAME, client.cookies.get(COOKIE_NAME))
    return other


def assert_gone(response):
    assert response.status_code == 404 and GONE in response.text and '<dl class="facts">' not in response.text


def test_password_change_print_view(client_for, monkeypatch):
    client = itscom_client(client_for)
    url = "/account/change/password/done/print"
    anonymous = client_for("itscom").get(url, follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")
    assert_gone(client.get(url))  # nothing completed yet

    client.submit(
        "/account/change/password",
        {"current_password": "Passw0rd1", "password": "fresh/1", "password_confirm": "fresh/1"},
        follow_redirects=False,
    )
    assert_gone(client.get(url))  # not before the completion
    client.submit("/account/change/password/confirm", {}, follow_redirects=False)
    done = client.get("/account/change/password/done")
    assert f'href="{url}" target="_blank" rel="noopener"' in done.text and "印刷画面へ" in done.text

    page = client.get(url)
    assert page.status_code == 200
    assert "<h1>iTSCOM IDのパスワード</h1>" in page.text and "あなたの登録情報です。大切に保管してください。" in page.text
    assert "<dt>新パスワード</dt><dd>●●●●●●●</dd>" in page.text and "<dt>変更日</dt>" in page.text
    assert "fresh/1" not in page.text
    assert "data-print" in page.text and "印刷" in page.text and "閉じる" in page.text
    assert "print-view.js" in page.text and "<script>" not in page.text
    assert client.get(url).status_code == 200  # printing twice is fine
    # the completion page itself is still shown once
    assert client.get("/account/change/password/done", follow_redirects=False).status_code == 303

    for tenant in ("aicom", "nmedia"):
        other = same_session_on(client_for, client, tenant).get(url, follow_redirects=False)
        assert other.status_code in (302, 303, 404) and "新パスワード" not in other.text

    monkeypatch.setattr(printview, "PRINT_SECONDS", -1)
    assert_gone(client.get(url))
    monkeypatch.undo()
    assert_gone(client.get(url))  # an expired completion is dropped for good


def read_code(deliver, address):
    return re.search(r"\b(\d{6})\b", deliver().text(deliver().last_to(address))).group(1)


def test_login_id_change_print_view(client_for, deliver):
    client = itscom_client(client_for, login="before@example.jp")
    url = "/account/change/id/done/print"
    assert client_for("itscom").get(url, follow_redirects=False).status_code in (302, 303)
    assert_gone(client.get(url))

    client.submit("/account/change/id", {"login_id": "after@example.jp"}, follow_redirects=False)
    client.submit("/account/change/id/code", {"code": read_code(deliver, "contact@example.jp")}, follow_redirects=False)
    client.submit("/account/change/id/confirm", {"contact": "keep"}, follow_redirects=False)
    done = client.get("/account/change/id/done")
    assert "iTSCOM IDの変更が完了しました。" in done.text, done.text
    assert f'href="{url}" target="_blank" rel="noopener"' in done.text and "印刷用画面へ" in done.text

    page = client.get(url)
    assert page.status_code == 200
    assert "<h1>iTSCOM ID</h1>" in page.text and "あなたの登録情報です。大切に保管してください。" in page.text
    assert "<dt>新しいiTSCOM ID</dt><dd>after@example.jp</dd>" in page.text and "<dt>変更日</dt>" in page.text

    # another completion takes the slot: only the latest completion can be printed
    client.submit(
        "/account/change/password",
        {"current_password": "Passw0rd1", "password": "fresh/1", "password_confirm": "fresh/1"},
        follow_redirects=False,
    )
    client.submit("/account/change/password/confirm", {}, follow_redirects=False)
    client.get("/account/change/password/done")
    assert_gone(client.get(url))
    assert client.get("/account/change/password/done/print").status_code == 200

    # logging out ends it
    client.submit("/logout", {}, follow_redirects=False)
    assert client.get("/account/change/password/done/print", follow_redirects=False).status_code in (302, 303)


def test_recovery_question_print_view(client_for, deliver):
    async def go():
        account = Account(
            tenant="itscom",
            login_id="forgot@itscom.example",
            login_id_display="forgot@itscom.example",
            password_hash=hash_password("oldpass1"),
            email="contact@example.jp",
            recovery_method="secret_question",
            secret_question=0,
            secret_answer_hash=hash_password(normalize.name_key("さくら")),
        )
        await account.save()

    run(go())
    url = "/forgot/question/print"
    client = client_for("itscom")
    assert_gone(client.get(url))
    client.submit("/forgot", {"what": "password"}, follow_redirects=False)
    client.submit("/forgot/identify", {"login_id": "forgot@itscom.example"}, follow_redirects=False)
    client.submit("/forgot/question", {"question": "0", "answer": "さくら"}, follow_redirects=False)
    link = next(x for x in deliver().links(deliver().last_to("contact@example.jp")) if "/forgot/question/answer/" in x)
    path = "/" + link.split("localhost", 1)[1].split("/", 1)[1]
    browser = client_for("itscom")  # no login: the completion needs none, neither does its print view
    done = browser.submit(path, {"question": "0", "answer": "サクラ"}, follow_redirects=False)
    assert done.status_code == 200, done.text
    password = re.search(r'<code class="secret">([^<]+)</code>', done.text).group(1)
    assert f'href="{url}" target="_blank" rel="noopener"' in done.text and "印刷用画面へ" in done.text

    page = browser.get(url)
    assert page.status_code == 200
    assert "<h1>iTSCOM IDのパスワード</h1>" in page.text and "あなたの登録情報です。大切に保管してください。" in page.text
    assert "<dd>forgot@itscom.example</dd>" in page.text
    assert f'<dt>新しいパスワード</dt><dd><code class="secret">{password}</code></dd>' in page.text
    assert_gone(client.get(url))  # the browser that asked for the link, not the one that completed
    other = same_session_on(client_for, browser, "aicom").get(url)
    assert other.status_code == 404 and password not in other.text

    # signing in with the new password ends the anonymous completion's print view
    browser.submit("/login", {"login_id": "forgot@itscom.example", "password": password}, follow_redirects=False)
    assert password not in browser.get(url).text


def test_mailbox_print_view(client_for):
    client = itscom_client(client_for)
    url = "/mailboxes/new/done/print"
    anonymous = client_for("itscom").get(url, follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")
    assert_gone(client.get(url))

    client.submit("/mailboxes/new", {"local": "printme"}, follow_redirects=False)
    subdomain = re.findall(r'name="subdomain" value="([^"]+)"', client.get("/mailboxes/new/subdomain").text)[0]
    client.submit("/mailboxes/new/subdomain", {"subdomain": subdomain}, follow_redirects=False)
    client.submit("/mailboxes/new/options", {"virus_check": "on", "agree": "yes"}, follow_redirects=False)
    client.submit("/mailboxes/new/confirm", {}, follow_redirects=False)
    done = client.get("/mailboxes/new/done")
    password = re.search(r'<code class="secret">([^<]+)</code>', done.text).group(1)
    assert f'href="{url}" target="_blank" rel="noopener"' in done.text and "印刷画面へ" in done.text

    page = client.get(url)
    assert page.status_code == 200
    assert "<h1>メールアドレス登録完了</h1>" in page.text
    assert f"<dt>メールアドレス</dt><dd>printme@{subdomain}.itscom.net</dd>" in page.text
    assert f'<dt>初期パスワード</dt><dd><code class="secret">{password}</code></dd>' in page.text
    assert "<dt>メールウィルスチェック</dt><dd>ON</dd>" in page.text

    # another tenant's host sees nothing, and the address may be printed again on this one
    assert client.get(url).status_code == 200
    for tenant in ("aicom", "nmedia"):
        other = same_session_on(client_for, client, tenant).get(url, follow_redirects=False)
        assert other.status_code in (302, 303, 404) and password not in other.text


def test_a_stale_print_state_leaves_the_session_store_on_the_next_request(client_for, deliver, monkeypatch):
    """The one-time password kept for the print view must not stay at rest after the print window."""
    from mypage.web.sessions import _store_key
    from mypage.web.tables import SessionRecord

    client = itscom_client(client_for, login="stale@example.jp")
    client.submit(
        "/account/change/password",
        {"current_password": "Passw0rd1", "password": "fresh/2", "password_confirm": "fresh/2"},
        follow_redirects=False,
    )
    client.submit("/account/change/password/confirm", {}, follow_redirects=False)
    client.get("/account/change/password/done")

    def stored() -> str:
        key = _store_key(client.cookies.get(COOKIE_NAME))
        rows = run(SessionRecord.select(SessionRecord.value).where(SessionRecord.key == key).run())
        return bytes(rows[0]["value"]).decode()

    assert printview.SLOT in stored()
    monkeypatch.setattr(printview, "PRINT_SECONDS", -1)
    client.get("/")  # any page, not the print view
    assert printview.SLOT not in stored()
