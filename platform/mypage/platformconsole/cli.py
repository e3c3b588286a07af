"""``mypage platform invite EMAIL``: invites a platform staff member by mail (``--print-link`` also prints the
link: how the very first member comes to exist, before anyone can read the console)."""

from __future__ import annotations

import click

from mypage.platformconsole import service


@click.group(name="platform")
def platform_group() -> None:
    """The platform console (its own host, for the platform team)."""


@platform_group.command(name="invite")
@click.argument("email")
@click.option("--name", default="", help="氏名 (defaults to the e-mail address).")
@click.option("--print-link", is_flag=True, help="Also print the single-use link (the first member's bootstrap).")
def invite_command(email: str, name: str, print_link: bool) -> None:
    """Invite EMAIL to the platform console: mails a single-use link to set a password and an authenticator app."""
    from mypage.i18n import gettext as _
    from mypage.inquiries.staff import _portal_and_run

    async def go(portal):
        if not portal.settings.platform_host:
            raise click.ClickException("MYPAGE_PLATFORM_HOST is not set: no host serves the platform console")
        try:
            return await service.invite_staff(portal.settings, email, name)
        except service.PlatformRefused as exc:
            raise click.ClickException(_(exc.error.value)) from exc

    link = _portal_and_run(go)
    click.echo(f"invited {service.email_key(email)} to the platform console; the invitation mail is in the outbox.")
    if print_link:
        click.echo(f"link (valid {service.INVITE_HOURS} h, single use): {link}")
