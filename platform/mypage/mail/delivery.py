"""Delivers due outbox mail over SMTP (aiosmtplib), with retries and exponential back-off.

Nothing is lost while the SMTP server is down: a failed attempt only counts ``attempts`` up and moves
``next_attempt_at`` later (30 s, 60 s, 120 s, ... capped at an hour); the mail stays in the outbox
until it is sent or has failed ``MAX_ATTEMPTS`` times (then ``last_error`` says why; the development
mail viewer and ``mypage outbox deliver`` show it). Each mail is claimed before it is sent (its
``next_attempt_at`` is pushed a lease ahead in one conditional UPDATE), so several workers — one per
server process — do not send the same mail at the same time.

The guarantee is **at least once**, not exactly once: a relay may take the mail and answer after the
client gave up (a timeout), and then the next attempt sends it again. Every attempt therefore sends the
same message, with the same ``Message-ID`` (:func:`mypage.mail.outbox.message_id`, derived from the
row) and ``Date``, so receivers can drop the repeat. The SMTP timeout is generous (a slow relay is not
a failure) and the whole send is capped below the claim's lease, so a mail still being sent is never
claimed by a second worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formatdate
from urllib.parse import unquote, urlparse

import aiosmtplib

from mypage.mail.outbox import message_id
from mypage.mail.tables import OutboxMail
from mypage.settings import Settings

log = logging.getLogger("mypage.mail")
MAX_ATTEMPTS = 12
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
SMTP_TIMEOUT_SECONDS = 60.0
"""Per SMTP step (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, end of data, QUIT). A relay that
answers the end of DATA after this long may still deliver: the next attempt resends the same message."""
SMTP_STEPS = 10
"""Steps of one send at most, so one send takes at most ``SMTP_TIMEOUT_SECONDS * SMTP_STEPS``."""
LEASE_MARGIN_SECONDS = 60
LEASE_SECONDS = SMTP_TIMEOUT_SECONDS * SMTP_STEPS + LEASE_MARGIN_SECONDS
"""A claimed mail is not picked up by another worker for this long: longer than a send can take (the
send is cancelled at ``SMTP_TIMEOUT_SECONDS * SMTP_STEPS``), so only a worker that died frees it."""


def _now() -> datetime:
    return datetime.now(UTC)


def build_message(row: dict, secret_key: str) -> EmailMessage:
    """The same message on every attempt: stable Message-ID and Date (the time the mail was enqueued)."""
    message = EmailMessage()
    message["From"] = row["sender"]
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    created = row.get("created_at")
    if isinstance(created, datetime):
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        message["Date"] = format_datetime(created)
    else:
        message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id(row, secret_key)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["text_body"])
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html")
    return message


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * (2 ** max(0, attempts - 1))))


def smtp_options(smtp_url: str, timeout: float = SMTP_TIMEOUT_SECONDS) -> dict:
    """``smtp://user:pass@host:port`` (STARTTLS when offered), ``smtp+starttls://...`` (required) or ``smtps://...``."""
    url = urlparse(smtp_url)
    tls = url.scheme == "smtps"
    return {
        "hostname": url.hostname or "127.0.0.1",
        "port": url.port or (465 if tls else 25),
        "username": unquote(url.username) if url.username else None,
        "password": unquote(url.password) if url.password else None,
        "start_tls": True if url.scheme == "smtp+starttls" else None,  # None: STARTTLS if offered
        "use_tls": tls,
        "timeout": timeout,
    }


def _due():
    now = _now()
    return (
        OutboxMail.sent_at.is_null()
        & (OutboxMail.attempts < MAX_ATTEMPTS)
        & (OutboxMail.next_attempt_at.is_null() | (OutboxMail.next_attempt_at <= now))
    )


async def _claim(mail_id: int, lease_seconds: float = LEASE_SECONDS) -> bool:
    claimed = await (
        OutboxMail.update({OutboxMail.next_attempt_at: _now() + timedelta(seconds=lease_seconds)})
        .where((OutboxMail.id == mail_id) & _due())
        .returning(OutboxMail.id)
    )
    return bool(claimed)


async def deliver_due(settings: Settings, limit: int = 100, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> tuple[int, int]:
    """Sends every unsent mail whose next attempt is due; returns (sent, failed).

    ``timeout`` is per SMTP step; one send is cancelled after ``timeout * SMTP_STEPS`` and the claim's
    lease is longer than that (tests pass a small timeout to play a slow relay).
    """
    options = smtp_options(settings.smtp_url, timeout)
    send_limit = timeout * SMTP_STEPS
    lease = send_limit + LEASE_MARGIN_SECONDS
    rows = await OutboxMail.select().where(_due()).order_by(OutboxMail.id).limit(limit)
    sent = failed = 0
    for row in rows:
        if not await _claim(row["id"], lease):
            continue  # another worker has it
        try:
            await asyncio.wait_for(aiosmtplib.send(build_message(row, settings.secret_key), **options), send_limit)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            attempts = row["attempts"] + 1
            await OutboxMail.update(
                {
                    OutboxMail.attempts: attempts,
                    OutboxMail.next_attempt_at: _now() + backoff(attempts),
                    OutboxMail.last_error: f"{type(exc).__name__}: {exc}"[:500],
                }
            ).where(OutboxMail.id == row["id"])
            level = logging.ERROR if attempts >= MAX_ATTEMPTS else logging.WARNING
            log.log(level, "mail %s to %s failed (attempt %s): %s", row["id"], row["recipient"], attempts, exc)
            failed += 1
            continue
        await OutboxMail.update(
            {OutboxMail.sent_at: _now(), OutboxMail.attempts: row["attempts"] + 1, OutboxMail.last_error: ""}
        ).where(OutboxMail.id == row["id"])
        sent += 1
    return sent, failed


async def run_worker(settings: Settings, interval_seconds: float | None = None, stop: asyncio.Event | None = None) -> None:
    """Delivers until ``stop`` is set (``mypage outbox deliver --loop``, or a task inside ``mypage run``).

    Setting ``stop`` lets the current round finish, so a mail that went out is also marked sent.
    """
    interval = settings.mail_worker_interval if interval_seconds is None else interval_seconds
    stop = stop or asyncio.Event()
    log.info("outbox worker delivering to %s every %ss", urlparse(settings.smtp_url).hostname, interval)
    while not stop.is_set():
        try:
            await deliver_due(settings)
        except Exception:  # keep the worker alive; the next round retries
            log.exception("outbox delivery round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
