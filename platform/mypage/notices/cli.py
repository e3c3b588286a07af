"""``mypage staff notice``: post an お知らせ from a script (the console's rules, published at once)."""

from __future__ import annotations

import click

from mypage.audit.actor import Actor
from mypage.notices.service import post_notice


@click.command(name="notice")
@click.argument("slug", metavar="TENANT")
@click.option("--title", required=True, help="件名 (1-200 characters).")
@click.option("--body", default="", help="本文 (Markdown-like plain text).")
@click.option("--important", is_flag=True, help="Shown highlighted.")
def notice_command(slug: str, title: str, body: str, important: bool) -> None:
    """Post an お知らせ to every customer of TENANT (mails users with メール通知 あり)."""
    from mypage.inquiries.staff import _portal_and_run

    async def go(portal):
        if slug not in portal.tenants.slugs:
            raise click.ClickException(f"テナント「{slug}」はありません。")
        try:
            return await post_notice(
                portal, portal.tenants.get(slug), title=title, body=body, important=important, actor=Actor("cli")
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc

    notice, mails = _portal_and_run(go)
    click.echo(f"notice {notice.id} posted; {mails} notification mail(s) in the outbox")
