"""Login factors composed from configuration, on tenants that combine them as none of the three operators
does (``tests/variants.py``): a required authenticator app set up at the first login, a mailed one-time
password and the app in the listed order, a captcha on the login form or as a step of its own, and the
captcha provider per tenant."""

from __future__ import annotations

import re

import pyotp
import pytest

from captcha_support import solve_altcha
from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account
from variants import DROP, client, variant, variant_app

PASSWORD = "Pass1234"

# chosen IDs with the authenticator app required of everyone
TOTP_REQUIRED = variant("aicom", "apprequired", {"identity.factors": ["password", "totp"], "identity.totp_optional": DROP})
# e-mail IDs: a mailed one-time password, then the app
OTP_THEN_APP = variant("itscom", "otpapp", {"identity.factors": ["password", "email_otp", "totp"]})
# the same, the other way round
APP_THEN_OTP = variant("itscom", "appotp", {"identity.factors": ["password", "totp", "email_otp"]})
# the captcha on the login form, with the password only
CAPTCHA_ON_FORM = variant(
    "itscom", "formcaptcha", {"identity.factors": ["password", "captcha"], "identity.captcha": {"placement": "login"}}
)
# one-time password and captcha as two screens instead of one
CAPTCHA_AS_STEP = variant("nmedia", "captchastep", {"identity.captcha": {"provider": "altcha", "placement": "step"}})
# another provider, on the login form
TURNSTILE = variant(
    "aicom",
    "turnstile",
    {
        "identity.factors": ["password", "captcha"],
        "identity.captcha": {"provider": "turnstile", "site_key": "site-key-1", "secret_key": "secret-1", "placement": "login"},
    },
)
VARIANTS = [TOTP_REQUIRED, OTP_THEN_APP, APP_THEN_OTP, CAPTCHA_ON_FORM, CAPTCHA_AS_STEP, TURNSTILE]


@pytest.fixture
def served(db, portal):
    return variant_app(db, portal, VARIANTS)


def make_account(portal, tenant: str, login_id: str, **fields) -> int:
    async def go():
        account = await AccountRepository(portal.tenants.get(tenant)).create(
            login_id=login_id, password_hash=hash_password(PASSWORD), email=fields.pop("email", "user@example.jp"), **fields
        )
        return account.id

    return run(go())


def password_step(browser, login_id: str, **extra):
    return browser.submit("/login", {"login_id": login_id, "password": PASSWORD, **extra}, follow_redirects=False)


def logged_in(browser) -> bool:
    return browser.get("/", follow_redirects=False).status_code == 200


def otp_from(sink, address: str) -> str:
    return re.search(r"^\s*(\d{6})\s*$", sink.text(sink.last_to(address)), re.M).group(1)


def events(account_id: int) -> set[str]:
    rows = run(AuditEvent.select(AuditEvent.event).where(AuditEvent.account_id == account_id).run())
    return {row["event"] for row in rows}


