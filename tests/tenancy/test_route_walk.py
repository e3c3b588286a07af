"""A generic walk over every GET route with path parameters: tenant A's ids, asked for on tenant B's host
(with B's logged-in customer, and with A's own session cookie), answer 404 or a redirect to the login
page — never A's data. Routes are collected from the app, so new features are walked as they land;
sample values come from tenant A's rows (demo data), matched to parameters by name.

The staff console (``/admin``) is walked too: with B's 管理者 (A's ids answer 404), with A's staff session
presented on B's host and with a customer's session (both: the console's login page).

The platform console (``/platform``) exists only on the platform host: every one of its routes, GET and
POST, answers 404 on every tenant host whatever session is presented, and on the platform host every page
but the login-like ones sends a visitor without a platform login to the platform login page."""

from __future__ import annotations

import itertools
import shutil
import time
from pathlib import Path

import pytest

from conftest import PortalClient, run
from mypage.db.registry import tenant_owned_tables
from mypage.identity.tables import Account
from mypage.web.sessions import COOKIE_NAME, STAFF, STAFF_COOKIE_NAME, Session, save_session

ROOT = Path(__file__).resolve().parents[2]
TENANTS = ("aicom", "itscom", "nmedia")
NOT_IDENTIFYING = {"month", "year", "page", "fiscal_year", "lang"}
"""Parameters that select within the visitor's own data rather than name a record."""
SKIP_ROUTES = {"/static/{path:path}"}
UNKNOWN = {"token": ["x" * 43], "code": ["000000"]}
"""Values for parameters no table holds (single-use tokens: unknown ones must fail alike)."""
MAX_SAMPLES = 3
ID_ALIASES = {"staff_members": "staff_id"}
"""Tables whose ids a path names by a shorter parameter than ``<table>_id``."""
LOGIN_PAGES = ("/login", "/admin/login")


@pytest.fixture(scope="module")
def demo_data(backend_settings, tmp_path_factory):
    """A small demo data set for every tenant, loaded once for this module."""
    from conftest import _truncate
    from mypage.db.engine import bind_tables, make_engine
    from mypage.demo.loader import load_demo

    tenants = tmp_path_factory.mktemp("walk") / "tenants"
    shutil.copytree(ROOT / "tenants", tenants)
    for demo in tenants.glob("*/demo.toml"):
        text = demo.read_text(encoding="utf-8")
        text = text.replace("\ncustomers = 300\n", "\ncustomers = 8\n", 1).replace("\nmonths = 18\n", "\nmonths = 3\n", 1)
        demo.write_text(text, encoding="utf-8")
    bind_tables(make_engine(backend_settings))
    run(_truncate())
    run(load_demo(backend_settings.with_(tenants_dir=tenants)))
    run(_threads())
    yield backend_settings
    run(_truncate())


async def _threads() -> None:
    """An inquiry with a staff reply and an import job per tenant (the demo has none): their routes are walked
    with real ids."""
    from mypage.importjobs.tables import ImportJob
    from mypage.inquiries.tables import Inquiry, InquiryMessage

    for slug in TENANTS:
        account = await _account(slug)
        inquiry = Inquiry(
            tenant=slug, customer=account["customer"], account=account["id"], category="other", subject="walk", body="walk"
        )
        await inquiry.save()
        await InquiryMessage(tenant=slug, inquiry=inquiry.id, author="staff", staff_name="walk", body="walk").save()
        await ImportJob(tenant=slug, kind="customers", filename="walk.csv", staff_name="walk", status="succeeded").save()


def _singular(tablename: str) -> str:
    return tablename[:-3] + "y" if tablename.endswith("ies") else tablename.rstrip("s")


async def _account(slug: str) -> dict:
    row = await Account.select().where(Account.tenant == slug).where(Account.customer.is_not_null()).order_by(Account.id).first()
    assert row, f"the demo data of {slug} has no account with a customer"
    return row


