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
