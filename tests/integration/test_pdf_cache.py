"""The PDF renderer's speed-ups keep documents correct: static stylesheets parsed once, and the
content-addressed PDF cache (same content -> same PDF; other content, customer or tenant -> another key)."""

from __future__ import annotations

from datetime import date

import contract_records as rec
from billing_data import account, contract, customer, group, invoice, run, sign_in

from mypage.documents import pdf


def test_second_download_of_an_invoice_is_served_from_the_cache(client_for):
    cid = customer("aicom", "0000901", name="キャッシュ　太郎")
    g = group("aicom", cid, "G901")
    hikari = contract("aicom", cid, "0000901", group=g)
    invoice("aicom", cid, "CACHE-1", "2023-11", [("基本料金", 1000, 10, hikari)], group=g)
    client = sign_in(client_for("aicom"), "aicom", account("aicom", cid, "cache-user"))

    first = client.get("/billing/CACHE-1/pdf")
    hits = pdf.pdf_cache.hits
    second = client.get("/billing/CACHE-1/pdf")
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert pdf.pdf_cache.hits == hits + 1


def test_cache_key_depends_on_the_html_and_the_stylesheets(portal):
    aicom, itscom = portal.tenants.get("aicom"), portal.tenants.get("itscom")
    html_a = pdf.render_html(portal, aicom, "documents/_base.html", {})
    html_b = pdf.render_html(portal, itscom, "documents/_base.html", {})
    base = pdf.stylesheet(portal, aicom, pdf.BASE_STYLESHEET)
    extra = pdf.stylesheet(portal, aicom, "billing/invoice_pdf.css")
    assert html_a != html_b  # the branding (name, logo, colour) is in the HTML
    assert pdf.PdfCache.key(html_a, [base]) != pdf.PdfCache.key(html_b, [base])
    assert pdf.PdfCache.key(html_a, [base]) != pdf.PdfCache.key(html_a, [base, extra])
    assert pdf.PdfCache.key(html_a, [base]) == pdf.PdfCache.key(html_a, [base])
    # Parsed once: the same object on every call.
    assert pdf.stylesheet(portal, aicom, pdf.BASE_STYLESHEET) is base


def test_cache_is_bounded_least_recently_used_first():
    cache = pdf.PdfCache(max_bytes=1000, max_items=3)
    for n in range(3):
        cache.put(bytes([n]), b"x" * 100)
    assert cache.get(bytes([0])) is not None  # 0 is now the most recently used
    cache.put(bytes([3]), b"x" * 100)
    assert len(cache) == 3 and cache.get(bytes([1])) is None and cache.get(bytes([0])) is not None
    by_size = pdf.PdfCache(max_bytes=1000, max_items=100)
    for n in range(6):  # 6 x 200 bytes: the oldest goes
        by_size.put(bytes([n]), b"x" * 200)
    assert len(by_size) == 5 and by_size.get(bytes([0])) is None and by_size._bytes <= 1000
    by_size.put(b"huge", b"x" * 600)  # more than a quarter of the budget: not kept
    assert by_size.get(b"huge") is None


def test_render_pdf_without_cache_renders_again(portal):
    tenant = portal.tenants.get("itscom")
    misses = pdf.pdf_cache.misses
    content = run(pdf.render_pdf(portal, tenant, "documents/_base.html", {}, cache=False))
    assert content.startswith(b"%PDF") and pdf.pdf_cache.misses == misses


def test_streams_deflated_by_the_finisher_decode_and_embed_the_japanese_font():
    import io
    import zlib

    from pypdf import PdfReader

    content = pdf.html_to_pdf("<html lang=ja><body><p>請求書 ご請求金額 10,753円</p><p><strong>合計</strong></p></body></html>")
    reader = PdfReader(io.BytesIO(content))
    page = reader.pages[0]
    assert "請求書 ご請求金額 10,753円" in page.extract_text()
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert {font["/BaseFont"].split("+")[-1] for font in fonts} >= {"IPAexGothic"}
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        embedded = descriptor["/FontFile2"].get_object()
        assert embedded["/Filter"] == "/FlateDecode"
        subset = embedded.get_data()  # pypdf inflates it: a whole TrueType font, a subset of IPAexGothic
        assert subset[:4] == b"\x00\x01\x00\x00" and 1_000 < len(subset) < 1_000_000
        assert zlib.decompress(embedded._data) == subset
        assert embedded._data[:2] == b"\x78\x9c"  # zlib header of level 6 (pydyf's level 9 writes 78 da)


