"""The registration pipeline of a tenant, derived from its config: which steps run, what each one asks, and
where its pages are. Every step module reads this :class:`Plan` instead of the raw settings, so that a step
works the same whatever the other steps are.

The pages live under one path per login-ID kind (``REGISTRATION_PATHS``: ``/register/chosen-id`` …); a
request under another kind's path answers 404.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from litestar import Request
from litestar.exceptions import NotFoundException

from mypage.i18n import gettext as _
from mypage.identity.issued import link_validity
from mypage.identity.tokens import Tokens
from mypage.tenancy.config import REGISTRATION_PATHS
from mypage.tenancy.registry import Tenant
from mypage.web.render import portal_of, session_of, tenant_of

STATE = "registration"
STATE_MAX_SECONDS = 60 * 60
PURPOSE = "register"
"""The purpose of registration links and codes (one pending confirmation per customer)."""


@dataclass(frozen=True)
class Plan:
    kind: str
    """``login_id.kind``: chosen, email or issued."""
    prefix: str
    steps: tuple[str, ...]
    verify_fields: tuple[str, ...]
    one_of: tuple[str, ...]
    disambiguate_with: tuple[str, ...]
    terms: bool
    email_at_verify: bool
    """The verification page asks for the address the issued credentials are mailed to."""
    nickname: bool
    confirm: str
    """``link``, ``code`` or ``first_login`` (issued IDs)."""
    confirm_password: bool
    replaces_existing: bool
    """A customer who already has an account registers again and gets new credentials on the same account
    (``recovery.id_forgotten = "reregister"``, not with issued IDs); otherwise the verification refuses him."""

    @property
    def id_check(self) -> bool:
        """The customer picks the ID: the credentials page offers an availability check (IDチェック)."""
        return self.kind == "chosen"

    @property
    def contact_field(self) -> bool:
        """The ID is not an address: the credentials page asks for the contact address."""
        return self.kind == "chosen"

    @property
    def contact_choice(self) -> bool:
        """The ID is an address: at completion the customer picks it or the address on file as contact."""
        return self.kind == "email"

    @property
    def review(self) -> bool:
        return "review" in self.steps

    @property
    def password_twice(self) -> bool:
        """Without a password asked at confirmation, the credentials page asks it twice instead."""
        return not self.confirm_password

    def path(self, page: str = "") -> str:
        return f"{self.prefix}/{page}" if page else self.prefix

    def link_path(self, token: str) -> str:
        """The mailed link: ``/complete?token=`` when the 確認 page holds ``/confirm``, else ``/confirm/<token>``."""
        return f"{self.prefix}/complete?token={token}" if self.review else f"{self.prefix}/confirm/{token}"


def plan_of(tenant: Tenant) -> Plan:
    identity = tenant.config.identity
    rules = identity.registration
    kind = identity.login_id.kind
    steps = tuple(rules.steps_for(kind))
    return Plan(
        kind=kind,
        prefix=REGISTRATION_PATHS[kind],
        steps=steps,
        verify_fields=tuple(rules.verify_fields),
        one_of=tuple(rules.verify_one_of),
        disambiguate_with=tuple(rules.disambiguate_with),
        terms=rules.require_terms,
        email_at_verify=kind == "issued" and rules.collect_email and "email" not in rules.verify_fields,
        nickname=rules.collect_nickname,
        confirm="first_login" if kind == "issued" else rules.confirm,
        confirm_password=rules.confirm_password,
        replaces_existing=kind != "issued" and identity.recovery.id_forgotten == "reregister",
    )


def pipeline(request: Request) -> tuple[Tenant, Plan]:
    """The tenant and its plan; 404 when the request is under another kind's path."""
    tenant = tenant_of(request)
    plan = plan_of(tenant)
    path = request.url.path
    if path != plan.prefix and not path.startswith(plan.prefix + "/"):
        raise NotFoundException()
    return tenant, plan


def paths(page: str = "") -> list[str]:
    """The route paths of ``page`` under every kind's prefix (the handler then checks the tenant's)."""
    return [f"{prefix}/{page}" if page else prefix for prefix in REGISTRATION_PATHS.values()]


def tokens_of(request: Request, tenant: Tenant) -> Tokens:
    lifetimes = tenant.config.identity.tokens
    return Tokens(tenant.slug, portal_of(request).settings.secret_key, lifetimes.max_attempts, lifetimes.resend_interval_seconds)


def state_of(request: Request) -> dict | None:
    data = session_of(request).get(STATE)
    if not data or int(time.time()) - int(data.get("at", 0)) > STATE_MAX_SECONDS:
        return None
    return data


def save_state(request: Request, data: dict) -> None:
    session_of(request)[STATE] = {**data, "at": int(data.get("at") or time.time())}


def link_hours(tenant: Tenant) -> str:
    minutes = tenant.config.identity.tokens.registration_link_minutes
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes / 60:.1f}"


def validity_text(tenant: Tenant) -> str:
    amount, unit = link_validity(tenant.config.identity.tokens.registration_link_minutes)
    if unit == "days":
        return _("{n}日").format(n=amount)
    if unit == "hours":
        return _("{n}時間").format(n=amount)
    return _("{n}分").format(n=amount)
