"""Captcha providers (私はロボットではありません), chosen by the tenant's ``identity.captcha``.

- ``altcha`` (default): a self-hosted proof-of-work captcha (the ALTCHA protocol, SHA-256). The server
  hands out a signed challenge (``GET /captcha/challenge``), the browser finds the number ``n`` with
  ``SHA-256(salt + n) == challenge`` (``/static/js/altcha-solver.js``) and posts the solution as the
  base64 JSON field ``altcha``. The server checks the signature and the expiry, and refuses a solution
  that was already used (its signature is remembered as a ``OneTimeToken`` row until it expires).
  Works without any third party.
- ``recaptcha`` (reCAPTCHA v2) and ``turnstile`` (Cloudflare Turnstile): the widget is theirs, the
  answer is checked server-side with a POST to their ``siteverify`` endpoint.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import altcha
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from mypage.audit.log import AuditLog
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import Tokens
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, tenant_of

CHALLENGE_MINUTES = 15
USED_PURPOSE = "captcha_used"
ALGORITHM = "SHA-256"


@dataclass
class CaptchaResult:
    ok: bool
    reason: str = ""
    """``missing``, ``invalid``, ``expired``, ``replayed`` or ``unavailable``."""


class AltchaCaptcha:
    name = "altcha"
    field = "altcha"

    def __init__(self, tenant: Tenant, secret_key: str):
        self.tenant = tenant
        self.config = tenant.config.identity.captcha
        self._key = f"{secret_key}:{tenant.slug}:altcha"
        self._tokens = Tokens(tenant.slug, secret_key)

    def challenge(self, minutes: int = CHALLENGE_MINUTES) -> dict:
        """A new signed challenge, as the JSON the browser solver expects."""
        created = altcha.create_challenge_v1(
            algorithm=ALGORITHM,
            max_number=self.config.altcha_max_number,
            hmac_key=self._key,
            expires=datetime.now(UTC) + timedelta(minutes=minutes),
        )
        return created.to_dict()

    @staticmethod
    def decode(payload: str) -> dict | None:
        try:
            data = json.loads(base64.b64decode(payload, validate=True).decode())
        except (ValueError, TypeError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        for key in ("algorithm", "challenge", "number", "salt", "signature"):
            if key not in data:
                return None
        if not isinstance(data["number"], int) or not all(
            isinstance(data[k], str) for k in ("algorithm", "challenge", "salt", "signature")
        ):
            return None
        return data

    @staticmethod
    def expires_at(data: dict) -> datetime | None:
        params = altcha.extract_params_v1(data)
        try:
            return datetime.fromtimestamp(int(params["expires"][0]), tz=UTC)
        except (KeyError, IndexError, ValueError, OverflowError):
            return None

    async def verify(self, form: dict, address: str = "") -> CaptchaResult:
        payload = (form.get(self.field) or "").strip()
        if not payload:
            return CaptchaResult(False, "missing")
        if len(payload) > 4000:
            return CaptchaResult(False, "invalid")
        data = self.decode(payload)
        if data is None or data["algorithm"] != ALGORITHM:
            return CaptchaResult(False, "invalid")
        expires = self.expires_at(data)
        if expires is None:
            return CaptchaResult(False, "invalid")  # our challenges always expire
        if expires < datetime.now(UTC):
            return CaptchaResult(False, "expired")
        ok, _ = altcha.verify_solution_v1(data, self._key, check_expires=True)
        if not ok:
            return CaptchaResult(False, "invalid")
        if not await self._remember(data["signature"], expires):
            return CaptchaResult(False, "replayed")
        return CaptchaResult(True)

    async def _remember(self, signature: str, expires: datetime) -> bool:
        """Marks a solved challenge used; ``False`` if it was used before."""
        digest = self._tokens.digest(f"{USED_PURPOSE}:{signature}")
        seen = await OneTimeToken.count().where(OneTimeToken.tenant == self.tenant.slug).where(OneTimeToken.token_hash == digest)
        if seen:
            return False
        try:
            await OneTimeToken.insert(
                OneTimeToken(
                    tenant=self.tenant.slug,
                    purpose=USED_PURPOSE,
                    subject="",
                    token_hash=digest,
                    payload={},
                    expires_at=expires,
                    used_at=datetime.now(UTC),
                )
            )
        except Exception:  # the unique (tenant, token_hash) constraint: a concurrent replay
            return False
        await self._forget_expired()
        return True

    async def _forget_expired(self) -> None:
        await (
            OneTimeToken.delete()
            .where(OneTimeToken.tenant == self.tenant.slug)
            .where(OneTimeToken.purpose == USED_PURPOSE)
            .where(OneTimeToken.expires_at < datetime.now(UTC) - timedelta(minutes=5))
        )


class SiteverifyCaptcha:
    """reCAPTCHA v2 / Turnstile: the token from their widget is checked by their siteverify endpoint."""

    ENDPOINTS: ClassVar[dict[str, str]] = {
        "recaptcha": "https://www.google.com/recaptcha/api/siteverify",
        "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    }
    FIELDS: ClassVar[dict[str, str]] = {"recaptcha": "g-recaptcha-response", "turnstile": "cf-turnstile-response"}
    SCRIPTS: ClassVar[dict[str, str]] = {
        "recaptcha": "https://www.google.com/recaptcha/api.js",
        "turnstile": "https://challenges.cloudflare.com/turnstile/v0/api.js",
    }
    WIDGET_CLASSES: ClassVar[dict[str, str]] = {"recaptcha": "g-recaptcha", "turnstile": "cf-turnstile"}

    def __init__(self, tenant: Tenant, transport=None, timeout: float = 10.0):
        self.tenant = tenant
        self.config = tenant.config.identity.captcha
        self.name = self.config.provider
        self.field = self.FIELDS[self.name]
        self.url = self.ENDPOINTS[self.name]
        self.script = self.SCRIPTS[self.name]
        self.widget_class = self.WIDGET_CLASSES[self.name]
        self.site_key = self.config.site_key
        self._transport = transport
        self._timeout = timeout

    def build_request(self, response_token: str, address: str = "") -> tuple[str, dict[str, str]]:
        data = {"secret": self.config.secret_key, "response": response_token}
        if address:
            data["remoteip"] = address
        return self.url, data

    def parse(self, status_code: int, body: bytes | str) -> CaptchaResult:
        if status_code != 200:
            return CaptchaResult(False, "unavailable")
        try:
            data = json.loads(body)
        except (ValueError, TypeError):
            return CaptchaResult(False, "unavailable")
        if not isinstance(data, dict):
            return CaptchaResult(False, "unavailable")
        if data.get("success") is True:
            hostname = data.get("hostname")
            if hostname and hostname.lower() not in self.tenant.config.hosts:
                return CaptchaResult(False, "invalid")
            return CaptchaResult(True)
        codes = data.get("error-codes") or []
        if "timeout-or-duplicate" in codes:
            return CaptchaResult(False, "expired")
        return CaptchaResult(False, "invalid")

    async def verify(self, form: dict, address: str = "") -> CaptchaResult:
        token = (form.get(self.field) or "").strip()
        if not token:
            return CaptchaResult(False, "missing")
        if len(token) > 4096:
            return CaptchaResult(False, "invalid")
        import httpx

        url, data = self.build_request(token, address)
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as client:
                response = await client.post(url, data=data)
        except httpx.HTTPError:
            return CaptchaResult(False, "unavailable")
        return self.parse(response.status_code, response.content)


def provider_for(portal, tenant: Tenant):
    if tenant.config.identity.captcha.provider == "altcha":
        return AltchaCaptcha(tenant, portal.settings.secret_key)
    return SiteverifyCaptcha(tenant)


def error_message(result: CaptchaResult) -> str:
    from mypage.i18n import gettext as _

    if result.reason == "missing":
        return _("「私はロボットではありません」にチェックを入れてください。")
    if result.reason in ("expired", "replayed"):
        return _("ロボット認証の有効期限が切れました。もう一度チェックを入れてください。")
    if result.reason == "unavailable":
        return _("ロボット認証を確認できませんでした。しばらくしてからもう一度お試しください。")
    return _("ロボット認証を確認できませんでした。もう一度チェックを入れてください。")


async def check(request: Request, form) -> CaptchaResult:
    """Verifies the captcha of a posted form for the request's tenant; failures are audited."""
    tenant = tenant_of(request)
    provider = provider_for(portal_of(request), tenant)
    values = {provider.field: form.get(provider.field) or ""}
    result = await provider.verify(values, client_address(request))
    if not result.ok:
        await AuditLog(tenant.slug).record(
            "captcha.failed", address=client_address(request), provider=provider.name, reason=result.reason
        )
    return result


def widget_context(request: Request) -> dict:
    """What ``identity/captcha_widget.html`` needs."""
    tenant = tenant_of(request)
    config = tenant.config.identity.captcha
    if config.provider == "altcha":
        return {"provider": "altcha", "field": AltchaCaptcha.field, "challenge_url": "/captcha/challenge"}
    return {
        "provider": config.provider,
        "field": SiteverifyCaptcha.FIELDS[config.provider],
        "site_key": config.site_key,
        "script": SiteverifyCaptcha.SCRIPTS[config.provider],
        "widget_class": SiteverifyCaptcha.WIDGET_CLASSES[config.provider],
    }


@get("/captcha/challenge")
async def captcha_challenge(request: Request) -> Response:
    tenant = tenant_of(request)
    if tenant.config.identity.captcha.provider != "altcha":
        raise NotFoundException()
    challenge = AltchaCaptcha(tenant, portal_of(request).settings.secret_key).challenge()
    return Response(
        content=challenge,
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


ROUTES = [captcha_challenge]

__all__ = ["ROUTES", "AltchaCaptcha", "CaptchaResult", "SiteverifyCaptcha", "check", "provider_for", "widget_context"]
