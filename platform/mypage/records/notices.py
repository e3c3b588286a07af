"""お知らせ posted by a tenant's staff; users with メール通知 あり are told by mail."""

from __future__ import annotations

from datetime import date

import click

from mypage import i18n
from mypage.contracts.repository import forget_notices
from mypage.db.transaction import atomic
from mypage.members.notify import notify_members
from mypage.records.tables import Notice
from mypage.tenancy.registry import Tenant


async def post_notice(
    portal, tenant: Tenant, *, title: str, body: str, important: bool = False, published_on: date | None = None
) -> tuple[Notice, int]:
    """Stores the notice and, in the same transaction, the notification mails; returns (notice, mails)."""
    title, body = title.strip(), body.strip()
    if not title or len(title) > 200:
        raise ValueError("title must be 1-200 characters")
    async with atomic():
        notice = Notice(
            tenant=tenant.slug,
            title=title,
            body=body,
            important=important,
            published_on=published_on or i18n.today(tenant.config.timezone),
        )
        await notice.save()
        mails = await notify_members(portal, tenant, None, "notice", {"title": title})
    forget_notices(tenant.slug)
    return notice, mails


@click.command(name="notice")
@click.argument("slug", metavar="TENANT")
@click.option("--title", required=True, help="件名 (1-200 characters).")
@click.option("--body", default="", help="本文.")
@click.option("--important", is_flag=True, help="Shown highlighted.")
def notice_command(slug: str, title: str, body: str, important: bool) -> None:
    """Post an お知らせ to every customer of TENANT (mails users with メール通知 あり)."""
    from mypage.inquiries.staff import _portal_and_run

    async def go(portal):
        if slug not in portal.tenants.slugs:
            raise click.ClickException(f"テナント「{slug}」はありません。")
        try:
            return await post_notice(portal, portal.tenants.get(slug), title=title, body=body, important=important)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc

    notice, mails = _portal_and_run(go)
    click.echo(f"notice {notice.id} posted; {mails} notification mail(s) in the outbox")