async def _samples(slug: str, customer_id: int) -> dict[str, list[str]]:
    """Values of tenant ``slug``'s rows by column name, the customer's own rows first."""
    values: dict[str, list[str]] = {}
    for table in tenant_owned_tables():
        columns = [c for c in table._meta.columns if c._meta.name not in ("tenant", "created_at")]
        has_customer = any(c._meta.name == "customer" for c in columns)
        query = table.select(*columns).where(table.tenant == slug).limit(200)
        rows = await query
        if has_customer:
            rows.sort(key=lambda r: r.get("customer") != customer_id)
        prefix = _singular(table._meta.tablename)
        for row in rows:
            for name, value in row.items():
                if value is None or value == "" or isinstance(value, (bytes, bool)):
                    continue
                keys = [name]
                if name == "id":
                    keys.append(f"{prefix}_id")
                    if table._meta.tablename in ID_ALIASES:
                        keys.insert(0, ID_ALIASES[table._meta.tablename])
                if name == "number":
                    keys.append(f"{prefix}_number")
                for key in keys:
                    bucket = values.setdefault(key, [])
                    if str(value) not in bucket and len(bucket) < MAX_SAMPLES:
                        bucket.append(str(value))
    return values


def _routes(app) -> list[tuple[str, list]]:
    found = []
    for route in app.routes:
        if "GET" not in (getattr(route, "methods", None) or ()) or not route.path_parameters:
            continue
        if route.path_format and route.path in SKIP_ROUTES:
            continue
        params = list(route.path_parameters.values()) if isinstance(route.path_parameters, dict) else list(route.path_parameters)
        if any(p.type is Path for p in params):
            continue
        found.append((route.path_format, [p.name for p in params]))
    return found


def _urls(path_format: str, names: list[str], samples: dict[str, list[str]]) -> list[str]:
    if all(n in NOT_IDENTIFYING for n in names):
        return []  # nothing here names another tenant's record
    choices = []
    segment = _singular(path_format.strip("/").split("/")[0])
    for name in names:
        # /contracts/{number} takes contract numbers first, then any "number".
        options = samples.get(f"{segment}_{name}") or samples.get(name) or UNKNOWN.get(name) or ["1"]
        choices.append(options[:MAX_SAMPLES])
    urls = []
    for combo in itertools.islice(itertools.product(*choices), 6):
        urls.append(path_format.format(**dict(zip(names, combo, strict=False))))
    return urls


def _cookie(slug: str, account_id: int) -> str:
    now = int(time.time())
    session = Session(None, {"account_id": account_id, "login_at": now, "_last_seen": now}, slug)
    session.modified = True
    from mypage.web.sessions import DatabaseSessionStore

    return run(save_session(DatabaseSessionStore(), session))


def _client(app, slug: str, cookie: str) -> PortalClient:
    client = PortalClient(app, base_url=f"http://{slug}.localhost")
    client.cookies.set(COOKIE_NAME, cookie, domain=f"{slug}.localhost")
    return client


def _refused(response, unknown_token: bool = False) -> bool:
    if response.status_code == 404:
        return True
    if unknown_token and 400 <= response.status_code < 500:
        return True  # an unknown single-use token: the flow's own "link invalid" page
    return response.status_code in (302, 303, 307) and response.headers.get("location", "").startswith(LOGIN_PAGES)


def _staff_cookie(slug: str, staff_id: int) -> str:
    now = int(time.time())
    data = {"staff_id": staff_id, "login_at": now, "_last_seen": now, "credentials_version": 0}
    session = Session(None, data, slug, STAFF)
    session.modified = True
    from mypage.web.sessions import DatabaseSessionStore

    return run(save_session(DatabaseSessionStore(), session))


async def _admin_staff(slug: str) -> int:
    """The tenant's 管理者 for the walk (made once: the demo data has no staff)."""
    from mypage.admin.staff.repository import StaffRepository

    repo = StaffRepository(slug)
    staff = await repo.by_email(f"walk-admin@{slug}.example")
    if staff is None:
        staff = await repo.create(email=f"walk-admin@{slug}.example", name="walk", role="admin", status="active")
    return staff.id


def _walk(app, demo_data):
    for slug in TENANTS:
        run(_admin_staff(slug))
    accounts = {slug: run(_account(slug)) for slug in TENANTS}
    samples = {slug: run(_samples(slug, accounts[slug]["customer"])) for slug in TENANTS}
    cookies = {slug: _cookie(slug, accounts[slug]["id"]) for slug in TENANTS}
    return accounts, samples, cookies


@pytest.fixture
def walk(demo_data, portal):
    from mypage.app import create_app
    from mypage.portal import Portal

    app = create_app(demo_data, portal=Portal(demo_data, tenants=portal.tenants))
    return app, *_walk(app, demo_data)


def test_the_walk_covers_routes(walk):
    app, _accounts, samples, _cookies = walk
    routes = _routes(app)
    assert routes, "no GET routes with path parameters"
    # The samples are real: each tenant has data to walk with.
    for slug in TENANTS:
        assert samples[slug].get("id"), slug


