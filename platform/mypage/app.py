"""``create_app(settings)``: the one place where the portal is assembled."""

from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager, suppress

from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException

from mypage.db.engine import POOL_OPTIONS, bind_tables, make_engine
from mypage.db.errors import is_unavailable
from mypage.db.sqlite import EmbeddedSQLiteEngine
from mypage.identity.attempts import purge_stale as purge_stale_counters
from mypage.identity.session_auth import LoginRequired, login_redirect_target
from mypage.portal import Portal
from mypage.settings import Settings
from mypage.tenancy.middleware import PortalMiddleware
from mypage.web import errors
from mypage.web.forms import FormGuard
from mypage.web.render import redirect
from mypage.web.sessions import DatabaseSessionStore


def route_handlers() -> list:
    """Every feature folder's ``routes.py`` contributes its ``ROUTES`` list."""
    import importlib
    import pkgutil

    import mypage

    handlers = []
    for info in sorted(pkgutil.iter_modules(mypage.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"mypage.{info.name}.routes")
        except ModuleNotFoundError as exc:
            if exc.name != f"mypage.{info.name}.routes":
                raise
            continue
        handlers.extend(getattr(module, "ROUTES", []))
    return handlers


async def watch_tenant_changes(portal: Portal, stop: asyncio.Event) -> None:
    """Applies announced tenant changes (``tenancy.reload``) every ``POLL_SECONDS``, outside any request."""
    from mypage.tenancy.reload import POLL_SECONDS

    log = logging.getLogger("mypage.tenancy")
    while not stop.is_set():
        try:
            await portal.refresh()
        except Exception as exc:  # the database is unavailable or being emptied: try again next round
            log.warning("tenant change check failed: %s", exc)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)


def listen_for_hangup(portal: Portal):
    """SIGHUP to this server process: validate the tenant folders and, when valid, reload them on every worker.
    Returns the function that stops listening (a no-op where signals cannot be handled, e.g. off the main thread)."""
    import signal

    from mypage.tenancy.registry import TenantConfigError
    from mypage.tenancy.reload import reload_folders

    log = logging.getLogger("mypage.tenancy")
    tasks: set[asyncio.Task] = set()

    async def reload() -> None:
        try:
            await reload_folders(portal.settings)
            await portal.refresh()
        except TenantConfigError as exc:
            log.error("SIGHUP: tenant reload refused, the running tenants keep serving:\n%s", exc)
        except Exception as exc:  # the database is unavailable: nothing was announced
            log.error("SIGHUP: tenant reload failed: %s", exc)

    def on_hangup() -> None:
        task = asyncio.ensure_future(reload())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, on_hangup)
    except (ValueError, RuntimeError, NotImplementedError, AttributeError):
        return lambda: None
    return lambda: loop.remove_signal_handler(signal.SIGHUP)


def _login_required(request: Request, exc: LoginRequired) -> Response:
    return redirect(login_redirect_target(exc))


def create_app(settings: Settings | None = None, portal: Portal | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    portal = portal or Portal(settings)
    engine = make_engine(settings)
    bind_tables(engine)

    @asynccontextmanager
    async def lifespan(app: Litestar):
        if isinstance(engine, EmbeddedSQLiteEngine):
            await engine.start_connection_pool()
        elif settings.db_pool and settings.uses_postgres:
            try:
                await engine.start_connection_pool(min_size=2, **POOL_OPTIONS)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                # An empty pool connects on demand: the portal starts and answers 503 until PostgreSQL is back.
                logging.getLogger("mypage").warning("database unavailable at start-up: %s", exc)
                await engine.start_connection_pool(min_size=0, **POOL_OPTIONS)
        try:
            await purge_stale_counters()  # guessing-limit counters that no window needs any more
            if isinstance(portal.session_store, DatabaseSessionStore):
                # Expired sessions are otherwise deleted only when presented again.
                await portal.session_store.purge_expired()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # Start anyway: pages answer 503 and /readyz says so until the database is back.
            logging.getLogger("mypage").warning("database unavailable at start-up: %s", exc)
        worker, stop = None, asyncio.Event()
        if settings.smtp_url and settings.run_mail_worker:
            from mypage.mail.delivery import run_worker

            worker = asyncio.create_task(run_worker(settings, stop=stop), name="mypage-outbox-worker")
        jobs = None
        if settings.run_job_worker:
            from mypage.jobs.worker import run_worker as run_jobs

            jobs = asyncio.create_task(run_jobs(settings, portal, stop), name="mypage-job-worker")
        watcher = asyncio.create_task(watch_tenant_changes(portal, stop), name="mypage-tenant-watcher")
        hangup = listen_for_hangup(portal)
        # What start-up made (modules, tenant configs, routes) lives as long as the process: frozen out of the
        # collector's sight, a full collection scans only what requests leave behind (a pause of 1–3 ms
        # instead of 70–90 ms every few seconds, which was most of the 99th-percentile latency).
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            stop.set()  # the current rounds finish: a mail that went out is marked sent, an import ends
            hangup()
            with suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(watcher, timeout=5)
            for task in (worker, jobs):
                if task is not None:
                    with suppress(TimeoutError, asyncio.CancelledError):
                        await asyncio.wait_for(task, timeout=30)
            if isinstance(engine, EmbeddedSQLiteEngine) or (settings.db_pool and settings.uses_postgres):
                await engine.close_connection_pool()

    app = Litestar(
        route_handlers=route_handlers(),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="mypage_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            # Litestar searches these patterns anywhere in the path: anchored, or ``POST /x/healthz`` skips the check.
            exclude=[r"^/healthz\Z"],
        ),
        # Before the CSRF middleware of every route: form bodies are decoded strictly, once (web/forms.py).
        middleware=[FormGuard],
        exception_handlers={
            LoginRequired: _login_required,
            HTTPException: errors.http_error,
            Exception: errors.server_error,
        },
        lifespan=[lifespan],
        openapi_config=None,
        debug=False,
    )
    # The portal middleware wraps the whole application, not each route: unmatched paths (404), the CSRF
    # check's 403 and every error page then know the tenant and locale and get the security headers.
    app.asgi_handler = PortalMiddleware(app.asgi_handler, portal=portal)
    app.state.portal = portal
    app.state.engine = engine
    return app
