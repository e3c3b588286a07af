"""Server-side sessions bound to their tenant.

The cookie holds a random id; the store keeps the data under a SHA-256 of that id (in the database by
default, in Redis when configured). The session's data names its tenant: a session presented on
another tenant's host is treated as empty there. ``rotate()`` gives the session a new id (at login)
and ``destroy()`` removes it (at logout).

There are two kinds of session, each under its own cookie: the customers' (``mypage_session``, the whole
site) and the tenant staff's (``mypage_staff``, only under ``/admin``). The data names its kind too, so a
staff session id presented as a customer cookie (or the reverse) is treated as empty.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from mypage.db.prepared import PreparedSelect, PreparedSQL, reads_are_round_trips
from mypage.web.page_reads import READ_WITH_KEY, PageRead, joined_statement
from mypage.web.tables import SessionRecord

PageReadCall = tuple[PageRead, list[Any]]

COOKIE_NAME = "mypage_session"
STAFF_COOKIE_NAME = "mypage_staff"
STAFF_COOKIE_PATH = "/admin"
MAX_AGE_SECONDS = 60 * 60 * 24
CUSTOMER = "customer"
STAFF = "staff"
PLATFORM_COOKIE_NAME = "mypage_platform"
PLATFORM_COOKIE_PATH = "/platform"
PLATFORM = "platform"
PLATFORM_SCOPE = "_platform"
"""The platform console's value wherever a tenant's slug would go (sessions' ``_tenant``, mail, attempt
counters, recovery-code hashes, server errors): no tenant slug has an underscore."""


def _store_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(Protocol):
    @property
    def joins_page_reads(self) -> bool:
        """Whether ``load_with_account`` runs a page's read in the session's statement (``web/page_reads.py``)."""
        ...

    async def load(self, key: str) -> dict | None: ...

    async def save(self, key: str, data: dict, ttl_seconds: int) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def load_with_account(self, key: str, tenant: str, page: PageReadCall | None = None) -> tuple[dict | None, dict]: ...


_SESSION_BY_KEY = PreparedSelect(
    SessionRecord,
    lambda key: SessionRecord.select(SessionRecord.value, SessionRecord.expires_at).where(SessionRecord.key == key).limit(1),
    arity=1,
)


_SAVED_COLUMNS = [SessionRecord.value, SessionRecord.expires_at, SessionRecord.account]


class DatabaseSessionStore:
    """Sessions in the ``web_sessions`` table.

    ``with_account``: a read of a customer session together with its account (``SESSION_WITH_ACCOUNT`` in
    ``mypage.identity.accounts``),
    keyed by the session ``key`` and the tenant, selecting the session's ``value`` and ``expires_at`` and, nested,
    whatever rows it joins on the session's ``account`` column. A logged-in page then reads its session and its
    account in one query instead of two.
    """

    table = SessionRecord

    def __init__(self, with_account: PreparedSQL | None = None):
        self.with_account = with_account

    @property
    def joins_page_reads(self) -> bool:
        """Where each statement is a round trip, with the account read with the session."""
        return self.with_account is not None and reads_are_round_trips(self.table)

    async def load(self, key: str) -> dict | None:
        return await self._data(key, await _SESSION_BY_KEY.first(key))

    async def load_with_account(self, key: str, tenant: str, page: PageReadCall | None = None) -> tuple[dict | None, dict]:
        """The session's data, and the rows read with it (empty without ``with_account``). ``page``: a page's read
        and its values, given only when :attr:`joins_page_reads` (``web/page_reads.py``), run in the same statement;
        its row is then kept under ``"page"`` with the read and the values it came from."""
        if self.with_account is None:
            return await self.load(key), {}
        if page is not None:
            read, values = page
            row = await joined_statement(self.with_account, read).first(key, tenant, *values)
            if row is not None:
                row[READ_WITH_KEY] = (read, values, row.pop(READ_WITH_KEY, None) or {})
        else:
            row = await self.with_account.first(key, tenant)
        data = await self._data(key, row)
        return data, (row if data is not None and row is not None else {})

    async def _data(self, key: str, row: dict | None) -> dict | None:
        if row is None:
            return None
        expires = row.pop("expires_at")
        if expires is not None and expires.replace(tzinfo=expires.tzinfo or UTC) < datetime.now(UTC):
            await self.delete(key)
            return None
        return json.loads(bytes(row.pop("value")).decode())

    async def save(self, key: str, data: dict, ttl_seconds: int) -> None:
        value = json.dumps(data).encode()
        expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
        account = data.get("account_id") if data.get("_kind", CUSTOMER) == CUSTOMER else None
        # One statement whether the session is new (a login) or not; concurrent first saves cannot collide.
        await SessionRecord.insert(SessionRecord(key=key, value=value, expires_at=expires, account=account)).on_conflict(
            target=SessionRecord.key, action="DO UPDATE", values=_SAVED_COLUMNS
        )

    async def delete(self, key: str) -> None:
        await SessionRecord.delete().where(SessionRecord.key == key)

    async def purge_expired(self) -> None:
        await SessionRecord.delete().where(SessionRecord.expires_at < datetime.now(UTC))


class RedisSessionStore:
    """Sessions in Redis: one client (with its connection pool) per event loop, so a worker reuses its
    connections; the tests drive the app from several loops, each with its own client."""

    def __init__(self, url: str):
        import redis.asyncio as redis

        self._url = url
        self._redis = redis
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    joins_page_reads = False  # a page's read is a query of its own

    def _client(self):
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._redis.from_url(self._url)
        return client

    async def load(self, key: str) -> dict | None:
        raw = await self._client().get(f"mypage:session:{key}")
        return json.loads(raw) if raw else None

    async def save(self, key: str, data: dict, ttl_seconds: int) -> None:
        await self._client().set(f"mypage:session:{key}", json.dumps(data), ex=ttl_seconds)

    async def delete(self, key: str) -> None:
        await self._client().delete(f"mypage:session:{key}")

    async def load_with_account(self, key: str, tenant: str, page: PageReadCall | None = None) -> tuple[dict | None, dict]:
        return await self.load(key), {}


_WHO = frozenset({"account_id", "credentials_version"})
"""Session keys that say who is logged in: changing one makes the rows read with the session stale."""


class Session:
    """The current request's session: a dict with rotate/destroy and change tracking."""

    def __init__(
        self, session_id: str | None, data: dict[str, Any], tenant: str, kind: str = CUSTOMER, read_with: dict | None = None
    ):
        self.kind = kind
        self.session_id = session_id
        self.old_id: str | None = None
        self.data = data
        self.tenant = tenant
        self.modified = False
        self.read_with = read_with or {}
        """Rows the store read in the same query as the session (see ``DatabaseSessionStore.with_account``); forgotten
        once the session changes who is logged in or their credentials, or is rotated or emptied."""

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.modified = True
        if key in _WHO:
            self.read_with = {}

    def pop(self, key: str, default: Any = None) -> Any:
        if key in self.data:
            self.modified = True
        if key in _WHO:
            self.read_with = {}
        return self.data.pop(key, default)

    def clear(self) -> None:
        self.data = {}
        self.modified = True
        self.read_with = {}

    def rotate(self) -> None:
        """Issue a new session id, keeping the data (call at login and privilege changes)."""
        if self.session_id and self.old_id is None:
            self.old_id = self.session_id
        self.session_id = None
        self.modified = True
        self.read_with = {}

    def destroy(self) -> None:
        if self.session_id and self.old_id is None:
            self.old_id = self.session_id
        self.session_id = None
        self.data = {}
        self.modified = True
        self.read_with = {}

    def flash(self, message: str, kind: str = "info") -> None:
        self.data.setdefault("_flash", []).append({"message": message, "kind": kind})
        self.modified = True

    def take_flashes(self) -> list[dict]:
        flashes = self.data.pop("_flash", [])
        if flashes:
            self.modified = True
        return flashes


