"""Registration where the login ID is the customer's e-mail address (``identity.registration.flow = "email_id"``).

1. 契約者情報 認証 (``/register/email-id``): the ``verify_fields`` and one of ``verify_one_of``
   (お支払情報等) are matched against the contract holder (:class:`VerificationGate`, which limits guessing).
2. 追加認証情報 (``/register/email-id/extra``) when the answers fit several customers: one of
   ``disambiguate_with`` decides.
3. The login ID (an e-mail address) and the password (``/register/email-id/account``) → a link valid
   ``identity.tokens.registration_link_minutes`` is mailed to that address.
4. The link's page (``/register/email-id/confirm/<token>``): the customer picks the 連絡先メールアドレス
   (the new ID or the address on file) → done (``email_id_confirm.py``).

A customer who registers again (this is also the 「IDがご不明な場合」 path) has the login ID and password
of the existing account replaced at completion, on the same account row.
"""

from __future__ import annotations

import time

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import current_locale
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.issued import link_validity, tokens_for
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_login_id, check_password
from mypage.identity.recovery_support import login_label
from mypage.identity.registration import flow_path
from mypage.identity.tokens import TokenError
from mypage.identity.verification import LABELS, VerificationGate, clean
from mypage.mail.outbox import enqueue
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of, text

FLOW = "email_id"
PREFIX = flow_path(FLOW)
PURPOSE = "register_email_id"
STATE = "register_email_id"
STATE_MAX_SECONDS = 30 * 60
FAILED_EVENT = "registration.verify_failed"


def flow_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if tenant_of(connection).config.identity.registration.flow != FLOW:
        raise NotFoundException()


def field_label(tenant, field: str) -> str:
    return text(tenant, f"verify.{field}", LABELS.get(field, field))


def field_detail(tenant, field: str) -> str:
    """An optional tenant explanation next to a choice (e.g. which device ID is meant)."""
    return tenant.config.text(f"verify.{field}.detail", current_locale()) or ""


def _state(request: Request) -> dict | None:
    data = session_of(request).get(STATE)
    if not data or int(time.time()) - int(data.get("t", 0)) > STATE_MAX_SECONDS:
        return None
    return data


def _set_state(request: Request, **values) -> None:
    session_of(request)[STATE] = {**values, "t": int(time.time())}


def _blocked(request: Request, minutes: int) -> Response:
    return render(
        request,
        "identity/register_email_verify.html",
        status_code=429,
        step="blocked",
        values={},
        errors={},
        form_error=_(
            "認証に続けて失敗したため、一時的にご利用いただけません。{minutes}分ほど時間をおいてからお試しください。"
        ).format(minutes=minutes),
        **_verify_context(tenant_of(request)),
    )


def _verify_context(tenant) -> dict:
    rules = tenant.config.identity.registration
    return {
        "verify_fields": [(f, field_label(tenant, f)) for f in rules.verify_fields],
        "one_of": [(f, field_label(tenant, f), field_detail(tenant, f)) for f in rules.verify_one_of],
        "one_of_help": tenant.config.text("register.email_id.one_of_help", current_locale()) or "",
        "prefix": PREFIX,
    }


async def _mismatch(request: Request, template: str, values: dict, **context) -> Response:
    tenant = tenant_of(request)
    await AuditLog(tenant.slug).record(FAILED_EVENT, address=client_address(request))
    return render(
        request,
        template,
        status_code=400,
        values=values,
        errors={},
        form_error=_("入力された内容と一致するご契約者情報が見つかりませんでした。入力内容をご確認ください。"),
        **context,
    )


# -- 1. 契約者情報 認証 ---------------------------------------------------------------------------


@get(PREFIX, guards=[flow_guard])
async def verify_page(request: Request) -> Response:
    session_of(request).pop(STATE)
    return render(request, "identity/register_email_verify.html", values={}, errors={}, **_verify_context(tenant_of(request)))


