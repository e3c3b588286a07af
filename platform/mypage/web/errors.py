"""HTML error pages in the tenant's theme (JSON nowhere: this is a browser portal)."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import HTTPException

from mypage.db.errors import is_unavailable
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.web.error_log import record_later
from mypage.web.render import render

log = logging.getLogger("mypage")

TITLES = {
    400: N_("入力内容を確認してください"),
    403: N_("この操作は許可されていません"),
    404: N_("ページが見つかりません"),
    405: N_("この操作は許可されていません"),
    413: N_("送信されたデータが大きすぎます"),
    429: N_("しばらく時間をおいてからお試しください"),
    500: N_("ただいま処理できません"),
    503: N_("ただいまサービスを利用できません"),
}
MESSAGES = {
    400: N_("送信された内容を処理できませんでした。入力内容をご確認のうえ、画面からもう一度お試しください。"),
    403: N_("画面の有効期限が切れたか、不正な操作です。もう一度最初からお試しください。"),
    404: N_("お探しのページは見つかりませんでした。アドレスをご確認ください。"),
    429: N_("短時間に多くの操作がありました。しばらく時間をおいてからもう一度お試しください。"),
    500: N_("申し訳ございません。時間をおいてもう一度お試しください。"),
    503: N_("ただいまサービスを利用できません。しばらく時間をおいてからもう一度お試しください。"),
}
RETRY_AFTER_SECONDS = 30
"""``Retry-After`` of the 503 page shown while the database is unavailable."""


class Refused(HTTPException):
    """Answered with the themed error page and its own message (a ``N_`` marked phrase), e.g. a page the
    logged-in account may not use."""

    status_code = 403

    def __init__(self, message: str) -> None:
        super().__init__(detail=message)
        self.message = message


def error_page(request: Request, status: int, message_id: str | None = None) -> Response:
    title = _(TITLES.get(status, TITLES[400] if status < 500 else TITLES[500]))
    message = message_id or MESSAGES.get(status, MESSAGES[500] if status >= 500 else "")
    message = _(message) if message else ""  # gettext("") would answer the catalog's header
    if request.scope.get("state", {}).get("tenant") is None:
        return Response(
            content=f"<!doctype html><meta charset=utf-8><title>{status}</title><h1>{title}</h1><p>{message}</p>",
            media_type=MediaType.HTML,
            status_code=status,
        )  # Litestar adds "; charset=utf-8"
    if request.scope.get("state", {}).get("staff_session") is not None:  # the console's pages
        from mypage.admin.render import admin_page

        return admin_page(request, "admin/error.html", status_code=status, status=status, title=title, message=message)
    return render(request, "error.html", status_code=status, status=status, title=title, message=message)


def http_error(request: Request, exc: HTTPException) -> Response:
    return error_page(request, exc.status_code, exc.message if isinstance(exc, Refused) else None)


def out_of_range(exc: BaseException) -> bool:
    """Whether ``exc`` is a database refusing a number out of its integer range.

    Ids come from addresses and forms (``/mailboxes/99999999999999999999/delete``, ``?edit=…``) and reach
    queries as Python ints of any size: SQLite's driver raises ``OverflowError``, PostgreSQL's refuses the
    argument (``DataError: … out of int32 range``) or the value (SQLSTATE 22003). No row has such an id,
    so every such error is a 404, mapped here once instead of range checks in every route.
    """
    if isinstance(exc, OverflowError):
        return True
    if type(exc).__module__.startswith("asyncpg"):
        state = getattr(exc, "sqlstate", None)
        if state == "22003":
            return True
        return state == "22000" and "out of int" in str(exc) and "range" in str(exc)
    return False


def server_error(request: Request, exc: Exception) -> Response:
    if out_of_range(exc):
        return error_page(request, 404)
    if is_unavailable(exc):
        return unavailable(request, exc)
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    response = error_page(request, 500)
    response.background = record_later(request, exc)
    return response


def unavailable(request: Request, exc: BaseException | None = None) -> Response:
    """The tenant's 503 page with ``Retry-After`` (the database or session store cannot serve requests now).

    Rendered from templates only: nothing on this path may need the database."""
    if exc is not None:
        log.warning("database unavailable on %s: %s: %s", request.url.path, type(exc).__name__, exc)
    response = error_page(request, 503)
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response
