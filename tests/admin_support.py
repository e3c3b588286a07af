"""Staff accounts for the console tests: made directly (active, with a known password and authenticator
secret), and a login through the HTTP pages."""

from __future__ import annotations

import time

import pyotp

from conftest import run
from mypage.admin.staff.repository import StaffRepository
from mypage.identity.passwords import hash_password
from mypage.identity.staff_login import recovery_hash
from mypage.identity.totp import new_recovery_codes

STAFF_PASSWORD = "staff-pass-0123"
SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"


class StaffAccount:
    def __init__(self, staff_id: int, email: str, secret: str, codes: list[str]):
        self.id = staff_id
        self.email = email
        self.secret = secret
        self.codes = codes
        self._steps_used: set[int] = set()

    def next_code(self) -> str:
        """A code of a time step not used yet (each step is accepted once): now, the previous or the next step,
        whichever is still free; when all three are used, the code of the next step that starts. (The previous step last: it may have ended before the server checks.)"""
        totp = pyotp.TOTP(self.secret)
        while True:
            now = int(time.time() // totp.interval)
            for step in (now, now + 1, now - 1):
                if step not in self._steps_used:
                    self._steps_used.add(step)
                    return totp.at(step * totp.interval)
            time.sleep(totp.interval - time.time() % totp.interval + 0.05)


def make_staff(
    tenant: str, email: str, role: str = "admin", *, name: str = "テスト　スタッフ", secret_key: str = SECRET_KEY
) -> StaffAccount:
    secret = pyotp.random_base32()
    codes = new_recovery_codes()

    async def go():
        repo = StaffRepository(tenant)
        staff = await repo.create(
            email=email, name=name, role=role, status="active", password_hash=hash_password(STAFF_PASSWORD), totp_secret=secret
        )
        await repo.replace_recovery_codes(staff.id, [recovery_hash(secret_key, tenant, staff.id, c) for c in codes])
        return staff.id

    return StaffAccount(run(go()), email, secret, codes)


def staff_login(client, staff: StaffAccount, *, password: str = STAFF_PASSWORD, code: str | None = None):
    """Password then authenticator code; returns the last response (303 to /admin when it worked)."""
    first = client.submit("/admin/login", {"email": staff.email, "password": password}, follow_redirects=False)
    if first.status_code != 303:
        return first
    assert first.headers["location"] == "/admin/login/totp"
    return client.submit("/admin/login/totp", {"code": code or staff.next_code()}, follow_redirects=False)
