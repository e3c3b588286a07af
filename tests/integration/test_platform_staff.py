"""Platform staff recovery codes (through the shared staff login, identity/staff_login.py): 10 codes shown
once at enrolment, each usable once instead of the authenticator code (also when used in parallel),
audited, and renewed from the console."""

from __future__ import annotations

import asyncio
import re

import pyotp

from admin_support import SECRET_KEY
from conftest import run
from mypage.identity.staff_login import LoginError
from mypage.platformconsole import service
from mypage.platformconsole.repository import PlatformStaffRepository, recent_platform_events
from platform_support import Member, login, make_member, platform_client

PASSWORD = "a-long-password-42"


def _events() -> list[str]:
    return [e["event"] for e in run(recent_platform_events())]


def _codes_on(page_text: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page_text)


def enrol(app, email: str = "new@platform.example") -> tuple[Member, list[str]]:
    """Invitation, password and authenticator app through the pages; the recovery codes page, once."""
    secret = run(service.invite_staff(app.state.portal.settings, email, "新任")).rsplit("/", 1)[1]
    client = platform_client(app)
    page = client.get(f"/platform/invite/{secret}")
    totp_secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page.text).group(1).replace(" ", "")
    form = {"password": PASSWORD, "password_confirm": PASSWORD, "code": pyotp.TOTP(totp_secret).now()}
    done = client.submit(f"/platform/invite/{secret}", form, follow_redirects=False)
    assert done.headers["location"] == "/platform/recovery-codes"
    shown = client.get("/platform/recovery-codes")
    codes = _codes_on(shown.text)
    assert shown.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/platform/login"' in shown.text
    again = client.get("/platform/recovery-codes", follow_redirects=False)
    assert again.status_code in (302, 303) and not _codes_on(again.text)  # shown once
    staff = run(PlatformStaffRepository().by_email(email))
    return Member(staff.id, email, totp_secret), codes


def test_enrolment_shows_ten_codes_once_and_each_logs_in_once(app):
    member, codes = enrol(app)
    client = platform_client(app)
    used = login(client, member, password=PASSWORD, code=codes[0].upper())  # typed in capitals: still the code
    assert used.headers["location"] == "/platform"
    assert "残りのリカバリーコードは9個です" in client.get("/platform").text
    again = login(platform_client(app), member, password=PASSWORD, code=codes[0])
    assert again.status_code == 400 and "確認コードまたはリカバリーコードが正しくありません" in again.text
    assert login(platform_client(app), member, password=PASSWORD, code=codes[1]).headers["location"] == "/platform"
    assert run(PlatformStaffRepository().remaining_recovery_codes(member.id)) == 8
    events = _events()
    assert events.count("platform.login.recovery_code_used") == 2 and "platform.staff.activated" in events


def test_a_tenant_staff_recovery_code_hash_is_no_platform_code(app):
    """The hashes are keyed with the scope: a row copied from one scope to the other matches nothing."""
    from mypage.identity.staff_login import recovery_hash

    member = make_member()
    code = "abcd-efgh-jkmn"
    run(PlatformStaffRepository().replace_recovery_codes(member.id, [recovery_hash(SECRET_KEY, "aicom", member.id, code)]))
    assert login(platform_client(app), member, code=code).status_code == 400


def test_one_code_used_in_parallel_logs_in_once(app):
    member, codes = enrol(app)
    login_service = service.staff_login(SECRET_KEY)

    async def race():
        staff = await PlatformStaffRepository().by_id(member.id)
        copies = [await PlatformStaffRepository().by_id(member.id) for _ in range(3)]
        assert staff is not None
        return await asyncio.gather(*(login_service.check_second_factor(s, codes[3], "192.0.2.7") for s in copies))

    outcomes = run(race())
    assert sum(o.staff is not None for o in outcomes) == 1
    assert all(o.error is LoginError.INVALID for o in outcomes if o.staff is None)
    assert run(PlatformStaffRepository().remaining_recovery_codes(member.id)) == 9
    assert _events().count("platform.login.recovery_code_used") == 1


def test_codes_are_renewed_from_the_console_and_the_old_ones_stop_working(app):
    member, old_codes = enrol(app)
    client = platform_client(app)
    login(client, member, password=PASSWORD)
    account = client.get("/platform/account")
    assert account.status_code == 200 and "未使用のリカバリーコード: 10個" in account.text
    renewed = client.submit("/platform/account/recovery-codes", {}, follow_redirects=False)
    assert renewed.headers["location"] == "/platform/recovery-codes"
    page = client.get("/platform/recovery-codes")
    new_codes = _codes_on(page.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes) and 'href="/platform"' in page.text
    assert login(platform_client(app), member, password=PASSWORD, code=old_codes[0]).status_code == 400
    assert login(platform_client(app), member, password=PASSWORD, code=new_codes[0]).headers["location"] == "/platform"
    assert "platform.staff.recovery_codes_renewed" in _events()


def test_renewal_needs_a_login_and_the_form_token(app):
    anonymous = platform_client(app)
    assert anonymous.get("/platform/account", follow_redirects=False).headers["location"] == "/platform/login"
    member = make_member()
    client = platform_client(app)
    login(client, member)
    forged = client.post("/platform/account/recovery-codes", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert run(PlatformStaffRepository().remaining_recovery_codes(member.id)) == 0
