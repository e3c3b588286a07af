"""Single-use tokens and codes: keyed hashes only, expiry, attempt limit, throttling, no collisions."""

from datetime import UTC, datetime, timedelta

import pytest

from conftest import run
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import TokenError, Tokens


def tokens(tenant="aicom", **kwargs) -> Tokens:
    return Tokens(tenant, "test-secret", **{"max_attempts": 5, "resend_interval_seconds": 60, **kwargs})


def rows():
    return run(OneTimeToken.select().output(load_json=True).run())


def test_link_token_is_stored_hashed_and_used_once(db):
    issued = run(tokens().issue("reset", minutes=10, subject="7", payload={"x": 1}))
    assert all(issued.secret not in str(row.values()) for row in rows())
    assert run(tokens().peek("reset", issued.secret)) == {"x": 1}
    assert run(tokens().consume("reset", issued.secret))["x"] == 1
    with pytest.raises(TokenError) as used:
        run(tokens().consume("reset", issued.secret))
    assert used.value.reason == "used"
    with pytest.raises(TokenError):
        run(tokens("itscom").consume("reset", issued.secret))  # another tenant's key and rows


def test_expired_token_is_refused(db):
    issued = run(tokens().issue("reset", minutes=10, subject="7"))
    run(OneTimeToken.update({OneTimeToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(OneTimeToken.id > 0).run())
    with pytest.raises(TokenError) as expired:
        run(tokens().consume("reset", issued.secret))
    assert expired.value.reason == "expired"


def test_code_allows_five_wrong_tries_then_stops(db):
    code = run(tokens().issue_code("otp", minutes=10, subject="1"))
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(TokenError) as invalid:
            run(tokens().verify_code("otp", "1", wrong))
        assert invalid.value.reason == "invalid"
    with pytest.raises(TokenError) as locked:
        run(tokens().verify_code("otp", "1", wrong))
    assert locked.value.reason == "too_many_attempts"
    with pytest.raises(TokenError):
        run(tokens().verify_code("otp", "1", code))  # even the right code, once the limit is reached


def test_same_code_for_two_accounts_does_not_collide(db):
    for subject in ("1", "2"):
        run(tokens().issue("otp", minutes=10, subject=subject, secret="123456", code=True))
    assert run(tokens().verify_code("otp", "2", "123456"))["account_id"] is None
    assert run(tokens().verify_code("otp", "1", "123456")) is not None


def test_resend_is_throttled_and_replaces_the_previous_code(db):
    first = run(tokens().issue_code("otp", minutes=10, subject="1"))
    with pytest.raises(TokenError) as throttled:
        run(tokens().issue_code("otp", minutes=10, subject="1"))
    assert throttled.value.reason == "throttled"
    second = run(tokens(resend_interval_seconds=0).issue_code("otp", minutes=10, subject="1"))
    if first != second:
        with pytest.raises(TokenError):
            run(tokens().verify_code("otp", "1", first))
    assert run(tokens().verify_code("otp", "1", second)) is not None
