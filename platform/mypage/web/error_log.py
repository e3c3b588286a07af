"""Counts unhandled server errors per tenant for the platform console ("errors in the last hour").

The error page attaches :func:`record_later` as its background task: the row is written after the page has
been sent, and a failure to write it (the database that caused the error, say) is logged and swallowed, so
recording can never break or delay the error page. One INSERT and one indexed DELETE of rows older than
:data:`KEEP` per error: no job is needed to keep the table small.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from litestar import Request
from litestar.background_tasks import BackgroundTask

from mypage.db.base import utcnow
from mypage.web.sessions import PLATFORM_SCOPE
from mypage.web.tables import ServerErrorRecord

log = logging.getLogger("mypage")
KEEP = timedelta(days=7)
NO_TENANT = "_none"
"""The scope of errors outside any tenant and the platform console (tenant slugs have no ``_``)."""


def scope_of(request: Request) -> str:
    state = request.scope.get("state", {})
    tenant = state.get("tenant")
    if tenant is not None:
        return tenant.slug
    return PLATFORM_SCOPE if state.get("platform_session") is not None else NO_TENANT


async def record(scope: str, path: str, exception: str) -> None:
    try:
        await ServerErrorRecord.insert(ServerErrorRecord(tenant=scope[:40], path=path[:200], exception=exception[:120]))
        await ServerErrorRecord.delete().where(ServerErrorRecord.created_at < utcnow() - KEEP)
    except Exception:  # never into the error page: it is already sent
        log.warning("could not record the server error on %s", path, exc_info=True)


def route_of(request: Request) -> str:
    """The route's path template (``/admin/invite/{token}``), not the path: paths can carry secrets."""
    return request.scope.get("path_template") or "(no route)"


def record_later(request: Request, exc: BaseException) -> BackgroundTask:
    """The background task that records ``exc`` (its class only) for the request's tenant and route."""
    return BackgroundTask(record, scope_of(request), route_of(request), type(exc).__qualname__)
