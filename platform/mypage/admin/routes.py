"""The console's router: every ``mypage.admin.<part>.routes`` module adds its ``ADMIN_ROUTES`` (handlers or
controllers, paths relative to ``/admin``) and its menu entries ``ADMIN_NAV``. See :mod:`mypage.admin`."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from litestar import Request, Response, Router
from litestar.di import Provide

from mypage.admin.auth import StaffLoginRequired, current_staff, login_target, staff_required
from mypage.admin.nav import NavItem
from mypage.web.render import redirect


@cache
def admin_modules() -> tuple[ModuleType, ...]:
    import mypage.admin

    found = []
    for info in sorted(pkgutil.iter_modules(mypage.admin.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            found.append(importlib.import_module(f"mypage.admin.{info.name}.routes"))
        except ModuleNotFoundError as exc:
            if exc.name != f"mypage.admin.{info.name}.routes":
                raise
    return tuple(found)


@cache
def nav_items() -> tuple[NavItem, ...]:
    items = [item for module in admin_modules() for item in getattr(module, "ADMIN_NAV", [])]
    return tuple(sorted(items, key=lambda item: (item.order, item.path)))


def _to_login(request: Request, exc: StaffLoginRequired) -> Response:
    return redirect(login_target(exc))


def admin_router() -> Router:
    handlers = [handler for module in admin_modules() for handler in getattr(module, "ADMIN_ROUTES", [])]
    return Router(
        path="/admin",
        route_handlers=handlers,
        guards=[staff_required],
        dependencies={"staff": Provide(current_staff)},
        exception_handlers={StaffLoginRequired: _to_login},
        include_in_schema=False,
    )


ROUTES = [admin_router()]
