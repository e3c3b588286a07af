"""お客さま情報確認・変更 (``/account``) for tenants with ``identity.account_changes``: the login ID and the
password of the logged-in account.

- ID change, 4 steps: 変更内容の入力 (``/account/change/id``) → 認証コード入力 (a code mailed to the
  連絡先メールアドレス, valid ``identity.tokens.email_code_minutes``) → 変更内容の確認 (whether the new ID
  becomes the contact address) → 変更完了 (with a print view; a confirmation mail goes to the old and new
  contact addresses and, when the ID is an address, to the new ID; the audit event keeps the old and new ID).
- Password change, 3 steps: 変更内容の入力 (current password, new one twice) → 変更内容の確認 → 変更完了.
  Only the new password's hash is kept between the steps; the password itself is never shown again.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.i18n import long_date, today
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository, LoginIdTaken
from mypage.identity.issued import tokens_for
from mypage.identity.messages import code_message
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_password
from mypage.identity.reauth import Reauth, blocked_message, check_current_password
from mypage.identity.recovery_support import contact_address, login_label, mail_code
from mypage.identity.registration.credentials import login_id_errors
from mypage.identity.session_auth import current_account, customer_of, keep_session, login_required
from mypage.identity.tokens import TokenError
from mypage.mail.outbox import enqueue
from mypage.web.printview import keep_for_print, print_gone, printable, render_print
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

PREFIX = "/account"
CODE_PURPOSE = "login_id_change"
ID_STATE = "login_id_change"
PW_STATE = "password_change"
STATE_MAX_SECONDS = 30 * 60


async def _enabled(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if tenant_of(connection).config.identity.account_changes is None:
        raise NotFoundException()


async def _id_enabled(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    changes = tenant_of(connection).config.identity.account_changes
    if changes is None or not changes.login_id:
        raise NotFoundException()


async def _password_enabled(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    changes = tenant_of(connection).config.identity.account_changes
    if changes is None or not changes.password:
        raise NotFoundException()


GUARDS = [_enabled, login_required]
ID_GUARDS = [_id_enabled, login_required]
PW_GUARDS = [_password_enabled, login_required]


def _state(request: Request, key: str) -> dict | None:
    data = session_of(request).get(key)
    if not data or int(time.time()) - int(data.get("t", 0)) > STATE_MAX_SECONDS:
        return None
    if data.get("account_id") != session_of(request).get("account_id"):
        return None
    return data


def _shown_id(account) -> str:
    return account.login_id_display or account.login_id


# -- お客さま情報確認・変更 ---------------------------------------------------------------------------


@get(PREFIX, guards=GUARDS)
async def account_page(request: Request) -> Response:
    account = await current_account(request)
    return render(
        request,
        "identity/account_change_overview.html",
        login_id=_shown_id(account),
        contact=contact_address(account),
        holder=customer_of(request),
    )


@get(f"{PREFIX}/change", guards=GUARDS)
async def change_menu(request: Request) -> Response:
    account = await current_account(request)
    session = session_of(request)
    session.pop(ID_STATE)
    session.pop(PW_STATE)
    return render(request, "identity/account_change_menu.html", login_id=_shown_id(account))


# -- ログインIDの変更 ---------------------------------------------------------------------------------


def _id_form(
    request: Request, account, *, status: int = 200, values: dict | None = None, errors: dict | None = None, form_error: str = ""
) -> Response:
    return render(
        request,
        "identity/account_change_id.html",
        status_code=status,
        current=_shown_id(account),
        values=values or {},
        errors=errors or {},
        form_error=form_error,
    )


@get(f"{PREFIX}/change/id", guards=ID_GUARDS)
async def id_page(request: Request) -> Response:
    account = await current_account(request)
    state = _state(request, ID_STATE)
    return _id_form(request, account, values={"login_id": state["new"]} if state else {})


@post(f"{PREFIX}/change/id", guards=ID_GUARDS)
async def id_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    form = await request.form()
    new_id = normalize.ascii_text(form.get("login_id") or "")[:300]
    values = {"login_id": new_id}
    problems = await login_id_errors(tenant, new_id, except_account=account.id)
    repo = AccountRepository(tenant)
    if not problems and repo.key(new_id) == account.login_id:
        problems = [_("現在の{label}と異なる{label}を入力してください。").format(label=login_label(tenant))]
    if problems:
        return _id_form(request, account, status=400, values=values, errors={"login_id": problems})
    try:
        await mail_code(
            request,
            tenant,
            account,
            purpose=CODE_PURPOSE,
            to=contact_address(account),
            template="account_change_code",
            event="login_id.change_code_sent",
            payload={"new": new_id},
        )
    except TokenError:
        return _id_form(
            request,
            account,
            status=429,
            values=values,
            form_error=_("認証コードを送信したばかりです。{seconds}秒ほど時間をおいてからお試しください。").format(
                seconds=tenant.config.identity.tokens.resend_interval_seconds
            ),
        )
    session_of(request)[ID_STATE] = {"account_id": account.id, "new": new_id, "verified": False, "t": int(time.time())}
    return redirect(f"{PREFIX}/change/id/code")


@get(f"{PREFIX}/change/id/code", guards=ID_GUARDS)
async def id_code_page(request: Request) -> Response:
    if _state(request, ID_STATE) is None:
        return redirect(f"{PREFIX}/change/id")
    return render(request, "identity/account_change_id_code.html", errors={})


@post(f"{PREFIX}/change/id/code", guards=ID_GUARDS)
async def id_code_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    state = _state(request, ID_STATE)
    if state is None:
        return redirect(f"{PREFIX}/change/id")
    form = await request.form()
    code = normalize.digits_only(form.get("code") or "")[:20]
    if not code:
        return render(request, "identity/account_change_id_code.html", status_code=400, errors={"code": _("入力してください。")})
    try:
        payload = await tokens_for(portal_of(request), tenant).verify_code(CODE_PURPOSE, str(account.id), code)
    except TokenError as exc:
        await AuditLog(tenant.slug).record(
            "login_id.change_code_wrong", account_id=account.id, address=client_address(request), reason=exc.reason
        )
        message = code_message(
            exc.reason,
            expired=_("認証コードの有効期限が切れています。手続きをはじめからやり直してください。"),
            too_many_attempts=_("認証コードの入力に続けて失敗しました。手続きをはじめからやり直してください。"),
            used=_("この認証コードはすでに使用されています。手続きをはじめからやり直してください。"),
        )
        return render(request, "identity/account_change_id_code.html", status_code=400, errors={"code": message})
    if payload.get("new") != state["new"]:
        return redirect(f"{PREFIX}/change/id")
    state["verified"] = True
    session_of(request)[ID_STATE] = state
    return redirect(f"{PREFIX}/change/id/confirm")


@get(f"{PREFIX}/change/id/confirm", guards=ID_GUARDS)
async def id_confirm_page(request: Request) -> Response:
    account = await current_account(request)
    state = _state(request, ID_STATE)
    if state is None or not state.get("verified"):
        return redirect(f"{PREFIX}/change/id")
    return render(
        request,
        "identity/account_change_id_confirm.html",
        current=_shown_id(account),
        new=state["new"],
        contact=contact_address(account),
        errors={},
        value="",
    )


@post(f"{PREFIX}/change/id/confirm", guards=ID_GUARDS)
async def id_confirm_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    portal = portal_of(request)
    account = await current_account(request)
    state = _state(request, ID_STATE)
    if state is None or not state.get("verified"):
        return redirect(f"{PREFIX}/change/id")
    form = await request.form()
    choice = form.get("contact") or ""
    new_id = state["new"]
    context = {"current": _shown_id(account), "new": new_id, "contact": contact_address(account), "value": choice}
    if choice not in ("new", "keep"):
        return render(
            request,
            "identity/account_change_id_confirm.html",
            status_code=400,
            errors={"contact": _("いずれか1つを選択してください。")},
            **context,
        )
    old_contact = contact_address(account)
    changes = {"login_id": new_id}
    if choice == "new":
        changes["email"] = new_id
    repo = AccountRepository(tenant)
    taken = render(
        request,
        "identity/account_change_id_confirm.html",
        status_code=409,
        errors={},
        form_error=_("この{label}はすでに使用されています。別の{label}を入力してください。").format(label=login_label(tenant)),
        **context,
    )
    if await repo.login_id_taken(new_id, except_id=account.id):
        return taken
    old_id = _shown_id(account)
    try:
        async with atomic():
            await repo.update(account, **changes)
            new_contact = contact_address(account)
            # The new ID is not proven by a second code (the guide proves the holder through the contact address);
            # when it is an address it is told of the change, so an owner who did not ask for it can object.
            candidates = [new_contact, old_contact, new_id if tenant.config.identity.login_id.kind == "email" else ""]
            recipients = list({to.lower(): to for to in candidates if to}.values())
            for to in recipients:
                await enqueue(
                    portal,
                    tenant,
                    to=to,
                    template="account_change_id_done",
                    context={"new": new_id, "changed_on": today(), "label": login_label(tenant)},
                )
            await AuditLog(tenant.slug).record(
                "login_id.changed",
                account_id=account.id,
                address=client_address(request),
                old=old_id[:100],
                new=new_id[:100],
                contact_changed=choice == "new",
            )
    except LoginIdTaken:  # taken by another account after the check: the unique index decided
        return taken
    keep_session(request, account)
    session = session_of(request)
    session.pop(ID_STATE)
    session["login_id_changed"] = {"new": new_id, "on": today().isoformat()}
    return redirect(f"{PREFIX}/change/id/done")


@get(f"{PREFIX}/change/id/done", guards=ID_GUARDS)
async def id_done_page(request: Request) -> Response:
    done = session_of(request).pop("login_id_changed")
    if not done:
        return redirect(PREFIX)
    keep_for_print(request, "login_id_changed", done)
    return render(request, "identity/account_change_id_done.html", new=done["new"], changed_on=date.fromisoformat(done["on"]))


@get(f"{PREFIX}/change/id/done/print", guards=ID_GUARDS)
async def id_done_print(request: Request) -> Response:
    """The print view of the ID change completion, while the completion's state is kept."""
    done = printable(request, "login_id_changed")
    if not done:
        return print_gone(request, back=PREFIX)
    label = login_label(tenant_of(request))
    facts = [(_("新しい{label}").format(label=label), done["new"]), (_("変更日"), long_date(date.fromisoformat(done["on"])))]
    return render_print(request, title=label, facts=facts, back=PREFIX)


