"""The shared PDF renderer: a tenant template rendered to PDF with WeasyPrint.

``render_pdf(portal, tenant, "billing/invoice_pdf.html", context)`` renders the template with the
tenant's Jinja environment (so the tenant's overrides and branding apply), then lays it out with
WeasyPrint in a worker thread (layout is CPU-bound and would block the event loop).

Resources: the fetcher given to WeasyPrint answers only ``data:`` URIs, so a template can read neither
local files (``file:``, relative paths) nor the network. The tenant's logo is handed to the template as
a ``data:`` URI (``logo_data_uri``); fonts come from the system (fontconfig: IPAexGothic / IPAexMincho).

Speed (issue 10: an invoice in < 50 ms warm):

- Static CSS lives in ``.css`` files next to the templates (``documents/pdf.css`` for every document, plus
  e.g. ``billing/invoice_pdf.css``), found through the tenant's template folders (so a tenant or theme can
  override one) and parsed **once** into ``weasyprint.CSS`` objects, passed as ``stylesheets=``. They have
  WeasyPrint's "user" origin: a rule in the document's own ``<style>`` (the tenant's colours as custom
  properties, a template's ``{% block style %}``) wins over them.
- The user-agent stylesheet is our ``ua.css`` (parsed once), not WeasyPrint's ``html5_ua.css``: the same
  rules for the elements documents use, without the bare pseudo-element rules (``::marker``, footnotes) that
  made WeasyPrint compute six extra styles for every element (3 ms of an invoice's 53). A test lays every
  shipped document out with both sheets and compares the boxes, their styles and the PDF.
- WeasyPrint's copy of the whole font file per font (6.1 MB for IPAexGothic, twice per invoice) is made only
  if it is read (:func:`_defer_font_files`; the PDF is byte for byte the same): about 3 ms of an invoice.
- The faces of one font file (IPAexGothic's regular and synthetic bold) are subset and embedded once, with the
  glyphs of both (:func:`_share_font_files`; same page, every glyph the same): about 1.6 ms of an invoice, and
  the invoice's PDF 36 -> 31 kB. Tried and dropped: ``font-weight: normal`` instead (the logo's SVG text is bold
  anyway, and the markup would lose its bold), ``nowrap`` on the shrink-to-fit floats (no gain).
- Templates keep elements few: ~90% of a render is per element (styles, boxes, line breaking, painting); e.g. the
  invoice's address lines are one block broken by newlines (``white-space: pre-line``), not a ``<div>`` or ``<br>``
  per line (about 1.5 ms); the lines table has its 備考 (note) column only when a line has a note (a cell per line
  fewer, 1.3–2.1 ms of a five-line invoice); the amount is its block's own text, without a ``<strong>`` or a
  clearing ``::after``. Figures in bench/README.md.
- No shrink-to-fit measuring where the page does not need it: a float without a width is first laid out at its
  narrowest, broken at every opportunity, i.e. between every two Japanese characters, a Pango layout each. The
  invoice header's number and date are ``white-space: pre`` (two lines that never wrap), the amount's label has a
  width (about 1 ms).
- The tenant's colour (``var(--primary)``) is set on a border longhand (``border-bottom-color``), not inside a
  ``border`` shorthand: WeasyPrint resolves a ``var()`` in a shorthand once for each longhand it sets, parsing and
  validating the whole shorthand each time (about 0.8 ms).
- Images (``data:`` URIs: the tenant's logo) are decoded and parsed once per thread, in WeasyPrint's image
  cache kept from one document to the next (:func:`_image_cache`): about 2 ms of an invoice.
- Layout runs on a small dedicated thread pool; each thread keeps its own ``FontConfiguration`` (Pango font
  maps are not thread-safe), so fonts are looked up and loaded once per thread, not once per document.
- The PDF's streams are deflated at level 6 by a WeasyPrint finisher, not at pydyf's level 9 (a third of
  the CPU for a file 1% larger), and WeasyPrint's per-step INFO records are off.
- The memory a render freed goes back to the system (``malloc_trim``) on a thread of its own, after the PDF
  is handed back: the response does not wait for it.
- The PDF is cached in a bounded in-process LRU keyed by a SHA-256 of the rendered HTML and of the
  stylesheets' text: the same content gives the same key (the HTML holds the customer's data and the
  tenant's branding, so a key never matches another customer's or tenant's document), and anything that
  changes the output changes the key, so the cache needs no invalidation. Issued invoices are immutable:
  a second download costs a template render and a hash. The cache is per process, in memory only: no
  copy of personal data (names, addresses, amounts) is left on disk, and nothing needs cleaning up.
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import ctypes.util
import functools
import hashlib
import logging
import mimetypes
import os
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from litestar import Response

from mypage import i18n
from mypage.tenancy.registry import Tenant

_DATA_ONLY = ("data",)


def _fetcher():
    """A WeasyPrint URL fetcher that refuses everything but ``data:`` URIs."""
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=_DATA_ONLY, allow_redirects=False, timeout=1)

        def fetch(self, url, headers=None):
            if not url.lower().startswith("data:"):
                raise ValueError(f"resource refused in PDF documents: {url[:60]}")
            return super().fetch(url, headers)

    return DataOnlyFetcher()


def data_uri(path: Path) -> str:
    """A file's content as a ``data:`` URI (for images embedded in PDF documents)."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


