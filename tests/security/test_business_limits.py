"""Business limits under parallel requests ("at most N", "at least one") against the running portal.

Every rule of the kind "count, then write" is serialised on its parent row (``mypage.db.locks``); without that,
PostgreSQL at READ COMMITTED let parallel requests all count the same rows and all write: 8, 10 and 13
mailboxes against a limit of 5, and two administrators who demoted or deleted each other left a customer
with no administrator and no account. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import secrets
import time

from conftest import run
from mypage.addons.tables import AddonSubscription
from mypage.audit.log import AuditLog
from mypage.billing.tables import PaymentCard
from mypage.identity.tables import Account
from mypage.inquiries.tables import Inquiry
from mypage.mailboxes.tables import Mailbox
from mypage.records.tables import Customer
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key
from security import accounts

from .conftest import Attacker, LiveServer, parallel

PARALLEL = 12
ADMIN_ROLES = ("owner", "admin")


# --- rows and sessions made directly (login factors have their own tests) -------------------------------------


def make_customer(tenant: str, number: str, *, services: str = "internet", **fields) -> int:
    return accounts.make_customer(tenant, number=number, name_kana="ニホン　タロウ", services=services, **fields)


def make_account(tenant: str, customer_id: int, login_id: str, *, role: str = "owner", status: str = "active") -> int:
    email = f"{login_id}@example.jp"
    return accounts.make_account(
        tenant, login_id, customer=customer_id, email=email, role=role, display_name=login_id, status=status
    )


def signed_in(live: LiveServer, tenant: str, account_id: int) -> Attacker:
    """A client on the tenant's host with a session of its own for the account (as a completed login leaves)."""
    attacker = live.tenant(tenant)
    attacker.csrf()
    session_id = secrets.token_urlsafe(32)
    now = int(time.time())
    data = {"_tenant": tenant, "account_id": account_id, "login_at": now, "_last_seen": now}
    run(DatabaseSessionStore().save(_store_key(session_id), data, 3600))
    attacker.client.cookies.set(COOKIE_NAME, session_id)
    return attacker


def fetch(query):
    return run(query.run())


# --- メールアドレス: at most max_addresses per customer ------------------------------------------------------------


def walk_to_confirm(attacker: Attacker, local: str) -> None:
    """新規登録 up to the confirmation page (address, a free sub-domain, terms and virus check)."""
    assert attacker.submit("/mailboxes/new", {"local": local}).headers["location"] == "/mailboxes/new/subdomain"
    page = attacker.get("/mailboxes/new/subdomain")
    subdomain = re.findall(r'name="subdomain" value="([^"]+)"', page.text)[0]
    assert attacker.submit("/mailboxes/new/subdomain", {"subdomain": subdomain}).headers["location"] == "/mailboxes/new/options"
    chosen = attacker.submit("/mailboxes/new/options", {"virus_check": "on", "agree": "yes"})
    assert chosen.headers["location"] == "/mailboxes/new/confirm"


def test_parallel_mailbox_registrations_never_exceed_the_limit(live, portal):
    limit = portal.tenants.get("itscom").config.features.mailboxes.max_addresses
    assert 2 * limit < PARALLEL
    customer = make_customer("itscom", "3000001", services="internet,tv")
    account = make_account("itscom", customer, "taro@example.jp")
    # one session per request, each with its own address waiting to be confirmed: only the count can refuse them
    attackers = [signed_in(live, "itscom", account) for _ in range(PARALLEL)]
    try:
        parallel(lambda pair: walk_to_confirm(pair[1], f"parallel{pair[0]:02d}"), list(enumerate(attackers)))
        answers = parallel(lambda attacker: attacker.submit("/mailboxes/new/confirm", {}), attackers)
    finally:
        for attacker in attackers:
            attacker.close()

    stored = fetch(Mailbox.count().where(Mailbox.tenant == "itscom").where(Mailbox.customer == customer))
    assert stored == limit, f"{stored} mailboxes against a limit of {limit}"
    statuses = [a.status_code for a in answers]
    assert all(status < 500 for status in statuses), statuses
    done = [a for a in answers if a.status_code == 303 and a.headers["location"] == "/mailboxes/new/done"]
    assert len(done) == limit, statuses
    refused = [a for a in answers if a not in done]
    for answer in refused:
        # the normal answers: the confirmation page saying so, or (already full when the request began) the list
        if answer.status_code == 409:
            assert f"メールアドレスは{limit}つまで登録できます。" in answer.text
        else:
            assert (answer.status_code, answer.headers.get("location")) == (303, "/mailboxes"), answer.status_code


