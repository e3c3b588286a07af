"""The invoice's address blocks (and the header's number and date) are one element each, their lines broken by newlines (``.lines-of``, white-space:
pre-line) instead of a <div> per line or <br>s (fewer elements to lay out). They must lay out exactly as the
markup with a <div> per line (the customer) and <br>s (the issuer, the header) did, whatever the customer's data: every text
on the page at the same place, no line more or less."""

from __future__ import annotations

import io
import re

import pytest
from billing_data import account, customer, invoice, sign_in
from pypdf import PdfReader

from mypage.documents import pdf


def with_elements(html: str) -> str:
    """The same invoice with the markup before ``.lines-of``: a <div> per line of the customer, <br>s for the issuer."""

    def customer_lines(match: re.Match) -> str:
        return "".join(f"<div>{line}</div>" for line in match.group(1).split("\n"))

    html, customers = re.subn(r'<div class="lines-of">(.*?)</div>', customer_lines, html, flags=re.S)
    html, issuers = re.subn(
        r'<div class="invoice-from lines-of">(.*?)</div>',
        lambda match: '<div class="invoice-from">' + match.group(1).replace("\n", "<br>") + "</div>",
        html,
        flags=re.S,
    )
    html, headers = re.subn(
        r'(<div class="doc-header">.*?<div class="muted">)(.*?)(</div>)',
        lambda match: match.group(1) + match.group(2).replace("\n", "<br>") + match.group(3),
        html,
        flags=re.S,
    )
    assert issuers == headers == 1 and customers <= 1
    return html


def texts(document) -> list[tuple]:
    """Every piece of text on every page, with its place."""
    return [
        (number, round(box.position_x, 3), round(box.position_y, 3), round(box.width, 3), box.text.strip())
        for number, page in enumerate(document.pages, start=1)
        for box in page._page_box.descendants()
        if hasattr(box, "text") and box.text.strip()
    ]


CUSTOMERS = {
    "full": dict(address2="1-2-3", building="メディアビル 301"),
    "no postal code": dict(postal_code=""),
    "no address": dict(prefecture="", address1=""),
    "building only": dict(prefecture="", address1="", building="メディアビル"),
    "line breaks in the address": dict(address1="大阪市\r\n都島区", address2="東野田町\n1-2-3"),
    "long address": dict(address1="大阪市都島区東野田町" * 4, building="とても長い名前のマンション　三〇一号室"),
}


@pytest.mark.parametrize("case", list(CUSTOMERS))
def test_address_lines_lay_out_as_a_div_or_br_per_line(client_for, rendered, case):
    number = f"09{list(CUSTOMERS).index(case):05d}"
    cid = customer("aicom", number, name="請求　太郎", **CUSTOMERS[case])
    invoice("aicom", cid, f"LINES-{number}", "2023-11", [("基本料金", 4800, 10)])
    client = sign_in(client_for("aicom"), "aicom", account("aicom", cid, f"lines-{number}"))
    assert client.get(f"/billing/LINES-{number}/pdf").status_code == 200

    ((html, sheets),) = rendered
    assert 'class="lines-of"' in html
    ours, before = pdf.layout(html, sheets), pdf.layout(with_elements(html), sheets)
    assert texts(ours) == texts(before)
    assert any("請求" in text for *_, text in texts(ours))


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def column_widths(document) -> list[float]:
    """The widths of the lines table's header cells, as fractions of the table's width."""
    from weasyprint.formatting_structure import boxes

    (table,) = [
        box
        for box in document.pages[0]._page_box.descendants()
        if isinstance(box, boxes.TableBox) and "lines" in box.element.get("class", "").split()
    ]
    (header,) = table.header_row_groups if hasattr(table, "header_row_groups") else [table.children[0]]
    assert header.element_tag == "thead"
    cells = [box for box in header.descendants() if isinstance(box, boxes.TableCellBox)]
    return [round(cell.border_width() / table.border_width(), 2) for cell in cells]


def test_note_column_only_when_a_line_has_a_note(client_for, rendered):
    """備考 (note): shown in its own column when a line of the invoice has one; without any, no empty column (its
    width goes to the description), and the page is otherwise as with the column."""
    cid = customer("aicom", "0900101", name="請求　次郎")
    invoice("aicom", cid, "NOTE-1", "2023-11", [("基本料金", 4800, 10), ("工事費（分割 3/24）", 1000, 10, None, "残り21回")])
    invoice("aicom", cid, "NOTE-2", "2023-11", [("基本料金", 4800, 10), ("工事費", 1000, 10)], group=None)
    client = sign_in(client_for("aicom"), "aicom", account("aicom", cid, "note-user"))

    with_note = client.get("/billing/NOTE-1/pdf")
    assert with_note.status_code == 200
    text = pdf_text(with_note.content)
    assert "備考" in text and "残り21回" in text and "工事費（分割 3/24）" in text
    ((html, sheets),) = rendered
    lines_table = re.search(r'<table class="lines">.*?</table>', html, flags=re.S).group(0)
    assert lines_table.count("<td>") == 2 * 2  # the description and the note cell of each line
    document = pdf.layout(html, sheets)
    assert column_widths(document) == [0.45, 0.13, 0.28, 0.14]
    (note,) = [box for box in document.pages[0]._page_box.descendants() if getattr(box, "text", "") == "残り21回"]
    (header,) = [box for box in document.pages[0]._page_box.descendants() if getattr(box, "text", "") == "備考"]
    assert abs(note.position_x - header.position_x) < 0.01  # in the 備考 column

    rendered.clear()
    without = client.get("/billing/NOTE-2/pdf")
    assert without.status_code == 200
    text = pdf_text(without.content)
    assert "備考" not in text and "工事費" in text and "基本料金" in text
    ((html, sheets),) = rendered
    lines_table = re.search(r'<table class="lines">.*?</table>', html, flags=re.S).group(0)
    assert "備考" not in html and lines_table.count("<td>") == 2 and 'colspan="4"' not in html
    assert column_widths(pdf.layout(html, sheets)) == [0.59, 0.13, 0.28]
