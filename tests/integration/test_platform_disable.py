"""Disabling and re-enabling platform staff from /platform/staff: audited with the actor, never oneself, never
the last active member (also when two disable each other at once), the disabled member's sessions end at
once and their login is refused like a wrong password; bad ids answer 404, never 500."""

from __future__ import annotations

import asyncio

import pytest

from conftest import run
from mypage.platformconsole import service
from mypage.platformconsole.repository import PlatformStaffRepository, recent_platform_events
from platform_support import login, make_member, platform_client

WRONG_PASSWORD = "メールアドレスまたはパスワードが正しくありません"


def _status(staff_id: int) -> str:
    staff = run(PlatformStaffRepository().by_id(staff_id))
    assert staff is not None
    return staff.status


def _logged_in(app, member):
    client = platform_client(app)
    assert login(client, member).headers["location"] == "/platform"
    return client


def test_disable_and_enable_are_audited_with_the_actor(app):
    ops, other = make_member("ops@platform.example"), make_member("other@platform.example")
    client = _logged_in(app, ops)
    page = client.get("/platform/staff")
    assert f'action="/platform/staff/{other.id}"' in page.text and f'action="/platform/staff/{ops.id}"' not in page.text
    done = client.submit(f"/platform/staff/{other.id}", {"action": "disable"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/platform/staff"
    assert _status(other.id) == "disabled"
    listing = client.get("/platform/staff").text
    assert "スタッフを停止しました。" in listing and "停止中" in listing and "再開する" in listing
    assert client.submit(f"/platform/staff/{other.id}", {"action": "enable"}, follow_redirects=False).status_code == 303
    assert _status(other.id) == "active"
    events = [e for e in run(recent_platform_events()) if e["event"].startswith("platform.staff.")]
    assert [e["event"] for e in events] == ["platform.staff.enabled", "platform.staff.disabled"]
    for event in events:
        assert event["staff_id"] == ops.id and "ops@platform.example" in event["actor"]
        detail = event["detail"] if isinstance(event["detail"], dict) else __import__("json").loads(event["detail"])
        assert detail["target_staff"] == other.id and detail["email"] == other.email


def test_a_member_cannot_disable_themself(app):
    ops = make_member("ops@platform.example")
    make_member("other@platform.example")
    client = _logged_in(app, ops)
    refused = client.submit(f"/platform/staff/{ops.id}", {"action": "disable"})
    assert refused.status_code == 400 and "自分自身を停止することはできません" in refused.text
    assert _status(ops.id) == "active"
    assert client.get("/platform/staff").status_code == 200


def test_the_form_needs_its_token(app):
    ops, other = make_member("ops@platform.example"), make_member("other@platform.example")
    client = _logged_in(app, ops)
    forged = client.post(f"/platform/staff/{other.id}", data={"action": "disable"}, follow_redirects=False)
    assert forged.status_code == 403 and _status(other.id) == "active"
    anonymous = platform_client(app)
    answer = anonymous.submit(f"/platform/staff/{other.id}", {"action": "disable"}, follow_redirects=False)
    assert answer.headers["location"] == "/platform/login" and _status(other.id) == "active"


def test_a_disabled_member_is_logged_out_and_refused_like_a_wrong_password(app):
    ops, other = make_member("ops@platform.example"), make_member("other@platform.example")
    theirs = _logged_in(app, other)
    pending = platform_client(app)  # password given, authenticator code not yet
    assert pending.submit("/platform/login", {"email": other.email, "password": "platform-pass-0123"}).status_code == 200
    assert theirs.get("/platform", follow_redirects=False).status_code == 200
    _logged_in(app, ops).submit(f"/platform/staff/{other.id}", {"action": "disable"})
    gone = theirs.get("/platform", follow_redirects=False)
    assert gone.status_code in (302, 303) and gone.headers["location"] == "/platform/login"
    code_step = pending.submit("/platform/login/totp", {"code": other.code()}, follow_redirects=False)
    assert code_step.headers["location"] == "/platform/login"
    refused = login(platform_client(app), other)
    wrong = login(platform_client(app), make_member("third@platform.example"), password="not-the-password")
    assert refused.status_code == wrong.status_code == 400 and WRONG_PASSWORD in refused.text and WRONG_PASSWORD in wrong.text
    assert refused.text.count("error") == wrong.text.count("error")


def test_re_enabling_does_not_bring_back_the_old_session(app):
    ops, other = make_member("ops@platform.example"), make_member("other@platform.example")
    theirs = _logged_in(app, other)
    admin = _logged_in(app, ops)
    admin.submit(f"/platform/staff/{other.id}", {"action": "disable"})
    admin.submit(f"/platform/staff/{other.id}", {"action": "enable"})
    assert theirs.get("/platform", follow_redirects=False).headers["location"] == "/platform/login"
    staff = run(PlatformStaffRepository().by_id(other.id))
    run(PlatformStaffRepository().update(staff, totp_last_step=0))  # as in a later time step: the code is fresh
    assert login(platform_client(app), other).headers["location"] == "/platform"  # same password and app


def test_a_disabled_member_can_no_longer_act(app):
    ops, other = make_member("ops@platform.example"), make_member("other@platform.example")
    admin = _logged_in(app, ops)
    admin.submit(f"/platform/staff/{other.id}", {"action": "disable"})
    with pytest.raises(service.PlatformRefused) as refused:
        run(_set(other.id, ops.id, True))
    assert refused.value.error is service.PlatformError.ACTOR_INACTIVE
    assert _status(ops.id) == "active"


async def _set(actor_id: int, target_id: int, disabled: bool):
    actor = await PlatformStaffRepository().by_id(actor_id)
    assert actor is not None
    return await service.set_disabled(actor, target_id, disabled, address="192.0.2.9")


@pytest.mark.parametrize("members", [2, 3])
def test_two_members_disabling_each_other_at_once_leave_one_active(app, members):
    first, second = make_member("first@platform.example"), make_member("second@platform.example")
    if members == 3:
        make_member("third@platform.example")

    async def race():
        return await asyncio.gather(_set(first.id, second.id, True), _set(second.id, first.id, True), return_exceptions=True)

    outcomes = run(race())
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, service.PlatformRefused)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert refused[0].error in (service.PlatformError.LAST_ACTIVE, service.PlatformError.ACTOR_INACTIVE)
    assert sorted([_status(first.id), _status(second.id)]) == ["active", "disabled"]
    assert [e["event"] for e in run(recent_platform_events())].count("platform.staff.disabled") == 1


@pytest.mark.parametrize(
    "path, form",
    [
        ("/platform/staff/999999", {"action": "disable"}),
        ("/platform/staff/99999999999999999999999999", {"action": "disable"}),
        ("/platform/staff/0", {"action": "enable"}),
        ("/platform/staff/abc", {"action": "disable"}),
        ("/platform/staff/-1", {"action": "disable"}),
        ("/platform/staff/%FF%FEjunk", {"action": "disable"}),
        ("/platform/staff/" + "9" * 300, {"action": "enable"}),
    ],
)
def test_unknown_or_huge_ids_answer_404(app, path, form):
    client = _logged_in(app, make_member())
    answer = client.submit(path, form)
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


def test_other_actions_and_invited_members_are_refused(app):
    ops, other = make_member("ops@platform.example"), make_member("other@platform.example")
    client = _logged_in(app, ops)
    for action in ("", "delete", "x" * 5000):
        answer = client.submit(f"/platform/staff/{other.id}", {"action": action})
        assert answer.status_code == 400 and "操作を選択してください" in answer.text
    run(service.invite_staff(app.state.portal.settings, "new@platform.example", "新任"))
    invited = run(PlatformStaffRepository().by_email("new@platform.example"))
    answer = client.submit(f"/platform/staff/{invited.id}", {"action": "disable"})
    assert answer.status_code == 400 and "招待中のスタッフは停止・再開できません" in answer.text
    assert _status(other.id) == "active"
