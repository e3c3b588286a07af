"""The typed schema of ``tenants/<slug>/tenant.toml``.

Every difference between operators lives here as data. The platform code reads these fields; it
never asks which operator it is serving.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Locale = Literal["ja", "en"]
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A phrase in every locale; ``ja`` is required, ``en`` falls back to ``ja``."""

    ja: str
    en: str = ""

    def get(self, locale: str) -> str:
        return (self.en if locale == "en" else self.ja) or self.ja


class Branding(Strict):
    logo: str = "logo.svg"
    """A file under ``tenants/<slug>/static/``."""
    primary_colour: str = Field("#1f5fa8", pattern=HEX_COLOUR)
    accent_colour: str = Field("#f39800", pattern=HEX_COLOUR)
    header_text_colour: str = Field("#ffffff", pattern=HEX_COLOUR)


class Contact(Strict):
    name: Text
    phone: str = ""
    phone_alt: str = ""
    email: str = ""
    hours: Text
    url: str = ""


class Mail(Strict):
    sender: str
    """The ``From`` address of the tenant's mail."""
    sender_name: Text
    signature: Text


class Session(Strict):
    idle_timeout_minutes: int = Field(30, ge=1, le=24 * 60)
    """A logged-in session unused this long is ended (強制ログアウト)."""
    absolute_timeout_hours: int = Field(12, ge=1, le=24 * 30)


class TokenLifetimes(Strict):
    registration_link_minutes: int = Field(24 * 60, ge=5)
    email_code_minutes: int = Field(10, ge=1, le=24 * 60)
    login_otp_minutes: int = Field(10, ge=1, le=60)
    password_reset_minutes: int = Field(60, ge=5)
    max_attempts: int = Field(5, ge=1, le=20)
    resend_interval_seconds: int = Field(60, ge=0, le=3600)


class Lockout(Strict):
    max_failures: int = Field(5, ge=1, le=100)
    """Wrong passwords (or second-factor codes, current passwords, record matches) before a lock."""
    lock_minutes: int = Field(15, ge=1, le=24 * 60)
    """How long a lock lasts; also the window in which failures are counted."""
    per_address_max_failures: int = Field(20, ge=1, le=10000)
    """Failures from one client address (any login ID) before that address is refused for ``lock_minutes``."""
    id_checks_per_address: int = Field(30, ge=1, le=10000)
    """Login-ID availability checks (IDチェック) one client address may make in ``lock_minutes``."""


class LoginIdPolicy(Strict):
    kind: Literal["chosen", "email", "issued"]
    """``chosen``: the customer picks an ID; ``email``: the ID is an e-mail address;
    ``issued``: the portal generates an ID and mails it."""
    label: Text
    min_length: int = Field(ge=1, le=254)
    max_length: int = Field(ge=1, le=254)
    allowed: str
    """A regular-expression character class body of the allowed characters, e.g. ``A-Za-z0-9@._-``."""
    case_insensitive: bool = True
    rule_text: Text
    """The rule as the operator words it, shown next to the field."""
    issued_length: int = Field(6, ge=4, le=32)

    @model_validator(mode="after")
    def _lengths(self) -> "LoginIdPolicy":
        if self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        re.compile(f"[{self.allowed}]")
        return self


class PasswordPolicy(Strict):
    min_length: int = Field(ge=4, le=128)
    max_length: int = Field(ge=4, le=128)
    allowed: str
    """A regular-expression character class body of the allowed characters."""
    classes: list[Literal["upper", "lower", "digit", "symbol"]] = []
    """The character classes counted by ``min_classes``."""
    min_classes: int = Field(0, ge=0, le=4)
    required_classes: list[Literal["upper", "lower", "digit", "symbol"]] = []
    """Classes that must each appear."""
    rule_text: Text

    @model_validator(mode="after")
    def _lengths(self) -> "PasswordPolicy":
        if self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        if self.min_classes > len(self.classes):
            raise ValueError("min_classes is greater than the number of classes")
        re.compile(f"[{self.allowed}]")
        return self


VerificationField = Literal[
    "customer_number",
    "phone",
    "name_kana",
    "name",
    "postal_code",
    "contract_number",
    "bank_last4",
    "card_last4",
    "device_id",
    "email",
]