CLOCK_CLAIM_SECONDS = 5
"""How long the request that refreshes a session's idle clock keeps the other requests of this process from
writing the same refresh (its own write lands in milliseconds; after it, requests load the new clock)."""
MAX_CLOCK_CLAIMS = 10_000
_clock_claims: dict[str, float] = {}


def claim_idle_clock(session_id: str, now: float) -> bool:
    """Whether this request writes the session's new idle clock (``_last_seen``): False while another request
    of this process claimed it in the last :data:`CLOCK_CLAIM_SECONDS`. Concurrent requests of one session (a
    page's parallel fetches, a client with many connections) would otherwise all write the same refresh, each
    waiting for the database's single writer."""
    claimed = _clock_claims.get(session_id)
    if claimed is not None and now - claimed < CLOCK_CLAIM_SECONDS:
        return False
    if len(_clock_claims) >= MAX_CLOCK_CLAIMS:
        _clock_claims.clear()
    _clock_claims[session_id] = now
    return True


LAST_SEEN_STEP = 60
"""Seconds between two writes of a session's idle clock (``_last_seen``): each is a store write."""


def refresh_idle_clock(session: Session, now: int) -> None:
    """Sets the session's idle clock to ``now`` when it is :data:`LAST_SEEN_STEP` old, by one of the requests of
    this process that arrive together (:func:`claim_idle_clock`); the write happens when the response starts."""
    if now - int(session.get("_last_seen", 0)) >= LAST_SEEN_STEP:
        if session.session_id is None or claim_idle_clock(session.session_id, now):
            session["_last_seen"] = now


async def load_session(
    store: SessionStore, cookie_value: str | None, tenant: str, kind: str = CUSTOMER, page: PageReadCall | None = None
) -> Session:
    if cookie_value and 20 <= len(cookie_value) <= 128:
        key, read_with = _store_key(cookie_value), {}
        if kind == CUSTOMER:
            data, read_with = await store.load_with_account(key, tenant, page)
        else:
            data = await store.load(key)
        if data is not None and data.get("_tenant") == tenant and data.get("_kind", CUSTOMER) == kind:
            return Session(cookie_value, data, tenant, kind, read_with)
    return Session(None, {}, tenant, kind)


async def save_session(store: SessionStore, session: Session) -> str | None:
    """Persists the session if needed; returns a new cookie value, ``""`` to clear it, or None."""
    if not session.modified:
        return None
    if session.old_id:
        await store.delete(_store_key(session.old_id))
    if not session.data:
        if session.session_id:
            await store.delete(_store_key(session.session_id))
        return ""
    # After destroy(), data written later in the same request (a flash message) goes to a brand-new session.
    new_cookie = session.session_id is None
    if new_cookie:
        session.session_id = secrets.token_urlsafe(32)
    session.data["_tenant"] = session.tenant
    session.data["_kind"] = session.kind
    session.data["_saved"] = int(time.time())
    await store.save(_store_key(session.session_id), session.data, MAX_AGE_SECONDS)
    return session.session_id if new_cookie else None
