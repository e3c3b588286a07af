"""Platform staff for the platform console tests: made directly (active, with a known password and
authenticator secret), and a login through the HTTP pages on the platform host."""

from __future__ import annotations

import time

import pyotp

from conftest import PortalClient, run
from mypage.identity.passwords import hash_password
from mypage.platformconsole.repository import PlatformStaffRepository

PASSWORD = "platform-pass-0123"
HOST = "http://platform.localhost"


class PlatformClient(PortalClient):
    def csrf(self) -> str:
        if not self.cookies.get("mypage_csrf"):
            self.get("/platform/login")
        return self.cookies.get("mypage_csrf") or ""


class Member:
    def __init__(self, staff_id: int, email: str, secret: str):
        self.id, self.email, self.secret = staff_id, email, secret

    def code(self) -> str:
        """The next time step's code (accepted: one step of drift; later than a step used at set-up)."""
        return pyotp.TOTP(self.secret).at(time.time() + 30)


def make_member(email: str = "ops@platform.example") -> Member:
    secret = pyotp.random_base32()

    async def go():
        staff = await PlatformStaffRepository().create(
            email=email, name="運用　担当", status="active", password_hash=hash_password(PASSWORD), totp_secret=secret
        )
        return staff.id

    return Member(run(go()), email, secret)


def platform_client(app) -> PlatformClient:
    return PlatformClient(app, base_url=HOST)


def login(client, member: Member, *, password: str = PASSWORD, code: str | None = None):
    first = client.submit("/platform/login", {"email": member.email, "password": password}, follow_redirects=False)
    if first.status_code != 303:
        return first
    assert first.headers["location"] == "/platform/login/totp"
    return client.submit("/platform/login/totp", {"code": code or member.code()}, follow_redirects=False)
