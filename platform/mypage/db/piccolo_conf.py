"""``PICCOLO_CONF`` for Piccolo's migration commands, which find their engine by importing a module.

``mypage migrate`` points ``PICCOLO_CONF`` here; the engine follows ``MYPAGE_DATABASE_URL`` and
``MYPAGE_SQLITE_PATH`` like the application does.
"""

from piccolo.conf.apps import AppRegistry

from mypage.db.engine import make_engine
from mypage.settings import Settings

DB = make_engine(Settings.from_env())
APP_REGISTRY = AppRegistry(apps=["mypage.db.piccolo_app"])
