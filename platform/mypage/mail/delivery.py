"""Delivers due outbox mail over SMTP (aiosmtplib), with retries and exponential back-off.

Nothing is lost while the SMTP server is down: a failed attempt only counts ``attempts`` up and moves
``next_attempt_at`` later (30 s, 60 s, 120 s, ... capped at an hour); the mail stays in the outbox
until it is sent or has failed ``MAX_ATTEMPTS`` times (then ``last_error`` says why; the development
mail viewer and ``mypage outbox deliver`` show it). Each mail is claimed before it is sent (its
``next_attempt_at`` is pushed a lease ahead in one conditional UPDATE), so several workers — one per
server process — never send the same mail twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlparse

import aiosmtplib

from mypage.mail.tables import OutboxMail
from mypage.settings import Settings

log = logging.getLogger("mypage.mail")
MAX_ATTEMPTS = 12
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
LEASE_SECONDS = 300
"""A claimed mail is not picked up by another worker for this long (a worker that died mid-send)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def build_message(row: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"] = row["sender"]
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=row["sender"].rsplit("@", 1)[-1].strip(">"))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["text_body"])
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html")
    return message


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * (2 ** max(0, attempts - 1))))


def smtp_options(smtp_url: str) -> dict:
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
        "timeout": 10,
    }


def _due():
    now = _now()
    return (
        OutboxMail.sent_at.is_null()
        & (OutboxMail.attempts < MAX_ATTEMPTS)
        & (OutboxMail.next_attempt_at.is_null() | (OutboxMail.next_attempt_at <= now))
    )


async def _claim(mail_id: int) -> bool:
    claimed = await (
        OutboxMail.update({OutboxMail.next_attempt_at: _now() + timedelta(seconds=LEASE_SECONDS)})
        .where((OutboxMail.id == mail_id) & _due())
        .returning(OutboxMail.id)
    )
    return bool(claimed)


async def deliver_due(settings: Settings, limit: int = 100) -> tuple[int, int]:
    """Sends every unsent mail whose next attempt is due; returns (sent, failed)."""
    options = smtp_options(settings.smtp_url)
    rows = await OutboxMail.select().where(_due()).order_by(OutboxMail.id).limit(limit)
    sent = failed = 0
    for row in rows:
        if not await _claim(row["id"]):
            continue  # another worker has it
        try:
            await aiosmtplib.send(build_message(row), **options)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
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
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass
