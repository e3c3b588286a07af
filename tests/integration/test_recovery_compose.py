"""Recovery composed from configuration: the entry screen derived from ``identity.recovery.methods`` and
``id_forgotten = "email_lookup"`` (the login IDs registered to an address, mailed there), on tenants that
combine settings none of the three operators uses together (``tests/variants.py``)."""

from __future__ import annotations

import pytest

from conftest import run
from mypage.audit.tables import AuditEvent
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password
from variants import DROP, client, variant, variant_app

SAME_ANSWER = "入力されたメールアドレスがご登録のものであれば、ご登録の"

# e-mail as login ID, recovery by link or by mailed code, login IDs looked up by address, tight limits.
LOOKUP = variant(
    "itscom",
    "lookup",
    {
        "identity.recovery.methods": ["email_link", "email_code"],
        "identity.recovery.id_forgotten": "email_lookup",
        "identity.recovery.secret_questions": DROP,
        "identity.recovery.entry_path": DROP,
        "identity.tokens.max_attempts": 3,
        "identity.lockout.per_address_max_failures": 5,
    },
)
# chosen IDs, only the secret question, nothing for a forgotten ID: the entry leads straight to it.
QUESTION_ONLY = variant(
    "aicom",
    "question",
    {
        "identity.recovery.methods": ["secret_question"],
        "identity.recovery.secret_questions": [{"ja": "母親の旧姓は?", "en": "Mother's maiden name?"}],
        "identity.recovery.id_forgotten": "none",
        "identity.recovery.entry_path": DROP,
    },
)


@pytest.fixture
def served(db, portal):
    app, variant_portal = variant_app(db, portal, [LOOKUP, QUESTION_ONLY])
    return app, variant_portal


def make_account(portal, tenant: str, login_id: str, email: str = "", **fields) -> int:
    async def go():
        account = await AccountRepository(portal.tenants.get(tenant)).create(
            login_id=login_id, password_hash=hash_password("pass1234"), email=email, **fields
        )
        return account.id

    return run(go())


def audit(event: str) -> list[dict]:
    return run(AuditEvent.select().where(AuditEvent.event == event).order_by(AuditEvent.id).run())


def test_the_entry_is_derived_from_the_methods(served):
    app, _portal = served
    lookup = client(app, "lookup")
    assert 'href="/forgot"' in lookup.get("/login").text
    page = lookup.get("/forgot")
    assert page.status_code == 200
    for option in ('value="password"', 'value="password_link"', 'value="id"'):
        assert option in page.text
    assert "合言葉" not in page.text
    expected = {"password": "/forgot/identify", "password_link": "/forgot/email", "id": "/forgot/id"}
    for what, target in expected.items():
        response = lookup.submit("/forgot", {"what": what}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == target
        assert lookup.get(target).status_code == 200
    assert lookup.submit("/forgot", {"what": "nonsense"}).status_code == 400

    question = client(app, "question")
    assert 'href="/forgot"' in question.get("/login").text
    response = question.get("/forgot", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/forgot/identify"
    assert question.get("/forgot/email").status_code == 404
    assert question.get("/forgot/id").status_code == 404


def test_email_lookup_mails_the_ids_without_telling_who_is_registered(served, deliver):
    app, portal = served
    make_account(portal, "lookup", "hanako@example.jp")  # the login ID is the address
    make_account(portal, "lookup", "work@example.jp", email="hanako@example.jp")  # the address as contact
    make_account(portal, "lookup", "gone@example.jp", email="hanako@example.jp", status="disabled")
    make_account(portal, "lookup", "other@example.jp")
    make_account(portal, "itscom", "hanako@example.jp")  # another tenant's account stays out of it
    browser = client(app, "lookup")
    form = browser.get("/forgot/id")
    assert "IDがご不明なお客様" in form.text and 'name="_csrf_token"' in form.text

    known = browser.submit("/forgot/id", {"email": "Hanako@Example.jp"}, follow_redirects=False)
    assert known.status_code == 303 and known.headers["location"] == "/forgot/id/sent"
    known_page = browser.get("/forgot/id/sent")
    unknown = client(app, "lookup")
    unknown.submit("/forgot/id", {"email": "nobody@example.jp"})
    unknown_page = unknown.get("/forgot/id/sent")
    assert SAME_ANSWER in known_page.text and SAME_ANSWER in unknown_page.text
    assert known_page.text.replace("Hanako@example.jp", "X").replace("hanako@example.jp", "X") == unknown_page.text.replace(
        "nobody@example.jp", "X"
    )

    sink = deliver()
    assert not sink.to("nobody@example.jp")
    messages = sink.to("hanako@example.jp")
    assert len(messages) == 1
    body = sink.text(messages[0])
    assert "hanako@example.jp" in body and "work@example.jp" in body
    assert "gone@example.jp" not in body and "other@example.jp" not in body
    assert "のお知らせ" in messages[0]["Subject"]
    assert len(audit("recovery.id_lookup")) == 2

    bad = browser.submit("/forgot/id", {"email": "not-an-address"})
    assert bad.status_code == 400 and "メールアドレスの形式" in bad.text
    forged = browser.post("/forgot/id", data={"email": "hanako@example.jp", "_csrf_token": "forged"})
    assert forged.status_code == 403


def test_email_lookup_is_limited_per_address_and_per_client(served, deliver):
    app, portal = served
    make_account(portal, "lookup", "hanako@example.jp")
    browser = client(app, "lookup")
    # tokens.max_attempts = 3 lookups of one address in the lock window
    for _try in range(3):
        assert browser.submit("/forgot/id", {"email": "hanako@example.jp"}, follow_redirects=False).status_code == 303
    limited = browser.submit("/forgot/id", {"email": "hanako@example.jp"})
    assert limited.status_code == 429 and "時間をおいて" in limited.text
    assert len(deliver().to("hanako@example.jp")) == 3
    # lockout.per_address_max_failures = 5 requests from one client address (the refused one counted too)
    assert browser.submit("/forgot/id", {"email": "other@example.jp"}, follow_redirects=False).status_code == 303
    assert browser.submit("/forgot/id", {"email": "fresh@example.jp"}).status_code == 429
    assert audit("recovery.id_lookup_limited")


def test_shipped_tenants_with_email_lookup_offer_it(app, client_for, portal, deliver):
    make_account(portal, "aicom", "taro-id", email="taro@example.jp")
    aicom = client_for("aicom")
    assert 'href="/forgot/id"' in aicom.get("/forgot/email").text
    aicom.submit("/forgot/id", {"email": "taro@example.jp"})
    assert "taro-id" in deliver().text(deliver().last_to("taro@example.jp"))
    assert client_for("itscom").get("/forgot/id").status_code == 404  # itscom: reregister
