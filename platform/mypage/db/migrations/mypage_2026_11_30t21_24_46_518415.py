from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar

ID = "2026-11-30T21:24:46:518415"
VERSION = "1.38.0"
DESCRIPTION = "call_record_indexes"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mypage", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="CallRecord",
        tablename="call_records",
        column_name="tenant",
        db_column_name="tenant",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="CallRecord",
        tablename="call_records",
        column_name="month",
        db_column_name="month",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="CallRecord",
        tablename="call_records",
        column_name="started_at",
        db_column_name="started_at",
        params={"index": False},
        old_params={"index": True},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    return manager