_logo_cache: dict[tuple[Path, int], str] = {}


def logo_data_uri(tenant: Tenant) -> str:
    """The logo as a ``data:`` URI: an uploaded one (``tenant.logo``) or the file, cached per file version."""
    if tenant.logo is not None:
        content_type, data = tenant.logo
        return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
    path = tenant.static_dir / tenant.config.branding.logo
    if not path.is_file():
        return ""
    key = (path, path.stat().st_mtime_ns)
    if key not in _logo_cache:
        _logo_cache[key] = data_uri(path)
    return _logo_cache[key]


def render_html(portal, tenant: Tenant, template: str, context: dict) -> str:
    """The document's HTML, rendered with the tenant's templates (also used for print previews and tests)."""
    locale = context.get("locale") or i18n.current_locale()
    config = tenant.config
    base = {
        "tenant": config,
        "locale": locale,
        "lang": locale,
        "t": lambda key, default: config.text(key, locale) or i18n.gettext(default),
        "ltext": lambda phrase: phrase.get(locale) if phrase is not None else "",
        "logo_data_uri": logo_data_uri(tenant),
        "branding": config.branding,
    }
    return portal.templates_for(tenant).render(template, {**base, **context})


BASE_STYLESHEET = "documents/pdf.css"
_BASE_STYLESHEET_FILE = Path(__file__).parent / "templates" / BASE_STYLESHEET


class Stylesheet:
    """A static stylesheet, parsed once: ``css`` (a ``weasyprint.CSS``) and ``digest`` (of its text)."""

    def __init__(self, text: str):
        from weasyprint import CSS

        self.digest = hashlib.sha256(text.encode("utf-8")).digest()
        # No @font-face in these sheets, so the parsed rules do not depend on a FontConfiguration and
        # can be shared by every rendering thread (matching only reads them).
        self.css = CSS(string=text, base_url=None, url_fetcher=_fetcher())


_sheets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Jinja environment -> {name: Stylesheet}
_sheets_by_text: dict[bytes, Stylesheet] = {}
_sheets_lock = threading.Lock()


def _parsed(text: str) -> Stylesheet:
    key = hashlib.sha256(text.encode("utf-8")).digest()
    sheet = _sheets_by_text.get(key)
    if sheet is None:
        sheet = Stylesheet(text)
        with _sheets_lock:
            _sheets_by_text.setdefault(key, sheet)
    return sheet


def stylesheet(portal, tenant: Tenant, name: str) -> Stylesheet:
    """The parsed stylesheet ``name`` as the tenant's template folders resolve it (tenant, theme, feature),
    read and parsed on first use, like Jinja templates (``auto_reload`` is off)."""
    env = portal.templates_for(tenant).env
    sheet = _sheets.get(env, {}).get(name)
    if sheet is None:
        text, _, _ = env.loader.get_source(env, name)
        sheet = _parsed(text)
        with _sheets_lock:
            _sheets.setdefault(env, {})[name] = sheet
    return sheet


def base_stylesheet() -> Stylesheet:
    """``documents/pdf.css`` of the platform (for :func:`html_to_pdf` called without stylesheets)."""
    return _parsed(_BASE_STYLESHEET_FILE.read_text(encoding="utf-8"))


_local = threading.local()


def _font_config():
    """This thread's FontConfiguration (fonts found and loaded once per thread, not per document)."""
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


