"""/admin/branding, /admin/texts, /admin/features (editors of the open draft), /admin/config/… (preview,
publish, restore, discard, history). Everyone reads; only 管理者 change anything."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.admin.audit.log import record_staff_action
from mypage.admin.auth import CurrentStaff, roles_allowed, staff_session
from mypage.admin.config import forms
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.roles import ADMIN_ONLY
from mypage.admin.tables import StaffMember
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.overrides.images import ImageError
from mypage.overrides.preview import PreviewPage, render_preview
from mypage.overrides.repository import document_of
from mypage.overrides.service import Overrides, OverridesError
from mypage.tenancy.config import Features
from mypage.tenancy.texts import TEXT_KEYS
from mypage.web.forms import FILE_FIELDS, uploaded_file
from mypage.web.render import locale_of, portal_of, redirect, tenant_of
from mypage.web.routes import brand_stylesheet

ADMIN_GUARD = [roles_allowed(ADMIN_ONLY)]
EDITORS = {"branding": "admin/config_branding.html", "texts": "admin/config_texts.html", "features": "admin/config_features.html"}


def _editor(request: Request, staff: StaffMember) -> Overrides:
    portal = portal_of(request)
    base = portal.base.find(tenant_of(request).slug)
    if base is None:
        raise NotFoundException()
    return Overrides(base, set(portal.themes.names), record=partial(record_staff_action, request, staff))


async def _working(editor: Overrides) -> tuple[dict, dict | None]:
    """The document the editors change: the open draft's, else a copy of the live version's."""
    draft = await editor.versions.open_draft()
    if draft is not None:
        return document_of(draft), draft
    return await editor.current_document(), None


def _field_errors(problems: list[tuple[str, str]], prefix: str) -> tuple[dict[str, str], list[str]]:
    """Problems of keys under ``prefix`` by field name; the others as messages for the whole form."""
    fields: dict[str, str] = {}
    general = []
    for key, message in problems:
        if key.startswith(prefix):
            fields[key.removeprefix(prefix).split(".", 1)[0]] = message
        else:
            general.append(f"{key}: {message}")
    return fields, general


async def _page(
    request: Request, staff: StaffMember, section: str, *, status_code: int = 200, errors=None, form_errors=None, values=None
) -> Response:
    editor = _editor(request, staff)
    document, draft = await _working(editor)
    checked = await editor.check(document)
    config = checked.config or editor.base.config
    request.scope["state"]["embeds_previews"] = True
    allowed = list(editor.base.source.get("features", {}))
    return admin_page(
        request,
        EDITORS[section],
        status_code=status_code,
        section=section,
        config=config,
        base_config=editor.base.config,
        draft=draft,
        document=document,
        versions=await editor.versions.versions(),
        themes=portal_of(request).themes.names,
        errors=errors or {},
        form_errors=form_errors or [],
        values=values or {},
        text_keys=[(key, TEXT_KEYS[key]) for key in forms.shown_text_keys(config)],
        menu_json=(values or {}).get("menu") or forms.menu_json(config),
        allowed_features=[(name, Features.model_fields[name].description or name) for name in allowed],
    )


async def _save(request: Request, staff: StaffMember, section: str, document: dict, values: dict, prefix: str) -> Response:
    editor = _editor(request, staff)
    try:
        await editor.save_draft(document, actor(staff))
    except OverridesError as exc:
        errors, general = _field_errors(exc.problems, prefix)
        return await _page(request, staff, section, status_code=400, errors=errors, form_errors=general, values=values)
    staff_session(request).flash(_("下書きを保存しました。プレビューで確認してから公開してください。"), "success")
    return redirect(f"/admin/{section}")


def actor(staff: StaffMember) -> str:
    return f"{staff.name} <{staff.email}>"


# ---------------------------------------------------------------- editors


@get("/branding")
async def branding_page(request: Request, staff: CurrentStaff) -> Response:
    return await _page(request, staff, "branding")


@post("/branding", guards=ADMIN_GUARD)
async def branding_save(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    editor = _editor(request, staff)
    document, _draft = await _working(editor)
    return await _save(request, staff, "branding", forms.branding_document(document, form, editor.base), form, "branding.")


@post("/branding/logo", guards=ADMIN_GUARD, opt={FILE_FIELDS: ("logo",)})
async def logo_upload(request: Request, staff: CurrentStaff) -> Response:
    upload = uploaded_file(request, "logo")
    editor = _editor(request, staff)
    try:
        logo = await editor.upload_logo(upload.data if upload else b"", actor(staff))
    except ImageError as exc:
        return await _page(request, staff, "branding", status_code=400, errors={"logo": _(exc.reason.value)})
    document, _draft = await _working(editor)
    return await _save(request, staff, "branding", forms.with_logo(document, logo), {}, "branding.")


@post("/branding/logo/reset", guards=ADMIN_GUARD)
async def logo_reset(request: Request, staff: CurrentStaff) -> Response:
    document, _draft = await _working(_editor(request, staff))
    return await _save(request, staff, "branding", forms.with_logo(document, None), {}, "branding.")


@get("/texts")
async def texts_page(request: Request, staff: CurrentStaff) -> Response:
    return await _page(request, staff, "texts")


@post("/texts", guards=ADMIN_GUARD)
async def texts_save(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    editor = _editor(request, staff)
    document, _draft = await _working(editor)
    config = (await editor.check(document)).config or editor.base.config
    try:
        document = forms.texts_document(document, form, editor.base, config)
    except forms.MenuJsonError as exc:
        message = _("メニューの書式(JSON)が正しくありません: {problem}").format(problem=exc)
        return await _page(request, staff, "texts", status_code=400, errors={"menu": message}, values=form)
    return await _save(request, staff, "texts", document, form, "")


@get("/features")
async def features_page(request: Request, staff: CurrentStaff) -> Response:
    return await _page(request, staff, "features")


@post("/features", guards=ADMIN_GUARD)
async def features_save(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    editor = _editor(request, staff)
    document, _draft = await _working(editor)
    return await _save(request, staff, "features", forms.features_document(document, form, editor.base), form, "features.")


# ---------------------------------------------------------------- versions


def _back(request: Request, form: dict) -> str:
    section = str(form.get("section", ""))
    return f"/admin/{section}" if section in EDITORS else "/admin/config/versions"


async def _version_action(request: Request, staff: StaffMember, version: int, action: str) -> Response:
    form = dict(await request.form())
    editor = _editor(request, staff)
    session = staff_session(request)
    try:
        if action == "publish":
            await editor.publish(version, actor(staff))
            session.flash(
                _("バージョン{version}を公開しました。すべてのサーバーに数秒以内に反映されます。").format(version=version),
                "success",
            )
        elif action == "restore":
            copy = await editor.restore(version, actor(staff))
            session.flash(
                _("バージョン{version}の内容をバージョン{copy}として公開しました。").format(version=version, copy=copy), "success"
            )
        else:
            await editor.discard(version, actor(staff))
            session.flash(_("下書きを破棄しました。"), "success")
    except LookupError as exc:
        raise NotFoundException() from exc
    except OverridesError as exc:
        lines = "; ".join(f"{key}: {message}" for key, message in exc.problems)
        session.flash(_("公開できません: {problems}").format(problems=lines), "error")
    return redirect(_back(request, form))


@post("/config/{version:int}/publish", guards=ADMIN_GUARD)
async def publish(request: Request, staff: CurrentStaff, version: FromPath[int]) -> Response:
    return await _version_action(request, staff, version, "publish")


@post("/config/{version:int}/restore", guards=ADMIN_GUARD)
async def restore(request: Request, staff: CurrentStaff, version: FromPath[int]) -> Response:
    return await _version_action(request, staff, version, "restore")


@post("/config/{version:int}/discard", guards=ADMIN_GUARD)
async def discard(request: Request, staff: CurrentStaff, version: FromPath[int]) -> Response:
    return await _version_action(request, staff, version, "discard")


@get("/config/versions")
async def versions_page(request: Request, staff: CurrentStaff) -> Response:
    editor = _editor(request, staff)
    return admin_page(request, "admin/config_versions.html", versions=await editor.versions.versions(), section="")


async def _previewed(request: Request, staff: StaffMember, version: int):
    editor = _editor(request, staff)
    try:
        return await editor.preview(version)
    except LookupError as exc:
        raise NotFoundException() from exc
    except OverridesError as exc:
        raise NotFoundException() from exc


@get("/config/{version:int}/preview/{page:str}")
async def preview(request: Request, staff: CurrentStaff, version: FromPath[int], page: FromPath[str]) -> Response:
    """The login page or the top page as ``version`` makes them, to be shown in a frame of the editor."""
    try:
        which = PreviewPage(page)
    except ValueError as exc:
        raise NotFoundException() from exc
    tenant = await _previewed(request, staff, version)
    request.scope["state"]["same_origin_frame"] = True
    html = render_preview(
        portal_of(request),
        tenant,
        which,
        locale_of(request),
        brand_css_url=f"/admin/config/{version}/brand.css",
        theme_css_url=f"/admin/config/{version}/theme.css",
    )
    return Response(content=html, media_type="text/html")


@get("/config/{version:int}/brand.css")
async def preview_css(request: Request, staff: CurrentStaff, version: FromPath[int]) -> Response:
    tenant = await _previewed(request, staff, version)
    return Response(content=brand_stylesheet(tenant.config.branding), media_type="text/css")


@get("/config/{version:int}/theme.css")
async def preview_theme_css(request: Request, staff: CurrentStaff, version: FromPath[int]) -> Response:
    """The draft theme's stylesheet (the live ``/static/css/theme.css`` is the published theme's)."""
    tenant = await _previewed(request, staff, version)
    found = portal_of(request).templates_for(tenant).find_static("css/theme.css")
    if found is None:
        raise NotFoundException()
    return Response(content=found.read_bytes(), media_type="text/css")


ADMIN_ROUTES: list[Any] = [
    branding_page,
    branding_save,
    logo_upload,
    logo_reset,
    texts_page,
    texts_save,
    features_page,
    features_save,
    publish,
    restore,
    discard,
    versions_page,
    preview,
    preview_css,
    preview_theme_css,
]
ADMIN_NAV = [
    NavItem("/admin/branding", N_("ブランディング"), order=40),
    NavItem("/admin/texts", N_("文言・連絡先"), order=41),
    NavItem("/admin/features", N_("機能"), order=42),
]
