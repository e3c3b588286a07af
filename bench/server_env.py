"""The environment the benchmarks start the portal with: production settings (the PostgreSQL pool on, HTTPS
off for plain-HTTP loopback), a fixed secret, and no Redis, mail server or database from the caller's
environment unless given."""

from __future__ import annotations

import os
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
