"""The attack harness itself: the portal answers over real HTTP on each backend, per tenant host."""

from __future__ import annotations


def test_live_server_serves_each_tenant(live):
    for slug in ("aicom", "itscom", "nmedia"):
        attacker = live.tenant(slug)
        try:
            page = attacker.get("/login")
            assert page.status_code == 200
            assert attacker.csrf()
        finally:
            attacker.close()
