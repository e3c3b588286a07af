"""Password recovery by 秘密の質問 (合言葉) or by a code mailed to the 連絡先メールアドレス.

For tenants whose ``identity.recovery.methods`` include ``secret_question`` or ``email_code``; the
entry is ``/forgot`` (set ``identity.recovery.entry_path`` to it). Other tenants get 404 here.

- ``/forgot``: the entry screen, its options derived from the config: パスワードがご不明な場合 (本人認証 below),
  by a mailed link (with ``email_link``), IDがご不明な場合 (registration or the ID lookup by ``id_forgotten``);
  with a single option it leads straight there.
- ``/forgot/identify`` (本人認証): the login ID; then by the account's ``recovery_method``:
  (A) ``/forgot/question`` 合言葉登録 → a link mailed to the contact address (本人認証 完了) →
      ``/forgot/question/answer/<token>`` 合言葉入力 → a generated password shown once (with a print view);
  (B) ``/forgot/code`` 認証コード入力 (a 6-digit code mailed to the contact address) →
      ``/forgot/code/password`` the new password twice → done.
  An unknown login ID is answered with the screen of (B) and nothing is sent.
- Wrong answers are counted (audit events) and lock the account after ``identity.tokens.max_attempts``.

This module has the entry, the guard and state of both ways, and way (A); way (B) is ``recovery_code.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import current_locale, long_date, today
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.issued import link_validity, tokens_for
from mypage.identity.login import locked_minutes_left
from mypage.identity.messages import link_message
from mypage.identity.passwords import hash_password_async, verify_password_async
from mypage.identity.recovery_support import (
    contact_address,
    generate_password,
    login_label,
    mail_code,
    reset_changes,
)
from mypage.identity.tables import Account
from mypage.identity.tokens import TokenError
from mypage.mail.outbox import enqueue
from mypage.tenancy.config import ID_LOOKUP_PATH, RECOVERY_METHOD_PATHS
from mypage.tenancy.registry import Tenant
from mypage.web.printview import keep_for_print, print_gone, printable, render_print
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

METHODS = ("secret_question", "email_code")
PREFIX = "/forgot"
PRINT_NAME = "recovery_question_done"
LINK_PURPOSE = "recovery_question"
CODE_PURPOSE = "recovery_code"
STATE = "recover"
STATE_MAX_SECONDS = 30 * 60
ANSWER_WRONG = "recovery.answer_wrong"


# -- guards and state -------------------------------------------------------------------------------


async def recovery_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not set(tenant_of(connection).config.identity.recovery.methods) & set(METHODS):
        raise NotFoundException()


def method_for(tenant: Tenant, account: Account | None) -> str:
    methods = [m for m in tenant.config.identity.recovery.methods if m in METHODS]
    if account is not None and account.recovery_method in methods:
        return account.recovery_method
    return "email_code" if "email_code" in methods else methods[0]


def flow_state(request: Request, method: str) -> dict | None:
    data = session_of(request).get(STATE)
    if not data or data.get("method") != method or int(time.time()) - int(data.get("t", 0)) > STATE_MAX_SECONDS:
        return None
    return data


def save_flow_state(request: Request, data: dict) -> None:
    session_of(request)[STATE] = data


def _questions(tenant: Tenant) -> list[str]:
    locale = current_locale()
    return [q.get(locale) for q in tenant.config.identity.recovery.secret_questions]


def locked_message(tenant: Tenant) -> str:
    return _("入力に続けて失敗したため、一時的にお手続きできません。{minutes}分ほど時間をおいてからお試しください。").format(
        minutes=tenant.config.identity.lockout.lock_minutes
    )


# -- /forgot: which is unknown ---------------------------------------------------------------------


def choices(tenant: Tenant) -> dict[str, str]:
    """The entry screen's options, derived from ``identity.recovery``: what each leads to."""
    recovery = tenant.config.identity.recovery
    options = {"password": f"{PREFIX}/identify"}
    if "email_link" in recovery.methods:
        options["password_link"] = RECOVERY_METHOD_PATHS["email_link"]
    if recovery.id_forgotten == "reregister":
        options["id"] = tenant.config.identity.registration.entry_path
    elif recovery.id_forgotten == "email_lookup":
        options["id"] = ID_LOOKUP_PATH
    return options