# --- ユーザ管理: at least one active administrator, at least one account ------------------------------------------


def demote(member: int, login_id: str) -> dict:
    return {
        "path": "/members",
        "form": {
            "action": "update",
            "id": str(member),
            "email": f"{login_id}@example.jp",
            "display_name": login_id,
            "role": "general",
            "mail_notify": "yes",
        },
    }


def delete(member: int) -> dict:
    return {"path": "/members/delete", "form": {"id": str(member)}}


MEMBER_PROBLEMS = (
    "管理者ユーザが1人のため、ユーザ種別を一般に変更できません。",
    "管理者ユーザが1人のため、このユーザは削除できません。",
    "ユーザー一覧から対象のユーザを選択してください。",  # already deleted by a parallel request
)


def mutual_attack(live: LiveServer, round_no: int) -> None:
    customer = make_customer("nmedia", f"10000{round_no:02d}")
    first_id, second_id = f"a{round_no:02d}001", f"a{round_no:02d}002"
    first = make_account("nmedia", customer, first_id, role="owner")
    second = make_account("nmedia", customer, second_id, role="admin")
    # an administrator registered in ユーザ管理 who has not replaced the temporary password yet is not one
    make_account("nmedia", customer, f"a{round_no:02d}003", role="admin", status="pending")
    sessions = {first: signed_in(live, "nmedia", first), second: signed_in(live, "nmedia", second)}
    # each administrator demotes and deletes the other and themselves, interleaved: 12 requests, two sessions
    moves = [demote(second, second_id), delete(first), demote(first, first_id), delete(second)]
    plan = []
    for i in range(PARALLEL):
        actor = (first, second)[i % 2]
        plan.append((sessions[actor], moves[(i + round_no + i // 2) % len(moves)]))

    def send(item):
        attacker, move = item
        return attacker.submit(move["path"], move["form"])

    try:
        answers = parallel(send, plan)
    finally:
        for attacker in sessions.values():
            attacker.close()

    left = fetch(Account.objects().where(Account.tenant == "nmedia").where(Account.customer == customer))
    assert left, f"round {round_no}: the customer has no account left"
    active_admins = [a for a in left if a.role in ADMIN_ROLES and a.status == "active"]
    assert active_admins, f"round {round_no}: no active administrator left: {[(a.id, a.role) for a in left]}"
    statuses = [a.status_code for a in answers]
    assert all(status < 500 for status in statuses), statuses
    for answer in answers:
        if answer.status_code == 400:
            assert any(problem in answer.text for problem in MEMBER_PROBLEMS), answer.text[:2000]
        else:
            # done (303), or the acting administrator was demoted or deleted meanwhile: 404 / the login page
            assert answer.status_code in (302, 303, 404), statuses


def test_administrators_demoting_and_deleting_each_other_leave_one(live):
    for round_no in range(4):
        mutual_attack(live, round_no)


def test_parallel_member_registrations_never_exceed_max_members(live, portal):
    limit = portal.tenants.get("nmedia").config.features.members.max_members
    customer = make_customer("nmedia", "1000099")
    admin = make_account("nmedia", customer, "adm099", role="owner")
    room = 3
    run(
        Account.insert(
            *(
                Account(
                    tenant="nmedia",
                    customer=customer,
                    login_id=f"gen{i:03d}",
                    login_id_display=f"gen{i:03d}",
                    email=f"gen{i:03d}@example.jp",
                    role="general",
                    password_hash="x",
                )
                for i in range(limit - 1 - room)
            )
        ).run()
    )
    attacker = signed_in(live, "nmedia", admin)
    forms = [
        {
            "action": "register",
            "email": f"new{i:02d}@example.jp",
            "display_name": f"新規{i}",
            "role": "general",
            "mail_notify": "no",
        }
        for i in range(PARALLEL)
    ]
    try:
        answers = attacker.fire("/members", forms)
    finally:
        attacker.close()
    stored = fetch(Account.count().where(Account.tenant == "nmedia").where(Account.customer == customer))
    assert stored == limit, f"{stored} accounts against a limit of {limit}"
    statuses = [a.status_code for a in answers]
    assert statuses.count(303) == room, statuses
    refused = [a for a in answers if a.status_code != 303]
    assert all(a.status_code == 400 and f"登録できるユーザは{limit}人までです。" in a.text for a in refused), statuses


# --- インターネットセキュリティサービス: at most one open subscription per customer --------------------------------


def test_parallel_addon_applications_make_one_subscription(live):
    customer = make_customer("itscom", "3000002", services="internet")
    account = make_account("itscom", customer, "hanako@example.jp")
    attacker = signed_in(live, "itscom", account)
    try:
        answers = attacker.fire("/security/apply", [{} for _ in range(PARALLEL)])
    finally:
        attacker.close()
    assert [(a.status_code, a.headers.get("location")) for a in answers] == [(303, "/security")] * PARALLEL
    rows = fetch(AddonSubscription.objects().where(AddonSubscription.customer == customer))
    assert len(rows) == 1 and rows[0].cancelled_on is None, f"{len(rows)} subscriptions"
    assert len(run(AuditLog("itscom").events(event="addon.applied"))) == 1


# --- お問い合わせ: at most max_per_hour per account ------------------------------------------------------------------


def test_parallel_inquiries_never_exceed_the_hourly_limit(live, portal):
    limit = portal.tenants.get("nmedia").config.features.inquiries.max_per_hour
    customer = make_customer("nmedia", "1000098")
    account = make_account("nmedia", customer, "inq098")
    room = 3
    run(
        Inquiry.insert(
            *(
                Inquiry(tenant="nmedia", customer=customer, account=account, category="other", subject="", body=f"既存{i}")
                for i in range(limit - room)
            )
        ).run()
    )
    attacker = signed_in(live, "nmedia", account)
    try:
        answers = attacker.fire("/inquiries", [{"category": "other", "body": f"並行{i}"} for i in range(PARALLEL)])
    finally:
        attacker.close()
    stored = fetch(Inquiry.count().where(Inquiry.account == account))
    assert stored == limit, f"{stored} inquiries in an hour against a limit of {limit}"
    statuses = [a.status_code for a in answers]
    assert statuses.count(303) == room and statuses.count(429) == PARALLEL - room, statuses


# --- お支払い方法: at most one card per customer --------------------------------------------------------------------


def test_parallel_card_confirmations_keep_one_card(live):
    customer = make_customer("itscom", "3000003", payment_method="bank", bank_name="東急銀行", bank_last4="4321")
    account = make_account("itscom", customer, "card@example.jp")
    attacker = signed_in(live, "itscom", account)
    try:
        entered = attacker.submit(
            "/billing/payment-method/card",
            {"card_number": "4111 1111 1111 1111", "expiry": "12/39", "holder": "TARO YAMADA", "cvc": "123"},
        )
        assert entered.headers["location"] == "/billing/payment-method/card/confirm"
        answers = attacker.fire("/billing/payment-method/card/confirm", [{} for _ in range(PARALLEL)])
    finally:
        attacker.close()
    statuses = [a.status_code for a in answers]
    assert all(status < 500 for status in statuses), statuses
    assert fetch(PaymentCard.count().where(PaymentCard.customer == customer)) == 1
    assert fetch(Customer.select(Customer.payment_method).where(Customer.id == customer).first())["payment_method"] == "card"
