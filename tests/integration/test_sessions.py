"""Server-side sessions: database by default, Redis when configured; bound to the tenant; a new id at
login, destroyed at logout; ended after the tenant's idle timeout."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC

import pytest

from conftest import PortalClient, run
from mypage.app import create_app
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password
from mypage.portal import Portal
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, RedisSessionStore, Session, save_session
from mypage.web.tables import SessionRecord

REDIS_URL = os.environ.get("MYPAGE_TEST_REDIS", "redis://127.0.0.1:6379/15")
PASSWORD = "Sessions1234"


def key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def make_account(portal, slug="aicom", login_id="session-user"):
    async def go():
        return await AccountRepository(portal.tenants.get(slug)).create(
            login_id=login_id, password_hash=hash_password(PASSWORD), nickname="セッション"
        )

    return run(go())


def login(client: PortalClient, login_id="session-user") -> str:
    response = client.submit("/login", {"login_id": login_id, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.cookies.get(COOKIE_NAME)


def logged_in(client: PortalClient) -> bool:
    response = client.get("/", follow_redirects=False)
    return response.status_code == 200


def browser(app, host="aicom.localhost", cookie: str | None = None) -> PortalClient:
    client = PortalClient(app, base_url=f"http://{host}")
    if cookie:
        client.cookies.set(COOKIE_NAME, cookie, domain=host)
    return client


async def stored(cookie: str) -> dict | None:
    return await DatabaseSessionStore().load(key(cookie))


def test_database_store_login_and_logout(app, portal):
    make_account(portal)
    client = browser(app)
    cookie = login(client)
    assert logged_in(client)
    data = run(stored(cookie))
    assert data["_tenant"] == "aicom" and data["account_id"]
    # Only a hash of the cookie is stored.
    rows = run(SessionRecord.select(SessionRecord.key).run())
    assert key(cookie) in {r["key"] for r in rows} and cookie not in {r["key"] for r in rows}

    response = client.submit("/logout", {}, follow_redirects=False)
    assert response.status_code == 303
    assert run(stored(cookie)) is None
    assert client.cookies.get(COOKIE_NAME) != cookie
    assert "ログアウトしました。" in client.get("/login").text
    # The old cookie no longer works.
    assert not logged_in(browser(app, cookie=cookie))


def test_session_id_changes_at_login(app, portal):
    make_account(portal)
    before = run(save_session(portal.session_store, _anonymous("aicom")))
    client = browser(app, cookie=before)
    after = login(client)
    assert after and after != before
    assert run(stored(before)) is None  # the pre-login id is gone (no session fixation)
    assert logged_in(client)
    assert not logged_in(browser(app, cookie=before))


def _anonymous(tenant: str) -> Session:
    session = Session(None, {}, tenant)
    session["visited"] = True
    return session


def test_session_is_bound_to_its_tenant(app, portal):
    make_account(portal, "aicom")
    make_account(portal, "itscom", login_id="session-user@example.jp")
    aicom = browser(app)
    cookie = login(aicom)
    assert logged_in(aicom)
    # The same cookie on another tenant's host is not logged in there.
    stolen = browser(app, "itscom.localhost", cookie=cookie)
    response = stolen.get("/", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
    # ... and presenting it there does not spoil it on its own tenant.
    assert logged_in(browser(app, cookie=cookie))


def test_idle_timeout_ends_the_login(app, portal):
    make_account(portal)
    client = browser(app)
    cookie = login(client)
    idle = portal.tenants.get("aicom").config.session.idle_timeout_minutes * 60

    async def age(seconds: int):
        data = await stored(cookie)
        data["_last_seen"] = int(time.time()) - seconds
        await DatabaseSessionStore().save(key(cookie), data, 3600)

    run(age(idle - 60))
    assert logged_in(client)
    cookie = client.cookies.get(COOKIE_NAME)
    run(age(idle + 5))
    response = client.get("/", follow_redirects=False)
    assert response.headers["location"].startswith("/login")
    page = client.get("/login")
    minutes = portal.tenants.get("aicom").config.session.idle_timeout_minutes
    assert f"{minutes}分間操作がなかったため、ログアウトしました。" in page.text
    assert not logged_in(client)


def test_absolute_timeout_ends_the_login(app, portal):
    make_account(portal)
    client = browser(app)
    cookie = login(client)
    hours = portal.tenants.get("aicom").config.session.absolute_timeout_hours

    async def old_login():
        data = await stored(cookie)
        data["login_at"] = int(time.time()) - hours * 3600 - 5
        await DatabaseSessionStore().save(key(cookie), data, 3600)

    run(old_login())
    assert not logged_in(client)
    assert "ログインから長時間が経過したため、ログアウトしました。" in client.get("/login").text


def test_garbage_cookies_are_ignored(app):
    for value in ("", "x", "a" * 500, "not-a-session-id-but-long-enough", '"quoted;value"'):
        client = browser(app, cookie=value)
        assert client.get("/login").status_code == 200


@pytest.fixture
def redis_app(db, portal):
    import redis as redis_sync

    try:
        redis_sync.from_url(REDIS_URL).ping()
    except Exception as exc:  # pragma: no cover - only without a Redis server
        pytest.skip(f"Redis at {REDIS_URL} is not reachable ({exc}); set MYPAGE_TEST_REDIS")
    settings = db.with_(redis_url=REDIS_URL)
    app_portal = Portal(settings, tenants=portal.tenants)
    assert isinstance(app_portal.session_store, RedisSessionStore)
    return create_app(settings, portal=app_portal), redis_sync.from_url(REDIS_URL)


def test_redis_store_login_and_logout(redis_app, portal):
    app, redis = redis_app
    make_account(portal)
    client = browser(app)
    cookie = login(client)
    redis_key = f"mypage:session:{key(cookie)}"
    data = json.loads(redis.get(redis_key))
    assert data["_tenant"] == "aicom" and data["account_id"]
    assert 0 < redis.ttl(redis_key) <= 24 * 3600
    assert run(stored(cookie)) is None  # not in the database
    assert logged_in(client)
    # Bound to its tenant in Redis as well.
    assert not logged_in(browser(app, "itscom.localhost", cookie=cookie))

    client.submit("/logout", {}, follow_redirects=False)
    assert redis.get(redis_key) is None
    assert not logged_in(browser(app, cookie=cookie))


def test_expired_sessions_are_purged_when_the_app_starts(app, portal):
    from datetime import datetime, timedelta

    past = datetime.now(UTC) - timedelta(minutes=1)
    future = datetime.now(UTC) + timedelta(hours=1)
    run(
        SessionRecord.insert(
            SessionRecord(key="old", value=b"{}", expires_at=past), SessionRecord(key="live", value=b"{}", expires_at=future)
        ).run()
    )
    with PortalClient(app, base_url="http://aicom.localhost"):  # runs the lifespan
        pass
    keys = {row["key"] for row in run(SessionRecord.select(SessionRecord.key).run())}
    assert keys == {"live"}


def test_customer_session_is_read_with_its_account_and_customer(app, portal):
    """One query reads the session, its account and the account's customer: the same objects as reading the
    account after the session; on another tenant's host, or once the account is gone, nothing is joined."""
    import contract_records as rec

    from mypage.identity.accounts import SESSION_WITH_ACCOUNT

    tenant = portal.tenants.get("aicom")
    customer = rec.customer("aicom", "8800001", name="結合 太郎")
    account = rec.account("aicom", customer, "session-joined")
    cookie = rec.sign_in(browser(app), "aicom", account).cookies.get(COOKIE_NAME)
    row = run(SessionRecord.select(SessionRecord.account).where(SessionRecord.key == key(cookie)).first().run())
    assert row["account"] == account.id

    store = DatabaseSessionStore(SESSION_WITH_ACCOUNT)
    data, read_with = run(store.load_with_account(key(cookie), "aicom"))
    assert data == run(stored(cookie))
    repository = AccountRepository(tenant)
    joined = repository.account_with_customer(read_with["account"], read_with["customer"])
    separate = run(repository.by_id_with_customer(account.id))
    assert [o.to_dict() for o in joined] == [o.to_dict() for o in separate]
    assert joined[1].id == customer.id

    _, elsewhere = run(store.load_with_account(key(cookie), "itscom"))
    assert elsewhere["account"]["id"] is None
    run(SessionRecord.raw("DELETE FROM accounts WHERE id = {}", account.id).run())
    _, gone = run(store.load_with_account(key(cookie), "aicom"))
    assert gone["account"]["id"] is None
    assert not logged_in(browser(app, cookie=cookie))