@get(PREFIX, guards=[recovery_guard])
async def choose_page(request: Request) -> Response:
    session_of(request).pop(STATE)
    options = choices(tenant_of(request))
    if len(options) == 1:  # nothing to choose: straight to the only way
        return redirect(next(iter(options.values())))
    return render(request, "identity/recover_choose.html", errors={}, value="", options=options)


@post(PREFIX, guards=[recovery_guard])
async def choose_submit(request: Request) -> Response:
    form = await request.form()
    what = form.get("what") or ""
    options = choices(tenant_of(request))
    if what in options:
        return redirect(options[what])
    return render(
        request,
        "identity/recover_choose.html",
        status_code=400,
        errors={"what": _("いずれか1つを選択してください。")},
        value=what,
        options=options,
    )


# -- 本人認証: the login ID ------------------------------------------------------------------------


@get(f"{PREFIX}/identify", guards=[recovery_guard])
async def identify_page(request: Request) -> Response:
    return render(request, "identity/recover_identify.html", errors={}, values={})


async def send_code(request: Request, tenant: Tenant, account: Account) -> bool:
    """Mails a new code to the account's contact address; False when one was sent moments ago."""
    to = contact_address(account)
    if not to:
        return True
    try:
        await mail_code(
            request, tenant, account, purpose=CODE_PURPOSE, to=to, template="recover_code", event="recovery.code_sent"
        )
    except TokenError:
        return False
    return True


@post(f"{PREFIX}/identify", guards=[recovery_guard])
async def identify_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    form = await request.form()
    login_id = normalize.ascii_text(form.get("login_id") or "")[:254]
    if not login_id:
        return render(
            request, "identity/recover_identify.html", status_code=400, errors={"login_id": _("入力してください。")}, values={}
        )
    account = await AccountRepository(tenant).by_login_id(login_id)
    if account is not None and account.status == "disabled":
        account = None
    method = method_for(tenant, account)
    await AuditLog(tenant.slug).record(
        "recovery.started",
        account_id=account.id if account else None,
        address=client_address(request),
        method=method,
        **({} if account else {"login_id": login_id[:100], "reason": "unknown_id"}),
    )
    state = {"account_id": account.id if account else None, "method": method, "t": int(time.time())}
    if account is None:
        state["login_id"] = AccountRepository(tenant).key(login_id)
    save_flow_state(request, state)
    if method == "secret_question":
        return redirect(f"{PREFIX}/question")
    if account is not None:
        await send_code(request, tenant, account)
    return redirect(f"{PREFIX}/code")


# -- (A) 合言葉 --------------------------------------------------------------------------------------


def answer_limit(tenant: Tenant) -> AttemptLimit:
    """Wrong 合言葉 answers per account, counted before the compare."""
    return AttemptLimit.in_lock_window(tenant, "recovery.answer", tenant.config.identity.tokens.max_attempts)


async def _check_answer(
    request: Request, tenant: Tenant, account: Account | None, question: int, answer: str, pending: dict | None = None
) -> str | None:
    """``None`` when the answer matches the account's 合言葉 (or the one given at 合言葉登録 when the account has
    none); else the message to show. At the limit the account is locked."""
    key = normalize.name_key(answer)
    pending = pending or {}
    limit = answer_limit(tenant)
    claim = await limit.claim(str(account.id)) if account is not None else None
    if claim is not None and not claim.allowed:
        return locked_message(tenant)
    if account is not None and account.secret_answer_hash:
        ok = await verify_password_async(account.secret_answer_hash, key) and account.secret_question == question
    elif pending.get("answer_hash"):
        ok = await verify_password_async(pending["answer_hash"], key) and pending.get("question") == question
    else:
        ok = await verify_password_async(None, key) and False
    if ok and account is not None:
        await limit.clear(str(account.id))
        return None
    audit = AuditLog(tenant.slug)
    address = client_address(request)
    await audit.record(ANSWER_WRONG, account_id=account.id if account else None, address=address)
    if account is not None and claim is not None and claim.is_last(limit.limit):
        minutes = tenant.config.identity.lockout.lock_minutes
        await AccountRepository(tenant).update(account, locked_until=datetime.now(UTC) + timedelta(minutes=minutes))
        await audit.record("account.locked", account_id=account.id, address=address, reason="secret_answer")
        return locked_message(tenant)
    return _("秘密の質問または答えが正しくありません。")


