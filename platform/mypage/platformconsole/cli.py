"""``mypage platform invite EMAIL``: how the first platform staff member comes to exist (prints the link)."""

from __future__ import annotations

import click

from mypage.platformconsole import service


@click.group(name="platform")
def platform_group() -> None:
    """The platform console (its own host, for the platform team)."""


@platform_group.command(name="invite")
@click.argument("email")
@click.option("--name", default="", help="氏名 (defaults to the e-mail address).")
def invite_command(email: str, name: str) -> None:
    """Invite EMAIL to the platform console: prints a single-use link to set a password and an authenticator app."""
    from mypage.inquiries.staff import _portal_and_run

    async def go(portal):
        try:
            return portal, await service.invite_staff(portal.settings.secret_key, email, name)
        except service.PlatformRefused as exc:
            raise click.ClickException(exc.error.value) from exc

    portal, secret = _portal_and_run(go)
    settings = portal.settings
    if not settings.platform_host:
        raise click.ClickException("MYPAGE_PLATFORM_HOST is not set: no host serves the platform console")
    scheme = "https" if settings.https else "http"
    port = f":{settings.public_base_port or settings.port}" if settings.dev_mode else ""
    click.echo(f"invited {service.email_key(email)} to the platform console.")
    click.echo(
        f"link (valid {service.INVITE_HOURS} h, single use): {scheme}://{settings.platform_host}{port}/platform/invite/{secret}"
    )
