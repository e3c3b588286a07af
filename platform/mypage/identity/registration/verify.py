"""Steps ``verify`` and ``disambiguate``: the customer proves to be a contract holder.

``verify`` (the pipeline's first page) asks every ``verify_fields``, one of ``verify_one_of`` (a choice and
its value), the e-mail address the issued credentials go to (issued IDs with ``collect_email``) and the
terms consent (``require_terms``); the answers are matched against the operator's records by
:class:`VerificationGate`, which limits guessing per client address and per customer; failures are also
counted per session. Several matching customers lead to ``disambiguate`` (追加認証情報, one of
``disambiguate_with``) when configured, else count as no match. A customer who has an account already is
refused unless re-registration replaces its credentials (``recovery.id_forgotten = "reregister"``).
"""

from __future__ import annotations

import time

from litestar import Request, Response, get, post

from mypage.audit.log import AuditLog
from mypage.content.documents import has_document
from mypage.i18n import N_, current_locale
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.policy import check_email
from mypage.identity.registration.confirm import issue_credentials
from mypage.identity.registration.plan import STATE, Plan, paths, pipeline, save_state, state_of
from mypage.identity.verification import LABELS, VerificationGate, clean
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, redirect, render, session_of, text

FAILS = "registration_fails"
INPUT_MODES = {
    "customer_number": "numeric",
    "phone": "tel",
    "postal_code": "numeric",
    "bank_last4": "numeric",
    "card_last4": "numeric",
}
AUTOCOMPLETE = {"postal_code": "postal-code", "name": "name", "phone": "tel", "email": "email"}


DEFAULT_HELP = {
    "contract_number": N_("ご契約時の書面に記載の契約番号を入力してください。"),
    "postal_code": N_("ご契約住所の郵便番号を入力してください（ハイフンは不要です）。"),
    "name": N_("ご契約のお客様名を入力してください。"),
    "name_kana": N_("全角カナで入力してください。"),
}
"""The hint under a field when the tenant sets no ``verify.<field>.help``."""


def field_help(tenant: Tenant, name: str) -> str:
    own = tenant.config.text(f"verify.{name}.help", current_locale())
    if own:
        return own
    default = _(DEFAULT_HELP[name]) if name in DEFAULT_HELP else ""
    if name == "name" and tenant.config.identity.registration.corporate_forms:
        default += _("※一部法人格を除く")
    return default


def field_label(tenant: Tenant, name: str) -> str:
    return text(tenant, f"verify.{name}.label", LABELS[name])


def _field(tenant: Tenant, name: str) -> dict:
    locale = current_locale()
    return {
        "name": name,
        "label": field_label(tenant, name),
        "help": field_help(tenant, name),
        "detail": tenant.config.text(f"verify.{name}.detail", locale) or "",
        "inputmode": INPUT_MODES.get(name, ""),
        "autocomplete": AUTOCOMPLETE.get(name, ""),
        "guide": text(tenant, f"verify.{name}.guide", "記載箇所の見本はこちら") if has_document(tenant, f"help/{name}") else "",
    }


def _render(request: Request, tenant: Tenant, plan: Plan, *, values=None, errors=None, form_error=None, status_code=200):
    return render(
        request,
        "identity/register_verify.html",
        status_code=status_code,
        plan=plan,
        fields=[_field(tenant, f) for f in plan.verify_fields],
        one_of=[_field(tenant, f) for f in plan.one_of],
        one_of_help=tenant.config.text("register.one_of_help", current_locale()) or "",
        values=values or {},
        errors=errors or {},
        form_error=form_error,
        action=plan.path(),
    )


def blocked_message(minutes: int) -> str:
    """The records gate refuses (too many failures from this address or at this customer's record)."""
    return _("認証に続けて失敗したため、一時的にご利用いただけません。{minutes}分ほど時間をおいてからお試しください。").format(
        minutes=minutes
    )


def mismatch_message(tenant: Tenant) -> str:
    return text(
        tenant,
        "register.verify.mismatch",
        "入力された内容と一致するご契約者情報が見つかりませんでした。入力内容をご確認ください。",
    )


def _session_blocked(request: Request, tenant: Tenant) -> bool:
    lockout = tenant.config.identity.lockout
    if not lockout.verify_failures_per_session:
        return False
    since = int(time.time()) - lockout.lock_minutes * 60
    return len([t for t in session_of(request).get(FAILS, []) if t > since]) >= lockout.verify_failures_per_session


def _count_failure(request: Request, tenant: Tenant) -> None:
    session = session_of(request)
    since = int(time.time()) - tenant.config.identity.lockout.lock_minutes * 60
    session[FAILS] = [t for t in session.get(FAILS, []) if t > since] + [int(time.time())]


@get(paths())
async def verify_page(request: Request) -> Response:
    tenant, plan = pipeline(request)
    session_of(request).pop(STATE)
    return _render(request, tenant, plan)


