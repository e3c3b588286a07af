"""Every screen of the guides (``guide_screens.SCREENS``) at 1280×900 and 390×844: no horizontal overflow,
radio buttons and check boxes on the line of their text, short labels and stacked-table labels on one line,
and the guide's wording present. One browser context per tenant; one login per tenant."""

from __future__ import annotations

import pytest

from .guide_screens import DESKTOP, LABEL_BREAKS, LOGIN_WALKS, LOGINS, PHONE, SCREENS, Outbox
from .test_layout_phone import PROBLEMS

TENANTS = sorted({screen.tenant for screen in SCREENS})


def page_problems(page) -> list[str]:
    return [*page.evaluate(PROBLEMS), *page.evaluate(LABEL_BREAKS)]


def missing_labels(page, labels) -> list[str]:
    text = page.evaluate("() => document.body.textContent.replace(/\\s+/g, ' ')")
    return [label for label in labels if label not in text]


@pytest.mark.parametrize("tenant", TENANTS)
def test_every_guide_screen(live_server, browser, tenant):
    mail = Outbox(live_server.sqlite_path)
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    failures: list[str] = []
    logged_in = False
    try:
        for screen in (s for s in SCREENS if s.tenant == tenant):
            if screen.login and not logged_in and screen.walk not in LOGIN_WALKS:
                LOGINS[tenant](page, live_server, mail)
            logged_in = logged_in or screen.login
            page.set_viewport_size(PHONE)
            if screen.path is not None:
                response = page.goto(live_server.url(tenant, screen.path))
                assert response.status == 200, f"{tenant} {screen.path}: {response.status}"
            else:
                screen.walk(page, live_server, mail)
            where = f"{tenant} {screen.name} ({screen.step})"
            failures += [f"{where}: the guide's 「{label}」 is missing" for label in missing_labels(page, screen.labels)]
            for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                page.set_viewport_size(viewport)
                failures += [f"{where} {size}: {problem}" for problem in page_problems(page)]
    finally:
        context.close()
    assert not failures, "\n".join(failures)


def test_aicom_register_link_is_at_the_bottom_right_of_the_login_screen(live_server, page):
    """「ログイン画面右下の[初めてログインされる方]」."""
    page.goto(live_server.url("aicom", "/login"))
    card = page.locator("main section.card").bounding_box()
    link = page.get_by_role("link", name="初めてログインされる方").bounding_box()
    button = page.get_by_role("button", name="ログイン").bounding_box()
    assert link["y"] > button["y"]  # below the form
    assert card["x"] + card["width"] - (link["x"] + link["width"]) < 40  # at the right edge of the card
