"""Inquiries decided before threads existed are done: 対応状況 完了 (``closed``), not 新規.

A migration of its own: Piccolo runs a migration's raw steps before its column changes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T17:24:30:000000"
VERSION = "1"
DESCRIPTION = "inquiry states of decided inquiries"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mypage", description=DESCRIPTION)

    async def close_decided():
        from mypage.db.piccolo_conf import DB

        await DB.run_ddl("UPDATE \"inquiries\" SET \"state\" = 'closed' WHERE \"status\" <> 'received'")

    manager.add_raw(close_decided)
    return manager
