"""Platform staff invitations by mail: ``mypage platform invite`` mails the single-use link through the
outbox (printed too only with ``--print-link``), and a platform staff member invites another from the
console (audited). The mail is scoped to the platform, never to a tenant. Real SMTP (aiosmtpd)."""

from __future__ import annotations

import re

import pyotp
from click.testing import CliRunner

from conftest import run
from mypage.cli import main
from mypage.mail.tables import OutboxMail
from mypage.platformconsole import health
from mypage.platformconsole.repository import PlatformStaffRepository, recent_platform_events
from mypage.tenancy.config import SLUG
from mypage.web.sessions import PLATFORM_SCOPE
from platform_support import login, make_member, platform_client

INVITE_LINK = re.compile(r"http://platform\.localhost:\d+/platform/invite/[A-Za-z0-9_-]+")


def _cli(db, *args: str):
    env = {
        "MYPAGE_SQLITE_PATH": str(db.sqlite_path),
        "MYPAGE_DATABASE_URL": db.database_url,
        "MYPAGE_SECRET_KEY": db.secret_key,
        "MYPAGE_PLATFORM_HOST": "platform.localhost",
    }
    return CliRunner().invoke(main, ["platform", "invite", *args], env=env)


def _mailed_link(mail, address: str) -> str:
    links = [link for link in mail.links(mail.last_to(address)) if INVITE_LINK.fullmatch(link)]
    assert len(links) == 1, links
    return links[0]


def _accept(app, link: str) -> None:
    path = link.split("platform.localhost", 1)[1].split("/", 1)[1]
    client = platform_client(app)
    page = client.get(f"/{path}")
    assert page.status_code == 200
    totp_secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page.text).group(1).replace(" ", "")
    form = {"password": "a-long-password-42", "password_confirm": "a-long-password-42", "code": pyotp.TOTP(totp_secret).now()}
    assert client.submit(f"/{path}", form, follow_redirects=False).headers["location"] == "/platform/recovery-codes"


def test_the_command_mails_the_link_and_prints_it_only_when_asked(app, db, deliver, mail):
    quiet = _cli(db, "ops@platform.example", "--name", "運用　花子")
    assert quiet.exit_code == 0, quiet.output
    assert "in the outbox" in quiet.output and "/platform/invite/" not in quiet.output
    assert OutboxMail.select(OutboxMail.tenant).where(OutboxMail.recipient == "ops@platform.example").run_sync() == [
        {"tenant": PLATFORM_SCOPE}
    ]
    assert run(health.health_of(["aicom", "itscom"], "Asia/Tokyo"))["aicom"].outbox_backlog == 0  # no tenant's mail
    deliver()
    message = mail.last_to("ops@platform.example")
    assert "プラットフォーム管理への招待" in message["Subject"] and "運用　花子 様" in mail.text(message)
    assert "noreply@platform.localhost" in message["From"]
    _accept(app, _mailed_link(mail, "ops@platform.example"))
    assert run(PlatformStaffRepository().by_email("ops@platform.example")).status == "active"

    loud = _cli(db, "second@platform.example", "--print-link")
    assert loud.exit_code == 0, loud.output
    printed = INVITE_LINK.search(loud.output).group(0)
    deliver()
    assert _mailed_link(mail, "second@platform.example") == printed
    refused = _cli(db, "ops@platform.example")
    assert refused.exit_code != 0 and "既に登録されています" in refused.output
    assert _cli(db, "not-an-address").exit_code != 0


def test_the_platform_scope_is_no_tenant_slug():
    assert not SLUG.match(PLATFORM_SCOPE)


def test_a_member_invites_another_from_the_console(app, deliver, mail):
    member = make_member()
    client = platform_client(app)
    login(client, member)
    assert "ops@platform.example" in client.get("/platform/staff").text
    sent = client.submit("/platform/staff", {"email": "Colleague@Platform.example", "name": "同僚"}, follow_redirects=False)
    assert sent.headers["location"] == "/platform/staff"
    page = client.get("/platform/staff")
    assert "招待メールを送りました" in page.text
    row = page.text.split('data-member="colleague@platform.example"', 1)[1].split("</tr>", 1)[0]
    assert "招待中" in row
    deliver()
    _accept(app, _mailed_link(mail, "colleague@platform.example"))
    invited = [e for e in run(recent_platform_events()) if e["event"] == "platform.staff.invited"]
    assert len(invited) == 1 and invited[0]["staff_id"] == member.id and member.email in invited[0]["actor"]
    bad = client.submit("/platform/staff", {"email": "not-an-address", "name": "x"})
    assert (
        bad.status_code == 400 and "メールアドレスの形式が正しくありません" in bad.text and 'value="not-an-address"' in bad.text
    )
    taken = client.submit("/platform/staff", {"email": "colleague@platform.example", "name": "x"})
    assert taken.status_code == 400 and "既に登録されています" in taken.text
    assert client.post("/platform/staff", data={"email": "x@platform.example"}).status_code == 403  # no form token


def test_the_staff_page_needs_a_platform_login(app):
    assert platform_client(app).get("/platform/staff", follow_redirects=False).headers["location"] == "/platform/login"


def test_a_disabled_member_who_lost_both_factors_is_invited_again(app, deliver, mail):
    """The way back without the authenticator app or a recovery code: another member disables, then invites
    the same address; the invitation sets new credentials and the old password, app and codes are dead."""
    ops, lost = make_member("ops@platform.example"), make_member("lost@platform.example")
    client = platform_client(app)
    login(client, ops)
    assert client.submit("/platform/staff", {"email": lost.email, "name": "x"}).status_code == 400  # active: taken
    client.submit(f"/platform/staff/{lost.id}", {"action": "disable"})
    sent = client.submit("/platform/staff", {"email": lost.email, "name": "戻る　人"}, follow_redirects=False)
    assert sent.headers["location"] == "/platform/staff"
    assert run(PlatformStaffRepository().by_email(lost.email)).status == "invited"
    old = login(platform_client(app), lost)  # the old password (and app) no longer log in
    assert old.status_code == 400 and "正しくありません" in old.text
    deliver()
    _accept(app, _mailed_link(mail, lost.email))
    assert run(PlatformStaffRepository().by_email(lost.email)).status == "active"
    assert login(platform_client(app), lost).status_code == 400  # the old password still does not