def _read_question(form, tenant: Tenant) -> tuple[int | None, str, dict]:
    errors = {}
    raw = form.get("question") or ""
    question = int(raw) if raw.isdigit() and int(raw) < len(tenant.config.identity.recovery.secret_questions) else None
    if question is None:
        errors["question"] = _("秘密の質問を選択してください。")
    answer = (form.get("answer") or "").strip()[:100]
    if not answer:
        errors["answer"] = _("答えを入力してください。")
    return question, answer, errors


@get(f"{PREFIX}/question", guards=[recovery_guard])
async def question_page(request: Request) -> Response:
    if flow_state(request, "secret_question") is None:
        return redirect(PREFIX)
    return render(request, "identity/recover_question.html", questions=_questions(tenant_of(request)), errors={}, values={})


@post(f"{PREFIX}/question", guards=[recovery_guard])
async def question_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    portal = portal_of(request)
    state = flow_state(request, "secret_question")
    if state is None:
        return redirect(PREFIX)
    form = await request.form()
    question, answer, errors = _read_question(form, tenant)
    values = {"question": form.get("question") or ""}
    questions = _questions(tenant)
    if errors:
        return render(
            request, "identity/recover_question.html", status_code=400, questions=questions, errors=errors, values=values
        )
    account = await AccountRepository(tenant).by_id(state.get("account_id"))
    if account is not None and locked_minutes_left(account):
        return render(
            request,
            "identity/recover_question.html",
            status_code=429,
            questions=questions,
            errors={},
            values=values,
            form_error=locked_message(tenant),
        )
    pending: dict = {}
    if account is not None and not account.secret_answer_hash:
        # 合言葉登録: the account has none yet; it is kept with the link and checked again after the mail.
        pending = {"question": question, "answer_hash": await hash_password_async(normalize.name_key(answer))}
        message = None
    else:
        message = await _check_answer(request, tenant, account, question, answer)
    if message or account is None:
        return render(
            request,
            "identity/recover_question.html",
            status_code=400,
            questions=questions,
            errors={},
            values=values,
            form_error=message,
        )
    minutes = tenant.config.identity.tokens.password_reset_minutes
    to = contact_address(account)
    try:
        async with atomic():
            issued = await tokens_for(portal, tenant).issue(
                LINK_PURPOSE, minutes=minutes, account_id=account.id, payload={"account_id": account.id, **pending}
            )
            amount, unit = link_validity(minutes)
            if to:
                await enqueue(
                    portal,
                    tenant,
                    to=to,
                    template="recover_question_link",
                    context={
                        "link": f"{portal.base_url(tenant)}{PREFIX}/question/answer/{issued.secret}",
                        "label": login_label(tenant),
                        "valid_amount": amount,
                        "valid_unit": unit,
                    },
                )
            await AuditLog(tenant.slug).record("recovery.link_sent", account_id=account.id, address=client_address(request))
    except TokenError:
        return render(
            request,
            "identity/recover_question.html",
            status_code=429,
            questions=questions,
            errors={},
            values=values,
            form_error=_("確認メールを送信したばかりです。{seconds}秒ほど時間をおいてからお試しください。").format(
                seconds=tenant.config.identity.tokens.resend_interval_seconds
            ),
        )
    session_of(request).pop(STATE)
    session_of(request)["recover_sent"] = True
    return redirect(f"{PREFIX}/question/sent")


@get(f"{PREFIX}/question/sent", guards=[recovery_guard])
async def question_sent_page(request: Request) -> Response:
    if not session_of(request).pop("recover_sent"):
        return redirect(PREFIX)
    return render(request, "identity/recover_question_sent.html")


