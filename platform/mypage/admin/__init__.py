"""The tenant staff console at ``/admin`` on each tenant host.

Staff accounts (:class:`~mypage.admin.tables.StaffMember`) are separate from customers: own table, own
session cookie (``mypage_staff``, path ``/admin``), argon2id passwords, a mandatory authenticator app
(TOTP) with one-time recovery codes, lockout, invitation by mail (``mypage staff invite`` /
``create-admin`` use the same service as the console's staff page). A customer's session never opens the
console and a staff session never logs into the customer portal.

Roles (:mod:`mypage.admin.roles`): ``Role.ADMIN`` 管理者 (everything), ``Role.SUPPORT`` サポート
(customers, inquiries, imports), ``Role.VIEWER`` 閲覧 (reads only). Sets to use in guards:
``EVERYONE``, ``SUPPORT_WORK`` (admin + support), ``ADMIN_ONLY``.

Adding a console page (another helper's feature)
------------------------------------------------
1. Make a sub-package ``mypage/admin/<part>/`` with ``__init__.py`` and ``routes.py``. Its module-level
   ``ADMIN_ROUTES`` (handlers or ``Controller`` classes) is mounted under ``/admin`` by
   :mod:`mypage.admin.routes` (discovered; nothing to register), and ``ADMIN_NAV`` adds menu entries::

       from litestar import Request, Response, get, post
       from litestar.params import FromPath
       from mypage.admin.auth import CurrentStaff, roles_allowed, staff_session
       from mypage.admin.nav import NavItem
       from mypage.admin.render import admin_page
       from mypage.admin.roles import ADMIN_ONLY, SUPPORT_WORK
       from mypage.i18n import N_

       @get("/branding")                                   # → /admin/branding
       async def branding(request: Request, staff: CurrentStaff) -> Response:
           return admin_page(request, "admin/branding.html", …)

       @post("/branding/versions/{version_id:int}/restore", guards=[roles_allowed(ADMIN_ONLY)])
       async def restore(request: Request, staff: CurrentStaff, version_id: FromPath[int]) -> Response: …

       ADMIN_ROUTES = [branding, restore]
       ADMIN_NAV = [NavItem("/admin/branding", N_("ブランディング"), order=40, roles=ADMIN_ONLY)]

   Tables, repository and service of the feature go in the sub-package as usual, except that tables must
   live in ``mypage/admin/tables.py`` or in a top-level feature folder's ``tables.py`` (only those are
   discovered by the migrations).
2. Guards. The router's guard :func:`~mypage.admin.auth.staff_required` already requires a logged-in
   staff member of this tenant on every handler (opt out only for login-like pages with
   ``opt={PUBLIC: True}``) and refuses every non-GET request of a 閲覧 member (a handler a viewer may post
   to says ``opt={VIEWER_MAY_POST: True}``). Add ``guards=[roles_allowed(SUPPORT_WORK)]`` or
   ``roles_allowed(ADMIN_ONLY)`` on handlers (or on a ``Controller``) that need more: others get the themed
   403 page. ``staff: CurrentStaff`` (a :class:`~mypage.admin.tables.StaffMember`) is provided by the router
   (``Provide``); annotate path parameters with ``FromPath[...]`` (Litestar 2.25 deprecates inferred ones).
   Record lookups are tenant-scoped like everywhere (``staff.tenant`` / ``tenant_of(request).slug``);
   an id of another tenant answers 404.
3. Templates go in ``mypage/admin/templates/admin/`` (the only template folder of this package that is
   searched) and ``{% extends "admin/layout.html" %}`` with ``{% block title %}`` and
   ``{% block content %}``; render them with :func:`~mypage.admin.render.admin_page`, which adds ``staff``,
   the menu, ``may_act`` (サポート or 管理者), ``is_admin`` and the staff session's flash messages. Use
   ``macros/forms.html`` ``field`` for inputs, ``{{ csrf_input }}`` in every form, ``_("…")`` for text.
   Flash with ``staff_session(request).flash(message, "success")`` (not the customer session).
4. Audit. Every staff action is written with
   :func:`mypage.admin.audit.log.record_staff_action` (who, what, customer, before/after), inside the same
   ``atomic()`` block as the change::

       async with atomic():
           …change…
           await record_staff_action(request, staff, "admin.branding.published",
                                     customer_id=None, before={"primary": old}, after={"primary": new})

   Event names start with ``admin.``; never log a secret. The audit viewer (``/admin/audit``) shows them.
5. Errors raised under ``/admin`` (404, ``Refused`` 403, the CSRF 403) are drawn with ``admin/error.html``.
6. Tests: ``tests/admin_support.py`` has ``make_staff(tenant, email, role)`` and ``staff_login(client, staff)``
   (a fresh authenticator code each call). The tenancy route walk requests every ``/admin`` route with
   another tenant's ids and sessions and a customer's session; name path parameters after columns
   (``{customer_id:int}``, ``{staff_id:int}``) so it finds samples.
"""
