"""CSV imports in the console (サポート and 管理者 upload; 閲覧 reads the history): the file is queued as a job
that the server's job worker runs with the CLI's rules (``importjobs.service``); its page shows the progress
and refreshes itself until the job is done (a meta refresh: no script), so a reload loses nothing."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.admin.actors import actor_of
from mypage.admin.auth import CurrentStaff, roles_allowed
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.roles import SUPPORT_WORK
from mypage.i18n import N_
from mypage.importjobs import service
from mypage.records.importer import KINDS
from mypage.web.forms import FILE_FIELDS, uploaded_file
from mypage.web.render import redirect, tenant_of

REFRESH_SECONDS = 2


async def _page(request: Request, *, values=None, errors=None, status_code: int = 200) -> Response:
    return admin_page(
        request,
        "admin/imports.html",
        status_code=status_code,
        kinds=KINDS,
        kind_labels=service.kind_labels(),
        history=await service.history(tenant_of(request)),
        values=values or {},
        errors=errors or {},
        max_mb=service.MAX_UPLOAD_BYTES // (1024 * 1024),
    )


@get("/imports")
async def imports(request: Request, staff: CurrentStaff) -> Response:
    return await _page(request)


@post(
    "/imports",
    guards=[roles_allowed(SUPPORT_WORK)],
    opt={FILE_FIELDS: ("file",)},
    request_max_body_size=service.MAX_UPLOAD_BYTES + 64 * 1024,
)
async def upload(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    kind = form.get("kind")
    kind = kind if isinstance(kind, str) else ""
    file = uploaded_file(request, "file")
    job, errors = await service.submit(
        tenant_of(request), kind, file.filename if file else "", file.data if file else b"", actor_of(request, staff)
    )
    if job is None:
        return await _page(request, values={"kind": kind}, errors=errors, status_code=400)
    return redirect(f"/admin/imports/{job.id}")


@get("/imports/{import_job_id:int}")
async def import_job(request: Request, staff: CurrentStaff, import_job_id: FromPath[int]) -> Response:
    view = await service.job_view(tenant_of(request), import_job_id)
    if view is None:
        raise NotFoundException()
    return admin_page(
        request,
        "admin/import_job.html",
        view=view,
        job=view.job,
        kind_labels=service.kind_labels(),
        refresh=None if view.done else REFRESH_SECONDS,
    )


ADMIN_ROUTES = [imports, upload, import_job]
ADMIN_NAV = [NavItem("/admin/imports", N_("データ取り込み"), order=50)]
