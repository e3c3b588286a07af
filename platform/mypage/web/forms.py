"""The one place where form bodies are decoded, for every route and before the CSRF check.

Litestar decodes form bodies leniently and in two places (the CSRF middleware and ``request.form()``):
invalid UTF-8 in a multipart part raised ``UnicodeDecodeError`` (a 500 before any authentication), an
uploaded file arrived as an ``UploadFile`` where every handler expects text, and a NUL byte reached
PostgreSQL, which refuses it. :class:`FormGuard` runs before the CSRF middleware on every route, reads
``application/x-www-form-urlencoded`` and ``multipart/form-data`` bodies itself and strictly, and either
answers 400 (the themed error page) or leaves the decoded form in the connection state, where both the
CSRF middleware and ``request.form()`` take it from. Handlers therefore only ever see text fields. A route
that takes a file names its file fields in ``opt={FILE_FIELDS: ("logo",)}``; those parts (and only those)
are kept as :class:`UploadedFile` in the connection state, read with :func:`uploaded_file`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qsl

from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser

MAX_PARTS = 200
"""Fields per form: the longest portal form has a few dozen."""
MAX_FIELD_CHARS = 20_000
"""Characters per field: far above any portal field (inquiry texts are the longest)."""

# C0 control characters other than TAB, LF and CR: never typed into a form, refused by PostgreSQL (NUL)
# and a hazard in mail headers and CSV files.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

FORM_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FILE_FIELDS = "file_fields"
"""Route ``opt`` key: the names of the multipart fields that may carry a file."""
UPLOADS_STATE = "uploads"


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


def uploaded_file(connection: ASGIConnection, name: str) -> UploadedFile | None:
    """The file sent in field ``name`` of a route that allows it (``FILE_FIELDS``), if any."""
    return connection.scope.get("state", {}).get(UPLOADS_STATE, {}).get(name)


class BadForm(HTTPException):
    """The body is not a form a browser would send: answered 400 with the themed page."""

    status_code = 400


def _text(value: str, what: str) -> str:
    if CONTROL.search(value):
        raise BadForm(f"control character in {what}")
    if len(value) > MAX_FIELD_CHARS:
        raise BadForm(f"{what} too long")
    return value


def _collect(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    if len(pairs) > MAX_PARTS:
        raise BadForm("too many fields")
    fields: defaultdict[str, list[str]] = defaultdict(list)
    for name, value in pairs:
        fields[_text(name, "field name")].append(_text(value, "field value"))
    return {k: v if len(v) > 1 else v[0] for k, v in fields.items()}


def parse_urlencoded(body: bytes) -> dict[str, str | list[str]]:
    """Like Litestar's parser (blank values dropped), but invalid UTF-8, raw or percent-encoded, is refused."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, encoding="utf-8", errors="strict", max_num_fields=MAX_PARTS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadForm("invalid urlencoded form") from exc
    return _collect(pairs)


def parse_multipart(
    body: bytes, boundary: str | None, files: dict[str, UploadedFile] | None = None
) -> dict[str, str | list[str]]:
    """Text parts only, each strict UTF-8 (or the charset it names, if it is UTF-8); file parts are refused,
    except in the fields named by ``files`` (a dict the files are put into)."""
    if not boundary:
        raise BadForm("multipart boundary missing")
    if not body:
        return {}
    pairs: list[tuple[str, str]] = []
    try:
        with PushMultipartParser(boundary.encode("latin-1"), max_segment_count=MAX_PARTS) as parser:
            segment: MultipartSegment | None = None
            data = bytearray()
            for part in parser.parse(body):
                if isinstance(part, MultipartSegment):
                    segment = part
                    if segment.filename is not None and (files is None or segment.name not in files):
                        raise BadForm("file upload in a form")
                    if (segment.charset or "utf-8").lower().replace("_", "-") not in ("utf-8", "utf8"):
                        raise BadForm("form part in another charset")
                elif part:
                    data.extend(part)
                    if len(data) > MAX_FIELD_CHARS * 4 and (segment is None or segment.filename is None):
                        raise BadForm("field value too long")
                else:
                    if segment is None:
                        raise BadForm("multipart part without headers")
                    if segment.filename is not None and files is not None:
                        files[segment.name] = UploadedFile(
                            _text(segment.filename, "file name")[:255], segment.content_type or "", bytes(data)
                        )
                    else:
                        pairs.append((segment.name, data.decode("utf-8")))
                    data, segment = bytearray(), None
            for _part in parser.parse(b""):  # end of input: an unterminated body is an error
                pass
            if not parser.closed:
                raise BadForm("unterminated multipart body")
    except (ParserError, ParserLimitReached, UnicodeError, LookupError) as exc:
        raise BadForm("invalid multipart form") from exc
    return _collect(pairs)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_json(body: bytes) -> None:
    """JSON bodies (the ID-check script) obey the same rules: no control characters or lone surrogates in
    any string. Unparseable JSON is left to the handler, which answers it as it would any bad request."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            _text(item, "JSON string")
            if _SURROGATE.search(item):
                raise BadForm("lone surrogate in JSON")


class FormGuard:
    """ASGI middleware (app level, so it wraps the CSRF middleware of every route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in FORM_METHODS:
            await self._decode(scope, receive)
        await self.app(scope, receive, send)

    async def _decode(self, scope: Scope, receive: Receive) -> None:
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        content_type, options = request.content_type
        if content_type == "application/json":
            check_json(await request.body())
            return
        if content_type not in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
            return
        body = await request.body()  # enforces the body size limit (413); kept for later readers
        if content_type == RequestEncodingType.URL_ENCODED:
            form = parse_urlencoded(body)
        else:
            handler = scope.get("route_handler")
            allowed = tuple(handler.opt.get(FILE_FIELDS, ())) if handler is not None else ()
            # The allowed names as keys (files arriving fill them in); the rest stay refused.
            files: dict[str, UploadedFile] | None = dict.fromkeys(allowed) if allowed else None
            form = parse_multipart(body, options.get("boundary"), files)
            if files:
                scope.setdefault("state", {})[UPLOADS_STATE] = {k: v for k, v in files.items() if v is not None}
        ScopeState.from_scope(scope).form = form
