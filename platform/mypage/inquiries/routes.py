"""お問い合わせ: the form (種別・件名・内容), [送信], the completion page."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.identity.session_auth import current_account, feature_login_required
from mypage.inquiries import service, threads
from mypage.inquiries.repository import InquiryRepository
from mypage.web.render import client_address, redirect, render, session_of, tenant_of

GUARDS = [feature_login_required("inquiries")]
DONE_KEY = "inquiry_done"


async def _page(request: Request, data: service.InquiryInput, *, errors=None, form_error="", status_code=200) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    feature = tenant.config.features.inquiries
    filed_under, filed = service.resolve(tenant, data)
    has_call_details = any(c.applies == "call_details" for c in feature.categories)
    contracts = await service.phone_contracts(tenant, account) if has_call_details else []
    guided = [(c, service.category(tenant, c.filed_as) if c.filed_as else c) for c in feature.categories if c.subject is not None]
    return render(
        request,
        "inquiries/form.html",
        status_code=status_code,
        categories=service.offered(tenant),
        guided=guided,
        chosen=filed or filed_under,
        body_required=feature.body_required,
        values=data,
        errors=errors or {},
        problem=form_error,
        contracts=contracts,
        threads=await threads.customer_threads(tenant, account),
        state_label=threads.state_label,
        subject_max=service.SUBJECT_MAX,
        body_max=service.BODY_MAX,
    )


@get("/inquiries", guards=GUARDS)
async def inquiry_form(request: Request) -> Response:
    tenant = tenant_of(request)
    key = request.query_params.get("category") or ""
    chosen = service.category(tenant, key)
    data = service.InquiryInput(category=(chosen.filed_as or chosen.key) if chosen else "")
    if chosen and chosen.subject:
        data.subject = chosen.subject.get(request.scope["state"].get("locale", "ja"))
    return await _page(request, data)


@post("/inquiries", guards=GUARDS)
async def inquiry_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    data = service.InquiryInput.from_form(await request.form())
    outcome = await service.submit(request.scope["state"]["portal"], tenant, account, data, address=client_address(request))
    if outcome.inquiry is None:
        return await _page(
            request,
            data,
            errors=outcome.errors,
            form_error=outcome.form_error,
            status_code=429 if outcome.rate_limited else 400,
        )
    session_of(request)[DONE_KEY] = outcome.inquiry.id
    return redirect("/inquiries/done")


@get("/inquiries/done", guards=GUARDS)
async def inquiry_done(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    inquiry_id = session_of(request).pop(DONE_KEY)
    inquiry = await InquiryRepository(tenant.slug).by_id(inquiry_id) if isinstance(inquiry_id, int) else None
    if inquiry is None or inquiry.account != account.id:
        return redirect("/inquiries")
    return render(
        request,
        "inquiries/done.html",
        inquiry=inquiry,
        reference=service.reference(inquiry),
        chosen=service.category(tenant, inquiry.category),
    )


async def _thread_page(request: Request, inquiry_id: int, *, body: str = "", error: str = "", status_code: int = 200) -> Response:
    tenant = tenant_of(request)
    thread = await threads.customer_thread(tenant, await current_account(request), inquiry_id)
    if thread is None:
        raise NotFoundException()
    return render(
        request,
        "inquiries/thread.html",
        status_code=status_code,
        inquiry=thread.inquiry,
        messages=thread.messages,
        reference=service.reference(thread.inquiry),
        chosen=service.category(tenant, thread.inquiry.category),
        state_label=threads.state_label,
        closed=thread.inquiry.state == threads.State.CLOSED,
        body=body,
        error=error,
        body_max=service.BODY_MAX,
    )


@get("/inquiries/{inquiry_id:int}", guards=GUARDS)
async def inquiry_thread(request: Request, inquiry_id: FromPath[int]) -> Response:
    """The customer's inquiry as a thread: what was sent, staff replies, the customer's answers."""
    return await _thread_page(request, inquiry_id)


@post("/inquiries/{inquiry_id:int}/answer", guards=GUARDS)
async def inquiry_answer(request: Request, inquiry_id: FromPath[int]) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    raw = (await request.form()).get("body")
    body = raw if isinstance(raw, str) else ""
    try:
        problem = await threads.customer_answer(tenant, account, inquiry_id, body, address=client_address(request))
    except LookupError:
        raise NotFoundException() from None
    if problem:
        return await _thread_page(request, inquiry_id, body=body, error=problem, status_code=400)
    return redirect(f"/inquiries/{inquiry_id}#latest")


ROUTES = [inquiry_form, inquiry_submit, inquiry_done, inquiry_thread, inquiry_answer]