@post(paths())
async def verify_submit(request: Request) -> Response:
    tenant, plan = pipeline(request)
    rules = tenant.config.identity.registration
    form = await request.form()
    names = ("email", "pay_kind", "pay_value", *plan.verify_fields)
    values: dict = {k: str(form.get(k) or "")[:200] for k in names}
    values["terms"] = form.get("terms") == "1"
    errors: dict[str, str | list[str]] = {}
    answers: dict[str, str] = {}
    for name in plan.verify_fields:
        answer = clean(name, values[name], rules)
        if answer.error:
            errors[name] = answer.error
        answers[name] = answer.value
    if plan.one_of:
        kind = values["pay_kind"]
        if kind not in plan.one_of:
            errors["pay_kind"] = _("いずれか1つを選択してください。")
        else:
            answer = clean(kind, values["pay_value"], rules)
            if answer.error:
                errors["pay_value"] = answer.error
            answers[kind] = answer.value
    email = normalize.email(values["email"]) if plan.email_at_verify else answers.get("email", "")
    if plan.email_at_verify:
        problems = check_email(email)
        if problems:
            errors["email"] = problems[0]
    if plan.terms and not values["terms"]:
        errors["terms"] = _("利用規約に同意してください。")
    address = client_address(request)
    audit = AuditLog(tenant.slug)
    minutes = tenant.config.identity.lockout.lock_minutes
    if errors:
        return _render(request, tenant, plan, values=values, errors=errors, status_code=400)
    verification = await VerificationGate(tenant, address).match(answers)
    if verification.blocked:
        await audit.record("register.verify_blocked", address=address)
        return _render(request, tenant, plan, values=values, form_error=blocked_message(verification.minutes), status_code=429)
    if _session_blocked(request, tenant):
        await audit.record("register.verify_blocked", address=address)
        message = _("認証に続けて失敗したため、認証を一時的に停止しています。{minutes}分後にもう一度お試しください。").format(
            minutes=minutes
        )
        return _render(request, tenant, plan, values=values, form_error=message, status_code=429)
    found = verification.found
    if len(found) > 1 and plan.disambiguate_with:
        save_state(request, {"candidates": [c["id"] for c in found], "answers": answers, "email": email})
        return redirect(plan.path("extra"))
    if len(found) != 1:
        _count_failure(request, tenant)
        await audit.record("register.verify_failed", address=address, matches=len(found))
        return _render(request, tenant, plan, values=values, form_error=mismatch_message(tenant), status_code=400)
    return await _verified(request, tenant, plan, found[0], email, values)


async def _verified(request: Request, tenant: Tenant, plan: Plan, customer: dict, email: str, values: dict) -> Response:
    audit = AuditLog(tenant.slug)
    address = client_address(request)
    session_of(request).pop(FAILS)
    if not plan.replaces_existing and await registered(tenant, customer["id"]):
        await audit.record("register.already_registered", address=address, customer_id=customer["id"])
        session_of(request).pop(STATE)
        return render(request, "identity/register_exists.html", status_code=409, plan=plan)
    await audit.record("register.verified", address=address, customer_id=customer["id"])
    if plan.confirm == "first_login":
        return await issue_credentials(request, tenant, plan, customer, email)
    save_state(request, {"customer_id": customer["id"], "values": {}})
    return redirect(plan.path(credentials_page(plan)))


def credentials_page(plan: Plan) -> str:
    return "profile" if plan.kind == "chosen" else "account"


async def registered(tenant: Tenant, customer_id: int) -> bool:
    """Whether the customer has an account already (an issued one still pending does not count)."""
    return any(a.status != "pending" for a in await AccountRepository(tenant).by_customer(customer_id))


# ---------------------------------------------------------------- 追加認証情報


def _render_extra(request: Request, tenant: Tenant, plan: Plan, *, values=None, errors=None, form_error=None, status_code=200):
    return render(
        request,
        "identity/register_extra.html",
        status_code=status_code,
        plan=plan,
        extra_fields=[_field(tenant, f) for f in plan.disambiguate_with],
        values=values or {},
        errors=errors or {},
        form_error=form_error,
        action=plan.path("extra"),
    )


@get(paths("extra"))
async def extra_page(request: Request) -> Response:
    tenant, plan = pipeline(request)
    state = state_of(request)
    if not plan.disambiguate_with or not state or not state.get("candidates"):
        return redirect(plan.path())
    return _render_extra(request, tenant, plan)


@post(paths("extra"))
async def extra_submit(request: Request) -> Response:
    tenant, plan = pipeline(request)
    rules = tenant.config.identity.registration
    state = state_of(request)
    if not plan.disambiguate_with or not state or not state.get("candidates"):
        return redirect(plan.path())
    form = await request.form()
    values = {f: str(form.get(f) or "")[:200] for f in plan.disambiguate_with}
    kind = str(form.get("extra_kind") or "")  # the page's select: which item extra_value answers
    if kind in values and not values[kind].strip():
        values[kind] = str(form.get("extra_value") or "")[:200]
    errors: dict[str, str] = {}
    extra: dict[str, str] = {}
    for field, raw in values.items():
        if not raw.strip():
            continue
        answer = clean(field, raw, rules)
        if answer.error:
            errors[field] = answer.error
        extra[field] = answer.value
    if not errors and not extra:
        message = _("いずれか1つ以上を入力してください。")
        return _render_extra(request, tenant, plan, values=values, form_error=message, status_code=400)
    if errors:
        return _render_extra(request, tenant, plan, values=values, errors=errors, status_code=400)
    verification = await VerificationGate(tenant, client_address(request)).match(
        {**state["answers"], **extra}, among=state["candidates"]
    )
    if verification.blocked:
        return _render_extra(
            request, tenant, plan, values=values, form_error=blocked_message(verification.minutes), status_code=429
        )
    if len(verification.found) != 1:
        _count_failure(request, tenant)
        await AuditLog(tenant.slug).record("register.verify_failed", address=client_address(request))
        return _render_extra(request, tenant, plan, values=values, form_error=mismatch_message(tenant), status_code=400)
    return await _verified(request, tenant, plan, verification.found[0], state.get("email", ""), {})


ROUTES = [verify_page, verify_submit, extra_page, extra_submit]