INVOICE_LIKE = (
    "<html lang=ja><body><h1>請求書</h1><p>日本　太郎 様</p><table><tr><th>ご請求金額</th><td><strong>10,753円</strong></td></tr>"
    "</table></body></html>"
)


def test_a_render_does_not_copy_the_font_files_and_the_pdf_is_unchanged(monkeypatch):
    """WeasyPrint's Font copies the whole font file (6.1 MB for IPAexGothic) when it is made, once per face and
    weight; the renderer's Font reads it only if something needs it. The subset it embeds, and so the PDF, are
    the same byte for byte."""
    import tracemalloc

    from weasyprint.pdf import fonts, stream

    pdf.html_to_pdf(INVOICE_LIKE)  # fonts loaded, the renderer set up
    assert getattr(stream.Font, "deferred_file", False), "checked with WeasyPrint 70 only: see pdf._defer_font_files"
    tracemalloc.start()
    try:
        deferred = pdf.html_to_pdf(INVOICE_LIKE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # regular and bold: two copies of 6.1 MB before
    monkeypatch.setattr(stream, "Font", fonts.Font)  # WeasyPrint's own
    assert pdf.html_to_pdf(INVOICE_LIKE) == deferred


def test_memory_is_released_after_the_pdf_is_handed_back(portal, monkeypatch):
    """``malloc_trim`` runs on the release thread once the render is done: the response does not wait for it."""
    import threading
    import time

    trimmed, threads = threading.Event(), []

    def slow_trim(pad: int) -> int:
        threads.append(threading.current_thread().name)
        time.sleep(1)
        trimmed.set()
        return 1

    monkeypatch.setattr(pdf, "_malloc_trim", slow_trim)
    content = run(pdf.render_pdf(portal, portal.tenants.get("itscom"), "documents/_base.html", {}, cache=False))
    assert content.startswith(b"%PDF") and not trimmed.is_set()
    assert trimmed.wait(10) and threads == ["pdf-release_0"]


def test_images_are_parsed_once_per_thread_and_documents_are_unchanged(portal):
    """The logo (an SVG ``data:`` URI) is kept in the thread's image cache from one document to the next; a
    document drawn with the cached logo is the same, byte for byte, as one that parsed it itself."""
    from weasyprint import HTML

    tenant = portal.tenants.get("aicom")
    html = pdf.render_html(portal, tenant, "documents/_base.html", {})
    logo = pdf.logo_data_uri(tenant)
    assert logo.startswith("data:image/svg+xml") and logo in html
    first = pdf.html_to_pdf(html)
    cached = pdf._image_cache()[logo]
    again = pdf.html_to_pdf(html.replace("</body>", "<p>二通目</p></body>"))
    assert pdf._image_cache()[logo] is cached  # not parsed again
    fresh = HTML(string=html.replace("</body>", "<p>二通目</p></body>"), base_url=None, url_fetcher=pdf._fetcher())
    assert again == fresh.render(stylesheets=[pdf.base_stylesheet().css], font_config=pdf._font_config()).write_pdf(
        finisher=pdf._deflate_streams
    )
    assert pdf.html_to_pdf(html) == first


def _fonts_of(content: bytes) -> dict:
    """Each font of the PDF's page by name: its widths, ToUnicode map, the object number and the glyphs of its
    embedded program."""
    import io

    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(content)).pages[0]
    fonts = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        program = descendant["/FontDescriptor"].get_object().raw_get("/FontFile2")
        widths = list(descendant["/W"])
        used = [gid for start, run in zip(widths[::2], widths[1::2], strict=True) for gid in range(start, start + len(run))]
        tt = TTFont(io.BytesIO(program.get_object().get_data()))
        order = tt.getGlyphOrder()
        glyphs = {gid: tt["glyf"][order[gid]].compile(tt["glyf"]) for gid in used}
        fonts[font["/BaseFont"]] = (widths, font["/ToUnicode"].get_object().get_data(), program.idnum, glyphs)
    return fonts


def _with_and_without_shared_fonts(monkeypatch, html: str, stylesheets=None) -> tuple[bytes, bytes]:
    """The PDF of ``html`` with pdf._share_font_files in effect, then with WeasyPrint's own fonts dictionary."""
    from weasyprint import pdf as weasyprint_pdf
    from weasyprint.pdf import fonts

    shared = pdf.html_to_pdf(html, stylesheets)
    assert getattr(weasyprint_pdf.build_fonts_dictionary, "shares", False), (
        "checked with WeasyPrint 70 only: see pdf._share_font_files"
    )
    with monkeypatch.context() as patch:
        patch.setattr(weasyprint_pdf, "build_fonts_dictionary", fonts.build_fonts_dictionary)  # WeasyPrint's own
        separate = pdf.html_to_pdf(html, stylesheets)
    return shared, separate


