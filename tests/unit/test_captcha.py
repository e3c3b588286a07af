"""Captcha providers without a database or network: ALTCHA challenges and payload checks, and the
request/response handling of the reCAPTCHA / Turnstile siteverify calls (their servers cannot be
reached here, so httpx gets an in-process transport that answers like they do)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from urllib.parse import parse_qs

import httpx
import pytest

from mypage.identity.captcha import AltchaCaptcha, CaptchaResult, SiteverifyCaptcha, error_message
from mypage.settings import Settings
from mypage.tenancy.config import Captcha
from mypage.tenancy.registry import Tenant, TenantRegistry

SECRET = "unit-secret"


@pytest.fixture(scope="module")
def tenants():
    settings = Settings()
    return TenantRegistry.load(settings.tenants_dir, settings.themes_dir)


def with_captcha(tenant: Tenant, **captcha) -> Tenant:
    identity = tenant.config.identity.model_copy(update={"captcha": Captcha(**captcha)})
    config = tenant.config.model_copy(update={"identity": identity})
    return Tenant(config=config, folder=tenant.folder)


def solve(challenge: dict) -> str:
    for number in range(challenge["maxNumber"] + 1):
        if hashlib.sha256(f"{challenge['salt']}{number}".encode()).hexdigest() == challenge["challenge"]:
            payload = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")} | {"number": number}
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise AssertionError("unsolvable")


def verify(provider, form):
    return asyncio.run(provider.verify(form, "192.0.2.1"))


# ---------------------------------------------------------------- ALTCHA


def test_altcha_challenge_shape(tenants):
    challenge = AltchaCaptcha(tenants.get("nmedia"), SECRET).challenge()
    assert challenge["algorithm"] == "SHA-256"
    assert challenge["maxNumber"] == tenants.get("nmedia").config.identity.captcha.altcha_max_number
    assert "expires=" in challenge["salt"] and challenge["salt"].endswith("&")
    assert len(challenge["challenge"]) == 64 and len(challenge["signature"]) == 64


def test_altcha_solution_decodes_and_carries_expiry(tenants):
    provider = AltchaCaptcha(tenants.get("nmedia"), SECRET)
    data = provider.decode(solve(provider.challenge()))
    assert data is not None and isinstance(data["number"], int)
    assert provider.expires_at(data) is not None


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "!!!",
        base64.b64encode(b"[1,2]").decode(),
        base64.b64encode(b'{"algorithm": "SHA-256"}').decode(),
        base64.b64encode(b'{"algorithm":"SHA-256","challenge":"a","number":"1","salt":"s","signature":"x"}').decode(),
    ],
)
def test_altcha_rejects_malformed_payloads(tenants, payload):
    provider = AltchaCaptcha(tenants.get("nmedia"), SECRET)
    result = verify(provider, {"altcha": payload})
    assert not result.ok and result.reason in ("missing", "invalid")


def test_altcha_rejects_tampering_wrong_key_and_expiry(tenants):
    provider = AltchaCaptcha(tenants.get("nmedia"), SECRET)
    solved = json.loads(base64.b64decode(solve(provider.challenge())))

    tampered = dict(solved, number=solved["number"] + 1)
    assert verify(provider, {"altcha": base64.b64encode(json.dumps(tampered).encode()).decode()}).reason == "invalid"

    longer = dict(solved, salt=solved["salt"].replace("expires=", "expires=9"))
    assert verify(provider, {"altcha": base64.b64encode(json.dumps(longer).encode()).decode()}).reason == "invalid"

    other_tenant = AltchaCaptcha(tenants.get("aicom"), SECRET)
    assert verify(other_tenant, {"altcha": base64.b64encode(json.dumps(solved).encode()).decode()}).reason == "invalid"
    other_key = AltchaCaptcha(tenants.get("nmedia"), "another-secret")
    assert verify(other_key, {"altcha": base64.b64encode(json.dumps(solved).encode()).decode()}).reason == "invalid"

    stale = provider.challenge(minutes=-1)
    assert verify(provider, {"altcha": solve(stale)}).reason == "expired"


def test_error_messages_are_japanese():
    assert "私はロボットではありません" in error_message(CaptchaResult(False, "missing"))
    assert "有効期限" in error_message(CaptchaResult(False, "replayed"))
    assert "しばらくしてから" in error_message(CaptchaResult(False, "unavailable"))


# ---------------------------------------------------------------- reCAPTCHA v2 / Turnstile


def test_config_needs_keys_for_hosted_providers():
    with pytest.raises(ValueError):
        Captcha(provider="recaptcha")
    Captcha(provider="turnstile", site_key="site", secret_key="secret")


@pytest.mark.parametrize(
    "provider, url, field",
    [
        ("recaptcha", "https://www.google.com/recaptcha/api/siteverify", "g-recaptcha-response"),
        ("turnstile", "https://challenges.cloudflare.com/turnstile/v0/siteverify", "cf-turnstile-response"),
    ],
)
def test_siteverify_request_building(tenants, provider, url, field):
    tenant = with_captcha(tenants.get("nmedia"), provider=provider, site_key="site-key", secret_key="secret-key")
    captcha = SiteverifyCaptcha(tenant)
    assert captcha.field == field
    assert captcha.build_request("tok", "192.0.2.1") == (
        url,
        {"secret": "secret-key", "response": "tok", "remoteip": "192.0.2.1"},
    )
    assert captcha.build_request("tok") == (url, {"secret": "secret-key", "response": "tok"})


def test_siteverify_response_parsing(tenants):
    tenant = with_captcha(tenants.get("nmedia"), provider="recaptcha", site_key="s", secret_key="k")
    captcha = SiteverifyCaptcha(tenant)
    assert captcha.parse(200, b'{"success": true, "hostname": "nmedia.localhost"}').ok
    assert captcha.parse(200, b'{"success": true}').ok
    assert captcha.parse(200, b'{"success": true, "hostname": "evil.example"}').reason == "invalid"
    assert captcha.parse(200, b'{"success": false, "error-codes": ["invalid-input-response"]}').reason == "invalid"
    assert captcha.parse(200, b'{"success": false, "error-codes": ["timeout-or-duplicate"]}').reason == "expired"
    assert captcha.parse(200, b'{"success": "true"}').reason == "invalid"
    assert captcha.parse(500, b"oops").reason == "unavailable"
    assert captcha.parse(200, b"<html>").reason == "unavailable"
    assert captcha.parse(200, b"[]").reason == "unavailable"


def test_siteverify_verify_posts_form_and_reads_answer(tenants):
    tenant = with_captcha(tenants.get("nmedia"), provider="turnstile", site_key="s", secret_key="k")
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = parse_qs(request.content.decode())
        ok = body.get("response") == ["good-token"]
        return httpx.Response(200, json={"success": ok, "error-codes": [] if ok else ["invalid-input-response"]})

    captcha = SiteverifyCaptcha(tenant, transport=httpx.MockTransport(answer))
    assert verify(captcha, {"cf-turnstile-response": "good-token"}).ok
    assert verify(captcha, {"cf-turnstile-response": "bad-token"}).reason == "invalid"
    assert verify(captcha, {}).reason == "missing"
    assert len(seen) == 2
    request = seen[0]
    assert request.method == "POST" and str(request.url) == "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"secret": ["k"], "response": ["good-token"], "remoteip": ["192.0.2.1"]}


def test_siteverify_network_failure_is_unavailable(tenants):
    tenant = with_captcha(tenants.get("nmedia"), provider="recaptcha", site_key="s", secret_key="k")

    def fail(request):
        raise httpx.ConnectError("no route", request=request)

    captcha = SiteverifyCaptcha(tenant, transport=httpx.MockTransport(fail))
    assert verify(captcha, {"g-recaptcha-response": "x"}).reason == "unavailable"


@pytest.mark.parametrize("provider", ["altcha", "recaptcha", "turnstile"])
def test_widget_and_script_per_provider(tenants, provider):
    from mypage.web.templating import TenantTemplates, ThemeRegistry

    keys = {} if provider == "altcha" else {"site_key": "site-key-1", "secret_key": "k"}
    tenant = with_captcha(tenants.get("nmedia"), provider=provider, **keys)
    templates = TenantTemplates(tenant, ThemeRegistry(Settings().themes_dir), {})
    if provider == "altcha":
        context = {"provider": "altcha", "field": "altcha", "challenge_url": "/captcha/challenge"}
    else:
        context = {
            "provider": provider,
            "field": SiteverifyCaptcha.FIELDS[provider],
            "site_key": "site-key-1",
            "script": SiteverifyCaptcha.SCRIPTS[provider],
            "widget_class": SiteverifyCaptcha.WIDGET_CLASSES[provider],
        }
    module = templates.env.get_template("identity/captcha_widget.html").make_module({})
    html = str(module.captcha_widget(context)) + str(module.captcha_script(context))
    if provider == "altcha":
        assert "私はロボットではありません" in html and 'name="altcha"' in html
        assert '<script src="/static/js/altcha-solver.js"' in html and "https://" not in html
    else:
        assert 'data-sitekey="site-key-1"' in html and SiteverifyCaptcha.SCRIPTS[provider] in html
        assert "altcha-solver" not in html
