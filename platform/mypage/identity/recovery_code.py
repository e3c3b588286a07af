"""Password recovery, way (B): the code mailed to the 連絡先メールアドレス (``/forgot/code``) → the new password
twice (``/forgot/code/password``) → done. The entry and 本人認証 are in ``recovery_question.py``."""

from __future__ import annotations

import re
import time

from litestar import Request, Response, get, post

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.issued import tokens_for
from mypage.identity.messages import code_message
from mypage.identity.policy import check_password
from mypage.identity.recovery_question import CODE_PURPOSE, PREFIX, STATE, flow_state, recovery_guard, save_flow_state, send_code
from mypage.identity.recovery_support import contact_address, login_label, reset_changes
from mypage.identity.tokens import TokenError
from mypage.mail.outbox import enqueue
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of


def unknown_id_limit(tenant) -> AttemptLimit:
    return AttemptLimit(
        tenant.slug,
        "recovery.unknown_id",
        limit=tenant.config.identity.tokens.max_attempts,
        window_minutes=tenant.config.identity.tokens.email_code_minutes,
    )


@get(f"{PREFIX}/code", guards=[recovery_guard])
async def code_page(request: Request) -> Response:
    if flow_state(request, "email_code") is None:
        return redirect(PREFIX)
    return render(request, "identity/recover_code.html", errors={})


@post(f"{PREFIX}/code", guards=[recovery_guard])
async def code_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    state = flow_state(request, "email_code")
    if state is None:
        return redirect(PREFIX)
    form = await request.form()
    code = normalize.digits_only(form.get("code") or "")[:20]
    if not re.fullmatch(r"\d{6}", code):
        return render(request, "identity/recover_code.html", status_code=400, errors={"code": _("6桁の数字で入力してください。")})
    account_id = state.get("account_id")
    audit = AuditLog(tenant.slug)
    reason = None
    if account_id is None:
        # No code was sent: the tries are counted like a real code's, so the answers are the same.
        unknown = unknown_id_limit(tenant)
        claim = await unknown.claim(state.get("login_id", ""))
        reason = "too_many_attempts" if not claim.allowed or claim.is_last(unknown.limit) else "invalid"
    else:
        try:
            await tokens_for(portal_of(request), tenant).verify_code(CODE_PURPOSE, str(account_id), code)
        except TokenError as exc:
            reason = exc.reason
    if reason:
        await audit.record("recovery.code_wrong", account_id=account_id, address=client_address(request), reason=reason)
        message = code_message(
            reason,
            expired=_("認証コードの有効期限が切れています。お手数ですが、はじめからお手続きください。"),
            too_many_attempts=_("認証コードの入力に続けて失敗しました。お手数ですが、はじめからお手続きください。"),
            used=_("この認証コードはすでに使用されています。お手数ですが、はじめからお手続きください。"),
        )
        return render(request, "identity/recover_code.html", status_code=400, errors={"code": message})
    await audit.record("recovery.code_ok", account_id=account_id, address=client_address(request))
    state["verified"] = int(time.time())
    save_flow_state(request, state)
    return redirect(f"{PREFIX}/code/password")


@post(f"{PREFIX}/code/resend", guards=[recovery_guard])
async def code_resend(request: Request) -> Response:
    tenant = tenant_of(request)
    state = flow_state(request, "email_code")
    if state is None:
        return redirect(PREFIX)
    account = await AccountRepository(tenant).by_id(state.get("account_id"))
    sent = await send_code(request, tenant, account) if account is not None else True
    session = session_of(request)
    if sent:
        session.flash(_("認証コードを再送信しました。"), "info")
    else:
        seconds = tenant.config.identity.tokens.resend_interval_seconds
        session.flash(
            _("認証コードを送信したばかりです。{seconds}秒ほど時間をおいてから再送信してください。").format(seconds=seconds),
            "warning",
        )
    return redirect(f"{PREFIX}/code")


def _verified_state(request: Request) -> dict | None:
    state = flow_state(request, "email_code")
    if state is None or not state.get("verified") or state.get("account_id") is None:
        return None
    if int(time.time()) - int(state["verified"]) > 15 * 60:
        return None
    return state


@get(f"{PREFIX}/code/password", guards=[recovery_guard])
async def new_password_page(request: Request) -> Response:
    if _verified_state(request) is None:
        return redirect(PREFIX)
    return render(request, "identity/recover_code_password.html", errors={})


@post(f"{PREFIX}/code/password", guards=[recovery_guard])
async def new_password_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    portal = portal_of(request)
    state = _verified_state(request)
    if state is None:
        return redirect(PREFIX)
    repo = AccountRepository(tenant)
    account = await repo.by_id(state["account_id"])
    if account is None:
        return redirect(PREFIX)
    form = await request.form()
    password = (form.get("password") or "")[:200]
    confirm = (form.get("password_confirm") or "")[:200]
    errors: dict = {}
    problems = check_password(password, tenant.config.identity.password)
    if problems:
        errors["password"] = problems
    if not confirm:
        errors["password_confirm"] = _("入力してください。")
    elif confirm != password:
        errors["password_confirm"] = _("パスワードが一致しません。同じパスワードを入力してください。")
    if errors:
        return render(request, "identity/recover_code_password.html", status_code=400, errors=errors)
    changes = await reset_changes(tenant, account, password)
    async with atomic():
        await repo.update(account, **changes)
        to = contact_address(account)
        if to:
            await enqueue(portal, tenant, to=to, template="recover_password_done", context={"label": login_label(tenant)})
        await AuditLog(tenant.slug).record(
            "password.reset", account_id=account.id, address=client_address(request), method="email_code"
        )
    session = session_of(request)
    session.pop(STATE)
    session["recover_done"] = True
    return redirect(f"{PREFIX}/code/done")


@get(f"{PREFIX}/code/done", guards=[recovery_guard])
async def code_done_page(request: Request) -> Response:
    if not session_of(request).pop("recover_done"):
        return redirect(PREFIX)
    return render(request, "identity/recover_code_done.html")


ROUTES = [code_page, code_submit, code_resend, new_password_page, new_password_submit, code_done_page]
