"""メールアドレスの設定・変更 (/mailboxes): list, 新規登録 (address → sub-domain → terms and virus check →
confirm → done, with the password shown once), virus check ON/OFF, delete."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.i18n import gettext as _
from mypage.i18n import long_date
from mypage.identity.session_auth import current_account, feature_login_required
from mypage.mailboxes import service, settings
from mypage.mailboxes.repository import MailboxRepository
from mypage.web.printview import keep_for_print, print_gone, printable, render_print
from mypage.web.render import client_address, redirect, render, session_of, tenant_of

GUARDS = [feature_login_required("mailboxes")]
FLOW = "mailbox_new"
DONE = "mailbox_done"


def steps() -> list[str]:
    return [_("メールアドレス入力"), _("サブドメイン選択"), _("契約約款・ウィルスチェック"), _("確認"), _("完了")]


async def _context(request: Request):
    tenant = tenant_of(request)
    account = await current_account(request)
    return tenant, account, await service.context_for(tenant, account)


def _flow(request: Request) -> dict:
    state = session_of(request).get(FLOW)
    return dict(state) if isinstance(state, dict) else {}


def _save_flow(request: Request, state: dict) -> None:
    session_of(request)[FLOW] = state


async def _guard_new(request: Request):
    """The customer may add an address now; else a redirect to the list (with why)."""
    tenant, account, ctx = await _context(request)
    if not ctx.eligible:
        return None, redirect("/mailboxes")
    if ctx.full:
        session_of(request).flash(_("メールアドレスは{n}つまで登録できます。").format(n=ctx.max_addresses), "warning")
        return None, redirect("/mailboxes")
    return (tenant, account, ctx), None


async def _step(request: Request, *required: str):
    """A later step of 新規登録: (tenant, account, state), or a redirect when the customer may not add an address
    now or a field an earlier step sets is missing from the flow."""
    found, refusal = await _guard_new(request)
    if refusal:
        return None, refusal
    state = _flow(request)
    if any(state.get(key) in (None, "") for key in required):
        return None, redirect("/mailboxes/new")
    tenant, account, _ctx = found
    return (tenant, account, state), None


@get("/mailboxes", guards=GUARDS)
async def mailbox_list(request: Request) -> Response:
    tenant, _account, ctx = await _context(request)
    return render(request, "mailboxes/index.html", ctx=ctx, feature=tenant.config.features.mailboxes)


@get("/mailboxes/new", guards=GUARDS)
async def new_local(request: Request) -> Response:
    found, refusal = await _guard_new(request)
    if refusal:
        return refusal
    tenant = found[0]
    state = _flow(request) if request.query_params.get("back") else {}
    if not state:
        session_of(request).pop(FLOW)
    return render(
        request,
        "mailboxes/new_local.html",
        steps=steps(),
        values={"local": state.get("local", "")},
        errors={},
        domain=tenant.config.features.mailboxes.domain,
    )


@post("/mailboxes/new", guards=GUARDS)
async def new_local_submit(request: Request) -> Response:
    found, refusal = await _guard_new(request)
    if refusal:
        return refusal
    tenant = found[0]
    form = await request.form()
    raw = form.get("local") if isinstance(form.get("local"), str) else ""
    local = service.normalize_local(raw)
    errors = service.check_local(local)
    if errors:
        return render(
            request,
            "mailboxes/new_local.html",
            status_code=400,
            steps=steps(),
            values={"local": raw},
            errors={"local": errors},
            domain=tenant.config.features.mailboxes.domain,
        )
    shown = await service.candidates(tenant, local)
    _save_flow(request, {"local": local, "offered": shown, "shown": shown})
    return redirect("/mailboxes/new/subdomain")


async def _subdomain_page(request: Request, tenant, state: dict, *, error: str = "", status_code: int = 200) -> Response:
    return render(
        request,
        "mailboxes/new_subdomain.html",
        status_code=status_code,
        steps=steps(),
        state=state,
        error=error,
        domain=tenant.config.features.mailboxes.domain,
    )


@get("/mailboxes/new/subdomain", guards=GUARDS)
async def new_subdomain(request: Request) -> Response:
    found, refusal = await _step(request, "local")
    if refusal:
        return refusal
    tenant, _account, state = found
    return await _subdomain_page(request, tenant, state)


@post("/mailboxes/new/subdomain", guards=GUARDS)
async def new_subdomain_submit(request: Request) -> Response:
    found, refusal = await _step(request, "local")
    if refusal:
        return refusal
    tenant, _account, state = found
    form = await request.form()
    if form.get("action") == "more":
        more = await service.candidates(tenant, state["local"], exclude=state.get("offered", []))
        if not more:
            return await _subdomain_page(request, tenant, state, error=_("他にご利用いただけるサブドメイン候補はありません。"))
        state["offered"] = [*state.get("offered", []), *more]
        state["shown"] = more
        state.pop("subdomain", None)
        _save_flow(request, state)
        return redirect("/mailboxes/new/subdomain")
    chosen = form.get("subdomain")
    if not isinstance(chosen, str) or chosen not in state.get("offered", []):
        return await _subdomain_page(request, tenant, state, error=_("サブドメインを選択してください。"), status_code=400)
    if chosen in await MailboxRepository(tenant.slug).taken_subdomains(state["local"]):
        return await _subdomain_page(
            request,
            tenant,
            state,
            error=_("このメールアドレスは既に使用されています。別のサブドメインを選択してください。"),
            status_code=400,
        )
    state["subdomain"] = chosen
    _save_flow(request, state)
    return redirect("/mailboxes/new/options")


def _options_page(request: Request, tenant, state: dict, *, errors: dict, status_code: int = 200) -> Response:
    return render(
        request,
        "mailboxes/new_options.html",
        status_code=status_code,
        steps=steps(),
        state=state,
        errors=errors,
        address=service.address_of(tenant, state["local"], state["subdomain"]),
        feature=tenant.config.features.mailboxes,
    )


@get("/mailboxes/new/options", guards=GUARDS)
async def new_options(request: Request) -> Response:
    found, refusal = await _step(request, "local", "subdomain")
    if refusal:
        return refusal
    tenant, _account, state = found
    return _options_page(request, tenant, state, errors={})


@post("/mailboxes/new/options", guards=GUARDS)
async def new_options_submit(request: Request) -> Response:
    found, refusal = await _step(request, "local", "subdomain")
    if refusal:
        return refusal
    tenant, _account, state = found
    form = await request.form()
    errors = {}
    virus = form.get("virus_check")
    if virus not in ("on", "off"):
        errors["virus_check"] = _("メールウィルスチェックのON・OFFを選択してください。")
    if form.get("agree") != "yes":
        errors["agree"] = _("契約約款に同意いただく必要があります。")
    if errors:
        state["virus_check"] = virus if virus in ("on", "off") else ""
        return _options_page(request, tenant, state, errors=errors, status_code=400)
    state["virus_check"] = virus
    _save_flow(request, state)
    return redirect("/mailboxes/new/confirm")


def _confirm_page(request: Request, tenant, state: dict, *, error: str = "", status_code: int = 200) -> Response:
    return render(
        request,
        "mailboxes/new_confirm.html",
        status_code=status_code,
        steps=steps(),
        state=state,
        error=error,
        address=service.address_of(tenant, state["local"], state["subdomain"]),
    )


@get("/mailboxes/new/confirm", guards=GUARDS)
async def new_confirm(request: Request) -> Response:
    found, refusal = await _step(request, "local", "subdomain", "virus_check")
    if refusal:
        return refusal
    tenant, _account, state = found
    return _confirm_page(request, tenant, state)


@post("/mailboxes/new/confirm", guards=GUARDS)
async def new_confirm_submit(request: Request) -> Response:
    found, refusal = await _step(request, "local", "subdomain", "virus_check")
    if refusal:
        return refusal
    tenant, account, state = found
    try:
        mailbox, password = await service.register(
            tenant, account, state["local"], state["subdomain"], state["virus_check"] == "on", address=client_address(request)
        )
    except service.RegistrationError as exc:
        return _confirm_page(request, tenant, state, error=str(exc), status_code=409)
    session = session_of(request)
    session.pop(FLOW)
    session[DONE] = {"id": mailbox.id, "password": password}
    return redirect("/mailboxes/new/done")


@get("/mailboxes/new/done", guards=GUARDS)
async def new_done(request: Request) -> Response:
    """Shows the address and its initial password once; the print view may show them while web/printview.py keeps them."""
    tenant, _account, ctx = await _context(request)
    done = session_of(request).pop(DONE)
    mailbox = None
    if isinstance(done, dict) and ctx.customer is not None and isinstance(done.get("id"), int):
        mailbox = await MailboxRepository(tenant.slug).get(ctx.customer.id, done["id"])
    if mailbox is None:
        return redirect("/mailboxes")
    keep_for_print(request, DONE, done)
    return render(request, "mailboxes/new_done.html", steps=steps(), mailbox=mailbox, password=done["password"])


@get("/mailboxes/new/done/print", guards=GUARDS)
async def new_done_print(request: Request) -> Response:
    """The print view (「印刷画面へ」) of the completion, while the completion is kept (web/printview.py)."""
    tenant, _account, ctx = await _context(request)
    done = printable(request, DONE)
    mailbox = None
    if done and ctx.customer is not None and isinstance(done.get("id"), int):
        mailbox = await MailboxRepository(tenant.slug).get(ctx.customer.id, done["id"])
    if mailbox is None:
        return print_gone(request, back="/mailboxes")
    password = _("初期パスワード")
    facts = [
        (_("メールアドレス"), mailbox.address),
        (password, done["password"]),
        (_("メールウィルスチェック"), "ON" if mailbox.virus_check else "OFF"),
        (_("登録日"), long_date(mailbox.created_at)),
    ]
    return render_print(request, title=_("メールアドレス登録完了"), facts=facts, secret=(password,), back="/mailboxes")


async def _own(request: Request, mailbox_id: int):
    tenant, account, ctx = await _context(request)
    if not ctx.eligible:
        raise NotFoundException()
    mailbox = await MailboxRepository(tenant.slug).get(ctx.customer.id, mailbox_id)
    if mailbox is None:
        raise NotFoundException()
    return tenant, account, mailbox


@post("/mailboxes/{mailbox_id:int}/virus-check", guards=GUARDS)
async def virus_check(request: Request, mailbox_id: FromPath[int]) -> Response:
    tenant, account, mailbox = await _own(request, mailbox_id)
    form = await request.form()
    value = form.get("virus_check")
    if value not in ("on", "off"):
        return redirect("/mailboxes")
    await service.set_virus_check(tenant, account, mailbox, value == "on", address=client_address(request))
    message = _("{address} のメールウィルスチェックを{state}にしました。").format(
        address=mailbox.address, state="ON" if value == "on" else "OFF"
    )
    session_of(request).flash(message, "success")
    return redirect("/mailboxes")


@get("/mailboxes/{mailbox_id:int}/delete", guards=GUARDS)
async def delete_confirm(request: Request, mailbox_id: FromPath[int]) -> Response:
    _tenant, _account, mailbox = await _own(request, mailbox_id)
    return render(request, "mailboxes/delete.html", mailbox=mailbox)


@post("/mailboxes/{mailbox_id:int}/delete", guards=GUARDS)
async def delete_submit(request: Request, mailbox_id: FromPath[int]) -> Response:
    tenant, account, mailbox = await _own(request, mailbox_id)
    await service.delete(tenant, account, mailbox, address=client_address(request))
    session_of(request).flash(_("{address} を削除しました。").format(address=mailbox.address), "success")
    return redirect("/mailboxes")


ROUTES = [
    mailbox_list,
    new_local,
    new_local_submit,
    new_subdomain,
    new_subdomain_submit,
    new_options,
    new_options_submit,
    new_confirm,
    new_confirm_submit,
    new_done,
    new_done_print,
    virus_check,
    delete_confirm,
    delete_submit,
    *settings.ROUTES,
]
