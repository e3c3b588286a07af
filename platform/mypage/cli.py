"""The ``mypage`` command."""

from __future__ import annotations

import asyncio
import os
import sys

import click

from mypage.settings import Settings


def _settings() -> Settings:
    return Settings.from_env()


async def _prepare_database(settings: Settings):
    from mypage.db.engine import bind_tables, make_engine
    from mypage.db.migrate import migrate

    engine = make_engine(settings)
    bind_tables(engine)
    await migrate(engine)
    return engine


@click.group()
def main() -> None:
    """mypage: the multi-tenant customer portal."""


@main.command()
@click.option("--workers", default=1, show_default=True, help="Server worker processes.")
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty embedded database.")
def run(workers: int, no_demo: bool) -> None:
    """Serve the portal on 127.0.0.1:$PORT (migrates, and loads demo data into an empty embedded database)."""
    settings = _settings()
    _check_tenants(settings)

    async def prepare() -> None:
        await _prepare_database(settings)
        if not settings.uses_postgres and not no_demo:
            try:
                from mypage.demo.loader import database_is_empty, load_demo
            except ModuleNotFoundError as exc:
                if exc.name != "mypage.demo.loader":
                    raise
                click.echo("No demo data module (mypage.demo.loader) yet: starting with an empty database.")
                return
            if await database_is_empty():
                click.echo("Empty embedded database: loading demo data…")
                await load_demo(settings)

    asyncio.run(prepare())
    # The outbox worker runs inside the server when MYPAGE_SMTP_URL is set (MYPAGE_MAIL_WORKER=0 turns it off,
    # e.g. when `mypage outbox deliver --loop` runs as its own process).
    os.environ.setdefault("MYPAGE_MAIL_WORKER", "1")
    # CSV imports from the console and scheduled お知らせ mails run in each server process (MYPAGE_JOB_WORKER=0: off).
    os.environ.setdefault("MYPAGE_JOB_WORKER", "1")
    if settings.smtp_url and os.environ["MYPAGE_MAIL_WORKER"] not in ("0", "false", "no", "off"):
        click.echo(f"Delivering mail to {settings.smtp_url.split('@')[-1]} from the outbox.")
    elif not settings.smtp_url:
        click.echo("MYPAGE_SMTP_URL is not set: mail stays in the outbox (see /_dev/mail).")
    if settings.dev_mode:
        click.echo(f"mypage on http://localhost:{settings.port}/ (tenants: http://<slug>.localhost:{settings.port}/)")
    else:
        click.echo(f"mypage on 127.0.0.1:{settings.port}")
    serve(settings, workers)


def serve(settings: Settings, workers: int) -> None:
    """uvicorn with ``workers`` processes. SIGHUP reloads the tenant folders without a restart: a single server
    process handles it itself (``app.listen_for_hangup``); with several workers the supervisor validates the
    folders and announces them to every worker, instead of uvicorn's restart of every worker."""
    import uvicorn
    from uvicorn.supervisors.multiprocess import Multiprocess

    config = uvicorn.Config("mypage.app:create_app", factory=True, workers=workers, **server_options(settings))
    if workers <= 1:
        uvicorn.Server(config).run()
        return

    class TenantReloadingSupervisor(Multiprocess):
        def handle_hup(self) -> None:
            try:
                click.echo(reload_tenants(settings), err=True)
            except click.ClickException as exc:
                click.echo(exc.format_message(), err=True)

    TenantReloadingSupervisor(config, sockets=[config.bind_socket()]).run()


def reload_tenants(settings: Settings) -> str:
    """Validates the tenant folders and announces them to every running worker; the outcome in words."""
    from mypage.tenancy.registry import TenantConfigError
    from mypage.tenancy.reload import reload_folders

    async def go():
        await _prepare_database(settings)
        return await reload_folders(settings)

    try:
        folders = asyncio.run(go())
    except TenantConfigError as exc:
        raise click.ClickException(f"tenant reload refused (the running tenants keep serving as they are):\n{exc}") from exc
    return f"tenants reloaded on every worker within a second: {', '.join(folders.tenants.slugs)}"


def server_options(settings: Settings) -> dict:
    """uvicorn's options for ``mypage run`` (also used by the tests that serve the app over real HTTP)."""
    return {
        "host": "127.0.0.1",
        "port": settings.port,
        # X-Forwarded-For is read by the portal middleware, only from MYPAGE_TRUSTED_PROXIES (mypage.web.proxies):
        # uvicorn's own handling trusts any loopback peer. https comes from MYPAGE_HTTPS, not from headers.
        "proxy_headers": False,
        "log_level": "info",
    }


@main.command()
def migrate() -> None:
    """Apply database migrations."""
    asyncio.run(_prepare_database(_settings()))


