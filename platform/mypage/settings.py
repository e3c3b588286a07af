"""Typed settings, read from ``MYPAGE_*`` environment variables by :meth:`Settings.from_env`.

Nothing reads the environment at import time: the CLI and the tests build a ``Settings`` and pass it
to :func:`mypage.app.create_app`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    """``postgresql://user@host:port/db`` for PostgreSQL; empty for the embedded SQLite file."""

    sqlite_path: Path = PROJECT_ROOT / "var" / "mypage.sqlite3"
    """Where the embedded database lives when ``database_url`` is empty."""

    redis_url: str = ""
    """``redis://host:port/db`` stores sessions in Redis; empty keeps them in the database."""

    smtp_url: str = ""
    """``smtp://host:port`` turns on mail delivery; empty keeps mail in the outbox (development)."""

    secret_key: str = "development-only-secret-key-change-me"
    """Signs CSRF tokens and keys the hashes of tokens and one-time codes."""

    dev_mode: bool = True
    """Development conveniences: the tenant index on ``localhost`` and the outbox mail viewer."""

    secure_cookies: bool = False
    """Mark cookies Secure (on in production, where the portal is served over https)."""

    https: bool = False
    """The portal is served over https: adds HSTS."""

    port: int = 8000
    public_base_port: int | None = None
    """Port shown in links sent by mail (defaults to ``port`` in development)."""

    tenants_dir: Path = PROJECT_ROOT / "tenants"
    themes_dir: Path = PROJECT_ROOT / "themes"
    locales_dir: Path = PROJECT_ROOT / "locales"

    run_mail_worker: bool = False
    """Deliver the outbox from inside the web server (a background task; needs ``smtp_url``).
    ``mypage run`` turns it on unless ``MYPAGE_MAIL_WORKER=0`` (then run ``mypage outbox deliver --loop``)."""

    mail_worker_interval: float = 2.0
    """Seconds between two delivery rounds of the outbox worker."""

    run_job_worker: bool = False
    """Run the background jobs inside the web server (a task of each process, started in the lifespan): CSV
    imports uploaded in the console and the mails of scheduled お知らせ. ``mypage run`` turns it on unless
    ``MYPAGE_JOB_WORKER=0``."""

    job_worker_interval: float = 1.0
    """Seconds between two rounds of the job worker (an upload wakes it at once in its own process)."""

    db_pool: bool = False
    """Use a connection pool (PostgreSQL, production server). Off in tests: each test loop connects anew."""

    trusted_proxies: tuple[str, ...] = ()
    """IP addresses or CIDR networks of reverse proxies whose ``X-Forwarded-For`` is believed
    (``MYPAGE_TRUSTED_PROXIES``, comma-separated, e.g. ``127.0.0.1`` when nginx runs on the same host).
    Empty: the connection's address is the client's, whatever the headers say (see ``mypage.web.proxies``)."""

    platform_host: str = "platform.localhost"
    """Host name of the platform console (``MYPAGE_PLATFORM_HOST``); recognised before any tenant's hosts.
    Empty (the production default until it is set): no host serves the console."""

    platform_mail_sender: str = ""
    """``From`` of the platform console's mail (``MYPAGE_PLATFORM_MAIL_SENDER``, e.g.
    ``運用チーム <ops@example.jp>``); empty: ``noreply@`` the platform host."""

    extra: dict[str, str] = field(default_factory=dict)

    @property
    def platform_base_url(self) -> str:
        """The platform console's address in links (``http://platform.localhost:PORT`` in development)."""
        scheme = "https" if self.https else "http"
        port = f":{self.public_base_port or self.port}" if self.dev_mode else ""
        return f"{scheme}://{self.platform_host}{port}"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        production = env.get("MYPAGE_ENV", "development") == "production"

        def flag(name: str, default: bool) -> bool:
            value = env.get(name)
            if value is None:
                return default
            return value.strip().lower() in {"1", "true", "yes", "on"}

        secret = env.get("MYPAGE_SECRET_KEY", "")
        if production and len(secret) < 32:
            raise SystemExit("MYPAGE_SECRET_KEY must be set to at least 32 characters in production")
        base = cls()
        return cls(
            database_url=env.get("MYPAGE_DATABASE_URL", ""),
            sqlite_path=Path(env.get("MYPAGE_SQLITE_PATH", str(base.sqlite_path))),
            redis_url=env.get("MYPAGE_REDIS_URL", ""),
            smtp_url=env.get("MYPAGE_SMTP_URL", ""),
            secret_key=secret or base.secret_key,
            dev_mode=flag("MYPAGE_DEV", not production),
            secure_cookies=flag("MYPAGE_SECURE_COOKIES", production),
            https=flag("MYPAGE_HTTPS", production),
            port=int(env.get("PORT", "8000")),
            tenants_dir=Path(env.get("MYPAGE_TENANTS_DIR", str(base.tenants_dir))),
            themes_dir=Path(env.get("MYPAGE_THEMES_DIR", str(base.themes_dir))),
            locales_dir=Path(env.get("MYPAGE_LOCALES_DIR", str(base.locales_dir))),
            run_mail_worker=flag("MYPAGE_MAIL_WORKER", False),
            run_job_worker=flag("MYPAGE_JOB_WORKER", False),
            db_pool=flag("MYPAGE_DB_POOL", production),
            trusted_proxies=_trusted_proxies(env.get("MYPAGE_TRUSTED_PROXIES", "")),
            platform_mail_sender=env.get("MYPAGE_PLATFORM_MAIL_SENDER", "").strip(),
            platform_host=env.get("MYPAGE_PLATFORM_HOST", "" if production else base.platform_host).strip().lower(),
        )


def _trusted_proxies(value: str) -> tuple[str, ...]:
    from mypage.web.proxies import parse_networks

    entries = tuple(item.strip() for item in value.split(",") if item.strip())
    try:
        parse_networks(entries)
    except ValueError as exc:
        raise SystemExit(f"MYPAGE_TRUSTED_PROXIES: {exc}") from exc
    return entries
