"""Piccolo tables of the portal's own identity records."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Timestamptz, Varchar

from mypage.db.base import TenantOwned
from mypage.records.tables import Customer


class Account(TenantOwned, tablename="accounts"):
    customer = ForeignKey(Customer, null=True, index=True)
    login_id = Varchar(length=254, required=True)
    """The normalised login ID (lower-cased where the tenant's IDs are case-insensitive)."""
    login_id_display = Varchar(length=254)
    password_hash = Varchar(length=255)
    email = Varchar(length=254)
    """連絡先メールアドレス: where codes and notices are sent."""
    nickname = Varchar(length=60)
    display_name = Varchar(length=120)
    role = Varchar(length=20, default="owner")
    """``owner`` (the contract holder), ``admin`` or ``general`` (members)."""
    mail_notify = Boolean(default=True)
    status = Varchar(length=20, default="active")
    """``active``, ``pending`` (temporary password not yet replaced) or ``disabled``."""
    must_change_password = Boolean(default=False)
    recovery_method = Varchar(length=30, default="")
    """``secret_question`` or ``email_code`` (recovery without an e-mail link)."""
    secret_question = Integer(null=True, default=None)
    secret_answer_hash = Varchar(length=255)
    totp_secret = Varchar(length=64)
    locked_until = Timestamptz(null=True, default=None)
    """Set when a limit of wrong secrets is reached (password, second factor, 合言葉); cleared by a reset."""
    credentials_version = Integer(default=0)
    """Raised at every credential change; a session logged in under an older version is logged out."""
    last_login_at = Timestamptz(null=True, default=None)
    password_changed_at = Timestamptz(null=True, default=None)

    UNIQUE_TOGETHER = (("tenant", "login_id"),)


class OneTimeToken(TenantOwned, tablename="one_time_tokens"):
    """A link token or an emailed code: stored only as a keyed hash, single use, with expiry."""

    account = ForeignKey(Account, null=True, index=True)
    purpose = Varchar(length=40)
    subject = Varchar(length=254, index=True)
    """Whom the token is for (an account id, an address): for throttling and revoking."""
    token_hash = Varchar(length=64)
    payload = JSON(default={})
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)

    UNIQUE_TOGETHER = (("tenant", "token_hash"),)


class AttemptCounter(TenantOwned, tablename="attempt_counters"):
    """Failed tries at a limited secret, per subject (see :mod:`mypage.identity.attempts`)."""

    scope = Varchar(length=40)
    """What is limited: ``login.id``, ``login.address``, ``login.second_factor``, ``recovery.answer`` …"""
    subject = Varchar(length=254)
    """Whose tries are counted: a login ID, a client address, an account id, a customer id."""
    failures = Integer(default=0)
    last_at = BigInt(default=0)
    """When the last counted try was made (seconds since the epoch); the count is forgotten a window later."""

    UNIQUE_TOGETHER = (("tenant", "scope", "subject"),)


class RecoveryCode(TenantOwned, tablename="recovery_codes"):
    """One-time recovery codes for authenticator-app (TOTP) users."""

    account = ForeignKey(Account, index=True)
    code_hash = Varchar(length=64)
    used_at = Timestamptz(null=True, default=None)

    UNIQUE_TOGETHER = (("tenant", "code_hash"),)