_IMAGE_CACHE_ENTRIES = 64


def _image_cache() -> dict:
    """This thread's WeasyPrint image cache (its ``cache`` option), kept from one document to the next.

    The images of documents are ``data:`` URIs, mostly the tenant's logo: with the cache, the logo is decoded
    and parsed (an SVG into its tree and styles) once per thread, not once per document (about 2 ms of an
    invoice). WeasyPrint's cache for one document is a dict too (a PNG's encoded streams are kept in it as
    well); an image used twice in a document is drawn twice from one entry, as here from one document to the
    next. Per thread: entries are not shared between concurrent renders. An SVG's entry keeps the layout
    context of the document that parsed it (about 1 MB per thread). Emptied between two renders when it holds
    more than 64 entries (a new logo after an upload is a new URI), never during one."""
    cache = getattr(_local, "images", None)
    if cache is None or len(cache) > _IMAGE_CACHE_ENTRIES:
        cache = _local.images = {}
    return cache


# WeasyPrint logs each of its seven steps at INFO: with the web server's logging (root at INFO) that is
# seven log records per document, formatted and written by the log thread while the next layout waits.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

_DEFLATE_LEVEL = 6


def _deflate_streams(document, pdf) -> None:
    """A WeasyPrint finisher: deflates the PDF's streams at level 6 before the file is written.

    pydyf deflates them at level 9, which takes three times the CPU of level 6 (about 5 ms of an invoice,
    mostly the embedded font subset) for a file 1% smaller."""
    import pydyf

    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and obj.compress:
            raw = b"\n".join(pydyf._to_bytes(item) for item in obj.stream)
            obj.stream = [zlib.compress(raw, _DEFLATE_LEVEL)]
            obj.extra["Filter"] = "/FlateDecode"
            obj.compress = False


USER_AGENT_STYLESHEET = Path(__file__).parent / "ua.css"
_setup_lock = threading.Lock()


@functools.cache
def _document_class():
    """``weasyprint.HTML`` with the documents' user-agent stylesheet (``ua.css``, parsed once on the first
    render) in place of WeasyPrint's ``html5_ua.css`` (see ua.css for what differs and why); also defers
    WeasyPrint's copies of the font files (:func:`_defer_font_files`) and has the faces of one font file share
    one embedded program (:func:`_share_font_files`)."""
    from weasyprint import CSS, HTML

    user_agent = CSS(string=USER_AGENT_STYLESHEET.read_text(encoding="utf-8"), base_url=None, url_fetcher=_fetcher())

    class DocumentHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return [user_agent]

    with _setup_lock:
        _defer_font_files()
        _share_font_files()
    return DocumentHTML


CHECKED_WEASYPRINT = "70"
"""The major version of WeasyPrint whose internals :func:`_defer_font_files` and :func:`_share_font_files` replace."""


def _checked_weasyprint() -> bool:
    """Whether the installed WeasyPrint is the version those replacements were checked against (else they change
    nothing, and tests/integration/test_pdf_cache.py fails so that they are looked at again)."""
    import weasyprint

    return weasyprint.__version__.split(".")[0] == CHECKED_WEASYPRINT


_deferring = threading.local()


def _defer_font_files() -> None:
    """WeasyPrint's ``Font`` (one per font face and weight a document uses) copies the whole font file into a
    Python ``bytes`` when it is created: 6.1 MB for IPAexGothic, twice per invoice (regular and bold), only
    to replace it with the subset it embeds. Here the copy is made only if something reads it (a variable or
    colour font, a failed subset): the PDF is the same, byte for byte, and a render no longer allocates and
    frees 12 MB (about 3 ms of an invoice: the copies, their page faults and the cache misses after them).

    Checked against WeasyPrint 70 (``Font.__init__`` reads the file with ``get_hb_object_data(hb_face)``
    first); on another major version nothing is changed (tests/integration/test_pdf_cache.py fails then,
    so that it is looked at again)."""
    from weasyprint.pdf import fonts, stream

    if not _checked_weasyprint() or getattr(stream.Font, "deferred_file", False):
        return
    read = fonts.get_hb_object_data

    def get_hb_object_data(hb_object, ot_color=None, glyph=None):
        if ot_color is None and getattr(_deferring, "font", False):
            _deferring.font = False
            return None  # Font.__init__'s copy of the whole file: read later if needed
        return read(hb_object, ot_color, glyph)

    class Font(fonts.Font):
        deferred_file = True

        def __init__(self, *args, **kwargs):
            _deferring.font = True
            try:
                super().__init__(*args, **kwargs)
            finally:
                _deferring.font = False

        @property
        def file_content(self) -> bytes:
            content = self.__dict__.get("_file_content")
            if content is None:
                content = self.__dict__["_file_content"] = read(self.hb_face)
            return content

        @file_content.setter
        def file_content(self, content: bytes | None) -> None:
            self.__dict__["_file_content"] = content

    fonts.get_hb_object_data = get_hb_object_data
    stream.Font = Font


