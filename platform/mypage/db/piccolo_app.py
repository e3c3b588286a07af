"""Piccolo app registration, used by Piccolo's migration machinery."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from mypage.db.registry import all_tables

APP_CONFIG = AppConfig(
    app_name="mypage",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(all_tables()),
    migration_dependencies=[],
    commands=[],
)