# -- パスワードの変更 -----------------------------------------------------------------------------------


@get(f"{PREFIX}/change/password", guards=PW_GUARDS)
async def password_page(request: Request) -> Response:
    return render(request, "identity/account_change_password.html", errors={})


@post(f"{PREFIX}/change/password", guards=PW_GUARDS)
async def password_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    form = await request.form()
    current = (form.get("current_password") or "")[:200]
    new = (form.get("password") or "")[:200]
    confirm = (form.get("password_confirm") or "")[:200]
    errors: dict = {}
    if not current:
        errors["current_password"] = _("入力してください。")
    problems = check_password(new, tenant.config.identity.password)
    if problems:
        errors["password"] = problems
    if not confirm:
        errors["password_confirm"] = _("入力してください。")
    elif confirm != new:
        errors["password_confirm"] = _("パスワードが一致しません。同じパスワードを入力してください。")
    if not errors and new == current:
        errors["password"] = _("現在のパスワードと異なるパスワードを入力してください。")
    if "current_password" not in errors:
        outcome = await check_current_password(tenant, account, current, client_address(request))
        if outcome is Reauth.BLOCKED:
            return render(
                request, "identity/account_change_password.html", status_code=429, errors={}, form_error=blocked_message(tenant)
            )
        if outcome is not Reauth.OK:
            errors["current_password"] = _("現在のパスワードが正しくありません。")
    if errors:
        return render(request, "identity/account_change_password.html", status_code=400, errors=errors)
    session_of(request)[PW_STATE] = {
        "account_id": account.id,
        "hash": await hash_password_async(new),
        "length": len(new),
        "t": int(time.time()),
    }
    return redirect(f"{PREFIX}/change/password/confirm")


