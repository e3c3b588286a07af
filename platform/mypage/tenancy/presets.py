"""Neutral settings ``mypage tenant new`` writes for a choice the template tenant does not have."""

from __future__ import annotations

from typing import Any

from mypage.tenancy import placeholders

LOGIN_ID_PRESETS: dict[str, dict[str, Any]] = {
    "chosen": {
        "kind": "chosen",
        "label": {"ja": "ログインID", "en": "Login ID"},
        "min_length": 4,
        "max_length": 30,
        "allowed": "A-Za-z0-9._\\-",
        "case_insensitive": True,
        "rule_text": {
            "ja": "※半角英数字と「.」「_」「-」で4〜30文字で設定できます。",
            "en": "4-30 half-width letters, digits and . _ -",
        },
    },
    "email": {
        "kind": "email",
        "label": {"ja": "ログインID（メールアドレス）", "en": "Login ID (e-mail address)"},
        "min_length": 6,
        "max_length": 254,
        "allowed": "A-Za-z0-9@._+\\-",
        "case_insensitive": True,
        "rule_text": {"ja": "※メールアドレスがログインIDになります。", "en": "Your e-mail address is your login ID."},
    },
    "issued": {
        "kind": "issued",
        "label": {"ja": "ログインID", "en": "Login ID"},
        "min_length": 8,
        "max_length": 8,
        "allowed": "a-z0-9",
        "case_insensitive": True,
        "issued_length": 8,
        "rule_text": {
            "ja": "※ログインIDは登録時に発行され、ログインのたびに必要です。",
            "en": "Your login ID is issued at registration and needed at every login.",
        },
    },
}
"""Neutral login-ID rules for a kind the template tenant does not use."""

KIND_ONLY_KEYS = ("collect_email", "confirm", "review", "confirm_password", "steps")
"""Registration keys whose meaning or allowed values depend on ``login_id.kind`` (the template operator's
confirmation, 確認 page and password re-entry, the listed steps): dropped when the kind changes, so the new
tenant starts from the neutral defaults of its kind."""

SECRET_QUESTIONS = [
    {"ja": "子どもの頃に住んでいた町の名前は?", "en": "The town you lived in as a child?"},
    {"ja": "最初に通った学校の名前は?", "en": "The first school you attended?"},
    {"ja": "思い出の場所は?", "en": "A place you remember fondly?"},
]

FEATURE_PRESETS: dict[str, dict[str, Any]] = {
    "billing": {},
    "contracts": {},
    "call_details": {},
    "members": {},
    "inquiries": {"categories": [{"key": "other", "label": {"ja": "その他", "en": "Other"}}]},
    "mailboxes": {"domain": placeholders.DOMAIN},
    "security_addon": {
        "name": placeholders.text("サービス名", "service name"),
        "price_yen": 0,
        "devices": 1,
        "supported_os": ["Windows", "macOS", "iOS", "Android"],
        "highlights": [],
        "description": placeholders.text("サービスの説明", "description"),
    },
}
"""Settings of a feature the template tenant does not have (placeholders where only the operator knows)."""

FEATURE_MENU_ITEMS: dict[str, tuple[str, dict[str, str]]] = {
    "billing": ("/billing", {"ja": "ご利用料金", "en": "Charges"}),
    "contracts": ("/contracts", {"ja": "ご契約内容", "en": "Contracts"}),
    "call_details": ("/calls", {"ja": "通話明細", "en": "Call details"}),
    "inquiries": ("/inquiries", {"ja": "お問い合わせ", "en": "Contact us"}),
    "members": ("/members", {"ja": "ユーザー管理", "en": "Users"}),
    "mailboxes": ("/mailboxes", {"ja": "メールアドレス", "en": "Mail addresses"}),
    "security_addon": ("/security", {"ja": "セキュリティサービス", "en": "Security service"}),
}
