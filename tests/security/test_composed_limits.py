"""Limits of the composed identity features under parallel requests, on a real server (both databases):
the login-ID lookup by e-mail (``id_forgotten = "email_lookup"``) and members with e-mail login IDs, on
test-only tenant variants (``tests/variants.py``)."""

from __future__ import annotations

import pytest

from conftest import run
from mypage.identity.tables import Account
from mypage.mail.tables import OutboxMail
from security import accounts
from variants import DROP, variant, variant_app

from .conftest import LiveServer, _servers, _start, parallel
from .test_business_limits import signed_in

LOOKUP = variant(
    "itscom",
    "lookuprace",
    {
        "identity.recovery.methods": ["email_code"],
        "identity.recovery.id_forgotten": "email_lookup",
        "identity.recovery.secret_questions": DROP,
        "identity.recovery.entry_path": DROP,
        "identity.tokens.max_attempts": 3,
    },
)
TEAM = variant("itscom", "teamrace", {"features.members": {"max_members": 3}})


@pytest.fixture
def composed(db, portal) -> LiveServer:
    app, _portal = variant_app(db, portal, [LOOKUP, TEAM])
    key = f"composed:{db.database_url or 'sqlite'}"
    if key not in _servers:
        _servers[key] = _start(app, db)
    return _servers[key][0]


def mails_to(address: str) -> int:
    return run(OutboxMail.count().where(OutboxMail.recipient == address).run())


def test_parallel_lookups_of_one_address_mail_it_at_most_the_limit(composed):
    accounts.make_account("lookuprace", "hanako@example.jp", email="")
    client = composed.tenant("lookuprace")
    answers = client.fire("/forgot/id", [{"email": "hanako@example.jp"}] * 12)
    codes = sorted(r.status_code for r in answers)
    assert codes == [303] * 3 + [429] * 9, codes
    assert mails_to("hanako@example.jp") == 3


def test_parallel_member_registrations_with_email_ids(composed):
    first = accounts.make_customer("teamrace", number="4000001")
    second = accounts.make_customer("teamrace", number="4000002")
    admin_a = signed_in(composed, "teamrace", accounts.make_account("teamrace", "a@example.jp", customer=first, role="owner"))
    admin_b = signed_in(composed, "teamrace", accounts.make_account("teamrace", "b@example.jp", customer=second, role="owner"))
    form = {"action": "register", "display_name": "同じ人", "role": "general", "mail_notify": "no"}
    # both customers' administrators register the same address at once: it becomes one login ID only
    plan = [(admin_a if i % 2 else admin_b, {**form, "email": "same@example.jp"}) for i in range(8)]
    answers = parallel(lambda item: item[0].submit("/members", item[1]), plan)
    assert sorted(r.status_code for r in answers) == [303] + [400] * 7
    assert run(Account.count().where(Account.tenant == "teamrace").where(Account.login_id == "same@example.jp").run()) == 1

    # one customer: max_members (3) holds against a burst of different addresses
    def members_of(customer: int) -> int:
        return run(Account.count().where(Account.customer == customer).run())

    before = members_of(first)
    answers = admin_a.fire("/members", [{**form, "email": f"new{i}@example.jp"} for i in range(8)])
    assert members_of(first) == 3
    assert sum(r.status_code == 303 for r in answers) == 3 - before
