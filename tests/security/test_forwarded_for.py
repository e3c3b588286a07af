"""Per-address login limits cannot be dodged with a forged X-Forwarded-For (the server as ``mypage run`` serves it).

Attackers on this machine come from loopback, which uvicorn's own proxy-header handling trusts by default;
``mypage run`` turns that off and the portal middleware believes the header only from MYPAGE_TRUSTED_PROXIES.
"""

from __future__ import annotations

import asyncio

import httpx

from mypage.app import create_app
from mypage.audit.tables import AuditEvent
from mypage.portal import Portal

from .servers import serve

ADDRESS_LIMITED = "短時間に多くのログイン失敗がありました"


def wrong_logins(base_url: str, count: int, forwarded_for) -> list[httpx.Response]:
    with httpx.Client(base_url=base_url, headers={"Host": "aicom.localhost"}, timeout=60) as client:
        client.get("/login")
        token = client.cookies.get("mypage_csrf")
        assert token
        return [
            client.post(
                "/login",
                data={"login_id": f"nobody-{i}", "password": "Wrong-pass-1", "_csrf_token": token},
                headers={"X-Forwarded-For": forwarded_for(i)},
            )
            for i in range(count)
        ]


def recorded_addresses() -> set[str]:
    """The client addresses the failed logins were recorded (and limited) under."""
    query = AuditEvent.select(AuditEvent.address).where(
        (AuditEvent.tenant == "aicom") & AuditEvent.event.is_in(["login.failure", "login.address_limited"])
    )
    return {row["address"] for row in asyncio.run(query.run())}


def test_spoofed_forwarded_for_from_loopback_still_hits_the_address_limit(app, db):
    with serve(app, db) as base_url:
        responses = wrong_logins(base_url, 30, lambda i: f"203.0.113.{i + 1}, 198.51.100.{i + 1}")
    statuses = [r.status_code for r in responses]
    assert statuses[:20] == [400] * 20, statuses
    assert statuses[20:] == [429] * 10, statuses
    assert all(ADDRESS_LIMITED in r.text for r in responses[20:])
    assert recorded_addresses() == {"127.0.0.1"}


def test_a_trusted_proxy_passes_on_the_client_address(db, portal):
    settings = db.with_(trusted_proxies=("127.0.0.1",))
    app = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    with serve(app, settings) as base_url:
        # what nginx sends with $proxy_add_x_forwarded_for: the client's own (forged) entry, then the real one
        responses = wrong_logins(base_url, 25, lambda i: f"6.6.6.6, 203.0.113.{i + 1}")
    assert [r.status_code for r in responses] == [400] * 25
    assert recorded_addresses() == {f"203.0.113.{i + 1}" for i in range(25)}
