"""The environment the benchmarks start the portal with: production settings (the PostgreSQL pool on, HTTPS
off for plain-HTTP loopback), a fixed secret, and no Redis, mail server or database from the caller's
environment unless given."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def production_env(sqlite_path: Path | None = None, *, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """``os.environ`` with the portal's production settings on ``sqlite_path`` (the embedded database) or
    ``database_url`` (PostgreSQL); ``extra`` adds or overrides variables (e.g. ``PORT``)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "platform"),
        "MYPAGE_ENV": "production",
        "MYPAGE_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "MYPAGE_SECURE_COOKIES": "0",
        "MYPAGE_HTTPS": "0",
    }
    for name in ("MYPAGE_DATABASE_URL", "MYPAGE_REDIS_URL", "MYPAGE_SMTP_URL"):
        env.pop(name, None)
    if sqlite_path is not None:
        env["MYPAGE_SQLITE_PATH"] = str(sqlite_path)
    if database_url is not None:
        env["MYPAGE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


async def new_session(tenant: str, account_id: int, ttl_seconds: int = 3600, **fields) -> str:
    """A logged-in session of ``account_id`` saved in the session store (the tables bound to the database), as
    a login leaves it (``fields`` adds to its data); returns the session cookie's value."""
    from mypage.web.sessions import DatabaseSessionStore, _store_key

    session_id = secrets.token_urlsafe(32)
    now = int(time.time())
    data = {"_tenant": tenant, "account_id": account_id, "login_at": now, "_last_seen": now, **fields}
    await DatabaseSessionStore().save(_store_key(session_id), data, ttl_seconds)
    return session_id


@contextlib.contextmanager
def mypage_run(
    sqlite_path: Path, log_path: Path, *arguments: str, timeout: float = 120
) -> Iterator[tuple[subprocess.Popen, str]]:
    """``mypage run *arguments`` with :func:`production_env` on ``sqlite_path``, its output in ``log_path``:
    yields the server process and its base URL once it answers, and stops it afterwards."""
    from bench_http import free_port, wait_up  # bench_http imports this module

    port = free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mypage.cli", "run", *arguments],
            cwd=ROOT,
            env=production_env(sqlite_path, PORT=str(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(f"{base}/healthz", server, "aicom.localhost", timeout=timeout)
            yield server, base
        finally:
            server.terminate()
            server.wait(timeout=20)
