"""``mypage staff invite`` and ``mypage staff create-admin``: the console's own invitation service, from the
server's shell (how the first 管理者 of a tenant comes to exist)."""

from __future__ import annotations

import click

from mypage.admin.roles import Role
from mypage.admin.staff import service


def _invite(slug: str, email: str, name: str, role: str) -> service.Invitation:
    from mypage.i18n import gettext as _
    from mypage.inquiries.staff import _portal_and_run

    async def go(portal):
        if slug not in portal.tenants.slugs:
            raise click.ClickException(f"テナント「{slug}」はありません(あるのは: {', '.join(portal.tenants.slugs)})。")
        try:
            return await service.invite(portal, portal.tenants.get(slug), email=email, name=name, role=role, by=None)
        except service.StaffRefused as exc:
            raise click.ClickException(_(exc.error.value)) from exc

    return _portal_and_run(go)


def _report(invitation: service.Invitation) -> None:
    staff = invitation.staff
    click.echo(f"invited {staff.email} ({staff.role}); the invitation mail is in the outbox.")
    click.echo(f"link (valid {service.INVITE_HOURS} h, single use): {invitation.link}")


@click.command(name="invite")
@click.argument("slug", metavar="TENANT")
@click.option("--email", required=True, help="The staff member's e-mail address (their login ID).")
@click.option("--name", required=True, help="氏名.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VIEWER.value, show_default=True)
def invite_command(slug: str, email: str, name: str, role: str) -> None:
    """Invite a staff member to TENANT's console (/admin) by mail."""
    _report(_invite(slug, email, name, role))


@click.command(name="create-admin")
@click.argument("slug", metavar="TENANT")
@click.option("--email", required=True, help="The 管理者's e-mail address (their login ID).")
@click.option("--name", required=True, help="氏名.")
def create_admin_command(slug: str, email: str, name: str) -> None:
    """Invite a 管理者 (full rights) to TENANT's console: the way the first one is made."""
    _report(_invite(slug, email, name, Role.ADMIN.value))


COMMANDS = [invite_command, create_admin_command]
