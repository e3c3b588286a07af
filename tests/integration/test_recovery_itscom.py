"""/forgot on a tenant with secret-question and mailed-code recovery: both paths, wrong answers and codes,
expiry, replay, lockout and the unknown-ID answer."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from mypage.identity import normalize
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account, OneTimeToken


def run(coro):
    return asyncio.run(coro)


def make_account(login_id, *, method, contact, password="oldpass1", question=None, answer=None):
    async def go():
        account = Account(
            tenant="itscom",
            login_id=login_id,
            login_id_display=login_id,
            password_hash=hash_password(password),
            email=contact,
            recovery_method=method,
            secret_question=question,
            secret_answer_hash=hash_password(normalize.name_key(answer)) if answer else "",
        )
        await account.save()
        return account.id

    return run(go())


def account_row(account_id):
    async def go():
        return await Account.select().where(Account.id == account_id).first()

    return run(go())


def expire_tokens():
    async def go():
        await OneTimeToken.update({OneTimeToken.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
            OneTimeToken.tenant == "itscom"
        )

    run(go())


def start(client, login_id):
    page = client.get("/forgot")
    assert "iTSCOM ID・パスワードがご不明なお客様" in page.text
    assert "iTSCOM IDがご不明な場合(iTSCOM ID新規登録)" in page.text
    response = client.submit("/forgot", {"what": "password"}, follow_redirects=False)
    assert response.headers["location"] == "/forgot/identify"
    assert "本人認証" in client.get("/forgot/identify").text
    return client.submit("/forgot/identify", {"login_id": login_id}, follow_redirects=False)


def login_ok(client_for, login_id, password):
    response = client_for("itscom").submit("/login", {"login_id": login_id, "password": password}, follow_redirects=False)
    return response.status_code == 303 and response.headers["location"] == "/"


def path_of(link):
    return "/" + link.split("localhost", 1)[1].split("/", 1)[1]


def test_choice_screen(client_for):
    client = client_for("itscom")
    assert client.submit("/forgot", {}).status_code == 400
    response = client.submit("/forgot", {"what": "id"}, follow_redirects=False)
    assert response.headers["location"] == "/register"
    assert client_for("aicom").get("/forgot").status_code == 404


def test_secret_question_path(client_for, deliver):
    account_id = make_account(
        "aikotoba@itscom.example", method="secret_question", contact="contact@example.jp", question=0, answer="さくら"
    )
    client = client_for("itscom")
    response = start(client, "AIKOTOBA@itscom.example")
    assert response.headers["location"] == "/forgot/question"
    page = client.get("/forgot/question")
    assert "合言葉登録" in page.text and "母親の旧姓は?" in page.text

    wrong = client.submit("/forgot/question", {"question": "1", "answer": "さくら"})
    assert wrong.status_code == 400 and "秘密の質問または答えが正しくありません。" in wrong.text
    missing = client.submit("/forgot/question", {"question": "", "answer": ""})
    assert missing.status_code == 400 and "秘密の質問を選択してください。" in missing.text
    response = client.submit("/forgot/question", {"question": "0", "answer": "ｻｸﾗ"}, follow_redirects=False)
    assert response.headers["location"] == "/forgot/question/sent"
    assert "本人認証 完了" in client.get("/forgot/question/sent").text

    mail = deliver().last_to("contact@example.jp")
    link = next(x for x in deliver().links(mail) if "/forgot/question/answer/" in x)
    other = client_for("itscom")  # the link works in another browser (the mail may be read elsewhere)
    page = other.get(path_of(link))
    assert "合言葉入力" in page.text and "ID・パスワード再発行" in page.text
    bad = other.submit(path_of(link), {"question": "0", "answer": "うめ"})
    assert bad.status_code == 400 and "正しくありません" in bad.text
    done = other.submit(path_of(link), {"question": "0", "answer": "サクラ"})
    assert done.status_code == 200, done.text
    assert "なお、この内容は今後確認ができません。印刷をするか、メモなどに控えてください。" in done.text
    assert "印刷用画面へ" in done.text
    password = re.search(r'<code class="secret">([^<]+)</code>', done.text).group(1)
    assert login_ok(client_for, "aikotoba@itscom.example", password)
    assert not login_ok(client_for, "aikotoba@itscom.example", "oldpass1")
    assert password not in deliver().text(deliver().last_to("contact@example.jp"))

    replay = other.submit(path_of(link), {"question": "0", "answer": "サクラ"})
    assert replay.status_code == 400 and "すでに使用されています" in replay.text
    assert account_row(account_id)["password_changed_at"] is not None


def test_secret_question_lock_after_five_wrong_answers(client_for):
    account_id = make_account(
        "lock@itscom.example", method="secret_question", contact="lock@example.jp", question=2, answer="みなみ"
    )
    client = client_for("itscom")
    start(client, "lock@itscom.example")
    for attempt in range(5):
        response = client.submit("/forgot/question", {"question": "2", "answer": f"きた{attempt}"})
        assert response.status_code == 400
    assert "一時的にお手続きできません" in response.text
    assert account_row(account_id)["locked_until"] is not None
    right = client.submit("/forgot/question", {"question": "2", "answer": "みなみ"})
    assert right.status_code == 429
    assert not login_ok(client_for, "lock@itscom.example", "oldpass1")


def test_secret_question_link_expiry(client_for, deliver):
    make_account("late@itscom.example", method="secret_question", contact="late@example.jp", question=0, answer="さくら")
    client = client_for("itscom")
    start(client, "late@itscom.example")
    client.submit("/forgot/question", {"question": "0", "answer": "さくら"})
    link = next(x for x in deliver().links(deliver().last_to("late@example.jp")) if "/answer/" in x)
    expire_tokens()
    page = client.get(path_of(link))
    assert page.status_code == 400 and "有効期限が切れています" in page.text


def read_code(deliver, address):
    text = deliver().text(deliver().last_to(address))
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_email_code_path(client_for, deliver):
    make_account("code@itscom.example", method="email_code", contact="code-contact@example.jp")
    client = client_for("itscom")
    response = start(client, "code@itscom.example")
    assert response.headers["location"] == "/forgot/code"
    page = client.get("/forgot/code")
    assert "認証コード入力" in page.text and "認証コードが受信できない場合、パスワードのみの再設定はできません。" in page.text
    mail = deliver().last_to("code-contact@example.jp")
    assert "認証コード通知メール" in mail["Subject"]
    code = read_code(deliver, "code-contact@example.jp")

    wrong = client.submit("/forgot/code", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "認証コードが正しくありません。" in wrong.text
    short = client.submit("/forgot/code", {"code": "12"})
    assert short.status_code == 400 and "6桁の数字" in short.text
    assert client.get("/forgot/code/password", follow_redirects=False).status_code == 303  # not yet verified

    response = client.submit("/forgot/code", {"code": code}, follow_redirects=False)
    assert response.headers["location"] == "/forgot/code/password"
    replay = client.submit("/forgot/code", {"code": code})
    assert replay.status_code == 400 and "すでに使用されています" in replay.text

    page = client.get("/forgot/code/password")
    assert "入力可能文字数：6～32文字" in page.text
    mismatch = client.submit("/forgot/code/password", {"password": "newpass1", "password_confirm": "newpass2"})
    assert mismatch.status_code == 400 and "パスワードが一致しません" in mismatch.text
    bad = client.submit("/forgot/code/password", {"password": "new pass", "password_confirm": "new pass"})
    assert bad.status_code == 400 and "使用できない文字" in bad.text
    response = client.submit(
        "/forgot/code/password", {"password": "newpass1", "password_confirm": "newpass1"}, follow_redirects=False
    )
    assert response.headers["location"] == "/forgot/code/done"
    assert "これでパスワードの再発行は完了です。" in client.get("/forgot/code/done").text
    assert login_ok(client_for, "code@itscom.example", "newpass1")
    assert "パスワード再発行完了" in deliver().last_to("code-contact@example.jp")["Subject"]


def test_email_code_expiry_attempts_and_resend(client_for, deliver):
    make_account("code2@itscom.example", method="", contact="code2@example.jp")
    client = client_for("itscom")
    start(client, "code2@itscom.example")
    code = read_code(deliver, "code2@example.jp")
    throttled = client.post("/forgot/code/resend", data={"_csrf_token": client.csrf()})
    assert "認証コードを送信したばかりです。60秒ほど時間をおいてから再送信してください。" in throttled.text
    expire_tokens()
    expired = client.submit("/forgot/code", {"code": code})
    assert expired.status_code == 400 and "有効期限が切れています" in expired.text

    async def age():
        await OneTimeToken.update({OneTimeToken.created_at: datetime.now(UTC) - timedelta(minutes=5)}).where(
            OneTimeToken.tenant == "itscom"
        )

    run(age())
    resent = client.submit("/forgot/code/resend", {})
    assert "認証コードを再送信しました。" in resent.text
    code = read_code(deliver, "code2@example.jp")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = client.submit("/forgot/code", {"code": wrong})
    assert "続けて失敗しました" in response.text
    refused = client.submit("/forgot/code", {"code": code})
    assert refused.status_code == 400 and "続けて失敗しました" in refused.text


def test_unknown_id_gets_the_code_screen_and_no_mail(client_for, deliver):
    client = client_for("itscom")
    response = start(client, "nobody@example.jp")
    assert response.headers["location"] == "/forgot/code"
    assert "認証コード入力" in client.get("/forgot/code").text
    assert client.submit("/forgot/code", {"code": "123456"}).status_code == 400
    assert deliver().messages == []


def test_secret_question_registered_when_none_then_confirmed_by_mail(client_for, deliver):
    """合言葉登録 as the guide describes it: an account with 合言葉 recovery but no question yet sets a question
    and answer, a link goes to the contact address, and the same question and answer are asked again there;
    only then are they stored (with the new password)."""
    account_id = make_account("nokotoba@itscom.example", method="secret_question", contact="nk@example.jp")
    assert not account_row(account_id)["secret_answer_hash"]
    client = client_for("itscom")
    assert start(client, "nokotoba@itscom.example").headers["location"] == "/forgot/question"
    page = client.get("/forgot/question").text
    assert "合言葉登録" in page and "<select" in page
    sent = client.submit("/forgot/question", {"question": "2", "answer": "ポチ"}, follow_redirects=False)
    assert sent.headers["location"] == "/forgot/question/sent"
    assert "本人認証 完了" in client.get("/forgot/question/sent").text
    assert not account_row(account_id)["secret_answer_hash"]  # nothing stored before the mail is answered
    link = next(x for x in deliver().links(deliver().last_to("nk@example.jp")) if "/forgot/question/answer/" in x)
    other = client_for("itscom")
    wrong = other.submit(path_of(link), {"question": "1", "answer": "ポチ"})
    assert wrong.status_code == 400 and "正しくありません" in wrong.text
    done = other.submit(path_of(link), {"question": "2", "answer": "ぽち"})
    assert done.status_code == 200, done.text
    row = account_row(account_id)
    assert row["secret_question"] == 2 and row["secret_answer_hash"] and row["recovery_method"] == "secret_question"
    # the next recovery asks the registered question (no second 合言葉登録 accepted with another answer)
    client = client_for("itscom")
    start(client, "nokotoba@itscom.example")
    refused = client.submit("/forgot/question", {"question": "0", "answer": "さくら"})
    assert refused.status_code == 400 and "正しくありません" in refused.text
