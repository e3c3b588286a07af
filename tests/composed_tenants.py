"""Tenants the shipped operators do not cover, for tests only: the fixture tenants of
``tests/fixtures/tenants`` and generated combinations of identity settings. They are copied with the shipped
tenants into a temporary folder that only these tests' app reads (``scripts/serve.sh`` never sees them).

:func:`register` drives the registration pipeline of any tenant through the HTTP client, step by step as
the tenant's plan (``identity/registration/plan.py``) says, reading mail from the real SMTP server.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from mypage.app import create_app
from mypage.db.engine import bind_tables, make_engine
from mypage.identity.registration.plan import plan_of
from mypage.portal import Portal

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_TENANTS = ROOT / "tests" / "fixtures" / "tenants"


def tenants_folder(dest: Path, extra: dict[str, str] | None = None) -> Path:
    """The shipped tenants, the fixture tenants and ``extra`` (slug → tenant.toml text) under ``dest``."""
    shutil.copytree(ROOT / "tenants", dest)
    for folder in FIXTURE_TENANTS.iterdir():
        if folder.is_dir():
            shutil.copytree(folder, dest / folder.name)
    logo = FIXTURE_TENANTS / "kitanet" / "static" / "logo.svg"
    for slug, toml in (extra or {}).items():
        (dest / slug / "static").mkdir(parents=True)
        shutil.copy(logo, dest / slug / "static" / "logo.svg")
        if "/terms" in toml:
            shutil.copytree(FIXTURE_TENANTS / "kitanet" / "content", dest / slug / "content")
        (dest / slug / "tenant.toml").write_text(toml, encoding="utf-8")
    return dest


class ComposedApps:
    """One app per database backend over a tenants folder (built once, like ``conftest.app``)."""

    def __init__(self, folder: Path, base_settings):
        self.folder = folder
        self.portal = Portal(base_settings.with_(tenants_dir=folder))
        self.apps: dict[str, object] = {}

    def client_for(self, db):
        from conftest import PortalClient

        key = db.database_url or "sqlite"
        if key not in self.apps:
            settings = db.with_(tenants_dir=self.folder)
            self.apps[key] = create_app(settings, portal=Portal(settings, tenants=self.portal.tenants))
        bind_tables(make_engine(db))
        app = self.apps[key]
        return lambda slug: PortalClient(app, base_url=f"http://{slug}.localhost")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _moved(response, where: str) -> str:
    assert response.status_code == 303, f"{where}: {response.status_code} {response.text[-2000:]}"
    return response.headers["location"]


def register(
    client,
    tenant,
    deliver,
    *,
    answers: dict[str, str],
    password: str,
    email: str,
    login_id: str = "",
    pay: tuple[str, str] | None = None,
    extra: dict[str, str] | None = None,
    nickname: str = "ニック",
) -> str:
    """Registers through every step the tenant's plan has; returns the login ID of the new account."""
    plan = plan_of(tenant)
    assert _moved(client.get("/register", follow_redirects=False), "entry") == plan.prefix
    page = client.get(plan.prefix)
    assert page.status_code == 200
    data = dict(answers)
    if pay:
        data |= {"pay_kind": pay[0], "pay_value": pay[1]}
    if plan.email_at_verify:
        data["email"] = email
    if plan.terms:
        assert 'name="terms"' in page.text
        data["terms"] = "1"
    where = _moved(client.submit(plan.prefix, data, follow_redirects=False), "verify")
    if where.endswith("/extra"):
        assert extra, "several customers matched but the test gave no 追加認証 answer"
        where = _moved(client.submit(where, extra, follow_redirects=False), "extra")
    if plan.confirm == "first_login":
        assert where == plan.path("sent")
        assert client.get(where).status_code == 200
        text = deliver().text(deliver().last_to(email))
        label = tenant.config.identity.login_id.label.ja
        issued = re.search(rf"{re.escape(label)} : (\S+)", text).group(1)
        temporary = re.search(r"仮パスワード : (\S+)", text).group(1)
        link = next(u for u in deliver().links(deliver().last_to(email)) if "/register/issued-id/login/" in u)
        path = _path(link)
        step = client.submit(path, {"step": "credentials", "login_id": issued, "temporary_password": temporary})
        assert step.status_code == 200 and 'name="password_confirm"' in step.text, step.text[-2000:]
        done = client.submit(path, {"step": "password", "password": password, "password_confirm": password, "nickname": nickname})
        assert done.status_code == 200 and "初回登録は完了" in done.text, done.text[-2000:]
        return issued
    form = {"login_id": login_id, "password": password, "action": "confirm"}
    if plan.password_twice:
        form["password_confirm"] = password
    if plan.contact_field:
        form["email"] = email
    if plan.nickname:
        form["nickname"] = nickname
    where = _moved(client.submit(where, form, follow_redirects=False), "credentials")
    if plan.review:
        assert where == plan.path("confirm") and login_id in client.get(where).text
        where = _moved(client.submit(where, {"action": "submit"}, follow_redirects=False), "review")
    address = email if plan.contact_field else login_id
    final = {"contact": "0"}
    if plan.confirm_password:
        final["password"] = password
    if plan.confirm == "code":
        assert where == plan.path("code")
        code = re.search(r"認証コード : (\d{6})", deliver().text(deliver().last_to(address))).group(1)
        where = _moved(client.submit(where, {**final, "code": code}, follow_redirects=False), "code")
    else:
        assert where == plan.path("sent") and address in client.get(where).text
        link = next(u for u in deliver().links(deliver().last_to(address)) if plan.prefix in u)
        assert client.get(_path(link)).status_code == 200
        where = _moved(client.submit(_path(link), final, follow_redirects=False), "link")
    assert where == plan.path("done")
    done = client.get(where)
    assert done.status_code == 200 and ("そのままログイン" in done.text) == plan.confirm_password, done.text[-2000:]
    return login_id
