"""Tenant documents (/terms, /terms/<name>): every terms link a tenant configures points at a document in its
folder, every document has a title, and a document cannot inject markup into the portal."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mypage.content.routes import DOCUMENT_NAME, document_path, render_document
from mypage.tenancy.registry import TenantRegistry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tenants():
    return list(TenantRegistry.load(ROOT / "tenants", ROOT / "themes"))


def _terms_links(config) -> list[str]:
    links = [config.identity.registration.terms_url]
    mailboxes = getattr(config.features, "mailboxes", None)
    if mailboxes:
        links.append(mailboxes.terms_url)
    return [link for link in links if link]


def test_local_terms_links_have_their_document(tenants):
    checked = 0
    for tenant in tenants:
        for link in _terms_links(tenant.config):
            if not link.startswith("/"):
                continue  # an operator's own site
            assert link == "/terms" or (link.startswith("/terms/") and DOCUMENT_NAME.fullmatch(link[len("/terms/") :])), link
            for locale in tenant.config.locales:
                assert document_path(tenant, link.strip("/"), locale), f"{tenant.slug}: {link} has no document in content/"
            checked += 1
    assert checked >= 2  # nmedia's 利用規約 and iTSCOM's 契約約款


def test_every_document_has_a_title(tenants):
    for tenant in tenants:
        for path in sorted((tenant.folder / "content").rglob("*.md")):
            relative = path.relative_to(tenant.folder / "content").with_suffix("")
            stem, _, locale = relative.name.partition(".")
            rendered = render_document(tenant, str(relative.with_name(stem)), locale or tenant.config.default_locale)
            assert rendered and rendered[0], path


def test_a_document_cannot_inject_markup(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "terms.md").write_text(
        "# 規約 <b>x</b>\n\n<script>alert(1)</script>\n\n[link](javascript:alert(1)) <img src=x onerror=alert(1)>\n",
        encoding="utf-8",
    )
    title, html = render_document(SimpleNamespace(folder=tmp_path), "terms", "ja")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="javascript' not in html.lower()
    assert "&lt;script&gt;" in html
    assert title.startswith("規約")


def test_document_names_are_not_paths():
    for bad in ("../terms", "a/b", "Terms", ".hidden", "", "x" * 65, "mail.en"):
        assert not DOCUMENT_NAME.fullmatch(bad), bad
    assert DOCUMENT_NAME.fullmatch("mail")
