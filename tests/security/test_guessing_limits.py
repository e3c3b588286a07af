"""Every limited secret, attacked with parallel requests against the running portal (SQLite and PostgreSQL):
at most the configured number of guesses is ever compared, and after that even the right secret is refused.

"Compared" is read from the answers: a guess that was compared and wrong gets the flow's "wrong" message;
a guess that was not compared gets the lock message. Of N parallel guesses, at most ``limit - 1`` may say
"wrong" (the ``limit``-th compared guess answers with the lock).
"""

from __future__ import annotations

import pyotp

from captcha_support import solve_altcha
from security.accounts import (
    PASSWORD,
    account_row,
    answer_hash,
    audit_count,
    last_mail_to,
    make_account,
    make_customer,
    token_attempts,
    totp_now,
)
from security.conftest import mailed_code

GUESSES = 40
WRONG_LOGIN = "またはパスワードが正しくありません"


def _lockout(app, slug):
    return app.state.portal.tenants.get(slug).config.identity.lockout


def _tokens(app, slug):
    return app.state.portal.tenants.get(slug).config.identity.tokens


def count(responses, text: str) -> int:
    return sum(1 for r in responses if text in r.text)


def test_password_guesses_are_bounded_and_lock(app, live):
    limit = _lockout(app, "aicom").max_failures
    account_id = make_account("aicom", "victim01")
    attacker = live.tenant("aicom")
    # Fewer than the per-address limit (20 by default), so that only the per-ID lock answers here.
    answers = attacker.fire("/login", [{"login_id": "victim01", "password": f"wrong{i}"} for i in range(15)])
    assert all(r.status_code in (400, 429) for r in answers), [r.status_code for r in answers]
    assert count(answers, WRONG_LOGIN) <= limit - 1
    assert audit_count("login.failure", account_id=account_id) <= limit
    right = live.tenant("aicom").submit("/login", {"login_id": "victim01", "password": PASSWORD})
    assert right.status_code == 429 and "一時的に停止" in right.text
    assert account_row(account_id)["locked_until"] is not None


def test_unknown_login_ids_answer_like_known_ones(app, live):
    """Same answers (the lock after the same number of failures) for an ID that no account has."""
    limit = _lockout(app, "aicom").max_failures
    make_account("aicom", "known001")
    transcripts = {}
    for login_id in ("known001", "nobody01"):
        attacker = live.tenant("aicom")
        transcripts[login_id] = [
            (r.status_code, WRONG_LOGIN in r.text, "一時的に停止" in r.text)
            for r in (attacker.submit("/login", {"login_id": login_id, "password": "wrongpass"}) for _ in range(limit + 2))
        ]
    assert transcripts["known001"] == transcripts["nobody01"]
    assert transcripts["known001"][-1] == (429, False, True)


def test_unknown_login_ids_take_as_long_as_known_ones(app, live):
    import statistics
    import time

    for n in range(12):
        make_account("aicom", f"timed{n:03d}")
    attacker = live.tenant("aicom")
    attacker.csrf()
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(9):  # interleaved (18 failures, fewer than the per-address limit), one try per ID: no lock interferes
        for kind, login_id in (("known", f"timed{n:03d}"), ("unknown", f"ghost{n:03d}")):
            started = time.perf_counter()
            response = attacker.submit("/login", {"login_id": login_id, "password": "wrongpass"})
            timings[kind].append(time.perf_counter() - started)
            assert response.status_code == 400
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    assert max(known, unknown) / min(known, unknown) < 1.5, timings


def _itscom_recovery(live, login_id: str, method: str):
    attacker = live.tenant("itscom")
    attacker.submit("/forgot", {"what": "password"})
    response = attacker.submit("/forgot/identify", {"login_id": login_id})
    assert response.status_code == 303, response.text
    return attacker


def test_recovery_code_guesses_are_bounded(app, live):
    limit = _tokens(app, "itscom").max_attempts
    make_account("itscom", "code.victim@itscom.example", email="contact.victim@example.jp", recovery_method="email_code")
    attacker = _itscom_recovery(live, "code.victim@itscom.example", "email_code")
    right = mailed_code(last_mail_to("contact.victim@example.jp"))
    wrong = [f"{(int(right) + 1 + i) % 1000000:06d}" for i in range(GUESSES)]
    answers = attacker.fire("/forgot/code", [{"code": code} for code in wrong])
    assert all(r.status_code < 500 for r in answers)
    assert count(answers, "認証コードが正しくありません") <= limit - 1
    assert max(token_attempts("recovery_code")) <= limit
    late = attacker.submit("/forgot/code", {"code": right})
    assert late.status_code == 400 and "続けて失敗" in late.text


def test_secret_answer_guesses_are_bounded_and_lock(app, live):
    limit = _tokens(app, "itscom").max_attempts
    account_id = make_account(
        "itscom",
        "aikotoba.victim@itscom.example",
        recovery_method="secret_question",
        secret_question=0,
        secret_answer_hash=answer_hash("さくら"),
    )
    attacker = _itscom_recovery(live, "aikotoba.victim@itscom.example", "secret_question")
    answers = attacker.fire("/forgot/question", [{"question": "0", "answer": f"こたえ{i}"} for i in range(GUESSES)])
    assert all(r.status_code < 500 for r in answers)
    assert count(answers, "秘密の質問または答えが正しくありません") <= limit - 1
    assert account_row(account_id)["locked_until"] is not None
    late = attacker.submit("/forgot/question", {"question": "0", "answer": "さくら"})
    assert late.status_code == 429