def test_another_tenants_ids_answer_404_or_login(walk):
    app, _accounts, samples, cookies = walk
    leaks = []
    checked = 0
    for owner, visitor in itertools.permutations(TENANTS, 2):
        as_visitor = _client(app, visitor, cookies[visitor])  # B's own logged-in customer
        with_owner_cookie = _client(app, visitor, cookies[owner])  # A's session presented on B's host
        for path_format, names in _routes(app):
            unknown_token = any(n in UNKNOWN and n not in samples[owner] for n in names)
            for url in _urls(path_format, names, samples[owner]):
                for label, client in (("B's customer", as_visitor), ("A's session", with_owner_cookie)):
                    response = client.get(url, follow_redirects=False)
                    checked += 1
                    if not _refused(response, unknown_token):
                        leaks.append(f"{visitor} host, {label}, {owner}'s ids: GET {url} -> {response.status_code}")
    assert checked
    assert not leaks, "\n".join(leaks)


def test_owner_sees_own_records(walk):
    """The walk is not vacuous: with its own session, a tenant's customer gets some of those URLs."""
    app, _accounts, samples, cookies = walk
    ok = 0
    for slug in TENANTS:
        client = _client(app, slug, cookies[slug])
        for path_format, names in _routes(app):
            for url in _urls(path_format, names, samples[slug])[:1]:
                if client.get(url, follow_redirects=False).status_code == 200:
                    ok += 1
    assert ok > 0


async def _other_customers_samples(slug: str, customer_id: int) -> dict[str, list[str]]:
    """Values from rows of the tenant's *other* customers (tables with a ``customer`` column only)."""
    values: dict[str, list[str]] = {}
    for table in tenant_owned_tables():
        names = {c._meta.name for c in table._meta.columns}
        if "customer" not in names:
            continue
        rows = await table.select().where(table.tenant == slug).where(table.customer != customer_id).limit(50)
        prefix = _singular(table._meta.tablename)
        for row in rows:
            for name, value in row.items():
                if name in ("tenant", "created_at", "customer") or value in (None, "") or isinstance(value, (bytes, bool)):
                    continue
                keys = [name] + ([f"{prefix}_id"] if name == "id" else []) + ([f"{prefix}_number"] if name == "number" else [])
                for key in keys:
                    bucket = values.setdefault(key, [])
                    if str(value) not in bucket and len(bucket) < MAX_SAMPLES:
                        bucket.append(str(value))
    return values


def test_another_customers_ids_answer_404_or_login(walk):
    """Within one tenant: a customer asking for another customer's records gets 404."""
    app, accounts, _, cookies = walk
    leaks = []
    for slug in TENANTS:
        others = run(_other_customers_samples(slug, accounts[slug]["customer"]))
        client = _client(app, slug, cookies[slug])
        for path_format, names in _routes(app):
            segment = _singular(path_format.strip("/").split("/")[0])
            if not all(n in others or f"{segment}_{n}" in others or n in NOT_IDENTIFYING for n in names):
                continue  # only routes whose ids all come from other customers' rows
            for url in _urls(path_format, names, others):
                response = client.get(url, follow_redirects=False)
                if not _refused(response):
                    leaks.append(f"{slug}: GET {url} -> {response.status_code}")
    assert not leaks, "\n".join(leaks)


def _admin_routes(app) -> list[tuple[str, list]]:
    return [(path, names) for path, names in _routes(app) if path.startswith("/admin/")]


def _staff_client(app, slug: str, cookie: str) -> PortalClient:
    client = PortalClient(app, base_url=f"http://{slug}.localhost")
    client.cookies.set(STAFF_COOKIE_NAME, cookie, domain=f"{slug}.localhost", path="/admin")
    return client


