"""Delivers due outbox mail over SMTP (aiosmtplib), with retries and exponential back-off."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlparse

import aiosmtplib

from mypage.mail.tables import OutboxMail
from mypage.settings import Settings

log = logging.getLogger("mypage.mail")
MAX_ATTEMPTS = 8
BASE_DELAY_SECONDS = 30


def _now() -> datetime:
    return datetime.now(timezone.utc)


def build_message(row: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"] = row["sender"]
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=row["sender"].rsplit("@", 1)[-1].strip(">"))
    message.set_content(row["text_body"])
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html")
    return message


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BASE_DELAY_SECONDS * (2 ** max(0, attempts - 1)))


async def deliver_due(settings: Settings, limit: int = 100) -> tuple[int, int]:
    """Sends every unsent mail whose next attempt is due; returns (sent, failed)."""
    url = urlparse(settings.smtp_url)
    now = _now()
    rows = await (
        OutboxMail.select()
        .where(OutboxMail.sent_at.is_null())
        .where(OutboxMail.attempts < MAX_ATTEMPTS)
        .where((OutboxMail.next_attempt_at.is_null()) | (OutboxMail.next_attempt_at <= now))
        .order_by(OutboxMail.id)
        .limit(limit)
    )
    sent = failed = 0
    for row in rows:
        try:
            await aiosmtplib.send(
                build_message(row),
                hostname=url.hostname or "127.0.0.1",
                port=url.port or 25,
                username=url.username,
                password=url.password,
                start_tls=url.scheme == "smtp+starttls" or None,
                use_tls=url.scheme == "smtps",
                timeout=10,
            )
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            attempts = row["attempts"] + 1
            await OutboxMail.update(
                {
                    OutboxMail.attempts: attempts,
                    OutboxMail.next_attempt_at: _now() + backoff(attempts),
                    OutboxMail.last_error: str(exc)[:500],
                }
            ).where(OutboxMail.id == row["id"])
            log.warning("mail %s to %s failed (attempt %s): %s", row["id"], row["recipient"], attempts, exc)
            failed += 1
            continue
        await OutboxMail.update({OutboxMail.sent_at: _now(), OutboxMail.attempts: row["attempts"] + 1}).where(
            OutboxMail.id == row["id"]
        )
        sent += 1
    return sent, failed


async def run_worker(settings: Settings, interval_seconds: float = 2.0) -> None:
    while True:
        try:
            await deliver_due(settings)
        except Exception:  # keep the worker alive; the next round retries
            log.exception("outbox delivery round failed")
        await asyncio.sleep(interval_seconds)
