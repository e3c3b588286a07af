"""Mail delivery is at least once with a stable Message-ID: a relay slower than the SMTP timeout gets the
same message (same Message-ID and Date) on every attempt, so receivers can de-duplicate; the claim's lease
outlasts the longest possible send."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest

from conftest import run
from mypage.mail import delivery
from mypage.mail.delivery import LEASE_SECONDS, SMTP_STEPS, SMTP_TIMEOUT_SECONDS, deliver_due
from mypage.mail.outbox import enqueue, message_id
from mypage.mail.tables import OutboxMail


class SlowRelay:
    """A real SMTP server (aiosmtpd) that takes each message and answers only after ``delay`` seconds."""

    def __init__(self, delay: float):
        from aiosmtpd.controller import Controller

        self.messages = []
        relay = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                relay.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                await asyncio.sleep(delay)
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.url = f"smtp://127.0.0.1:{self.port}"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def _enqueue(portal, to="dup@example.jp", slug="aicom"):
    context = {"subject": "お知らせ件名", "body": "本文です。", "link": ""}
    return run(enqueue(portal, portal.tenants.get(slug), to=to, template="notice", context=context, locale="ja"))


async def _rows() -> list[dict]:
    return await OutboxMail.select().order_by(OutboxMail.id)


async def _make_due() -> None:
    await OutboxMail.update({OutboxMail.next_attempt_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        OutboxMail.sent_at.is_null()
    )


def test_slow_relay_gets_the_same_message_id_on_every_attempt(db, portal, mail):
    _enqueue(portal)
    [row] = run(_rows())
    expected = message_id(row, db.secret_key)
    assert re.fullmatch(rf"<outbox-{row['id']}\.[0-9a-f]{{8}}@[a-z0-9.-]+>", expected), expected

    with SlowRelay(delay=1.5) as relay:
        slow = db.with_(smtp_url=relay.url)
        assert run(deliver_due(slow, timeout=0.4)) == (0, 1)  # the relay took it, the answer came too late
        [row] = run(_rows())
        assert row["sent_at"] is None and row["attempts"] == 1 and "Timeout" in row["last_error"]
        run(_make_due())
        assert run(deliver_due(slow, timeout=0.4)) == (0, 1)
        assert len(relay.messages) == 2  # at least once: the relay received it twice ...
    first, second = relay.messages
    assert first["Message-ID"] == second["Message-ID"] == expected  # ... as the same message
    assert first["Date"] == second["Date"]
    assert first.get_body(preferencelist=("plain",)).get_content() == second.get_body(preferencelist=("plain",)).get_content()

    # a relay that answers in time: marked sent, again with the same Message-ID, never sent after that
    run(_make_due())
    assert run(deliver_due(db.with_(smtp_url=mail.url))) == (1, 0)
    [row] = run(_rows())
    assert row["sent_at"] is not None and row["attempts"] == 3
    assert mail.last_to("dup@example.jp")["Message-ID"] == expected
    run(_make_due())
    assert run(deliver_due(db.with_(smtp_url=mail.url))) == (0, 0)


def test_a_relay_slower_than_the_old_10s_limit_is_within_the_timeout():
    assert SMTP_TIMEOUT_SECONDS >= 30
    options = delivery.smtp_options("smtp://relay.example:25")
    assert options["timeout"] == SMTP_TIMEOUT_SECONDS


def test_lease_outlasts_the_longest_send(db, portal):
    assert LEASE_SECONDS > SMTP_TIMEOUT_SECONDS * SMTP_STEPS
    _enqueue(portal)
    [row] = run(_rows())
    before = datetime.now(UTC)
    assert run(delivery._claim(row["id"])) is True
    [claimed] = run(_rows())
    lease = claimed["next_attempt_at"] - before
    assert lease > timedelta(seconds=SMTP_TIMEOUT_SECONDS * SMTP_STEPS)


def test_message_ids_differ_per_mail_and_per_secret(db, portal):
    _enqueue(portal, to="a@example.jp")
    _enqueue(portal, to="b@example.jp", slug="nmedia")
    first, second = run(_rows())
    ids = {message_id(first, db.secret_key), message_id(second, db.secret_key)}
    assert len(ids) == 2
    assert message_id(first, db.secret_key) == message_id(dict(first), db.secret_key)  # deterministic
    assert message_id(first, "another-secret-key-0123456789abcdef") != message_id(first, db.secret_key)
    # built into the message itself
    built = delivery.build_message(first, db.secret_key)
    assert built["Message-ID"] == message_id(first, db.secret_key)
    assert built["Date"] == delivery.build_message(first, db.secret_key)["Date"]


@pytest.mark.parametrize("sender", ["", "no-domain"])
def test_message_id_without_a_sender_domain_still_has_one(sender):
    row = {"id": 7, "tenant": "aicom", "created_at": None, "sender": sender}
    assert re.fullmatch(r"<outbox-7\.[0-9a-f]{8}@aicom\.invalid>", message_id(row, "k" * 32))
