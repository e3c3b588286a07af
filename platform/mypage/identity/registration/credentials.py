"""Steps ``credentials`` and ``review``: the login ID and password of a chosen or e-mail login ID.

The credentials page (``profile`` for a chosen ID, ``account`` for an e-mail ID) asks the login ID (a chosen
one with an availability check, IDチェック, with or without script), the password (twice unless the
confirmation asks it again, ``confirm_password``), the contact address when the ID is not one, and the
nickname when ``collect_nickname``. A valid password is kept only as its hash in the session, so going back
from the 確認 page (``review``) keeps it. Then the confirmation is mailed (``confirm.py``).
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException

from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_email, check_login_id, check_password
from mypage.identity.recovery_support import login_label
from mypage.identity.registration.confirm import send_confirmation
from mypage.identity.registration.plan import Plan, paths, pipeline, save_state, state_of
from mypage.identity.registration.verify import credentials_page
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, redirect, render

NICKNAME_MAX = 30


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


def taken_message() -> str:
    return _("このIDは既に使用されています")


async def id_status(request: Request, tenant: Tenant, login_id: str) -> tuple[str, str]:
    """(``ok`` | ``taken`` | ``invalid`` | ``limited``, message) for the ID check, limited per client address
    (the check tells which IDs exist)."""
    problems = check_login_id(login_id, tenant.config.identity.login_id)
    if problems:
        return "invalid", " ".join(problems)
    checks = AttemptLimit.in_lock_window(tenant, "register.id_check", tenant.config.identity.lockout.id_checks_per_address)
    if not (await checks.claim(client_address(request))).allowed:
        return "limited", _("IDチェックの回数が多すぎます。しばらく時間をおいてからお試しください。")
    if await AccountRepository(tenant).login_id_taken(login_id):
        return "taken", taken_message()
    return "ok", _("このIDは利用できます")


def _values(form, plan: Plan) -> dict:
    values = {"login_id": normalize.ascii_text(str(form.get("login_id") or ""))[:300]}
    if plan.contact_field:
        values["email"] = normalize.email(str(form.get("email") or ""))[:254]
    if plan.nickname:
        values["nickname"] = normalize.name(str(form.get("nickname") or "")).replace("\u3000", " ")[:100]
    return values


def _render(
    request, tenant: Tenant, plan: Plan, state: dict, *, values=None, errors=None, id_check=None, form_error=None, status_code=200
):
    return render(
        request,
        "identity/register_credentials.html",
        status_code=status_code,
        plan=plan,
        values=values if values is not None else state.get("values", {}),
        errors=errors or {},
        id_check=id_check,
        form_error=form_error,
        password_kept=bool(state.get("password_hash")),
        nickname_max=NICKNAME_MAX,
        action=plan.path(credentials_page(plan)),
        check_action=plan.path("check-id"),
    )


def _verified_state(request: Request, plan: Plan) -> dict | None:
    state = state_of(request)
    return state if state and state.get("customer_id") and plan.kind != "issued" else None


async def _credentials_page(request: Request) -> Response:
    tenant, plan = pipeline(request)
    _check_page(request, plan)
    state = _verified_state(request, plan)
    if state is None:
        return redirect(plan.path())
    return _render(request, tenant, plan, state)


async def _credentials_submit(request: Request) -> Response:
    tenant, plan = pipeline(request)
    _check_page(request, plan)
    state = _verified_state(request, plan)
    if state is None:
        return redirect(plan.path())
    identity = tenant.config.identity
    form = await request.form()
    values = _values(form, plan)
    password = str(form.get("password") or "")[:200]
    confirm = str(form.get("password_confirm") or "")[:200]
    errors: dict = {}
    problems = check_password(password, identity.password) if password or plan.password_twice else []
    if problems:
        errors["password"] = problems
    elif plan.password_twice and password != confirm:
        errors["password_confirm"] = (
            _("入力してください。") if not confirm else _("パスワードが一致しません。同じパスワードを入力してください。")
        )
    if password and not problems:
        state["password_hash"] = await hash_password_async(password)
    state["values"] = values
    if form.get("action") == "check" and plan.id_check:
        save_state(request, state)
        status, message = await id_status(request, tenant, values["login_id"])
        errors = {"password": problems} if problems else {}
        return _render(
            request, tenant, plan, state, values=values, errors=errors, id_check={"status": status, "message": message}
        )
    id_problems = await login_id_errors(tenant, values["login_id"], customer_id=int(state["customer_id"]))
    if id_problems:
        errors["login_id"] = (
            taken_message() if plan.id_check and not check_login_id(values["login_id"], identity.login_id) else id_problems
        )
    if not password and not state.get("password_hash") and "password" not in errors:
        errors["password"] = _("入力してください。")
    if plan.contact_field:
        email_problems = check_email(values["email"])
        if email_problems:
            errors["email"] = email_problems
    if plan.nickname:
        if not values["nickname"]:
            errors["nickname"] = _("入力してください。")
        elif len(values["nickname"]) > NICKNAME_MAX:
            errors["nickname"] = _("{n}文字以内で入力してください。").format(n=NICKNAME_MAX)
    if errors:
        if "password" in errors or "password_confirm" in errors:
            state.pop("password_hash", None)
        save_state(request, state)
        return _render(request, tenant, plan, state, values=values, errors=errors, status_code=400)
    save_state(request, state)
    if plan.review:
        return redirect(plan.path("confirm"))
    return await send_confirmation(
        request,
        tenant,
        plan,
        state,
        on_throttle=lambda message: _render(request, tenant, plan, state, values=values, form_error=message, status_code=429),
    )


credentials_page_get = get(paths("profile") + paths("account"), name="register_credentials_page")(_credentials_page)
credentials_submit = post(paths("profile") + paths("account"), name="register_credentials_submit")(_credentials_submit)


def _check_page(request: Request, plan: Plan) -> None:
    if request.url.path.rsplit("/", 1)[-1] != credentials_page(plan):
        raise NotFoundException()


# ---------------------------------------------------------------- 確認 (review)


def _ready(state: dict | None) -> bool:
    return bool(state and state.get("password_hash") and state.get("values", {}).get("login_id"))


def _render_review(request, plan: Plan, state: dict, *, form_error=None, status_code=200):
    return render(
        request,
        "identity/register_review.html",
        status_code=status_code,
        plan=plan,
        values=state["values"],
        error_message=form_error,
        action=plan.path("confirm"),
    )


@get(paths("confirm"))
async def review_page(request: Request) -> Response:
    _tenant, plan = pipeline(request)
    if not plan.review:
        raise NotFoundException()
    state = _verified_state(request, plan)
    if not _ready(state):
        return redirect(plan.path() if state is None else plan.path(credentials_page(plan)))
    assert state is not None
    return _render_review(request, plan, state)


@post(paths("confirm"))
async def review_submit(request: Request) -> Response:
    tenant, plan = pipeline(request)
    if not plan.review:
        raise NotFoundException()
    state = _verified_state(request, plan)
    form = await request.form()
    if form.get("action") == "back":
        return redirect(plan.path(credentials_page(plan)) if state else plan.path())
    if not _ready(state):
        return redirect(plan.path() if state is None else plan.path(credentials_page(plan)))
    assert state is not None
    # The ID may have been taken since the credentials page: say so there.
    problems = await login_id_errors(tenant, state["values"]["login_id"], customer_id=int(state["customer_id"]))
    if problems:
        errors = {"login_id": taken_message() if plan.id_check else problems}
        return _render(request, tenant, plan, state, errors=errors, status_code=409)
    return await send_confirmation(
        request,
        tenant,
        plan,
        state,
        on_throttle=lambda message: _render_review(request, plan, state, form_error=message, status_code=429),
    )


# ---------------------------------------------------------------- IDチェック for scripts (JSON)


@post(paths("check-id"))
async def check_id_json(request: Request) -> dict:
    tenant, plan = pipeline(request)
    if not plan.id_check or _verified_state(request, plan) is None:
        raise NotFoundException()
    login_id = ""
    if (request.headers.get("content-type") or "").startswith("application/json"):
        try:
            body = await request.json()
            login_id = str(body.get("login_id") or "") if isinstance(body, dict) else ""
        except Exception:
            login_id = ""
    else:
        login_id = str((await request.form()).get("login_id") or "")
    status, message = await id_status(request, tenant, normalize.ascii_text(login_id)[:100])
    return {"status": status, "available": status == "ok", "message": message}


ROUTES = [credentials_page_get, credentials_submit, review_page, review_submit, check_id_json]