class Registration(Strict):
    flow: Literal["chosen_id", "email_id", "issued_id"]
    """Which registration journey the tenant runs (see ``identity/registration``)."""
    verify_fields: list[VerificationField]
    """Fields the customer must enter, all matched against the contract holder."""
    verify_one_of: list[VerificationField] = []
    """Of these, the customer picks one (お支払情報等)."""
    disambiguate_with: list[VerificationField] = []
    """When the answers match several customers, ask one of these (追加認証情報)."""
    collect_nickname: bool = False
    collect_email: bool = True
    require_terms: bool = False
    terms_url: str = ""
    strip_leading_zeros: bool = False
    """Customer numbers are entered without their leading zeros (both forms are accepted)."""
    contract_number_patterns: list[str] = []
    """Regular expressions a contract number must match, after normalisation."""
    contract_number_strip_prefixes: list[str] = []
    """Prefixes printed on invoices that are dropped (e.g. ``2N``)."""
    corporate_forms: list[str] = []
    """Corporate forms listed by 「登録済みの法人格を表示」."""
    entry_path: str = Field("/register", pattern=r"^/")
    """Where the login page's 新規登録 link points (``/register`` dispatches to the tenant's flow)."""


class Recovery(Strict):
    methods: list[Literal["secret_question", "email_code", "email_link"]] = ["email_link"]
    secret_questions: list[Text] = []
    id_forgotten: Literal["reregister", "email_lookup", "none"] = "reregister"
    entry_path: str = Field("/forgot/email", pattern=r"^/")
    """Where the login page's 「お忘れの方」 link points (``/forgot/email`` is the e-mail-link flow)."""


class Captcha(Strict):
    provider: Literal["altcha", "recaptcha", "turnstile"] = "altcha"
    site_key: str = ""
    secret_key: str = ""
    altcha_max_number: int = Field(50_000, ge=1000, le=10_000_000)

    @model_validator(mode="after")
    def _keys(self) -> "Captcha":
        if self.provider != "altcha" and not (self.site_key and self.secret_key):
            raise ValueError(f"provider {self.provider!r} needs site_key and secret_key")
        return self


class AccountChanges(Strict):
    """お客さま情報確認・変更 at ``/account``: the logged-in customer changes the login ID (confirmed by a
    code mailed to the contact address) and the password. Absent: those pages answer 404."""

    login_id: bool = True
    password: bool = True


class Identity(Strict):
    login_id: LoginIdPolicy
    password: PasswordPolicy
    factors: list[Literal["password", "email_otp", "captcha", "totp"]] = ["password"]
    registration: Registration
    recovery: Recovery = Recovery()
    captcha: Captcha = Captcha()
    tokens: TokenLifetimes = TokenLifetimes()
    lockout: Lockout = Lockout()
    totp_optional: bool = False
    """Customers may add an authenticator app (TOTP) as a second factor."""
    show_password_toggle: bool = False
    login_button: Text = Text(ja="ログイン", en="Log in")
    """The label of the login page's button (送信 where the next step mails a one-time password)."""
    account_changes: AccountChanges | None = None

    @field_validator("factors")
    @classmethod
    def _password_first(cls, factors: list[str]) -> list[str]:
        if "password" not in factors:
            raise ValueError("factors must include 'password'")
        return factors


class MenuItem(Strict):
    label: Text
    href: str = Field(pattern=r"^(/|https?://)")
    """A portal path (``/billing``) or an external address."""
    feature: str = ""
    """The feature this item belongs to; the item is refused at start-up if that feature is off.
    ``feature.flag`` (e.g. ``contracts.history``) names a boolean flag of a feature."""
    description: Text | None = None
    roles: list[str] = []
    """Account roles (``owner``, ``admin``, ``general``) that see the item; empty: everyone."""


class MenuGroup(Strict):
    label: Text
    items: list[MenuItem]