def test_required_app_is_set_up_at_the_first_login(served, deliver):
    app, portal = served
    account_id = make_account(portal, "apprequired", "newcomer")
    browser = client(app, "apprequired")
    step = password_step(browser, "newcomer")
    assert step.status_code == 303 and step.headers["location"] == "/login/totp_setup"
    assert browser.get("/login/totp", follow_redirects=False).headers["location"] == "/login"  # no app yet: no code step
    page = browser.get("/login/totp_setup")
    assert page.status_code == 200 and "2段階認証(認証アプリ)の設定が必要です" in page.text
    assert 'action="/login/totp_setup"' in page.text and 'src="data:image/svg+xml' in page.text
    secret = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    assert browser.submit("/login/totp_setup", {"code": wrong}).status_code == 400
    assert not logged_in(browser)

    codes_page = browser.submit("/login/totp_setup", {"code": pyotp.TOTP(secret).now()})
    assert codes_page.status_code == 200 and 'action="/login/totp_setup/continue"' in codes_page.text
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", codes_page.text)
    assert len(codes) == 10
    assert not logged_in(browser)  # the login goes on only when the codes were seen
    done = browser.submit("/login/totp_setup/continue", {}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert logged_in(browser)
    stored = run(Account.select(Account.totp_secret).where(Account.id == account_id).first().run())
    assert stored["totp_secret"] == secret
    assert "2段階認証" in deliver().text(deliver().last_to("user@example.jp"))
    assert {"totp.enabled", "login.success"} <= events(account_id)

    # from now on the app's code is asked; a recovery code works too; the app cannot be turned off
    again = client(app, "apprequired")
    assert password_step(again, "newcomer").headers["location"] == "/login/totp"
    assert again.submit("/login/totp", {"code": codes[0]}, follow_redirects=False).headers["location"] == "/"
    assert 'action="/account/security/totp/disable"' not in again.get("/account/security").text


def test_setup_step_cannot_be_skipped(served):
    app, portal = served
    make_account(portal, "apprequired", "skipper")
    browser = client(app, "apprequired")
    password_step(browser, "skipper")
    assert browser.submit("/login/totp_setup/continue", {}, follow_redirects=False).headers["location"] == "/login/totp_setup"
    assert browser.get("/", follow_redirects=False).status_code in (302, 303)
    stranger = client(app, "apprequired")
    assert stranger.get("/login/totp_setup", follow_redirects=False).headers["location"] == "/login"


@pytest.mark.parametrize(("tenant", "order"), [("otpapp", ["email_otp", "totp"]), ("appotp", ["totp", "email_otp"])])
def test_mailed_code_and_app_in_the_listed_order(served, deliver, tenant, order):
    app, portal = served
    secret = pyotp.random_base32()
    address = f"{tenant}@example.jp"
    account_id = make_account(portal, tenant, address, email="", totp_secret=secret)
    browser = client(app, tenant)
    response = password_step(browser, address)
    for step in order:
        assert response.status_code == 303 and response.headers["location"] == f"/login/{step}"
        assert not logged_in(browser)
        if step == "email_otp":
            assert "私はロボットではありません" not in browser.get("/login/email_otp").text
            response = browser.submit("/login/email_otp", {"otp": otp_from(deliver(), address)}, follow_redirects=False)
        else:
            assert browser.get("/login/totp").status_code == 200
            response = browser.submit("/login/totp", {"code": pyotp.TOTP(secret).now()}, follow_redirects=False)
    assert response.headers["location"] == "/" and logged_in(browser)
    assert {"login.otp_ok", "login.totp_ok", "login.success"} <= events(account_id)


def test_captcha_on_the_login_form(served):
    app, portal = served
    account_id = make_account(portal, "formcaptcha", "form@example.jp")
    browser = client(app, "formcaptcha")
    page = browser.get("/login")
    assert "私はロボットではありません" in page.text and 'name="altcha"' in page.text and "altcha-solver.js" in page.text
    missing = password_step(browser, "form@example.jp")
    assert missing.status_code == 400 and "「私はロボットではありません」にチェックを入れてください。" in missing.text
    assert "login.password_ok" not in events(account_id) and not logged_in(browser)
    done = password_step(browser, "form@example.jp", altcha=solve_altcha(browser))
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert logged_in(browser)
    # the other tenants' login forms carry no captcha
    assert "私はロボットではありません" not in client(app, "itscom").get("/login").text


def test_mailed_code_then_captcha_as_two_screens(served, deliver):
    app, portal = served
    make_account(portal, "captchastep", "abc234", email="step@example.jp")
    browser = client(app, "captchastep")
    assert password_step(browser, "abc234").headers["location"] == "/login/email_otp"
    page = browser.get("/login/email_otp")
    assert "私はロボットではありません" not in page.text
    response = browser.submit("/login/email_otp", {"otp": otp_from(deliver(), "step@example.jp")}, follow_redirects=False)
    assert response.headers["location"] == "/login/captcha" and not logged_in(browser)
    assert browser.submit("/login/captcha", {}).status_code == 400
    done = browser.submit("/login/captcha", {"altcha": solve_altcha(browser)}, follow_redirects=False)
    assert done.headers["location"] == "/" and logged_in(browser)


def test_captcha_provider_per_tenant(served):
    app, _portal = served
    page = client(app, "turnstile").get("/login")
    assert 'class="cf-turnstile" data-sitekey="site-key-1"' in page.text
    assert "challenges.cloudflare.com" in page.text and 'name="altcha"' not in page.text
    assert "challenges.cloudflare.com" in page.headers["content-security-policy"]
    # without the provider's answer the password is not even tried
    refused = client(app, "turnstile").submit("/login", {"login_id": "someone", "password": PASSWORD})
    assert refused.status_code == 400 and "チェックを入れてください" in refused.text
