"""``MYPAGE_DATABASE_URL``: asyncpg's settings from the URL, a TCP server or a Unix-domain socket's folder."""

import asyncio
from pathlib import Path

import pytest

from conftest import BACKENDS
from mypage.db.engine import postgres_config, with_database

SOCKET_FOLDER = "/var/run/postgresql"


def test_a_tcp_server():
    assert postgres_config("postgresql://app:p%40ss@db.example.jp:6432/portal") == {
        "host": "db.example.jp",
        "port": 6432,
        "database": "portal",
        "user": "app",
        "password": "p@ss",
    }
    assert postgres_config("postgresql:///portal") == {
        "host": "127.0.0.1",
        "port": 5432,
        "database": "portal",
        "user": "postgres",
    }


def test_a_socket_folder_as_libpq_reads_it():
    config = postgres_config("postgresql://app@/portal?host=/var/run/postgresql")
    assert config == {"host": "/var/run/postgresql", "port": 5432, "database": "portal", "user": "app"}


def test_another_database_on_the_same_server():
    assert with_database("postgresql://app@/test?host=/run/pg", "scratch") == "postgresql://app@/scratch?host=/run/pg"
    assert with_database("postgresql://app:x@127.0.0.1:5432/test", "scratch") == "postgresql://app:x@127.0.0.1:5432/scratch"


@pytest.mark.skipif(
    "postgres" not in BACKENDS or not (Path(SOCKET_FOLDER) / ".s.PGSQL.5432").exists(),
    reason="no PostgreSQL socket on this machine",
)
def test_the_engine_connects_through_the_socket():
    from piccolo.engine.postgres import PostgresEngine

    async def ask() -> str:
        engine = PostgresEngine(config=postgres_config(f"postgresql://postgres@/test?host={SOCKET_FOLDER}"))
        rows = await engine.run_ddl("SELECT inet_server_addr() IS NULL AS local")
        return rows[0]["local"]

    # inet_server_addr() is NULL on a Unix-domain socket connection.
    assert asyncio.run(ask()) is True