def test_only_customer_sessions_name_an_account(app):
    store = DatabaseSessionStore()
    run(store.save("k-customer", {"_kind": "customer", "account_id": 7}, 60))
    run(store.save("k-staff", {"_kind": "staff", "account_id": 7, "staff_id": 3}, 60))
    run(store.save("k-anonymous", {"_kind": "customer"}, 60))
    rows = run(SessionRecord.select(SessionRecord.key, SessionRecord.account).run())
    assert {r["key"]: r["account"] for r in rows} == {"k-customer": 7, "k-staff": None, "k-anonymous": None}


def test_a_save_is_one_statement_and_saves_of_a_new_session_at_once_do_not_collide(app, counted_queries):
    import asyncio

    store = DatabaseSessionStore()
    with counted_queries() as statements:
        run(store.save("k-new", {"_kind": "customer", "account_id": 7}, 60))
        assert len(statements) == 1
        run(store.save("k-new", {"_kind": "customer", "account_id": 8, "n": 1}, 120))
        assert len(statements) == 2
    assert run(store.load("k-new")) == {"_kind": "customer", "account_id": 8, "n": 1}
    rows = run(SessionRecord.select(SessionRecord.account).where(SessionRecord.key == "k-new").run())
    assert rows == [{"account": 8}]

    async def together() -> None:
        await asyncio.gather(*(store.save("k-together", {"_kind": "customer", "n": n}, 60) for n in range(8)))

    run(together())
    assert run(SessionRecord.count().where(SessionRecord.key == "k-together").run()) == 1
    assert run(store.load("k-together"))["n"] in range(8)


