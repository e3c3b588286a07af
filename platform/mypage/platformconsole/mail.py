"""The platform console's mail: rendered with its own templates (no tenant's theme or sender) and stored in
the outbox under the platform's scope, which no tenant slug can be; the outbox worker delivers it."""

from __future__ import annotations

from email.utils import formataddr

from mypage import i18n
from mypage.mail.outbox import store
from mypage.mail.tables import OutboxMail
from mypage.platformconsole.render import environment
from mypage.settings import Settings
from mypage.web.sessions import PLATFORM_SCOPE

LOCALE = "ja"


def sender(settings: Settings) -> str:
    if settings.platform_mail_sender:
        return settings.platform_mail_sender
    return formataddr((i18n.gettext("プラットフォーム管理"), f"noreply@{settings.platform_host or 'localhost'}"))


async def enqueue_platform(settings: Settings, *, to: str, template: str, context: dict) -> OutboxMail:
    """Renders ``platform/mail/<template>.subject.txt``, ``.txt`` and ``.html`` and stores the mail (inside
    the caller's transaction)."""
    token = i18n.set_locale(LOCALE)
    try:
        env = environment()
        subject = env.get_template(f"platform/mail/{template}.subject.txt").render(context).strip()
        text_body = env.get_template(f"platform/mail/{template}.txt").render(context)
        html_body = env.get_template(f"platform/mail/{template}.html").render(context)
        from_ = sender(settings)
    finally:
        i18n._current_locale.reset(token)
    return await store(PLATFORM_SCOPE, sender=from_, to=to, subject=subject, text_body=text_body, html_body=html_body)