@get(f"{PREFIX}/change/password/confirm", guards=PW_GUARDS)
async def password_confirm_page(request: Request) -> Response:
    if _state(request, PW_STATE) is None:
        return redirect(f"{PREFIX}/change/password")
    return render(request, "identity/account_change_password_confirm.html")


@post(f"{PREFIX}/change/password/confirm", guards=PW_GUARDS)
async def password_confirm_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    portal = portal_of(request)
    account = await current_account(request)
    state = _state(request, PW_STATE)
    if state is None:
        return redirect(f"{PREFIX}/change/password")
    async with atomic():
        await AccountRepository(tenant).update(
            account, password_hash=state["hash"], password_changed_at=datetime.now(UTC), must_change_password=False
        )
        to = contact_address(account)
        if to:
            await enqueue(
                portal,
                tenant,
                to=to,
                template="account_change_password_done",
                context={"changed_on": today(), "label": login_label(tenant)},
            )
        await AuditLog(tenant.slug).record("password.changed", account_id=account.id, address=client_address(request))
    keep_session(request, account)
    session = session_of(request)
    session.pop(PW_STATE)
    session["password_changed"] = {"length": state["length"], "on": today().isoformat()}
    return redirect(f"{PREFIX}/change/password/done")


@get(f"{PREFIX}/change/password/done", guards=PW_GUARDS)
async def password_done_page(request: Request) -> Response:
    done = session_of(request).pop("password_changed")
    if not done:
        return redirect(PREFIX)
    keep_for_print(request, "password_changed", done)
    return render(
        request,
        "identity/account_change_password_done.html",
        masked="●" * int(done["length"]),
        changed_on=date.fromisoformat(done["on"]),
    )


@get(f"{PREFIX}/change/password/done/print", guards=PW_GUARDS)
async def password_done_print(request: Request) -> Response:
    """The print view of the password change (the seed's 「新パスワード」 window): the password stays masked."""
    done = printable(request, "password_changed")
    if not done:
        return print_gone(request, back=PREFIX)
    label = login_label(tenant_of(request))
    facts = [(_("新パスワード"), "●" * int(done["length"])), (_("変更日"), long_date(date.fromisoformat(done["on"])))]
    return render_print(request, title=_("{label}のパスワード").format(label=label), facts=facts, back=PREFIX)


ROUTES = [
    account_page,
    change_menu,
    id_page,
    id_submit,
    id_code_page,
    id_code_submit,
    id_confirm_page,
    id_confirm_submit,
    id_done_page,
    id_done_print,
    password_page,
    password_submit,
    password_confirm_page,
    password_confirm_submit,
    password_done_page,
    password_done_print,
]