@main.command()
@click.argument("description", default="change")
@click.option("--fresh", is_flag=True, help="Delete all migrations and write the initial ones anew (pre-release only).")
def makemigrations(description: str, fresh: bool) -> None:
    """Write migrations for table changes (developers)."""
    import os
    import tempfile

    from mypage.db.migrate import make_migrations

    # Piccolo diffs the tables against the migration files, not a database: a scratch SQLite file will do.
    os.environ.setdefault("MYPAGE_SQLITE_PATH", os.path.join(tempfile.mkdtemp(), "scratch.sqlite3"))
    make_migrations("initial" if fresh else description, fresh=fresh)


@main.command()
@click.option("--force", is_flag=True, help="Load even if the database already has data.")
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    help="Then add this many generated customers (contract, phone line, 12 invoices and 20 calls each; "
    "COPY on PostgreSQL), e.g. 1000000.",
)
@click.option(
    "--tenant", "tenants", multiple=True, help="With --scale: the tenant(s) to add them to (default: every demo tenant)."
)
def demo(force: bool, scale: int | None, tenants: tuple[str, ...]) -> None:
    """Fill an empty database with realistic demo data for every tenant (and, with --scale, many more customers)."""
    from mypage.demo.loader import database_is_empty, load_demo

    settings = _settings()

    async def go() -> None:
        await _prepare_database(settings)
        empty = await database_is_empty()
        if not force and not empty and not scale:
            raise click.ClickException("the database already has data (use --force to add demo data anyway)")
        if empty or force:
            await load_demo(settings)
        if scale:
            from mypage.demo.scale import load_scale

            await load_scale(settings, scale, list(tenants) or None)

    asyncio.run(go())


@main.command(name="import")
@click.argument("tenant")
@click.argument("kind", type=click.Choice(["customers", "contracts", "invoices", "calls"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", type=click.Choice(["auto", "utf-8", "cp932"]), default="auto", show_default=True)
def import_(tenant: str, kind: str, path: str, encoding: str) -> None:
    """Import a CSV file of TENANT's records (see docs/import.md for the formats)."""
    from mypage.records.importer import run_import

    settings = _settings()

    async def go() -> int:
        await _prepare_database(settings)
        return await run_import(settings, tenant, kind, path, encoding)

    sys.exit(asyncio.run(go()))


@main.group()
def tenant() -> None:
    """Tenant folders."""


def _check_tenants(settings: Settings):
    from mypage.portal import Portal
    from mypage.tenancy.registry import TenantConfigError

    try:
        portal = Portal(settings)
    except TenantConfigError as exc:
        raise click.ClickException(f"tenant configuration is invalid:\n{exc}") from exc
    for line in _contrast_warnings(portal):
        click.echo(line, err=True)
    return portal


def _contrast_warnings(portal) -> list[str]:
    """Brand colours below WCAG AA contrast: a warning (the console refuses them; a file is the operator's call)."""
    from mypage.overrides.contrast import contrast_problems

    return [
        f"warning: {tenant.folder / 'tenant.toml'}: key '{problem.key}': {problem.message()}"
        for tenant in portal.tenants
        for problem in contrast_problems(tenant.config.branding)
    ]


from mypage.tenancy.commands import check as _tenant_check  # noqa: E402
from mypage.tenancy.commands import new as _tenant_new  # noqa: E402

tenant.add_command(_tenant_new)
tenant.add_command(_tenant_check)


@tenant.command()
def reload() -> None:
    """Validate the tenant folders and apply them on every running worker, without a restart."""
    click.echo(reload_tenants(_settings()))


@tenant.command(name="list")
def list_() -> None:
    """List tenants with their hosts and features."""
    portal = _check_tenants(_settings())
    for item in portal.tenants:
        features = ", ".join(item.config.features.names()) or "-"
        click.echo(f"{item.slug:10} {item.config.names.ja:20} hosts={','.join(item.config.hosts)} features={features}")


@main.group()
def outbox() -> None:
    """The mail outbox."""


@outbox.command()
@click.option("--loop", is_flag=True, help="Keep delivering (a worker); otherwise deliver what is due once.")
def deliver(loop: bool) -> None:
    """Deliver due mail over SMTP (MYPAGE_SMTP_URL)."""
    from mypage.mail.delivery import deliver_due, run_worker

    settings = _settings()
    if not settings.smtp_url:
        raise click.ClickException("MYPAGE_SMTP_URL is not set; mail stays in the outbox")

    async def go() -> None:
        await _prepare_database(settings)
        if loop:
            await run_worker(settings)
        else:
            sent, failed = await deliver_due(settings)
            click.echo(f"sent {sent}, failed {failed}")

    asyncio.run(go())


from mypage.inquiries.staff import staff as _staff_group  # noqa: E402  (mypage staff ...)

main.add_command(_staff_group)
from mypage.notices.cli import notice_command as _notice_command  # noqa: E402  (mypage staff notice ...)

_staff_group.add_command(_notice_command)
from mypage.admin.staff.cli import COMMANDS as _admin_staff_commands  # noqa: E402  (mypage staff invite / create-admin)

for _command in _admin_staff_commands:
    _staff_group.add_command(_command)

from mypage.platformconsole.cli import platform_group as _platform_group  # noqa: E402  (mypage platform invite)

main.add_command(_platform_group)


if __name__ == "__main__":
    main()