def _nmedia_password_step(live, login_id: str):
    attacker = live.tenant("nmedia")
    response = attacker.submit("/login", {"login_id": login_id, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/login/email_otp", response.text
    assert attacker.get("/login/email_otp").status_code == 200
    return attacker


def test_login_otp_guesses_are_bounded(app, live):
    limit = _tokens(app, "nmedia").max_attempts
    make_account("nmedia", "otpv01", email="otp.victim@example.jp")
    attacker = _nmedia_password_step(live, "otpv01")
    right = mailed_code(last_mail_to("otp.victim@example.jp"))
    forms = [{"otp": f"{(int(right) + 1 + i) % 1000000:06d}", "altcha": solve_altcha(attacker)} for i in range(GUESSES)]
    answers = attacker.fire("/login/email_otp", forms)
    assert all(r.status_code < 500 for r in answers)
    assert count(answers, "ワンタイムパスワードが正しくありません") <= limit - 1
    assert max(token_attempts("login_otp")) <= limit


def test_authenticator_guesses_are_bounded_across_logins_and_lock(app, live):
    limit = _lockout(app, "aicom").max_failures
    secret = pyotp.random_base32()
    account_id = make_account("aicom", "totpv01", totp_secret=secret)
    wrong = [f"{(int(totp_now(secret)) + 7 + i) % 1000000:06d}" for i in range(GUESSES)]
    responses = []
    for batch in range(2):  # two password logins: the count does not start over
        attacker = live.tenant("aicom")
        step = attacker.submit("/login", {"login_id": "totpv01", "password": PASSWORD})
        if step.status_code != 303:
            responses.append(step)
            continue
        responses += attacker.fire("/login/totp", [{"code": code} for code in wrong[batch::2]])
    assert all(r.status_code < 500 for r in responses)
    assert count(responses, "確認コードまたはリカバリーコードが正しくありません") <= limit - 1
    assert account_row(account_id)["locked_until"] is not None
    assert audit_count("account.locked", account_id=account_id) >= 1
    again = live.tenant("aicom").submit("/login", {"login_id": "totpv01", "password": PASSWORD})
    assert again.status_code == 429


def _aicom_logged_in(live, login_id: str):
    attacker = live.tenant("aicom")
    response = attacker.submit("/login", {"login_id": login_id, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    return attacker


def test_current_password_guesses_are_bounded(app, live):
    limit = _lockout(app, "aicom").max_failures
    make_account("aicom", "stolen01")
    attacker = _aicom_logged_in(live, "stolen01")
    forms = [
        {"current_password": f"guess{i}", "new_password": "Brandnew2025", "new_password_confirm": "Brandnew2025"}
        for i in range(GUESSES)
    ]
    answers = attacker.fire("/account/profile/password", forms)
    assert all(r.status_code < 500 for r in answers)
    assert count(answers, "現在のパスワードが正しくありません") <= limit - 1


def test_record_guesses_are_limited_per_customer_whatever_the_address(app, live):
    """iTSCOM re-registration: guessing the お支払情報等 of one customer from many sessions."""
    limit = _lockout(app, "itscom").max_failures
    make_customer(
        "itscom",
        number="1000000009",
        name="イッツ　サブロウ",
        name_kana="イッツ　サブロウ",
        phone="0337009999",
        bank_last4="4321",
    )
    base = {"name_kana": "イッツ　サブロウ", "phone": "0337009999", "pay_kind": "bank_last4"}
    attackers = [live.tenant("itscom") for _ in range(12)]
    from security.conftest import parallel

    answers = parallel(
        lambda pair: pair[0].submit("/register/email-id", {**base, "pay_value": f"{pair[1]:04d}"}),
        list(zip(attackers, range(12), strict=False)),
    )
    assert all(r.status_code in (400, 429) for r in answers), [r.status_code for r in answers]
    assert count(answers, "一致するご契約者情報が見つかりませんでした") <= limit
    right = live.tenant("itscom").submit("/register/email-id", {**base, "pay_value": "4321"})
    assert right.status_code == 429


def test_id_availability_checks_are_rate_limited(app, live):
    """IDチェック tells which IDs exist: one address gets ``id_checks_per_address`` answers, in parallel too."""
    allowed = _lockout(app, "aicom").id_checks_per_address
    make_customer("aicom", number="0001234567", phone="0748621234", name_kana="アイコム　タロウ")
    attacker = live.tenant("aicom")
    verified = attacker.submit(
        "/register/chosen-id", {"customer_number": "1234567", "phone": "0748621234", "name_kana": "アイコム　タロウ"}
    )
    assert verified.status_code == 303, verified.text
    answers = attacker.fire("/register/chosen-id/check-id", [{"login_id": f"probe-{n:03d}"} for n in range(allowed * 2)])
    kinds = [r.json()["status"] for r in answers]
    assert kinds.count("ok") + kinds.count("taken") == allowed
    assert kinds.count("limited") == allowed


def test_recovery_codes_for_unknown_ids_answer_like_known_ones(app, live):
    limit = _tokens(app, "itscom").max_attempts
    make_account("itscom", "known.code@itscom.example", email="known.code@example.jp", recovery_method="email_code")
    transcripts = {}
    for login_id in ("known.code@itscom.example", "nobody.code@itscom.example"):
        attacker = _itscom_recovery(live, login_id, "email_code")
        answers = [attacker.submit("/forgot/code", {"code": "000000"}) for _ in range(limit + 2)]
        transcripts[login_id] = [(r.status_code, "続けて失敗" in r.text, "正しくありません" in r.text) for r in answers]
    assert transcripts["known.code@itscom.example"] == transcripts["nobody.code@itscom.example"]
    assert transcripts["known.code@itscom.example"][-1][1]