def _invalid_link(request: Request, reason: str) -> Response:
    message = link_message(
        reason,
        expired=_("URLの有効期限が切れています。お手数ですが、はじめからお手続きください。"),
        otherwise=_("URLが正しくないか、有効期限が切れています。お手数ですが、はじめからお手続きください。"),
    )
    return render(request, "identity/recover_invalid.html", status_code=400, message=message)


@get(f"{PREFIX}/question/answer/{{token:str}}", guards=[recovery_guard])
async def answer_page(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    try:
        await tokens_for(portal_of(request), tenant).peek(LINK_PURPOSE, token)
    except TokenError as exc:
        return _invalid_link(request, exc.reason)
    return render(request, "identity/recover_answer.html", questions=_questions(tenant), errors={}, values={}, token=token)


@post(f"{PREFIX}/question/answer/{{token:str}}", guards=[recovery_guard])
async def answer_submit(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    portal = portal_of(request)
    tokens = tokens_for(portal, tenant)
    try:
        payload = await tokens.peek(LINK_PURPOSE, token)
    except TokenError as exc:
        return _invalid_link(request, exc.reason)
    repo = AccountRepository(tenant)
    account = await repo.by_id(payload.get("account_id"))
    if account is None:
        return _invalid_link(request, "invalid")
    form = await request.form()
    question, answer, errors = _read_question(form, tenant)
    values = {"question": form.get("question") or ""}
    context = {"questions": _questions(tenant), "values": values, "token": token}
    if errors:
        return render(request, "identity/recover_answer.html", status_code=400, errors=errors, **context)
    if locked_minutes_left(account):
        return render(
            request, "identity/recover_answer.html", status_code=429, errors={}, form_error=locked_message(tenant), **context
        )
    message = await _check_answer(request, tenant, account, question, answer, payload)
    if message:
        return render(request, "identity/recover_answer.html", status_code=400, errors={}, form_error=message, **context)
    password = generate_password(tenant)
    changes = {**await reset_changes(tenant, account, password), "recovery_method": "secret_question"}
    if payload.get("answer_hash"):
        changes.update(secret_question=payload["question"], secret_answer_hash=payload["answer_hash"])
    try:
        async with atomic():
            await tokens.consume(LINK_PURPOSE, token)
            await repo.update(account, **changes)
            to = contact_address(account)
            if to:
                await enqueue(portal, tenant, to=to, template="recover_password_done", context={"label": login_label(tenant)})
            await AuditLog(tenant.slug).record(
                "password.reset", account_id=account.id, address=client_address(request), method="secret_question"
            )
    except TokenError as exc:
        return _invalid_link(request, exc.reason)
    # Shown once, in this response; besides its hash the password is kept only in this browser's
    # server-side session for the print view, for as long as web/printview.py keeps a completion.
    login_id = account.login_id_display or account.login_id
    keep_for_print(request, PRINT_NAME, {"login_id": login_id, "password": password, "on": today().isoformat()})
    return render(
        request,
        "identity/recover_question_done.html",
        login_id=login_id,
        password=password,
        changed_on=today(),
        print_url=f"{PREFIX}/question/print",
    )


@get(f"{PREFIX}/question/print", guards=[recovery_guard])
async def done_print(request: Request) -> Response:
    """The print view of 4-A-5 パスワード再発行完了, while the completion is kept."""
    done = printable(request, PRINT_NAME)
    if not done:
        return print_gone(request, back="/login")
    label = login_label(tenant_of(request))
    new_password = _("新しいパスワード")
    facts = [
        (label, done["login_id"]),
        (new_password, done["password"]),
        (_("再発行日"), long_date(date.fromisoformat(done["on"]))),
    ]
    return render_print(
        request, title=_("{label}のパスワード").format(label=label), facts=facts, secret=(new_password,), back="/login"
    )


ROUTES = [
    choose_page,
    choose_submit,
    identify_page,
    identify_submit,
    question_page,
    question_submit,
    question_sent_page,
    answer_page,
    answer_submit,
    done_print,
]