@post(PREFIX, guards=[flow_guard])
async def verify_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    rules = tenant.config.identity.registration
    form = await request.form()
    values = {k: (form.get(k) or "")[:200] for k in ("pay_kind", "pay_value", *rules.verify_fields)}
    errors: dict[str, str] = {}
    answers: dict[str, str] = {}
    for field in rules.verify_fields:
        answer = clean(field, values[field], rules)
        if answer.error:
            errors[field] = answer.error
        answers[field] = answer.value
    if rules.verify_one_of:
        kind = values["pay_kind"]
        if kind not in rules.verify_one_of:
            errors["pay_kind"] = _("いずれか1つを選択してください。")
        else:
            answer = clean(kind, values["pay_value"], rules)
            if answer.error:
                errors["pay_value"] = answer.error
            answers[kind] = answer.value
    context = _verify_context(tenant)
    if errors:
        return render(request, "identity/register_email_verify.html", status_code=400, values=values, errors=errors, **context)
    verification = await VerificationGate(tenant, client_address(request)).match(answers)
    if verification.blocked:
        return _blocked(request, verification.minutes)
    found = verification.found
    if not found:
        return await _mismatch(request, "identity/register_email_verify.html", values, **context)
    if len(found) > 1 and rules.disambiguate_with:
        _set_state(request, candidates=[c["id"] for c in found], answers=answers)
        return redirect(f"{PREFIX}/extra")
    if len(found) > 1:
        return await _mismatch(request, "identity/register_email_verify.html", values, **context)
    await AuditLog(tenant.slug).record("registration.verified", address=client_address(request), customer_id=found[0]["id"])
    _set_state(request, customer_id=found[0]["id"])
    return redirect(f"{PREFIX}/account")


# -- 2. 追加認証情報 -------------------------------------------------------------------------------


def _extra_context(tenant) -> dict:
    rules = tenant.config.identity.registration
    return {
        "extra_fields": [(f, field_label(tenant, f), field_detail(tenant, f)) for f in rules.disambiguate_with],
        "prefix": PREFIX,
    }


@get(f"{PREFIX}/extra", guards=[flow_guard])
async def extra_page(request: Request) -> Response:
    state = _state(request)
    if not state or not state.get("candidates"):
        return redirect(PREFIX)
    return render(request, "identity/register_email_extra.html", values={}, errors={}, **_extra_context(tenant_of(request)))


@post(f"{PREFIX}/extra", guards=[flow_guard])
async def extra_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    rules = tenant.config.identity.registration
    state = _state(request)
    if not state or not state.get("candidates"):
        return redirect(PREFIX)
    form = await request.form()
    values = {f: (form.get(f) or "")[:200] for f in rules.disambiguate_with}
    kind = form.get("extra_kind") or ""  # the page's select: which item extra_value answers
    if kind in values and not values[kind].strip():
        values[kind] = (form.get("extra_value") or "")[:200]
    errors: dict[str, str] = {}
    extra: dict[str, str] = {}
    for field, raw in values.items():
        if not raw.strip():
            continue
        answer = clean(field, raw, rules)
        if answer.error:
            errors[field] = answer.error
        extra[field] = answer.value
    context = _extra_context(tenant)
    if not errors and not extra:
        return render(
            request,
            "identity/register_email_extra.html",
            status_code=400,
            values=values,
            errors={},
            form_error=_("いずれか1つ以上を入力してください。"),
            **context,
        )
    if errors:
        return render(request, "identity/register_email_extra.html", status_code=400, values=values, errors=errors, **context)
    verification = await VerificationGate(tenant, client_address(request)).match(
        {**state["answers"], **extra}, among=state["candidates"]
    )
    if verification.blocked:
        return _blocked(request, verification.minutes)
    found = verification.found
    if len(found) != 1:
        return await _mismatch(request, "identity/register_email_extra.html", values, **context)
    await AuditLog(tenant.slug).record("registration.verified", address=client_address(request), customer_id=found[0]["id"])
    _set_state(request, customer_id=found[0]["id"])
    return redirect(f"{PREFIX}/account")


# -- 3. ログインIDの登録 ----------------------------------------------------------------------------