def test_admin_routes_refuse_other_tenants_ids_and_sessions(walk):
    """Every console route with parameters: B's 管理者 asking for A's ids gets 404 (or a login page); A's
    staff session on B's host and a customer's session get the console's login page."""
    app, _accounts, samples, cookies = walk
    routes = _admin_routes(app)
    assert routes, "no /admin routes with parameters"
    staff_cookies = {slug: _staff_cookie(slug, run(_admin_staff(slug))) for slug in TENANTS}
    leaks = []
    for owner, visitor in itertools.permutations(TENANTS, 2):
        visiting_staff = _staff_client(app, visitor, staff_cookies[visitor])
        foreign_staff = _staff_client(app, visitor, staff_cookies[owner])
        customer = _client(app, visitor, cookies[visitor])
        for path_format, names in routes:
            unknown_token = any(n in UNKNOWN and n not in samples[owner] for n in names)
            for url in _urls(path_format, names, samples[owner]):
                for label, client in (
                    ("B's staff", visiting_staff),
                    ("A's staff session", foreign_staff),
                    ("B's customer", customer),
                ):
                    response = client.get(url, follow_redirects=False)
                    if label == "B's staff":
                        ok = _refused(response, unknown_token)
                    else:
                        ok = response.status_code in (302, 303) and response.headers["location"].startswith("/admin/login")
                        ok = ok or (unknown_token and 400 <= response.status_code < 500)
                    if not ok:
                        leaks.append(f"{visitor} host, {label}, {owner}'s ids: GET {url} -> {response.status_code}")
    assert not leaks, "\n".join(leaks)


def test_every_admin_page_needs_a_staff_login(walk):
    """Every console GET route without parameters: a customer's session and another tenant's staff session
    get the console's login page (only the login-like pages answer)."""
    app, _accounts, _samples, cookies = walk
    staff_cookies = {slug: _staff_cookie(slug, run(_admin_staff(slug))) for slug in TENANTS}
    public = {"/admin/login", "/admin/login/totp", "/admin/recovery-codes"}
    paths = [
        route.path
        for route in app.routes
        if route.path.startswith("/admin") and "GET" in (getattr(route, "methods", None) or ()) and not route.path_parameters
    ]
    assert "/admin" in paths
    problems = []
    for owner, visitor in itertools.permutations(TENANTS, 2):
        for label, client in (
            ("customer", _client(app, visitor, cookies[visitor])),
            ("A's staff", _staff_client(app, visitor, staff_cookies[owner])),
        ):
            for path in paths:
                response = client.get(path, follow_redirects=False)
                location = response.headers.get("location", "")
                if path in public:
                    ok = (response.status_code == 200 and "/admin/login" in response.text) or location.startswith("/admin")
                else:
                    ok = response.status_code == 303 and location.startswith("/admin/login")
                if not ok:
                    problems.append(f"{visitor} host, {label}: GET {path} -> {response.status_code} {location}")
    own = _staff_client(app, "aicom", staff_cookies["aicom"])
    assert own.get("/admin").status_code == 200  # the walk is not vacuous
    assert not problems, "\n".join(problems)


PLATFORM_PUBLIC = {"/platform/login", "/platform/login/totp", "/platform/invite/{secret}"}


def _platform_routes(app) -> list[tuple[str, str, list[str]]]:
    found = []
    for route in app.routes:
        if not route.path.startswith("/platform"):
            continue
        params = list(route.path_parameters.values()) if isinstance(route.path_parameters, dict) else list(route.path_parameters)
        for method in sorted(set(getattr(route, "methods", None) or ()) & {"GET", "POST"}):
            found.append((method, route.path_format, [p.name for p in params]))
    return found


def test_the_platform_console_answers_only_on_its_host(walk):
    app, _accounts, _samples, cookies = walk
    staff_cookies = {slug: _staff_cookie(slug, run(_admin_staff(slug))) for slug in TENANTS}
    routes = _platform_routes(app)
    assert ("GET", "/platform/tenants/{tenant_slug}", ["tenant_slug"]) in routes
    problems = []
    for slug in TENANTS:
        for label, client in (
            ("customer", _client(app, slug, cookies[slug])),
            ("staff", _staff_client(app, slug, staff_cookies[slug])),
        ):
            for method, path_format, names in routes:
                url = path_format.format(**{name: slug if name == "tenant_slug" else "x" * 43 for name in names})
                response = (
                    client.get(url, follow_redirects=False) if method == "GET" else client.submit(url, {}, follow_redirects=False)
                )
                if response.status_code != 404:
                    problems.append(f"{slug} host, {label}: {method} {url} -> {response.status_code}")
    platform = PortalClient(app, base_url="http://platform.localhost")
    for method, path_format, names in routes:
        if method != "GET" or path_format in PLATFORM_PUBLIC:
            continue
        url = path_format.format(**{name: "aicom" for name in names})
        response = platform.get(url, follow_redirects=False)
        if response.status_code != 303 or response.headers["location"] != "/platform/login":
            problems.append(f"platform host, no login: GET {url} -> {response.status_code}")
    assert not problems, "\n".join(problems)
