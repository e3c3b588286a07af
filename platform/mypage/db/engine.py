"""Chooses SQLite (embedded default) or PostgreSQL from the settings and binds every table to it."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from mypage.settings import Settings


def postgres_config(url: str) -> dict:
    parts = urlparse(url)
    config = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "database": (parts.path or "/").lstrip("/") or "postgres",
        "user": unquote(parts.username) if parts.username else "postgres",
    }
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


def make_engine(settings: Settings) -> Engine:
    if settings.uses_postgres:
        return PostgresEngine(config=postgres_config(settings.database_url))
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=30)


def bind_tables(engine: Engine) -> None:
    from mypage.db.registry import all_tables

    for table in all_tables():
        table._meta.db = engine