def _assert_drawn_the_same(shared: bytes, separate: bytes) -> None:
    """Every font keeps its name, widths and ToUnicode map, each glyph it uses is the same glyph as in its own
    subset, and every page draws the same."""
    import io

    from pypdf import PdfReader

    ours, theirs = _fonts_of(shared), _fonts_of(separate)
    assert set(ours) == set(theirs)
    for name, (widths, to_unicode, _, glyphs) in theirs.items():
        assert ours[name][0] == widths and ours[name][1] == to_unicode, name
        assert ours[name][3] == glyphs, name  # the same outlines for every glyph the font draws
    pages = [PdfReader(io.BytesIO(content)).pages for content in (shared, separate)]
    assert len(pages[0]) == len(pages[1])
    for mine, theirs_page in zip(*pages, strict=True):
        assert mine.get_contents().get_data() == theirs_page.get_contents().get_data()  # the same drawing


def test_the_faces_of_one_font_file_share_one_embedded_subset(monkeypatch):
    """The regular and the (synthetic) bold text of IPAexGothic are two faces of one file: it is subset and
    embedded once, with the glyphs of both (pdf._share_font_files), and the page is drawn the same."""
    shared, separate = _with_and_without_shared_fonts(monkeypatch, INVOICE_LIKE)
    assert len(shared) < len(separate)
    ours, theirs = _fonts_of(shared), _fonts_of(separate)
    assert {name.split("+")[-1] for name in ours} == {"IPAexGothic", "IPAexGothic-Bold"}
    assert len({program for _, _, program, _ in ours.values()}) == 1  # one embedded program
    assert len({program for _, _, program, _ in theirs.values()}) == 2
    _assert_drawn_the_same(shared, separate)


def test_contract_documents_with_other_fonts_are_drawn_the_same_with_shared_faces(client_for, rendered, monkeypatch):
    """The opening notice (IPAexMincho beside IPAexGothic) and the contract confirmation (the logo's DejaVu Sans
    Bold): the faces of IPAexGothic share one program, the other fonts keep their own, and both documents are
    drawn as with WeasyPrint's own fonts dictionary."""
    customer_id = rec.customer("nmedia", "CAF0000000721", name="顧客s")
    contract_id = rec.contract("nmedia", customer_id, "CAF0000000721", holder_name="日本　花子", access_key="aaAA1234")
    rec.phone_line("nmedia", contract_id, "0612345678", service_name="mediaひかり電話")
    notice = rec.document("nmedia", customer_id, contract_id, "opening_notice", date(2023, 12, 1), title="開通案内")
    client = rec.sign_in(client_for("nmedia"), "nmedia", rec.account("nmedia", customer_id, "share-notice"))
    assert client.get(f"/contracts/CAF0000000721/opening-notice?document={notice.id}").status_code == 200
    holder = rec.customer("itscom", "500721", name="世田谷 花子", plan_name="かっとび光 1G", renewal_window="2025年1月~2025年3月")
    rec.contract("itscom", holder, "IT0721", service_name="イッツコム光", plan_name="かっとび光 1G", monthly_fee=5280)
    client = rec.sign_in(client_for("itscom"), "itscom", rec.account("itscom", holder, "share-confirm@example.jp"))
    assert client.get("/contracts/confirmation.pdf").status_code == 200

    documents = list(rendered)
    assert len(documents) == 2
    families = []
    for html, stylesheets in documents:
        shared, separate = _with_and_without_shared_fonts(monkeypatch, html, stylesheets)
        ours = _fonts_of(shared)
        families.append({name.split("+")[-1] for name in ours})
        gothic = {program for name, (_, _, program, _) in ours.items() if "IPAexGothic" in name}
        others = {program for name, (_, _, program, _) in ours.items() if "IPAexGothic" not in name}
        assert len(gothic) == 1 and not gothic & others
        _assert_drawn_the_same(shared, separate)
    assert families == [
        {"IPAexGothic", "IPAexGothic-Bold", "IPAexMincho"},
        {"IPAexGothic", "IPAexGothic-Bold", "DejaVu-Sans-Bold"},
    ]
