"""A burst of concurrent writes on the embedded database queues instead of failing.

Piccolo opens a connection per query and SQLite admits one writer at a time; under a burst of 1,000
concurrent writes the portal answered 108 × 500 "database is locked". Writes now wait for this process's
write slot in order (``mypage.db.sqlite``), on a WAL database with a busy timeout per connection.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from mypage.audit.tables import AuditEvent
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account
from mypage.web.tables import SessionRecord

from .conftest import parallel

BURST = 200


def _token(live, host: str) -> str:
    with httpx.Client(base_url=live.base_url, headers={"Host": host}, timeout=30) as client:
        client.get("/login")
        return client.cookies["mypage_csrf"]


def test_a_burst_of_concurrent_writing_posts_gets_no_500(live, db):
    if db.uses_postgres:
        pytest.skip("the write queue is the embedded database's (PostgreSQL takes concurrent writers itself)")

    async def make_accounts() -> None:
        digest = hash_password("Passw0rd1")
        await Account.insert(
            *[
                Account(tenant="aicom", login_id=f"burst-{i}", login_id_display=f"burst-{i}", password_hash=digest)
                for i in range(0, BURST, 2)
            ]
        )

    asyncio.run(make_accounts())
    tokens = {host: _token(live, host) for host in ("aicom.localhost", "itscom.localhost")}
    # Half log in to their own accounts (attempt counters, audit rows, a new session row each), half fail with
    # unknown login IDs on another tenant (attempt counters and audit rows). Each request comes from its own
    # loopback address (127.0.0.2, 127.0.0.3 …): the per-ID and per-address limits stay out of the burst's way.
    forms = [
        ("aicom.localhost", {"login_id": f"burst-{i}", "password": "Passw0rd1"})
        if i % 2 == 0
        else ("itscom.localhost", {"login_id": f"nobody-{i}", "password": "Wrong-pass-1"})
        for i in range(BURST)
    ]

    def post(item):
        index, (host, form) = item
        transport = httpx.HTTPTransport(local_address=f"127.0.{index // 250}.{index % 250 + 2}")
        with httpx.Client(
            base_url=live.base_url,
            timeout=120,
            headers={"Host": host},
            transport=transport,
            cookies={"mypage_csrf": tokens[host]},
        ) as client:
            return client.post("/login", data={**form, "_csrf_token": tokens[host]})

    started = time.monotonic()
    responses = parallel(post, list(enumerate(forms)), workers=BURST)
    elapsed = time.monotonic() - started

    assert not [r.status_code for r in responses if r.status_code >= 500], [
        r.text[:200] for r in responses if r.status_code >= 500
    ][:3]
    assert not any("database is locked" in r.text for r in responses)
    logins = [r for (host, _), r in zip(forms, responses, strict=False) if host == "aicom.localhost"]
    failures = [r for (host, _), r in zip(forms, responses, strict=False) if host == "itscom.localhost"]
    assert [r.status_code for r in logins] == [303] * len(logins)
    assert len({r.cookies["mypage_session"] for r in logins}) == len(logins)
    assert [r.status_code for r in failures] == [400] * len(failures)

    async def counts():
        return (
            await SessionRecord.count(),
            await AuditEvent.count().where(AuditEvent.event == "login.success"),
            await AuditEvent.count().where((AuditEvent.tenant == "itscom") & (AuditEvent.event == "login.failure")),
        )

    sessions, successes, failure_rows = asyncio.run(counts())
    assert sessions >= len(logins) and successes == len(logins)
    assert failure_rows == len(failures)
    assert len(asyncio.run(AuditEvent.select(AuditEvent.address).distinct().run())) == BURST  # one address each
    assert elapsed < 30, f"the burst took {elapsed:.1f} s"
