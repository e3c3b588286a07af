"""Layout on a phone (390×844) and on a desktop (1280×900), measured in Chromium with the demo accounts:

- no horizontal scrolling (``document.documentElement.scrollWidth <= innerWidth``);
- every radio button / check box sits on the first line of its label's text, right before it, and a short
  label (「一般」「あり」「ON」) or a 必須 badge is not broken over two lines;
- the label of a stacked table cell (``td::before``) is one line (「ご利用内/容」「メールアド/レス」 before);
- the menu: a 「メニュー」 button on the first screen of a phone, the groups (A–D on iTSCOM) behind it,
  group labels readable on the menu colour (contrast ≥ 4.5:1); on a desktop the button is hidden;
- tenant documents: nmedia's 利用規約 at /terms, linked from its registration form; 404 elsewhere;
- the nmedia invoice PDF keeps each date on one line.

One browser context (phone-sized, touch) is shared by the module; desktop checks resize its page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .logins import download, login_aicom, login_itscom, login_nmedia, pdf_text

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# Returns a list of problems on the current page (empty: the layout is right).
PROBLEMS = r"""
() => {
  const problems = [];
  const page = location.pathname + location.search;
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) problems.push(`${page}: horizontal overflow ${root.scrollWidth} > ${window.innerWidth}`);
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const lineRects = (node) => { const range = document.createRange(); range.selectNodeContents(node); return [...range.getClientRects()].filter(r => r.width > 0); };
  // How many lines some text rectangles fill: their vertical centres, grouped when closer than half a line.
  const lines = (rects) => rects.map(r => r.top + r.height / 2).sort((a, b) => a - b).filter((c, i, all) => i === 0 || c - all[i - 1] > 8).length;

  const textRects = (element) => {
    const rects = [], walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode())
      if (node.textContent.trim() && !node.parentElement.closest('.visually-hidden')) rects.push(...lineRects(node));
    return rects;
  };
  window.__textLines = (element) => lines(textRects(element));

  // Radio buttons and check boxes: on the first line of the label's text, just before it.
  for (const input of document.querySelectorAll('input[type=radio], input[type=checkbox]')) {
    if (!visible(input)) continue;
    const label = input.closest('label') || (input.labels && input.labels[0]);
    if (!label) { problems.push(`${page}: ${input.name || input.id} has no label`); continue; }
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT, { acceptNode: (n) => n.textContent.trim() && !n.parentElement.closest('.visually-hidden') ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP });
    const first = walker.nextNode();
    if (!first) { problems.push(`${page}: the label of ${input.name} has no text`); continue; }
    const text = lineRects(first)[0];
    const box = input.getBoundingClientRect();
    const lineHeight = parseFloat(getComputedStyle(label).lineHeight) || text.height;
    const lineTop = text.top + text.height / 2 - lineHeight / 2;
    const name = `${input.name || input.id}「${label.textContent.trim().slice(0, 20)}」`;
    const middle = box.top + box.height / 2;
    if (middle < text.top || middle > text.bottom || box.top < lineTop - 1 || box.bottom > lineTop + lineHeight + 1)
      problems.push(`${page}: ${name} is not on the first line of its text (box ${Math.round(box.top)}–${Math.round(box.bottom)}, line ${Math.round(lineTop)}–${Math.round(lineTop + lineHeight)})`);
    if (box.width > parseFloat(getComputedStyle(label).fontSize) * 2) problems.push(`${page}: ${name} is stretched to ${Math.round(box.width)}px`);
    if (text.left < box.right || text.left - box.right > parseFloat(getComputedStyle(label).fontSize) * 1.5)
      problems.push(`${page}: ${name} is not right before its text (${Math.round(text.left - box.right)}px away)`);
    const labelText = [...label.childNodes].filter(n => n !== input).map(n => n.textContent).join('').trim();
    if (labelText.length <= 12) {
      const rects = textRects(label);
      if (lines(rects) > 1) problems.push(`${page}: the short label ${name} breaks over ${lines(rects)} lines`);
    }
  }
  // 必須 badges and similar: one line.
  for (const badge of document.querySelectorAll('.required')) {
    if (!visible(badge)) continue;
    const style = getComputedStyle(badge);
    if (badge.getClientRects().length > 1 || badge.getBoundingClientRect().height > parseFloat(style.lineHeight) * 1.5 + 4)
      problems.push(`${page}: the badge 「${badge.textContent.trim()}」 breaks`);
  }
  // Stacked tables (phones): each cell's label is one line.
  for (const td of document.querySelectorAll('table.data.stack td[data-label]')) {
    if (!visible(td)) continue;
    const label = getComputedStyle(td, '::before');
    if (label.content === 'none' || label.display === 'none' || getComputedStyle(td).display === 'table-cell') continue;
    const height = parseFloat(label.height), lineHeight = parseFloat(label.lineHeight);
    if (height > lineHeight * 1.5) problems.push(`${page}: the stacked label 「${td.dataset.label}」 breaks (${height}px for a ${lineHeight}px line)`);
  }
  return problems;
}
"""

CONTRAST = r"""
(el) => {
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
  const style = getComputedStyle(el);
  let bg = null;
  for (let node = el; node; node = node.parentElement) {
    const value = rgb(getComputedStyle(node).backgroundColor);
    if (value.length === 3 || (value.length === 4 && value[3] === 1)) { bg = value.slice(0, 3); break; }
  }
  bg = bg || [255, 255, 255];
  const fg = rgb(style.color).slice(0, 3);
  const opacity = parseFloat(style.opacity);
  const mixed = fg.map((v, i) => v * opacity + bg[i] * (1 - opacity));
  const [a, b] = [lum(mixed), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
"""


@pytest.fixture(scope="module")
def shared(browser):
    """One phone-sized context and page for the whole module (desktop checks resize the page)."""
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(shared):
    shared.set_viewport_size(PHONE)
    return shared


def check(page, path: str | None = None, live=None, tenant: str | None = None) -> None:
    if path is not None:
        response = page.goto(live.url(tenant, path))
        assert response.status == 200, f"{tenant} {path}: {response.status}"
    problems = page.evaluate(PROBLEMS)
    assert not problems, "\n".join(problems)


def check_phone_menu(page, groups: int) -> None:
    """The 「メニュー」 button is on the first screen and the header stays short; the button opens the groups."""
    toggle = page.locator("header summary.menu__toggle")
    expect(toggle).to_be_visible()
    box = toggle.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] / 4, box
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] <= PHONE["height"] / 4, f"the header takes {header['height']}px"
    labels = page.locator("header .menu__group-label")
    expect(labels.first).to_be_hidden()
    toggle.click()
    expect(labels).to_have_count(groups)
    for index in range(groups):
        expect(labels.nth(index)).to_be_visible()
        ratio = labels.nth(index).evaluate(CONTRAST)
        assert ratio >= 4.5, f"menu group label 「{labels.nth(index).inner_text()}」: contrast {ratio:.2f}"
    check(page)
    toggle.click()
    expect(labels.first).to_be_hidden()


def check_desktop(page, live, tenant: str, paths: list[str]) -> None:
    page.set_viewport_size(DESKTOP)
    try:
        for path in paths:
            check(page, path, live, tenant)
            if path != "/login" and page.locator("header .menu").count() and page.locator("header .menu").is_visible():
                expect(page.locator("header summary.menu__toggle")).to_be_hidden()
                expect(page.locator("header .menu__items a").first).to_be_visible()
    finally:
        page.set_viewport_size(PHONE)


def test_aicom(live_server, phone_page):
    page, live = phone_page, live_server
    page.context.clear_cookies()
    check(page, "/login", live, "aicom")
    check(page, "/register", live, "aicom")
    check(page, "/forgot/email", live, "aicom")
    check(page, "/forgot/id", live, "aicom")  # id_forgotten = "email_lookup"
    login_aicom(page, live)
    check(page)
    check_phone_menu(page, groups=1)
    for path in ("/billing", "/contracts", "/account/profile"):
        check(page, path, live, "aicom")
    page.goto(live.url("aicom", "/billing"))
    page.get_by_role("link", name="詳細").first.click()
    expect(page.locator("main h1")).to_have_text("ご利用料金の明細")
    check(page)
    assert "~" not in page.locator("footer").inner_text()  # 受付時間 9:00〜17:00
    check_desktop(page, live, "aicom", ["/", "/billing"])


def test_itscom(live_server, phone_page):
    page, live = phone_page, live_server
    page.context.clear_cookies()
    check(page, "/login", live, "itscom")
    check(page, "/register", live, "itscom")  # お支払情報等
    expect(page.locator("label.radio")).to_have_count(4)
    check(page, "/forgot", live, "itscom")  # 不明な項目
    expect(page.locator("label.radio")).to_have_count(2)
    login_itscom(page, live)
    check(page)
    check_phone_menu(page, groups=4)  # A–D on the top page too
    expect(page.locator("header .menu__group-label").first).to_have_text("料金")
    for path in (
        "/billing",
        "/billing/payment-method",
        "/contracts",
        "/contracts/history",
        "/mailboxes",
        "/security",
        "/account",
    ):
        check(page, path, live, "itscom")
    check_phone_menu(page, groups=4)  # an inner page: a short red band, not half the screen

    # メールアドレス新規登録: the sub-domain candidates read 「taro-yamada_01@d01.itscom.net」 on one line each.
    page.goto(live.url("itscom", "/mailboxes/new"))
    page.get_by_label("メールアドレス").fill("taro-yamada_01")
    page.get_by_role("button", name="次へ").click()
    candidates = page.locator("label.radio")
    expect(candidates.first).to_contain_text("taro-yamada_01@")
    for index in range(candidates.count()):
        assert re.fullmatch(r"taro-yamada_01@[a-z]\d{2}\.itscom\.net", candidates.nth(index).inner_text().strip())
    check(page)  # defines window.__textLines
    for index in range(candidates.count()):
        assert candidates.nth(index).evaluate("(label) => window.__textLines(label)") == 1, candidates.nth(index).inner_text()
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_label("契約約款に同意する")).to_be_visible()
    check(page)  # 約款 check box, ON / OFF
    terms = page.get_by_role("link", name="契約約款を表示")
    assert terms.get_attribute("href") == "/terms/mail"
    status, body = page.evaluate("async () => { const r = await fetch('/terms/mail'); return [r.status, await r.text()]; }")
    assert status == 200 and "契約約款" in body
    assert "~" not in page.locator("footer").inner_text()  # 受付時間 9:30〜18:00
    check_desktop(page, live, "itscom", ["/", "/billing", "/mailboxes"])
    page.goto(live.url("itscom", "/"))
    expect(page.locator("nav.side-menu")).to_be_hidden()  # phone width again: the header button replaces it


def test_nmedia(live_server, phone_page, inbox):
    page, live = phone_page, live_server
    page.context.clear_cookies()
    check(page, "/login", live, "nmedia")
    check(page, "/register", live, "nmedia")  # 利用規約に同意 + 必須
    login_nmedia(page, live, inbox)
    check(page)
    check_phone_menu(page, groups=1)
    for path in (
        "/members",
        "/billing",
        "/calls/CAF0000000002",
        "/inquiries",
        "/contracts?category=main",
        "/contracts?category=other",
        "/contracts/CAF0000000002",
    ):
        check(page, path, live, "nmedia")
    page.goto(live.url("nmedia", "/members"))
    expect(page.locator("label.radio", has_text="一般")).to_be_visible()
    expect(page.locator("table.data.stack td[data-label='メールアドレス']").first).to_be_visible()
    check(page)

    # The invoice PDF: 「2026年11月27日」 on one line.
    page.goto(live.url("nmedia", "/billing"))
    year = page.get_by_label("年度選択").locator("option").nth(1).get_attribute("value")
    page.get_by_label("年度選択").select_option(year)
    page.get_by_role("button", name="表示").click()
    page.wait_for_url(re.compile(rf"year={year}$"))
    month = page.locator("details.billing-month").first
    month.locator("summary").click()
    check(page)  # the month's breakdown, opened
    _name, data = download(page, lambda: month.get_by_role("link", name="請求書ダウンロード").click())
    text = pdf_text(data)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text), text[:400]
    assert not re.search(r"\d{4}年\d{1,2}月\d{0,2}\s*\n\s*\d{0,2}日", text), text[:800]
    check_desktop(page, live, "nmedia", ["/", "/members"])


def test_terms_pages(live_server, phone_page):
    page, live = phone_page, live_server
    page.context.clear_cookies()
    # nmedia: linked from the registration form (a new tab keeps what was typed), readable before ticking.
    page.goto(live.url("nmedia", "/register"))
    link = page.locator("label.checkbox a", has_text="利用規約")
    assert link.get_attribute("href") == "/terms" and link.get_attribute("target") == "_blank"
    with page.context.expect_page() as opened:
        link.click()
    terms = opened.value
    terms.wait_for_load_state()
    try:
        assert terms.url == live.url("nmedia", "/terms")
        expect(terms.locator("main h1")).to_contain_text("利用規約")
        expect(terms.locator("main")).to_contain_text("アクセスID")
        expect(terms.get_by_role("link", name="ログイン画面へ戻る")).to_be_visible()
        problems = terms.evaluate(PROBLEMS)
        assert not problems, problems
    finally:
        terms.close()
    expect(page.locator("#f-terms")).not_to_be_checked()
    # Tenants without such a document: 404 in the tenant's layout.
    for tenant, path in (("aicom", "/terms"), ("itscom", "/terms"), ("nmedia", "/terms/mail"), ("nmedia", "/terms/..%2Ftenant")):
        response = page.goto(live.url(tenant, path))
        assert response.status == 404, f"{tenant} {path}: {response.status}"
        expect(page.locator("main")).to_contain_text("ページが見つかりません")
