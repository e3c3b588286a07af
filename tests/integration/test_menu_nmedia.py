"""nmedia: the menu at the top right of the header on a wider screen (its theme CSS); a phone keeps the
「メニュー」 button of partials/menu.html, and other tenants keep the menu bar under the header."""

from __future__ import annotations

from feature_support import make_account, make_customer, sign_in


def test_nmedia_menu_top_right_on_desktop_button_on_phone(client_for):
    cid = make_customer("nmedia", "CAF0000000401")
    client = sign_in(client_for("nmedia"), "nmedia", make_account("nmedia", cid, "abc401"))
    page = client.get("/")
    header = page.text.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]
    assert '<summary class="menu__toggle">' in header and "メニュー" in header  # the phone's button
    for href in ("/", "/inquiries", "/members"):
        assert f'href="{href}"' in header.split('<details class="menu">', 1)[1]

    css = client.get("/static/css/theme.css")
    assert css.status_code == 200
    wide = css.text.split("@media (min-width: 641px)", 1)[1]
    assert ".site-header__inner { display: contents; }" in wide
    assert ".site-header .menu { order: 1; margin-left: auto;" in wide
    assert "@media (max-width" not in css.text  # nothing changes on a phone

    assert "display: contents" not in client_for("aicom").get("/static/css/theme.css").text