def _share_font_files() -> None:
    """WeasyPrint embeds one font program per face it draws with, and a face is a font *description*: the regular
    and the bold text of an invoice are two faces of the one file IPAexGothic has (the bold is synthetic, from the
    same glyphs), so the same file was subset twice (about 1.6 ms for the bold one) and embedded twice. Here the
    faces of one file are subset once, with the glyphs of all of them, and their font dictionaries (each with its
    own name, widths and ToUnicode map, as before) point to that one font program: it is the same file with the
    same glyph ids (WeasyPrint keeps them), so every glyph draws as before, and the PDF is smaller.

    Only for plain outline fonts: not for bitmap, colour or variable fonts (a variable font's bold is another
    instance of the file), nor fonts with glyphs missing (their .notdef differs) or used in forms (embedded
    whole); WeasyPrint handles those as before. Checked against WeasyPrint 70 (``build_fonts_dictionary`` groups
    the fonts by ``Font.hash`` and subsets each group's first font with its ``clean``); on another major version
    nothing is changed (tests/integration/test_pdf_cache.py fails then, so that it is looked at again)."""
    import pydyf
    from weasyprint import pdf as weasyprint_pdf
    from weasyprint.text.ffi import ffi

    if not _checked_weasyprint() or getattr(weasyprint_pdf.build_fonts_dictionary, "shares", False):
        return
    build = weasyprint_pdf.build_fonts_dictionary

    def shareable(font) -> bool:
        return bool(
            font.to_unicode
            and not (font.bitmap or font.used_in_forms or font.missing or font.png or font.svg or font.colr)
            and "fvar" not in font.tables
        )

    class OneProgramPerFile:
        """The PDF as ``build_fonts_dictionary`` sees it: a font program already added is not added again; the
        second stream takes the first one's object number (so its reference is the first one's)."""

        def __init__(self, pdf, programs: set[int]):
            self._pdf, self._programs = pdf, programs
            self._added: dict[int, pydyf.Stream] = {}

        def add_object(self, obj) -> None:
            if isinstance(obj, pydyf.Stream) and len(obj.stream) == 1 and id(obj.stream[0]) in self._programs:
                first = self._added.get(id(obj.stream[0]))
                if first is not None:
                    obj.number, obj.generation = first.number, first.generation
                    return
                self._added[id(obj.stream[0])] = obj
            self._pdf.add_object(obj)

        def __getattr__(self, name):
            return getattr(self._pdf, name)

    def build_fonts_dictionary(pdf, fonts, compress, subset, options):
        by_file: dict[int, list] = {}
        for font in fonts.values():
            by_file.setdefault(int(ffi.cast("uintptr_t", font.hb_face)), []).append(font)
        programs: set[int] = set()
        for faces in by_file.values():
            if not subset or len({font.hash for font in faces}) < 2 or not all(shareable(font) for font in faces):
                continue
            glyphs: dict = {}
            for font in faces:
                glyphs.update(font.to_unicode)
            faces[0].clean(glyphs, options["hinting"])
            for font in faces:
                font.file_content = faces[0].file_content
                font.clean = lambda to_unicode, hinting: None  # subset already
            programs.add(id(faces[0].file_content))
        return build(OneProgramPerFile(pdf, programs) if programs else pdf, fonts, compress, subset, options)

    build_fonts_dictionary.shares = True  # type: ignore[attr-defined]
    weasyprint_pdf.build_fonts_dictionary = build_fonts_dictionary


