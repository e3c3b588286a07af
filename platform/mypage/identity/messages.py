"""What to tell the customer for a ``TokenError`` reason (``expired``, ``used``, ``too_many_attempts``, else wrong).

Each flow words how to start over in its own way, so those messages are passed in; what reads the same in
every flow (a wrong code, a link already used) is here once.
"""

from __future__ import annotations

from mypage.i18n import gettext as _


def code_message(reason: str, *, expired: str, too_many_attempts: str, used: str) -> str:
    """For an e-mailed code that was not accepted."""
    return {"expired": expired, "too_many_attempts": too_many_attempts, "used": used}.get(
        reason, _("認証コードが正しくありません。")
    )


def link_message(reason: str, *, expired: str, otherwise: str) -> str:
    """For a mailed link that cannot be used."""
    return {"expired": expired, "used": _("このURLはすでに使用されています。")}.get(reason, otherwise)
