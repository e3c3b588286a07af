"""The registry of text keys a tenant may set in ``[texts]`` of its ``tenant.toml``.

A text key names one piece of wording that the platform shows with a neutral default (a catalog
message, translated by Babel) unless the tenant sets its own. Every key the code looks up is listed
here, with its default wording and where it appears; ``tests/unit/test_tenant_schema.py`` scans the
code (``t("key", "default")`` in templates, ``text(tenant, "key", …)``, ``config.text("key", …)``,
``texts.get("key")`` and the ``f"…{field}…"`` families) and fails when this registry and the code
disagree. A ``[texts]`` key not in this registry is refused at start-up.

Families are written with ``<field>``: one key per verification field (``customer_number``, ``phone`` …).

``needs`` says when a key is shown at all: ``kind:<login_id.kind>``, ``factor:<login factor>``,
``setting:<identity.registration field>`` (that setting is on); several entries mean any of them. A key whose need no entry meets is refused at start-up (it would
never be shown).
"""

from __future__ import annotations

from dataclasses import dataclass

FIELD = "<field>"


@dataclass(frozen=True)
class TextKey:
    doc: str
    """Where the wording appears, in plain English."""
    defaults: tuple[str, ...] = ()
    """The default wording (Japanese source of the catalog message) used when the tenant sets none;
    several when different pages use different defaults; empty: nothing is shown by default."""
    needs: tuple[str, ...] = ()
    """``kind:`` / ``factor:`` / ``setting:`` entries; the key is shown when any holds; empty: always."""


TEXT_KEYS: dict[str, TextKey] = {
    "billing.title": TextKey(
        "Title of the billing pages (ご利用料金 list, 料金明細 fiscal-year view).", ("ご利用料金", "料金明細")
    ),
    "calls.apply_howto": TextKey(
        "How to apply for call detail records, on a contract without them.",
        ("お問い合わせから通話明細記録の利用をお申し込みください。翌月の通話明細記録より閲覧が可能です。",),
    ),
    "contracts.change_note": TextKey(
        "Note under the contract summary on how to change contracts.",
        ("ご契約内容の変更はお問い合わせ窓口までご連絡ください。",),
    ),
    "contracts.referral_intro": TextKey(
        "Introduction of the referral page (お友だち紹介).",
        ("ご家族やお友だちにサービスをご紹介ください。お申し込みの際に下記の紹介コードまたは紹介用リンクをお伝えください。",),
    ),
    "contracts.referral_landing_intro": TextKey(
        "Introduction of the page a referral link opens; ``{name}`` is the operator's name.",
        ("ご家族・お友だちから{name}のサービスのご紹介をいただきました。お申し込みの際に、下記の紹介コードをお伝えください。",),
    ),
    "contracts.speed_test": TextKey("Label of the speed-test link on the contract pages.", ("通信速度測定",)),
    "contracts.title": TextKey("Title of the contract pages and the button back to them.", ("ご契約内容",)),
    "home.title": TextKey("Title of the home page (the page shown after login).", ("マイページ",)),
    "link.email_forgotten": TextKey(
        "Link under the e-mailed one-time-password form to whom to contact when the address is lost.",
        ("登録済みメールアドレスをお忘れの方",),
        needs=("factor:email_otp",),
    ),
    "link.forgot": TextKey(
        "Login page link to recovery (``identity.recovery.entry_path``) and the title of the recovery pages.",
        ("IDまたはパスワードをお忘れの方",),
    ),
    "link.other_login": TextKey(
        "Link under the login form to another way in (``identity.other_login_url``).", ("その他のログインはこちら",)
    ),
    "link.register": TextKey(
        "Login page link to registration (``identity.registration.entry_path``).", ("初めてログインされる方",)
    ),
    "login.title": TextKey(
        "Heading and title of the login pages (password, e-mailed one-time password, captcha).", ("ログイン",)
    ),
    "mail.greeting": TextKey(
        "First paragraph of every mail of the tenant, after the addressee's name (default: the theme's).",
    ),
    "mailboxes.webmail": TextKey(
        "Label of the link to the operator's web mail (``features.mailboxes.webmail_url``) on the mailbox pages.",
        ("Webメール",),
    ),
    "register.email.help": TextKey(
        "Hint under the contact e-mail address on the registration page of a chosen login ID.", needs=("kind:chosen",)
    ),
    "register.one_of_help": TextKey(
        "Help at the foot of the verification form, folded under 「機器情報等がご不明な場合」: where to find the "
        "values of the one-of group (``verify_one_of``, e.g. where the device ID is printed); empty: no help.",
        needs=("setting:verify_one_of",),
    ),
    "register.verify.mismatch": TextKey(
        "Message when the verification answers match no customer (or several, without ``disambiguate_with``); "
        "default: 入力された内容と一致するご契約者情報が見つかりませんでした。入力内容をご確認ください。",
    ),
}
"""Keys read by name. Sorted; ``docs/tenant-config.md`` lists them in this order."""

TEXT_KEY_FAMILIES: dict[str, TextKey] = {
    f"verify.{FIELD}.guide": TextKey(
        "Label of the link under a verification field to the tenant's sample of where the value is printed "
        "(``content/help/<field>.md``, served at ``/help/<field>``); the link is shown only when that document exists.",
        ("記載箇所の見本はこちら",),
    ),
    f"verify.{FIELD}.detail": TextKey(
        "Explanation next to a verification field in the one-of group and on the 追加認証情報 page (e.g. which device ID).",
    ),
    f"verify.{FIELD}.help": TextKey(
        "Hint under a verification field (default: a generic hint for ``contract_number``, ``postal_code``, "
        "``name`` and ``name_kana``)."
    ),
    f"verify.{FIELD}.label": TextKey("Label of a verification field (default: the field's generic label)."),
}
"""Keys built from a verification field (``identity.registration`` fields); ``<field>`` must be a field
the tenant's registration asks for."""


def family_of(key: str, fields: list[str] | tuple[str, ...]) -> tuple[str, str] | None:
    """``("verify.<field>.detail", "device_id")`` for ``verify.device_id.detail``; ``None`` if no family matches."""
    for pattern in TEXT_KEY_FAMILIES:
        head, _, tail = pattern.partition(FIELD)
        if key.startswith(head) and key.endswith(tail):
            field = key[len(head) : len(key) - len(tail)] if tail else key[len(head) :]
            if field in fields:
                return pattern, field
    return None


def known_keys_summary(fields: list[str] | tuple[str, ...]) -> str:
    """The known keys in one line, families with ``<field>`` and the fields listed once."""
    names = [*TEXT_KEYS, *TEXT_KEY_FAMILIES]
    return ", ".join(names) + f" ({FIELD}: " + ", ".join(fields) + ")"


PENDING_RENAMES: dict[str, tuple[str, str]] = {}
"""Keys that predate the one convention: ``old: (new, where the code reads it)``; none left (the registration
pipeline reads ``verify.<field>.label|help|detail`` and ``register.email.help``)."""