def test_rows_read_with_the_session_are_forgotten_once_it_says_someone_else():
    """What the store read with a session stands for the account the session named when it was loaded: a
    change of who is logged in, of their credentials' version, a new id or an emptied session forget it."""
    joined = {"account": {"id": 1}, "customer": {"id": 2}}

    def loaded() -> Session:
        return Session("x" * 43, {"account_id": 1, "credentials_version": 0}, "aicom", read_with=dict(joined))

    session = loaded()
    session["_last_seen"] = 123
    session.pop("_flash")
    assert session.read_with == joined
    for change in (
        lambda s: s.__setitem__("account_id", 9),
        lambda s: s.__setitem__("credentials_version", 1),
        lambda s: s.pop("account_id"),
        lambda s: s.rotate(),
        lambda s: s.clear(),
        lambda s: s.destroy(),
    ):
        session = loaded()
        change(session)
        assert session.read_with == {}


def test_requests_arriving_together_write_the_idle_clock_once(app, monkeypatch, counted_queries):
    """A session due for its idle-clock refresh, asked for by ten requests at once (a client on several
    connections): one of them writes the refresh, not all ten (each would wait for the single writer)."""
    import asyncio

    import contract_records as rec
    import httpx

    from mypage.web import sessions

    customer = rec.customer("aicom", "8800002", name="同時 花子")
    account = rec.account("aicom", customer, "session-together")
    cookie = rec.sign_in(browser(app), "aicom", account).cookies.get(COOKIE_NAME)
    data = run(stored(cookie))
    data["_last_seen"] = int(time.time()) - 120
    run(DatabaseSessionStore().save(key(cookie), data, 3600))

    monkeypatch.setattr(sessions, "_clock_claims", {})

    async def together() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aicom.localhost") as client:
            client.cookies.set(COOKIE_NAME, cookie)
            responses = await asyncio.gather(*(client.get("/") for _ in range(10)))
        return [r.status_code for r in responses]

    with counted_queries() as seen:
        assert run(together()) == [200] * 10
    writes = [str(query) for query in seen]
    assert len([w for w in writes if w.lstrip().upper().startswith(("UPDATE", "INSERT")) and "web_sessions" in w]) == 1
    assert int(run(stored(cookie))["_last_seen"]) >= int(time.time()) - 5


def test_an_idle_clock_claim_lasts_a_few_seconds_and_stays_bounded(monkeypatch):
    from mypage.web import sessions

    monkeypatch.setattr(sessions, "_clock_claims", {})
    assert sessions.claim_idle_clock("a", 1000.0)
    assert not sessions.claim_idle_clock("a", 1000.0 + sessions.CLOCK_CLAIM_SECONDS - 0.1)
    assert sessions.claim_idle_clock("b", 1001.0), "another session's claim is its own"
    assert sessions.claim_idle_clock("a", 1000.0 + sessions.CLOCK_CLAIM_SECONDS)
    monkeypatch.setattr(sessions, "MAX_CLOCK_CLAIMS", 3)
    for name in "cdefg":
        assert sessions.claim_idle_clock(name, 2000.0)
    assert len(sessions._clock_claims) <= 3