def layout(html: str, stylesheets: Sequence[Stylesheet] | None = None):
    """The laid-out ``weasyprint.Document`` of HTML (blocking), with the documents' user-agent stylesheet and
    ``stylesheets`` (default: the base document stylesheet)."""
    sheets = [base_stylesheet()] if stylesheets is None else stylesheets
    document = _document_class()(string=html, base_url=None, url_fetcher=_fetcher())
    return document.render(stylesheets=[sheet.css for sheet in sheets], font_config=_font_config(), cache=_image_cache())


def html_to_pdf(html: str, stylesheets: Sequence[Stylesheet] | None = None) -> bytes:
    """Lays out HTML to PDF (blocking; call through :func:`render_pdf` from async code). Without
    ``stylesheets``, the base document stylesheet applies."""
    return layout(html, stylesheets).write_pdf(finisher=_deflate_streams)


class PdfCache:
    """A bounded LRU of rendered PDFs by content key (thread-safe; at most ``max_bytes`` and ``max_items``)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_items: int = 2000):
        self.max_bytes = max_bytes
        self.max_items = max_items
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(html: str, stylesheets: Sequence[Stylesheet]) -> bytes:
        digest = hashlib.sha256()
        for sheet in stylesheets:
            digest.update(sheet.digest)
        digest.update(html.encode("utf-8"))
        return digest.digest()

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            content = self._items.get(key)
            if content is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return content

    def put(self, key: bytes, content: bytes) -> None:
        if len(content) > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = content
            self._bytes += len(content)
            while self._bytes > self.max_bytes or len(self._items) > self.max_items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


pdf_cache = PdfCache()


def _libc_malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


_malloc_trim = _libc_malloc_trim()


def release_memory() -> None:
    """Gives the memory freed by the last renders back to the system (``malloc_trim(0)``).

    A render allocates and frees megabytes (font tables for subsetting, boxes, the PDF's streams); glibc keeps
    freed pages in its heaps, so a worker stayed larger after its first invoice. The trim ran on the render
    thread before the PDF was handed back (2 ms in the server with WeasyPrint's copies of the font files, 0.05
    ms without them); it now runs on a thread of its own once the render is done, beside the response (it
    covers every thread's heap, and ctypes releases the GIL while it runs)."""
    global _release_queued
    with _release_lock:
        _release_queued = False
    if _malloc_trim is not None:
        _malloc_trim(0)


_release_lock = threading.Lock()
_release_queued = False


def _release_later() -> None:
    """Queues :func:`release_memory` on the release thread, unless a release that has not started yet is
    queued already (it will cover this render too)."""
    global _release_queued
    if _malloc_trim is None:
        return
    with _release_lock:
        if _release_queued:
            return
        _release_queued = True
    _releaser.submit(release_memory)


# Layout is CPU-bound Python (it holds the GIL): more threads than cores would only queue.
_pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="pdf")
# malloc_trim releases the GIL and runs beside the next request; one thread is enough (releases coalesce).
_releaser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-release")


async def render_pdf(
    portal, tenant: Tenant, template: str, context: dict, *, stylesheets: Sequence[str] = (), cache: bool = True
) -> bytes:
    """Renders ``template`` (a tenant template, e.g. ``documents/xxx.html``) to PDF bytes, with the base
    stylesheet and ``stylesheets`` (names of static ``.css`` files in the tenant's template folders).
    ``cache``: answer from / keep in :data:`pdf_cache` (content-addressed, so always correct)."""
    html = render_html(portal, tenant, template, context)
    sheets = [stylesheet(portal, tenant, name) for name in (BASE_STYLESHEET, *stylesheets)]
    key = PdfCache.key(html, sheets) if cache else b""
    if cache:
        content = pdf_cache.get(key)
        if content is not None:
            return content
    try:
        content = await asyncio.get_running_loop().run_in_executor(_pool, html_to_pdf, html, sheets)
    finally:
        _release_later()
    if cache:
        pdf_cache.put(key, content)
    return content


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="..."; filename*=UTF-8''...`` (RFC 6266 / RFC 5987 for non-ASCII names)."""
    ascii_name = "".join(c if (c.isascii() and c.isprintable() and c not in '"\\;') else "_" for c in filename)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def pdf_response(content: bytes, filename: str, *, inline: bool = False) -> Response:
    """A PDF download (``Content-Disposition: attachment``; Japanese file names through ``filename*``)."""
    return Response(
        content=content,
        media_type="application/pdf",
        headers={
            "content-disposition": content_disposition(filename, "inline" if inline else "attachment"),
            "cache-control": "private, no-store",
        },
    )
