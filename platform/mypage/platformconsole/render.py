"""Rendering a platform console page: its own templates (no tenant theme), Japanese."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.enums import MediaType
from markupsafe import Markup, escape

from mypage import i18n
from mypage.web.render import csrf_token


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def platform_page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    session = request.scope["state"].get("platform_session")
    token = csrf_token(request)
    html = (
        environment()
        .get_template(template)
        .render(
            csrf_input=Markup(f'<input type="hidden" name="_csrf_token" value="{escape(token)}">'),
            staff=request.scope["state"].get("platform_staff"),
            flashes=session.take_flashes() if session is not None else [],
            **context,
        )
    )
    return Response(content=html, media_type=MediaType.HTML, status_code=status_code)