async def login_id_errors(
    tenant, login_id: str, *, customer_id: int | None = None, except_account: int | None = None
) -> list[str]:
    """The policy's messages, or that the ID is taken by someone else in this tenant."""
    errors = check_login_id(login_id, tenant.config.identity.login_id)
    if errors:
        return errors
    holder = await AccountRepository(tenant).by_login_id(login_id)
    if holder is not None and holder.id != except_account and (customer_id is None or holder.customer != customer_id):
        return [_("この{label}はすでに使用されています。別の{label}を入力してください。").format(label=login_label(tenant))]
    return []


def password_errors(tenant, password: str, confirm: str, confirm_field: str = "password_confirm") -> dict[str, list[str] | str]:
    errors: dict[str, list[str] | str] = {}
    problems = check_password(password, tenant.config.identity.password)
    if problems:
        errors["password"] = problems
    if not confirm:
        errors[confirm_field] = _("入力してください。")
    elif password != confirm:
        errors[confirm_field] = _("パスワードが一致しません。同じパスワードを入力してください。")
    return errors


@get(f"{PREFIX}/account", guards=[flow_guard])
async def account_page(request: Request) -> Response:
    state = _state(request)
    if not state or not state.get("customer_id"):
        return redirect(PREFIX)
    return render(request, "identity/register_email_account.html", values={}, errors={}, prefix=PREFIX)


@post(f"{PREFIX}/account", guards=[flow_guard])
async def account_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    portal = portal_of(request)
    state = _state(request)
    if not state or not state.get("customer_id"):
        return redirect(PREFIX)
    customer_id = int(state["customer_id"])
    form = await request.form()
    login_id = normalize.ascii_text(form.get("login_id") or "")[:300]
    password = (form.get("password") or "")[:200]
    confirm = (form.get("password_confirm") or "")[:200]
    errors: dict = {}
    id_problems = await login_id_errors(tenant, login_id, customer_id=customer_id)
    if id_problems:
        errors["login_id"] = id_problems
    errors.update(password_errors(tenant, password, confirm))
    if errors:
        return render(
            request,
            "identity/register_email_account.html",
            status_code=400,
            values={"login_id": login_id},
            errors=errors,
            prefix=PREFIX,
        )
    minutes = tenant.config.identity.tokens.registration_link_minutes
    password_hash = await hash_password_async(password)
    try:
        async with atomic():
            issued = await tokens_for(portal, tenant).issue(
                PURPOSE,
                minutes=minutes,
                subject=f"customer:{customer_id}",
                payload={"customer_id": customer_id, "login_id": login_id, "password_hash": password_hash},
            )
            amount, unit = link_validity(minutes)
            await enqueue(
                portal,
                tenant,
                to=login_id,
                template="register_email_link",
                context={
                    "link": f"{portal.base_url(tenant)}{PREFIX}/confirm/{issued.secret}",
                    "login_id": login_id,
                    "label": login_label(tenant),
                    "valid_amount": amount,
                    "valid_unit": unit,
                },
            )
            await AuditLog(tenant.slug).record("registration.link_sent", address=client_address(request), customer_id=customer_id)
    except TokenError:
        return render(
            request,
            "identity/register_email_account.html",
            status_code=429,
            values={"login_id": login_id},
            errors={},
            form_error=_("確認メールを送信したばかりです。{seconds}秒ほど時間をおいてからお試しください。").format(
                seconds=tenant.config.identity.tokens.resend_interval_seconds
            ),
            prefix=PREFIX,
        )
    session = session_of(request)
    session.pop(STATE)
    session["register_email_sent"] = login_id
    return redirect(f"{PREFIX}/sent")


@get(f"{PREFIX}/sent", guards=[flow_guard])
async def sent_page(request: Request) -> Response:
    login_id = session_of(request).get("register_email_sent")
    if not login_id:
        return redirect(PREFIX)
    return render(request, "identity/register_email_sent.html", login_id=login_id)


ROUTES = [
    verify_page,
    verify_submit,
    extra_page,
    extra_submit,
    account_page,
    account_submit,
    sent_page,
]