class BillingFeature(Strict):
    months: int = Field(15, ge=1, le=120)
    """How many billing months are listed, newest first."""
    earliest_month: str = Field("2000-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    """No month before this one is shown (YYYY-MM)."""
    layout: Literal["month_list", "fiscal_year"] = "month_list"
    """``month_list``: a list of months with [詳細]; ``fiscal_year``: 年度選択 then months (請求月)."""
    invoice_pdf: bool = True
    payment_method: bool = False
    """お支払い方法の確認・変更 (change to credit card through the payment gateway)."""
    gateway: Literal["builtin"] = "builtin"
    """The payment gateway that registers cards (``builtin``: stores only a random token, brand, last 4, expiry)."""
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    """``fiscal_year`` layout: the month a 年度 starts (1: calendar years, 4: April–March)."""


class ContractCategory(Strict):
    key: str = Field(pattern=r"^[a-z_]+$")
    """``Contract.category`` of the contracts behind this button."""
    label: Text
    description: Text | None = None


class ContractsFeature(Strict):
    layout: Literal["lines", "summary"] = "summary"
    """``lines``: 契約回線 list with a detail per line; ``summary``: ご契約情報 of the customer."""
    opening_notice_pdf: bool = False
    history: bool = False
    confirmation_pdf: bool = False
    referral: bool = False
    speed_test_url: str = ""
    support_url: str = ""
    categories: list[ContractCategory] = []
    """Buttons on the home page (契約内容), one per contract category; empty: no buttons."""


class CallDetailsFeature(Strict):
    page_size: int = Field(100, ge=10, le=1000)
    csv_encodings: list[Literal["utf-8-sig", "cp932"]] = ["utf-8-sig", "cp932"]


class InquiryCategory(Strict):
    key: str = Field(pattern=r"^[a-z_]+$")
    label: Text
    applies: Literal["none", "call_details", "paper_stop_opening_notice", "paper_stop_transfer_notice"] = "none"
    subject: Text | None = None
    """件名 prefilled when the form is opened for this category (``/inquiries?category=<key>``)."""
    body_hint: Text | None = None
    """What to write in 内容, shown under the field (e.g. お客様名・担当者名をご記入願います。)."""


class InquiriesFeature(Strict):
    categories: list[InquiryCategory] = Field(min_length=1)
    max_per_hour: int = Field(10, ge=1, le=1000)
    """Inquiries one account may send per hour."""


class MembersFeature(Strict):
    max_members: int = Field(20, ge=1, le=1000)


class MailboxesFeature(Strict):
    max_addresses: int = Field(5, ge=1, le=50)
    domain: str
    """Addresses are ``local@<subdomain>.<domain>``."""
    candidates_per_page: int = Field(3, ge=1, le=10)
    requires_service: str = "internet"
    terms_url: str = ""
    """契約約款 shown before registering an address (empty: the portal's generic wording only)."""


class SecurityAddonFeature(Strict):
    name: Text
    price_yen: int = Field(ge=0)
    tax_included: bool = True
    devices: int = Field(ge=1)
    supported_os: list[str]
    highlights: list[Text]
    description: Text
    requires_service: str = "internet"


class Features(Strict):
    """Each feature is a table; an absent table means the feature is off (its URLs answer 404)."""

    billing: BillingFeature | None = None
    contracts: ContractsFeature | None = None
    call_details: CallDetailsFeature | None = None
    inquiries: InquiriesFeature | None = None
    members: MembersFeature | None = None
    mailboxes: MailboxesFeature | None = None
    security_addon: SecurityAddonFeature | None = None

    def enabled(self, name: str) -> bool:
        """``billing``: the feature is on; ``contracts.history``: the feature is on and that flag is set."""
        feature, _, flag = name.partition(".")
        section = getattr(self, feature, None) if feature in type(self).model_fields else None
        if section is None:
            return False
        return bool(getattr(section, flag, False)) if flag else True

    def names(self) -> list[str]:
        return [name for name in type(self).model_fields if self.enabled(name)]


class Invoicing(Strict):
    registration_number: str = Field(pattern=r"^T\d{13}$")
    """適格請求書発行事業者登録番号."""
    issuer_name: Text
    issuer_address: str = ""


class TenantConfig(Strict):
    slug: str
    names: Text
    portal_title: Text
    hosts: list[str] = Field(min_length=1)
    default_locale: Locale = "ja"
    timezone: str = "Asia/Tokyo"
    """IANA zone of the operator: dates shown and "today" (billing months, issue dates) follow it."""
    locales: list[Locale] = ["ja", "en"]
    theme: str = "base"
    branding: Branding = Branding()
    contact: Contact
    mail: Mail
    session: Session = Session()
    identity: Identity
    invoicing: Invoicing
    home_notes: list[Text] = []
    menu: list[MenuGroup] = []
    features: Features = Features()
    texts: dict[str, Text] = {}
    """Tenant wording for keys used by templates (``t('key')``), overriding the catalog."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @field_validator("slug")
    @classmethod
    def _slug(cls, slug: str) -> str:
        if not SLUG.match(slug):
            raise ValueError("slug must be lower-case letters, digits and hyphens")
        return slug

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        cleaned = [h.strip().lower() for h in hosts]
        for host in cleaned:
            if not re.match(r"^[a-z0-9.-]+$", host):
                raise ValueError(f"host {host!r} is not a host name")
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> "TenantConfig":
        if self.default_locale not in self.locales:
            raise ValueError("default_locale must be one of locales")
        for group in self.menu:
            for item in group.items:
                if item.feature and not self.features.enabled(item.feature):
                    raise ValueError(f"menu item {item.label.ja!r} needs feature {item.feature!r}, which is off")
        return self

    def text(self, key: str, locale: str) -> str | None:
        phrase = self.texts.get(key)
        return phrase.get(locale) if phrase else None


