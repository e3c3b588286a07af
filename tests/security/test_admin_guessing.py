"""The staff console's secrets under parallel guessing against the running portal (SQLite and PostgreSQL):
at most the tenant's limit of passwords and authenticator codes is compared; then even the right ones are
refused, and the staff member is locked."""

from __future__ import annotations

import pyotp

from admin_support import STAFF_PASSWORD, make_staff
from conftest import run
from mypage.admin.tables import StaffMember

GUESSES = 15
WRONG_PASSWORD = "メールアドレスまたはパスワードが正しくありません"
WRONG_CODE = "確認コードまたはリカバリーコードが正しくありません"


async def _row(staff_id: int) -> dict:
    return await StaffMember.select().where(StaffMember.id == staff_id).first()


def _count(responses, text: str) -> int:
    return sum(1 for r in responses if text in r.text)


def test_staff_password_guesses_are_bounded_and_lock(app, live):
    limit = app.state.portal.tenants.get("aicom").config.identity.lockout.max_failures
    staff = make_staff("aicom", "target@example.jp", secret_key=live.settings.secret_key)
    attacker = live.tenant("aicom")
    answers = attacker.fire("/admin/login", [{"email": staff.email, "password": f"wrong-guess-{i}"} for i in range(GUESSES)])
    assert all(r.status_code in (400, 429) for r in answers), [r.status_code for r in answers]
    assert _count(answers, WRONG_PASSWORD) <= limit - 1
    right = live.tenant("aicom").submit("/admin/login", {"email": staff.email, "password": STAFF_PASSWORD})
    assert right.status_code == 429 and "一時的に停止" in right.text
    assert run(_row(staff.id))["locked_until"] is not None


def test_staff_authenticator_guesses_are_bounded_and_lock(app, live):
    limit = app.state.portal.tenants.get("aicom").config.identity.lockout.max_failures
    staff = make_staff("aicom", "totp-target@example.jp", secret_key=live.settings.secret_key)
    now = int(pyotp.TOTP(staff.secret).now())
    wrong = [f"{(now + 7 + i) % 1000000:06d}" for i in range(GUESSES)]
    attacker = live.tenant("aicom")
    step = attacker.submit("/admin/login", {"email": staff.email, "password": STAFF_PASSWORD})
    assert step.status_code == 303 and step.headers["location"] == "/admin/login/totp"
    answers = attacker.fire("/admin/login/totp", [{"code": code} for code in wrong])
    assert all(r.status_code < 500 for r in answers)
    assert _count(answers, WRONG_CODE) <= limit - 1
    assert run(_row(staff.id))["locked_until"] is not None
    again = live.tenant("aicom").submit("/admin/login", {"email": staff.email, "password": STAFF_PASSWORD})
    assert again.status_code == 429


def _logged_in(live, staff):
    client = live.tenant("aicom")
    step = client.submit("/admin/login", {"email": staff.email, "password": STAFF_PASSWORD})
    assert step.status_code == 303, step.text
    done = client.submit("/admin/login/totp", {"code": staff.next_code()})
    assert done.status_code == 303 and done.headers["location"] == "/admin", done.text
    return client


def test_two_admins_demoting_each_other_at_once_keep_one(app, live):
    """ "At least one active 管理者" holds when the only two change each other's role at the same moment."""
    from security.conftest import parallel

    first = make_staff("aicom", "first-admin@example.jp", secret_key=live.settings.secret_key)
    second = make_staff("aicom", "second-admin@example.jp", secret_key=live.settings.secret_key)
    clients = [(_logged_in(live, first), second.id), (_logged_in(live, second), first.id)]
    answers = parallel(lambda item: item[0].submit(f"/admin/staff/{item[1]}", {"action": "role", "role": "viewer"}), clients)
    assert sorted(r.status_code for r in answers) in ([303, 400], [303, 303]), [r.status_code for r in answers]

    async def admins():
        return await StaffMember.count().where(StaffMember.role == "admin").where(StaffMember.status == "active")

    assert run(admins()) >= 1
