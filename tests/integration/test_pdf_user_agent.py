"""The documents' user-agent stylesheet (documents/ua.css, in place of WeasyPrint's html5_ua.css) changes
nothing in a document: every shipped PDF document, as its route hands it to the renderer, and a specimen of
every element ua.css covers are laid out with both sheets, and the boxes (position, size, text and every
computed style property) and the PDF files must be the same. A rule a document needs cannot go missing
unnoticed."""

from __future__ import annotations

import math
from datetime import date

import billing_data as bill
import contract_records as rec

from mypage.documents import pdf


def weasyprint_layout(html: str, sheets):
    """The same document laid out with WeasyPrint's own user-agent stylesheet."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=None, url_fetcher=pdf._fetcher())
    return document.render(stylesheets=[sheet.css for sheet in sheets], font_config=pdf._font_config())


def _value(value):
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else value
    return value


def _style(style, name: str) -> str:
    try:
        return repr(style[name])
    except KeyError:  # logical properties (border_block_end_width…): computed as the physical ones
        return "-"


def boxes(document) -> list[tuple]:
    """Every box of every page: kind, element, geometry, text and all of its computed style."""
    from weasyprint.css.properties import INITIAL_VALUES

    rows = []
    for number, page in enumerate(document.pages, start=1):
        for box in page._page_box.descendants(placeholders=True):
            geometry = tuple(
                _value(getattr(box, name, None))
                for name in (
                    "position_x",
                    "position_y",
                    "width",
                    "height",
                    "margin_top",
                    "margin_right",
                    "margin_bottom",
                    "margin_left",
                    "padding_top",
                    "padding_right",
                    "padding_bottom",
                    "padding_left",
                    "border_top_width",
                    "border_right_width",
                    "border_bottom_width",
                    "border_left_width",
                )
            )
            style = tuple((name, _style(box.style, name)) for name in sorted(INITIAL_VALUES))
            rows.append((number, type(box).__name__, box.element_tag, geometry, getattr(box, "text", None), style))
    return rows


def assert_same_layout(html: str, sheets, what: str) -> None:
    ours, theirs = pdf.layout(html, sheets), weasyprint_layout(html, sheets)
    assert len(ours.pages) == len(theirs.pages), what
    our_boxes, their_boxes = boxes(ours), boxes(theirs)
    for index, (mine, wanted) in enumerate(zip(our_boxes, their_boxes, strict=False)):
        if mine != wanted:
            differing = [(a, b) for a, b in zip(mine[5], wanted[5], strict=True) if a != b]
            raise AssertionError(
                f"{what}: box {index} ({wanted[1]} <{wanted[2]}> {wanted[4]!r}) differs from WeasyPrint's user-agent "
                f"stylesheet: geometry {mine[3]} vs {wanted[3]}; style (ours, WeasyPrint's) {differing[:5]}"
            )
    assert len(our_boxes) == len(their_boxes), what
    assert ours.make_bookmark_tree() == theirs.make_bookmark_tree(), what
    # And the file itself, byte for byte (same fonts, same text, same drawing).
    assert ours.write_pdf(finisher=pdf._deflate_streams) == theirs.write_pdf(finisher=pdf._deflate_streams), what


def test_invoices_lay_out_as_with_weasyprints_stylesheet(client_for, rendered):
    cid = bill.customer("nmedia", "CAF0000000701", name="日本　花子", address2="1-2-3", building="メディアビル 301")
    g = bill.group("nmedia", cid, "G701", "本社一括")
    hikari = bill.contract("nmedia", cid, "CAF0000000701", group=g)
    cloud = bill.contract("nmedia", cid, "COP00000702", group=g, service_name="Lite Storage")
    lines = [
        ("mediaひかり 基本料金", 4800, 10, hikari),
        ("mediaITサポート24", 3300, 10, hikari, "12月分"),
        ("長期継続割引", -550, 10, hikari),
        ("情報誌（定期購読）", 1249, 8, hikari),
        ("Lite Storage", 1000, 10, cloud),
        ("事務手数料", 3000, 0, None),
    ]
    bill.invoice("nmedia", cid, "000000000000000701", "2023-12", lines, group=g)
    nmedia = bill.sign_in(client_for("nmedia"), "nmedia", bill.account("nmedia", cid, "ua-nmedia"))
    assert nmedia.get("/billing/000000000000000701/pdf").status_code == 200
    aicom_customer = bill.customer("aicom", "0000702")
    bill.invoice("aicom", aicom_customer, "UA-702", "2023-11", [("基本料金", 4800, 10)])  # with the aicom logo
    aicom = bill.sign_in(client_for("aicom"), "aicom", bill.account("aicom", aicom_customer, "ua-aicom"))
    assert aicom.get("/billing/UA-702/pdf").status_code == 200

    assert len(rendered) == 2 and all('class="invoice-amount"' in html for html, _ in rendered)
    assert "<img" in rendered[1][0]
    for html, sheets in rendered:
        assert_same_layout(html, sheets, "invoice")


def test_contract_documents_lay_out_as_with_weasyprints_stylesheet(client_for, rendered):
    cust, acc = rec.customer("nmedia", "CAF0000000711", name="顧客r"), None
    acc = rec.account("nmedia", cust, "ua-notice")
    contract = rec.contract("nmedia", cust, "CAF0000000711", holder_name="日本　花子", access_key="aaAA1234")
    rec.phone_line("nmedia", contract, "0612345678", service_name="mediaひかり電話")
    notice = rec.document("nmedia", cust, contract, "opening_notice", date(2023, 12, 1), title="開通案内")
    client = rec.sign_in(client_for("nmedia"), "nmedia", acc)
    assert client.get(f"/contracts/CAF0000000711/opening-notice?document={notice.id}").status_code == 200

    holder = rec.customer("itscom", "500711", name="世田谷 花子", plan_name="かっとび光 1G", renewal_window="2025年1月~2025年3月")
    internet = rec.contract("itscom", holder, "IT0711", service_name="イッツコム光", plan_name="かっとび光 1G", monthly_fee=5280)
    rec.option("itscom", internet, 1, "マルチデバイスセキュリティ")
    rec.option("itscom", internet, 2, "固定IPアドレス")
    rec.contract("itscom", holder, "IT0712", service_name="テレビ", plan_name="ベーシック", monthly_fee=1045)
    client = rec.sign_in(client_for("itscom"), "itscom", rec.account("itscom", holder, "ua-confirm@example.jp"))
    assert client.get("/contracts/confirmation.pdf").status_code == 200

    assert [("開通案内" in html, "契約内容確認書" in html) for html, _ in rendered] == [(True, False), (False, True)]
    for html, sheets in rendered:
        assert_same_layout(html, sheets, "contract document")


SPECIMEN = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>見本</title><style>:root { --primary: #0a7d3b; }</style></head>
<body>
<header><h1>見出し1</h1></header>
<main>
<h2>見出し2</h2><h3>見出し3</h3><h4>見出し4</h4><h5>見出し5</h5><h6>見出し6</h6>
<p>本文 <em>強調</em> <i>斜体</i> <b>太字</b> <strong>重要</strong> <u>下線</u> <ins>挿入</ins> <s>取消</s> <del>削除</del>
<small>小さく</small> <big>大きく</big> H<sub>2</sub>O x<sup>2</sup> <mark>印</mark> <q>引用</q> <abbr title="略語">略</abbr>
<cite>出典</cite> <dfn>定義</dfn> <var>x</var> <code>code</code> <kbd>Ctrl</kbd> <samp>出力</samp> <tt>tt</tt>
<a href="https://example.jp/">リンク</a> <span hidden>隠し</span> <nobr>改行しない長い語句</nobr> 分<wbr>割<br>改行の後</p>
<ul><li>一<ul><li>二<ul><li>三</li></ul></li></ul></li><li>四</li></ul>
<ol><li>第一</li><li>第二<ol><li>入れ子</li></ol></li></ol>
<menu><li>メニュー</li></menu>
<dl><dt>用語</dt><dd>説明</dd></dl>
<blockquote>引用文</blockquote>
<figure><img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSI0MCIgaGVpZ2h0PSIyMCI+PHJlY3Qgd2lkdGg9IjQwIiBoZWlnaHQ9IjIwIiBmaWxsPSIjMGE3ZDNiIi8+PC9zdmc+" alt="図"><figcaption>図の説明</figcaption></figure>
<pre>整形済み
  テキスト</pre>
<hr>
<address>大阪府大阪市</address>
<center>中央</center>
<table><caption>表題</caption><colgroup><col><col></colgroup>
<thead><tr><th>項目</th><th>値</th></tr></thead>
<tbody><tr><td>一</td><td>1</td></tr></tbody>
<tfoot><tr><td>計</td><td>1</td></tr></tfoot></table>
<table border="1"><tr><td>tbody なし</td></tr></table>
<section><article><aside>補足</aside><nav>ナビ</nav></article></section>
<details open><summary>概要</summary>詳細</details>
<div dir="rtl">右から左</div>
</main>
<footer><p>フッター</p></footer>
</body></html>"""


def test_every_element_ua_css_covers_lays_out_as_with_weasyprints_stylesheet():
    assert_same_layout(SPECIMEN, [pdf.base_stylesheet()], "specimen")


def test_the_documents_user_agent_stylesheet_is_the_one_in_effect():
    """Form fields are left out of ua.css: with WeasyPrint's sheet an input gets a 1px border, with ours none."""
    html = "<html><body><p>入力 <input value='x'></p></body></html>"
    sheets = [pdf.base_stylesheet()]

    def input_borders(document) -> set:
        return {box.border_top_width for box in document.pages[0]._page_box.descendants() if box.element_tag == "input"}

    assert input_borders(weasyprint_layout(html, sheets)) == {1}
    assert input_borders(pdf.layout(html, sheets)) <= {0}
