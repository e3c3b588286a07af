from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T16:11:57:487405"
VERSION = "1.38.0"
DESCRIPTION = "contract phone detail"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mypage", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Contract",
        tablename="contracts",
        column_name="phone_detail",
        db_column_name="phone_detail",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 500,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
