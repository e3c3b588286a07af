"""Malformed input on every route of every tenant, over real HTTP on each backend: never a 500.

The POST fuzz (customer portal, tenant console, platform console) enumerates the routes from the Litestar
app (``app.routes``), fills path parameters with huge integers and junk, and posts bodies no browser sends: invalid UTF-8 (raw and percent-encoded, urlencoded and
multipart), NUL bytes, a file upload in every text field, 100 kB values, huge integers, no CSRF token. Every
form field name the code reads (scanned from the source) and every field the pages render is filled. Routes
behind the login are posted with a session logged in through the live server. Answers must be below 500, and
error answers the themed HTML page with the security headers.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from litestar.routes import HTTPRoute

from captcha_support import solve_altcha
from conftest import ROOT, run
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account
from mypage.records.tables import Contract, Customer, PhoneLine

TENANTS = ("aicom", "itscom", "nmedia")
HUGE = "9" * 30
PASSWORD = "Fuzz-pass-2024"
LOGINS = {"aicom": "fuzzuser1", "itscom": "fuzz.user@example.jp", "nmedia": "f7z2k9"}
EMAIL = "fuzz.owner@example.jp"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")
WORKERS = 6
CORE = 7
_FIELD_IN_SOURCE = re.compile(r"""(?:form|data)\.(?:get|getall|getlist|getone)\(\s*["']([A-Za-z_0-9]+)["']""")
_FIELD_IN_PAGE = re.compile(r"""<(?:input|textarea|select)\b[^>]*\bname="([^"{}<>]+)\"""")


# ------------------------------------------------------------------------------------------------ helpers


def check_answer(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n{response.text[:300]}"
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", "")
        assert content_type.startswith("text/html"), f"{what}: {response.status_code} {content_type}"
        assert content_type.count("charset") == 1, f"{what}: {content_type}"
        missing = [h for h in SECURITY_HEADERS if h not in response.headers]
        assert not missing, f"{what}: {response.status_code} without {missing}"


def source_field_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "platform" / "mypage").rglob("*.py"):
        names.update(_FIELD_IN_SOURCE.findall(path.read_text(encoding="utf-8")))
    return names


def route_paths(app, method: str) -> list[tuple[str, bool]]:
    """``(path, has_parameters)`` for every route with ``method``; each parameter filled with a huge integer,
    and for routes with parameters a second path with junk (invalid UTF-8, a long string)."""
    paths: list[tuple[str, bool]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or method not in route.methods:
            continue
        if not route.path_parameters:
            paths.append((route.path, False))
            continue
        for junk in (HUGE, "%FF%FEjunk", "x" * 300):
            path = route.path
            for param in route.path_parameters.values():
                value = junk if param.type is not int else (HUGE if junk != "x" * 300 else "-" + HUGE)
                path = re.sub(r"\{" + re.escape(param.name) + r":[^}]+\}", value, path)
            paths.append((path, True))
    return sorted(set(paths))


def multipart(fields: dict[str, bytes], *, files: bool = False) -> tuple[bytes, str]:
    boundary = "fuzzBoundary7MA4YWxkTrZu0gW"
    out = bytearray()
    for name, value in fields.items():
        out += f"--{boundary}\r\n".encode()
        if files and name != "_csrf_token":
            out += f'Content-Disposition: form-data; name="{name}"; filename="{name}.txt"\r\n'.encode()
            out += b"Content-Type: application/octet-stream\r\n\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def urlencoded(fields: dict[str, bytes]) -> tuple[bytes, str]:
    return b"&".join(name.encode() + b"=" + value for name, value in fields.items()), "application/x-www-form-urlencoded"


def bodies(names: list[str], token: str | None, index: int) -> list[tuple[str, bytes, str]]:
    """The malformed bodies for one path: ``(label, body, content type)``."""

    def fill(value: bytes) -> dict[str, bytes]:
        fields = {name: value for name in names}
        if token is not None:
            fields["_csrf_token"] = token.encode()
        return fields

    one_big = fill(b"x")
    one_big[names[index % len(names)]] = b"y" * 100_000
    return [  # the first CORE go to every path
        ("urlencoded raw invalid UTF-8", *urlencoded(fill(b"\xff\xfe\xc0\xaf"))),
        ("multipart invalid UTF-8", *multipart(fill(b"\xff\xfe\xc0\xaf"))),
        ("urlencoded %-encoded invalid UTF-8", *urlencoded(fill(b"%FF%FE%C0%AF%ED%A0%80"))),
        ("a file upload in every field", *multipart(fill(b"%PDF-1.4 \x00\x01"), files=True)),
        ("NUL bytes", *urlencoded(fill(b"a%00b"))),
        ("huge integers", *urlencoded(fill(HUGE.encode()))),
        ("5,000 characters everywhere", *urlencoded(fill(("あ" * 5000).encode()))),
        ("NUL bytes, multipart", *multipart(fill(b"a\x00b"))),
        ("negative huge integers", *urlencoded(fill(b"-" + HUGE.encode()))),
        ("100 kB in one field", *urlencoded(one_big)),
        ("100 kB in every field", *urlencoded(fill(b"z" * 100_000))),
        ("unterminated multipart", multipart(fill(b"x"))[0][:-30], multipart({})[1]),
        ("JSON garbage", b'{"login_id": [1, {"a": null}], "x": "\\ud800"', "application/json"),
    ]


# ------------------------------------------------------------------------------------------------ accounts


def make_owner(tenant: str) -> None:
    async def go():
        customer = Customer(
            tenant=tenant, number="0009001", name="不正　太郎", name_kana="フセイ　タロウ", services="internet,phone", email=EMAIL
        )
        await customer.save()
        contract = Contract(
            tenant=tenant, customer=customer.id, number="CAF9000000001", service="phone", service_name="ひかり電話"
        )
        await contract.save()
        await PhoneLine(tenant=tenant, contract=contract.id, service_name="ひかり電話", number="0748000001").save()
        await Account(
            tenant=tenant,
            customer=customer.id,
            login_id=LOGINS[tenant],
            login_id_display=LOGINS[tenant],
            email=EMAIL,
            role="owner",
            password_hash=_password_hash(),
            status="active",
        ).save()

    run(go())


_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def log_in(live, tenant: str, deliver) -> dict[str, str]:
    """Logs in through the live server (password; for nmedia also the mailed code and the captcha)."""
    attacker = live.tenant(tenant)
    try:
        step = attacker.submit("/login", {"login_id": LOGINS[tenant], "password": PASSWORD})
        assert step.status_code == 303, step.text[:500]
        if step.headers["location"] == "/login/email_otp":
            attacker.get("/login/email_otp")
            mail = deliver()
            code = re.search(r"^\s*(\d{6})\s*$", mail.text(mail.last_to(EMAIL)), re.M).group(1)
            step = attacker.submit("/login/email_otp", {"otp": code, "altcha": solve_altcha(attacker.client)})
            assert step.status_code == 303, step.text[:500]
        assert step.headers["location"] == "/"
        home = attacker.get("/")
        assert home.status_code == 200
        return dict(attacker.client.cookies)
    finally:
        attacker.close()


# ------------------------------------------------------------------------------------------------ tests


class Fuzzer:
    """Posts from a small thread pool; each thread has its own connection, cookies are sent explicitly."""

    def __init__(self, live, host: str):
        self.live = live
        self.host = host
        self.local = threading.local()
        self.clients: list[httpx.Client] = []
        self.lock = threading.Lock()

    def client(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(base_url=self.live.base_url, timeout=60, follow_redirects=False)
            with self.lock:
                self.clients.append(self.local.client)
        return self.local.client

    def send(
        self, method: str, path: str, *, cookies: dict, body: bytes = b"", content_type: str = "", headers: dict | None = None
    ) -> httpx.Response:
        all_headers = {"Host": self.host, **(headers or {})}
        if cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if content_type:
            all_headers["Content-Type"] = content_type
        return self.client().request(method, path, content=body if method != "GET" else None, headers=all_headers)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def signed_in_cookies(tenant: str) -> dict[str, str]:
    """A server-side session for the owner (as a completed login writes it; the POST fuzz logs in for real)."""
    from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key

    async def go():
        account = await Account.objects().where(Account.tenant == tenant).where(Account.login_id == LOGINS[tenant]).first()
        session_id = secrets.token_urlsafe(32)
        now = int(time.time())
        data = {"_tenant": tenant, "account_id": account.id, "login_at": now, "_last_seen": now}
        await DatabaseSessionStore().save(_store_key(session_id), data, 3600)
        return {COOKIE_NAME: session_id}

    return run(go())


def anonymous_cookies(live, tenant: str) -> dict[str, str]:
    attacker = live.tenant(tenant)
    try:
        attacker.csrf()
        return dict(attacker.client.cookies)
    finally:
        attacker.close()


def page_field_names(fuzzer: Fuzzer, app, cookie_sets: list[dict]) -> set[str]:
    names: set[str] = set()
    paths = [p for p, has_params in route_paths(app, "GET") if not has_params]
    with ThreadPoolExecutor(WORKERS) as pool:
        pages = pool.map(lambda args: fuzzer.send("GET", args[0], cookies=args[1]), [(p, c) for p in paths for c in cookie_sets])
        for page in pages:
            if page.headers.get("content-type", "").startswith("text/html"):
                names.update(_FIELD_IN_PAGE.findall(page.text))
    return names


def post_jobs(fuzzer: Fuzzer, paths: list[str], names: list[str], logged_in: dict, anonymous: dict, salt: int) -> list[tuple]:
    """The malformed POSTs for these paths: the core bodies to every path, the rarer ones rotating over the
    paths (bounded time, every kind sent), one without the CSRF token, some anonymous. A path ending in
    ``/logout`` would end the session: it is posted anonymously."""
    jobs = []
    for index, path in enumerate(paths):
        cookies = anonymous if path.endswith("/logout") else logged_in
        with_token = bodies(names, cookies["mypage_csrf"], index)
        rotation = index + salt
        chosen = [*with_token[:CORE], with_token[CORE + rotation % (len(with_token) - CORE)]]
        for label, body, content_type in chosen:
            jobs.append((fuzzer, path, cookies, label, body, content_type))
        label, body, content_type = bodies(names, None, index)[rotation % 3]
        jobs.append((fuzzer, path, cookies, f"{label} without CSRF token", body, content_type))
        if rotation % 3 == 0:
            label, body, content_type = bodies(names, anonymous["mypage_csrf"], index)[rotation % CORE]
            jobs.append((fuzzer, path, anonymous, f"{label}, anonymous", body, content_type))
    return jobs


def send_all(jobs: list[tuple]) -> list[str]:
    """Sends the jobs from a bounded thread pool; returns the answers that broke the rules."""

    def one(job):
        fuzzer, path, cookies, label, body, content_type = job
        # JSON carries its CSRF token in the header (as the ID-check script does)
        headers = {"x-csrftoken": cookies["mypage_csrf"]} if content_type == "application/json" else None
        response = fuzzer.send("POST", path, cookies=cookies, body=body, content_type=content_type, headers=headers)
        return f"{fuzzer.host} POST {path[:80]} ({label})", response

    failures = []
    with ThreadPoolExecutor(WORKERS) as pool:
        for what, response in pool.map(one, jobs):
            try:
                check_answer(response, what)
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
    return failures


def assert_no_failure(jobs: list[tuple], fuzzers: list[Fuzzer]) -> None:
    """Sends the jobs, closes the fuzzers, and fails with the answers that broke the rules."""
    try:
        failures = send_all(jobs)
    finally:
        for fuzzer in fuzzers:
            fuzzer.close()
    assert not failures, f"{len(failures)} of {len(jobs)} failed:\n" + "\n".join(failures[:40])


def test_malformed_posts_never_fail_the_server(live, app, deliver):
    for tenant in TENANTS:
        make_owner(tenant)
    post_paths = [path for path, _ in route_paths(app, "POST")]
    assert len(post_paths) >= 40  # the enumeration found the portal's forms
    code_names = source_field_names()
    assert {"login_id", "password", "body", "subdomain"} <= code_names
    jobs: list[tuple] = []
    fuzzers = []
    for tenant in TENANTS:
        logged_in = log_in(live, tenant, deliver)
        anonymous = anonymous_cookies(live, tenant)
        fuzzer = Fuzzer(live, f"{tenant}.localhost")
        fuzzers.append(fuzzer)
        names = sorted((code_names | page_field_names(fuzzer, app, [anonymous, logged_in])) - {"_csrf_token"})
        jobs += post_jobs(fuzzer, post_paths, names, logged_in, anonymous, TENANTS.index(tenant))
    assert_no_failure(jobs, fuzzers)


def _console_login(live, host: str, prefix: str, email: str, password: str, code: str) -> tuple[dict, dict]:
    """Logs a console member in through the live server; returns (logged-in cookies, anonymous cookies)."""
    client = httpx.Client(base_url=live.base_url, headers={"Host": host}, follow_redirects=False, timeout=60)
    anonymous = httpx.Client(base_url=live.base_url, headers={"Host": host}, follow_redirects=False, timeout=60)
    try:
        client.get(f"{prefix}/login")
        step = client.post(
            f"{prefix}/login", data={"email": email, "password": password, "_csrf_token": client.cookies["mypage_csrf"]}
        )
        assert step.status_code == 303 and step.headers["location"] == f"{prefix}/login/totp", step.text[:300]
        done = client.post(f"{prefix}/login/totp", data={"code": code, "_csrf_token": client.cookies["mypage_csrf"]})
        assert done.status_code == 303 and done.headers["location"] == prefix, done.text[:300]
        anonymous.get(f"{prefix}/login")
        return dict(client.cookies), dict(anonymous.cookies)
    finally:
        client.close()
        anonymous.close()


def test_malformed_posts_to_the_consoles_never_fail_the_server(live, app):
    """The same bodies at every POST route of the tenant console (an administrator's session, on a tenant host)
    and of the platform console (a platform member's session, on the platform host)."""
    from admin_support import STAFF_PASSWORD, make_staff
    from platform_support import PASSWORD as PLATFORM_PASSWORD
    from platform_support import make_member

    staff = make_staff("aicom", "fuzz-admin@example.jp", "admin", secret_key=live.settings.secret_key)
    member = make_member("fuzz-ops@platform.example")
    platform_host = live.settings.platform_host
    consoles = [
        (
            "aicom.localhost",
            "/admin",
            _console_login(live, "aicom.localhost", "/admin", staff.email, STAFF_PASSWORD, staff.next_code()),
        ),
        (
            platform_host,
            "/platform",
            _console_login(live, platform_host, "/platform", member.email, PLATFORM_PASSWORD, member.code()),
        ),
    ]
    code_names = source_field_names()
    jobs: list[tuple] = []
    fuzzers = []
    for salt, (host, prefix, (logged_in, anonymous)) in enumerate(consoles):
        paths = [path for path, _ in route_paths(app, "POST") if path == prefix or path.startswith(prefix + "/")]
        assert len(paths) >= 8, paths  # the enumeration found the console's forms
        fuzzer = Fuzzer(live, host)
        fuzzers.append(fuzzer)
        console_gets = [(p, h) for p, h in route_paths(app, "GET") if p.startswith(prefix)]
        names = sorted((code_names | console_field_names(fuzzer, console_gets, logged_in)) - {"_csrf_token"})
        jobs += post_jobs(fuzzer, paths, names, logged_in, anonymous, salt)
    assert_no_failure(jobs, fuzzers)


def console_field_names(fuzzer: Fuzzer, paths: list[tuple[str, bool]], cookies: dict) -> set[str]:
    names: set[str] = set()
    for path, has_params in paths:
        if not has_params:
            page = fuzzer.send("GET", path, cookies=cookies)
            if page.headers.get("content-type", "").startswith("text/html"):
                names.update(_FIELD_IN_PAGE.findall(page.text))
    return names


BAD_GETS = [
    "/static/%00",
    "/static/" + "a" * 4000,
    "/static/" + "a/" * 2000 + "x.css",
    "/static/%FF%FE",
    "/members?edit=" + HUGE,
    "/members?edit=-" + HUGE,
    "/mailboxes/" + HUGE + "/delete",
    "/mailboxes/" + HUGE + "/virus-check",
    "/login?next=%00",
    "/login?next=%FF%FE",
    "/register/chosen-id/complete?token=%00",
    "/forgot/email/reset?token=" + "x" * 5000,
    "/calls/0748000001/2024-01?page=" + HUGE,
    "/calls/" + "%00",
    "/calls/" + HUGE + "/" + HUGE,
    "/billing?year=" + HUGE,
]


@pytest.mark.parametrize("tenant", TENANTS)
def test_malformed_addresses_answer_400_or_404_themed(live, app, tenant):
    make_owner(tenant)
    fuzzer = Fuzzer(live, f"{tenant}.localhost")
    try:
        cookie_sets = [anonymous_cookies(live, tenant), {}, signed_in_cookies(tenant)]
        paths = list(BAD_GETS)
        for path, has_params in route_paths(app, "GET"):
            if has_params:
                paths.append(path)
        for path in paths:
            for cookies in cookie_sets:
                response = fuzzer.send("GET", path, cookies=cookies)
                check_answer(response, f"GET {path[:80]}")
        for path in ("/static/%00", "/static/" + "a" * 4000, "/mailboxes/" + HUGE + "/delete", "/members?edit=" + HUGE):
            response = fuzzer.send("GET", path, cookies=cookie_sets[2])
            assert response.status_code in (400, 404), (path[:40], response.status_code)
            assert 'lang="' in response.text and "/brand.css" in response.text, response.text[:300]  # the themed page
    finally:
        fuzzer.close()


@pytest.mark.parametrize(
    "host",
    [
        "{t}.localhost:8612:1",
        "{t}.localhost:abc",
        "{t}.localhost:99999999",
        "{t}.localhost:-1",
        "{t}.localhost:8612:",
        "{t}.localhost:80:80:80",
    ],
)
def test_odd_host_headers_answer_400_in_the_tenants_theme(live, host):
    fuzzer = Fuzzer(live, host.format(t="aicom"))
    try:
        for path in ("/login", "/", "/static/%00"):
            response = fuzzer.send("GET", path, cookies={})
            assert response.status_code == 400, (host, path, response.status_code)
            check_answer(response, f"Host {host} GET {path}")
            assert "/brand.css" in response.text  # the tenant's themed error page
            assert "入力内容を確認してください" in response.text
    finally:
        fuzzer.close()


@pytest.mark.parametrize("host", ["nobody.example:1:2", "aicom.localhost/x", "aicom.localhost@evil", "localhost:1:2"])
def test_odd_host_of_no_tenant_is_a_plain_400(live, host):
    fuzzer = Fuzzer(live, host)
    try:
        response = fuzzer.send("GET", "/login", cookies={})
        assert response.status_code == 400
        check_answer(response, f"odd host {host}")
    finally:
        fuzzer.close()


def test_the_400_page_speaks_the_tenants_language(live):
    fuzzer = Fuzzer(live, "aicom.localhost:1:2")
    try:
        english = fuzzer.send("GET", "/login?lang=en", cookies={})
        assert english.status_code == 400 and "Please check your input" in english.text
        assert "We could not process what was sent." in english.text
        japanese = fuzzer.send("GET", "/login?lang=ja", cookies={})
        assert "入力内容を確認してください" in japanese.text
    finally:
        fuzzer.close()


def test_a_form_field_with_a_file_or_bad_bytes_is_a_themed_400_in_english_too(live):
    attacker = live.tenant("aicom")
    try:
        token = attacker.csrf()
        body, content_type = multipart({"_csrf_token": token.encode(), "login_id": b"\xff", "password": b"x"})
        response = attacker.client.post("/login?lang=en", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 400
        assert "Please check your input" in response.text and "/brand.css" in response.text
        check_answer(response, "invalid UTF-8 multipart")
        # a valid form still works the same after the strict decoding (blank fields dropped as before)
        ok = attacker.client.post(
            "/login?lang=ja",
            content=urlencoded({"_csrf_token": token.encode(), "login_id": b"", "password": b""})[0],
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert ok.status_code == 400 and "入力してください。" in ok.text
    finally:
        attacker.close()


def test_source_scan_finds_the_form_fields():
    assert Path(ROOT / "platform" / "mypage").is_dir()
    assert {"login_id", "password", "otp", "current_password"} <= source_field_names()


def test_json_strings_with_nul_or_lone_surrogates_are_refused(live):
    attacker = live.tenant("aicom")
    try:
        token = attacker.csrf()
        for body in (b'{"login_id": "a\\u0000b"}', b'{"login_id": "\\ud800"}', b'{"x": [{"y": "\\u0001"}]}'):
            response = attacker.client.post(
                "/register/chosen-id/check-id", content=body, headers={"Content-Type": "application/json", "x-csrftoken": token}
            )
            assert response.status_code == 400, (body, response.status_code)
            check_answer(response, f"JSON {body!r}")
    finally:
        attacker.close()
