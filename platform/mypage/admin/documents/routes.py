"""書類のアップロード in the console (サポート and 管理者; 閲覧 reads the list): a PDF attached to a contract as its
開通案内 or 請求書, mailed about to the customer's members with メール通知 あり (``documents.uploads``)."""

from __future__ import annotations

from dataclasses import asdict

from litestar import Request, Response, get, post

from mypage.admin.actors import actor_of
from mypage.admin.auth import CurrentStaff, roles_allowed, staff_session
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.roles import SUPPORT_WORK
from mypage.documents import uploads
from mypage.documents.repository import DocumentFileRepository
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.web.forms import FILE_FIELDS, uploaded_file
from mypage.web.render import portal_of, redirect, tenant_of


async def _page(request: Request, *, values=None, errors=None, status_code: int = 200) -> Response:
    return admin_page(
        request,
        "admin/documents.html",
        status_code=status_code,
        kinds=uploads.kind_labels(),
        recent=await DocumentFileRepository(tenant_of(request).slug).recent(),
        values=values or asdict(uploads.UploadInput()),
        errors=errors or {},
        max_mb=uploads.MAX_PDF_BYTES // (1024 * 1024),
    )


@get("/documents")
async def documents(request: Request, staff: CurrentStaff) -> Response:
    return await _page(request)


@post(
    "/documents",
    guards=[roles_allowed(SUPPORT_WORK)],
    opt={FILE_FIELDS: ("file",)},
    request_max_body_size=uploads.MAX_PDF_BYTES + 64 * 1024,
)
async def upload_document(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    data = uploads.UploadInput(
        contract_number=text("contract_number"), kind=text("kind"), issued_on=text("issued_on"), title=text("title")
    )
    file = uploaded_file(request, "file")
    done, errors = await uploads.upload(
        portal_of(request),
        tenant_of(request),
        data,
        file.filename if file else "",
        file.data if file else b"",
        actor_of(request, staff),
    )
    if done is None:
        return await _page(request, values=asdict(data), errors=errors, status_code=400)
    staff_session(request).flash(_("アップロードしました（お知らせメール {n} 件）。").format(n=done.mails), "success")
    return redirect("/admin/documents")


ADMIN_ROUTES = [documents, upload_document]
ADMIN_NAV = [NavItem("/admin/documents", N_("書類アップロード"), order=55)]
