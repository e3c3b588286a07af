"""The platform console at ``/platform`` on the platform host (``MYPAGE_PLATFORM_HOST``, ``platform.localhost``
in development), for the platform team only.

Platform staff (:class:`~mypage.platformconsole.tables.PlatformStaff`, a global table) are separate from every
tenant's staff and customers: own cookie (``mypage_platform``, path ``/platform``, only set on the platform
host), argon2id passwords, a mandatory authenticator app (TOTP, each time step accepted once), lockout
(``AttemptLimit`` per address and per e-mail address, and ``locked_until``). The first member is invited with
``mypage platform invite EMAIL`` (prints the single-use link). Every action is written to the global
``platform_audit`` table (not the tenants' audit log: a platform action is not any one tenant's event, and
tenant admins must not read it).

Pages: the tenant list with each tenant's health (:mod:`.health`: one grouped query per figure per page),
and per tenant the feature allowances (what the tenant's admins may switch on in the overrides editor), the
invitation of the tenant's first admin (the console's own invitation service) and suspension (every worker
learns it through ``tenant_generation``; the tenant's hosts answer a 503 maintenance page in its branding).
"""
