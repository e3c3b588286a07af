"""The print view of a completion page (「印刷用画面へ」/「印刷画面へ」): a small separate page with the
portal logo, a title, the facts and the buttons 印刷 / 閉じる, opened in a new tab.

A completion page shows its one-time state once and drops it. When it does, it hands that same state to
``keep_for_print`` which leaves it in ONE session slot (the latest completion only) for a short while,
bound to the session's account (or to no account) and to the completion it came from. The print view
reads it with ``printable``; once the slot is gone (time up, another completion, logout, login), the
print view answers 404 with "no longer shown". Nothing is stored anywhere else: the data lives only in
the server-side session, like the completion state it comes from.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, Response

from mypage.i18n import gettext as _
from mypage.web.render import render, session_of

SLOT = "print_view"
PRINT_SECONDS = 15 * 60


def keep_for_print(request: Request, name: str, data: dict[str, Any]) -> None:
    """Keep the state a completion page just showed (and dropped) for its print view ``name``."""
    session = session_of(request)
    session[SLOT] = {"name": name, "data": data, "t": int(time.time()), "account_id": session.get("account_id")}


def printable(request: Request, name: str) -> dict[str, Any] | None:
    """The state kept for the print view ``name``, or None when it is gone or belongs to another view."""
    session = session_of(request)
    kept = session.get(SLOT)
    if not isinstance(kept, dict) or kept.get("name") != name or not isinstance(kept.get("data"), dict):
        return None
    if int(time.time()) - int(kept.get("t", 0)) > PRINT_SECONDS:
        session.pop(SLOT)
        return None
    if kept.get("account_id") != session.get("account_id"):
        return None
    return kept["data"]


def drop_stale(session) -> None:
    """Called on every request: a kept state older than the print window leaves the session store."""
    kept = session.get(SLOT)
    if isinstance(kept, dict) and int(time.time()) - int(kept.get("t", 0)) > PRINT_SECONDS:
        session.pop(SLOT)


def forget_print(request: Request) -> None:
    session_of(request).pop(SLOT)


def render_print(
    request: Request,
    *,
    title: str,
    facts: list[tuple[str, str]],
    lead: str | None = None,
    secret: tuple[str, ...] = (),
    back: str = "/",
) -> Response:
    """The print view: ``facts`` are (label, value) pairs; labels in ``secret`` are shown as secrets."""
    return render(
        request,
        "print_view.html",
        title=title,
        lead=_("あなたの登録情報です。大切に保管してください。") if lead is None else lead,
        facts=facts,
        secret=secret,
        back=back,
    )


def print_gone(request: Request, *, back: str = "/") -> Response:
    return render(request, "print_view.html", status_code=404, title=_("印刷用画面"), lead="", facts=None, secret=(), back=back)
