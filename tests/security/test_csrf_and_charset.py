"""The CSRF exclusion is exactly ``/healthz`` (anchored), and every response names one charset."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/login/healthz", "/x/healthz", "/healthz/../login", "/login?x=/healthz", "/healthzz"])
def test_a_path_containing_healthz_does_not_skip_the_csrf_check(live, path):
    attacker = live.tenant("aicom")
    try:
        attacker.csrf()  # a CSRF cookie, but no token in the form
        response = attacker.client.post(path, data={"login_id": "x", "password": "y"})
        assert response.status_code in (403, 404, 405), (path, response.status_code)
        assert response.status_code != 200
        if path == "/login?x=/healthz":
            assert response.status_code == 403
    finally:
        attacker.close()


def test_csrf_exclusion_pattern_is_anchored(app):
    pattern = app.csrf_config.exclude
    assert pattern == [r"^/healthz\Z"]
    from litestar.middleware._utils import build_exclude_path_pattern

    compiled = build_exclude_path_pattern(exclude=pattern)
    assert compiled.search("/healthz")
    for path in ("/login/healthz", "/x/healthz", "/healthz/x", "/healthz\n", "/healthzz"):
        assert not compiled.search(path), path


def test_healthz_still_answers(live):
    import httpx

    response = httpx.get(f"{live.base_url}/healthz", headers={"Host": "localhost"})
    assert response.status_code == 200


def _charsets(response) -> int:
    return response.headers.get("content-type", "").lower().count("charset")


def test_every_kind_of_response_has_exactly_one_charset(live, app):
    attacker = live.tenant("aicom")
    try:
        pages = {
            "page": attacker.get("/login"),
            "404": attacker.get("/no-such-page"),
            "403": attacker.client.post("/login", data={"login_id": "x"}),  # no CSRF token
            "400": attacker.submit("/login", {"login_id": "", "password": ""}),
            "400 form layer": attacker.client.post(
                "/login", content=b"a=%FF", headers={"content-type": "application/x-www-form-urlencoded"}
            ),
            "css": attacker.get("/brand.css"),
            "static": attacker.get("/static/css/portal.css"),
        }
        for name, response in pages.items():
            content_type = response.headers.get("content-type", "")
            if content_type.startswith("text/"):
                assert _charsets(response) == 1, (name, content_type)
            assert "charset=utf-8; charset" not in content_type, (name, content_type)
    finally:
        attacker.close()
    import httpx

    unknown = httpx.get(f"{live.base_url}/login", headers={"Host": "nobody.example"})
    assert unknown.status_code == 404 and _charsets(unknown) == 1
    dev = httpx.get(f"{live.base_url}/", headers={"Host": "localhost"})
    assert _charsets(dev) == 1, dev.headers.get("content-type")
