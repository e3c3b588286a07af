"""The typed schema of ``tenants/<slug>/tenant.toml``.

Every difference between operators lives here as data. The platform code reads these fields; it
never asks which operator it is serving.

Every field has a docstring (``docs/tenant-config.md`` is generated from them by
``scripts/tenant_config_doc.py``). Rules that involve several fields live in each model's ``check``
method. When a whole tenant config is validated, every field is validated first; then the ``check``
of every model runs and all problems are raised together as one :class:`ConfigProblems`, each naming
its dotted key (``identity.recovery.entry_path``); ``registry.load_tenant`` adds the file. A setting
that the configured journeys never read is refused too (it would look as if it did something).
"""

from __future__ import annotations

import functools
import re
from contextvars import ContextVar
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mypage.tenancy.texts import TEXT_KEY_FAMILIES, TEXT_KEYS, family_of, known_keys_summary

Locale = Literal["ja", "en"]
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"
HOST_NAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+)?$"
URL_OR_DOCUMENT = r"^(https?://\S+|/static/\S+|/terms(/[a-z0-9][a-z0-9_-]{0,63})?)?$"
"""A link to a document: an absolute ``http(s)`` address, a tenant document (``/terms`` or ``/terms/<name>``,
from ``tenants/<slug>/content/``) or a file under ``/static/``; the loader checks that the file exists."""


class ConfigProblems(ValueError):
    """Problems found by a model's cross-field rules: ``(dotted key relative to the model, problem)``."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{key}: {problem}" for key, problem in problems))


class Rules:
    """Collects ``(key, problem)`` pairs in a model's ``check``; ``done()`` raises if any."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def refuse(self, key: str, problem: str) -> None:
        self.problems.append((key, problem))

    def unused(self, model: BaseModel, name: str, why: str) -> None:
        """Refuses ``name`` if the file sets it although nothing reads it in this configuration."""
        if name in model.model_fields_set:
            self.refuse(name, f"has no effect: {why}; remove it")

    def duplicates(self, key: str, values: list) -> None:
        seen: set = set()
        for value in values:
            if value in seen:
                self.refuse(key, f"{value!r} is listed twice; remove the repetition")
            seen.add(value)

    def pattern(self, key: str, body: str, template: str = "{}") -> bool:
        try:
            re.compile(template.format(body))
        except re.error as exc:
            self.refuse(key, f"{body!r} is not a valid regular expression: {exc}; fix it (Python `re` syntax)")
            return False
        return True

    def done(self) -> None:
        if self.problems:
            raise ConfigProblems(self.problems)


_DEFERRED: ContextVar[bool] = ContextVar("tenant_rules_deferred", default=False)
"""Set while a whole :class:`TenantConfig` is validated: its rules then run once, for every model at once."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    def check(self, rules: Rules) -> None:
        """Cross-field rules of this model; keys are relative to it. Models with rules override this."""

    @model_validator(mode="after")
    def _own_rules(self):
        if not _DEFERRED.get():
            rules = Rules()
            self.check(rules)
            rules.done()
        return self


def _collect(model: BaseModel, prefix: str, rules: Rules) -> None:
    """Runs ``check`` of ``model`` and of every model inside it, keys prefixed with their dotted path."""
    if isinstance(model, Strict):
        own = Rules()
        model.check(own)
        rules.problems += [(prefix + key, problem) for key, problem in own.problems]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if isinstance(item, BaseModel):
                _collect(item, f"{prefix}{name}." + ("" if index is None else f"{index}."), rules)


class Text(Strict):
    """A phrase in every locale; ``ja`` is required, ``en`` falls back to ``ja``."""

    ja: str
    """The Japanese wording (required; also shown when ``en`` is empty)."""
    en: str = ""
    """The English wording; empty: the Japanese one is shown."""

    def get(self, locale: str) -> str:
        return (self.en if locale == "en" else self.ja) or self.ja


MEDIA_PREFIX = "media:"
"""A ``branding.logo`` naming an image uploaded in the console (stored in the database, served at ``/media/``)."""


@functools.lru_cache(maxsize=4096)
def _brand_stylesheet_url(colours: str) -> str:
    """The tagged address of the brand stylesheet of these colours (hashed once per colours, not on every page)."""
    import hashlib

    return "/brand.css?v=" + hashlib.sha256(colours.encode()).hexdigest()[:10]


class Branding(Strict):
    logo: str = "logo.svg"
    """The logo in the header: a file under ``tenants/<slug>/static/`` (checked at start-up); a logo uploaded in
    the console is ``media:<name>``."""
    primary_colour: str = Field("#1f5fa8", pattern=HEX_COLOUR)
    """Main colour (header, primary buttons), ``#rrggbb``."""
    accent_colour: str = Field("#f39800", pattern=HEX_COLOUR)
    """Accent colour (highlights, secondary elements), ``#rrggbb``."""
    header_text_colour: str = Field("#ffffff", pattern=HEX_COLOUR)
    """Colour of text on the primary colour, ``#rrggbb``."""

    @property
    def stylesheet_url(self) -> str:
        """``/brand.css`` with a tag of the colours: a published change is a new address, never a cached sheet."""
        return _brand_stylesheet_url(f"{self.primary_colour}{self.accent_colour}{self.header_text_colour}".lower())

    @property
    def logo_url(self) -> str:
        if self.logo.startswith(MEDIA_PREFIX):
            return "/media/" + self.logo.removeprefix(MEDIA_PREFIX)
        return "/static/" + self.logo


class ContactPhone(Strict):
    label: Text
    """What the number is for, shown before it (e.g. 国際電話・IP電話などをご利用の場合, or another desk's name)."""
    number: str = Field(pattern=r"^[0-9][0-9-]{5,20}$")
    """The number as printed (digits and hyphens); its ``tel:`` link drops the hyphens."""
    hours: Text | None = None
    """Its own opening hours when they differ from ``contact.hours``; empty: none shown."""


class Contact(Strict):
    name: Text
    """The support desk's name, shown wherever customers are told whom to contact."""
    phone: str = ""
    """The support desk's phone number as printed; empty: not shown."""
    more_phones: list[ContactPhone] = []
    """Further numbers, each with its label (a number for international or IP phones, the company's general
    line …), shown after ``phone`` in the footer and on every contact block, in this order."""
    email: str = ""
    """The support desk's e-mail address; empty: not shown."""
    hours: Text
    """Opening hours of the support desk, as printed."""
    url: str = ""
    """The operator's support web page; empty: not linked."""


class Mail(Strict):
    sender: str
    """The ``From`` address of the tenant's mail."""
    sender_name: Text
    """The display name of the ``From`` address."""
    signature: Text
    """The block at the end of every mail (lines separated by ``\\n``)."""


class Session(Strict):
    idle_timeout_minutes: int = Field(30, ge=1, le=24 * 60)
    """A logged-in session unused this long is ended (強制ログアウト), in minutes."""
    absolute_timeout_hours: int = Field(12, ge=1, le=24 * 30)
    """A session ends this long after login however active it is, in hours."""

    def check(self, rules: Rules) -> None:
        """- ``idle_timeout_minutes`` is at most ``absolute_timeout_hours`` × 60."""
        if self.idle_timeout_minutes > self.absolute_timeout_hours * 60:
            rules.refuse(
                "idle_timeout_minutes",
                f"{self.idle_timeout_minutes} minutes is longer than absolute_timeout_hours "
                f"({self.absolute_timeout_hours} h): the idle timeout could never apply; "
                f"lower it to at most {self.absolute_timeout_hours * 60} or raise absolute_timeout_hours",
            )


class TokenLifetimes(Strict):
    registration_link_minutes: int = Field(24 * 60, ge=5)
    """How long a mailed registration link (or issued first-login link) stays valid, in minutes."""
    email_code_minutes: int = Field(10, ge=1, le=24 * 60)
    """How long a mailed 認証コード (registration with ``confirm = "code"``, recovery by code, login-ID change) stays valid, in minutes."""
    login_otp_minutes: int = Field(10, ge=1, le=60)
    """How long a mailed login one-time password (factor ``email_otp``) stays valid, in minutes."""
    password_reset_minutes: int = Field(60, ge=5)
    """How long a password reset link stays valid, in minutes."""
    max_attempts: int = Field(5, ge=1, le=20)
    """Wrong tries allowed on one code, link or secret answer before it is void."""
    resend_interval_seconds: int = Field(60, ge=0, le=3600)
    """Minimum wait before a code or link of the same purpose is sent again (再送信), in seconds."""


class Lockout(Strict):
    max_failures: int = Field(5, ge=1, le=100)
    """Wrong passwords (or second-factor codes, current passwords, record matches) before a lock."""
    lock_minutes: int = Field(15, ge=1, le=24 * 60)
    """How long a lock lasts; also the window in which failures are counted, in minutes."""
    per_address_max_failures: int = Field(20, ge=1, le=10000)
    """Failures from one client address (any login ID) before that address is refused for ``lock_minutes``."""
    id_checks_per_address: int = Field(30, ge=1, le=10000)
    """Login-ID availability checks (IDチェック) one client address may make in ``lock_minutes``."""
    verify_failures_per_session: int = Field(0, ge=0, le=100)
    """Failed record matches at registration one browser session may make before its verification stops for
    ``lock_minutes`` (on top of the limits per client address and per customer record); 0: no such limit."""

    def check(self, rules: Rules) -> None:
        """- ``per_address_max_failures`` is at least ``max_failures`` (else one address is refused before any account locks)."""
        if self.per_address_max_failures < self.max_failures:
            rules.refuse(
                "per_address_max_failures",
                f"{self.per_address_max_failures} is below max_failures ({self.max_failures}): one address would be "
                "refused before any account could be locked; use at least max_failures",
            )


CHAR_CLASSES = {
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "digit": "0123456789",
    "symbol": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
}
ISSUED_ID_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
"""The characters of issued login IDs (``identity/issued.py``: lower-case letters and digits without look-alikes)."""


def _accepts(allowed: str, characters: str) -> set[str]:
    """The characters of ``characters`` that the character class body ``allowed`` accepts."""
    pattern = re.compile(f"[{allowed}]")
    return {c for c in characters if pattern.fullmatch(c)}


LoginIdKind = Literal["chosen", "email", "issued"]


class LoginIdPolicy(Strict):
    kind: LoginIdKind
    """``chosen``: the customer picks an ID; ``email``: the ID is an e-mail address;
    ``issued``: the portal generates an ID and a temporary password and mails them with a first-login link.
    Selects the credentials step of registration and its path (``/register/chosen-id`` …)."""
    label: Text
    """What the operator calls the login ID, used in labels and messages."""
    min_length: int = Field(ge=1, le=254)
    """Shortest login ID accepted, in characters."""
    max_length: int = Field(ge=1, le=254)
    """Longest login ID accepted, in characters."""
    allowed: str
    """A regular-expression character class body of the allowed characters, e.g. ``A-Za-z0-9@._-``."""
    case_insensitive: bool = True
    """Login IDs that differ only in upper/lower case are the same ID."""
    rule_text: Text
    """The rule as the operator words it, shown next to the field."""
    issued_length: int = Field(6, ge=4, le=32)
    """``kind = "issued"`` only: length of a generated ID, in characters (within min/max_length)."""

    def check(self, rules: Rules) -> None:
        """- ``min_length`` ≤ ``max_length``; ``allowed`` is a valid character class.

        - ``kind = "email"``: ``allowed`` accepts ``@`` and ``.``.

        - ``kind = "issued"``: ``allowed`` accepts every character of generated IDs; ``min_length`` ≤ ``issued_length`` ≤ ``max_length``.

        - ``issued_length`` is set only with ``kind = "issued"``.
        """
        if self.min_length > self.max_length:
            rules.refuse(
                "min_length",
                f"min_length ({self.min_length}) is greater than max_length ({self.max_length}); "
                "lower min_length or raise max_length",
            )
        if rules.pattern("allowed", self.allowed, "[{}]"):
            if self.kind == "email" and not {"@", "."} <= _accepts(self.allowed, "@."):
                rules.refuse("allowed", "kind 'email' needs '@' and '.' among the allowed characters; add them to allowed")
            if self.kind == "issued":
                refused = sorted(set(ISSUED_ID_CHARACTERS) - _accepts(self.allowed, ISSUED_ID_CHARACTERS))
                if refused:
                    rules.refuse(
                        "allowed",
                        f"issued IDs use lower-case letters and digits, but {''.join(refused)!r} are not allowed; "
                        'use allowed = "a-z0-9" (or a class that includes them)',
                    )
        if self.kind == "issued" and not self.min_length <= self.issued_length <= self.max_length:
            rules.refuse(
                "issued_length",
                f"{self.issued_length} is outside min_length..max_length ({self.min_length}..{self.max_length}); "
                "use a length within them",
            )
        if self.kind != "issued":
            rules.unused(self, "issued_length", f"only issued IDs are generated, and kind is {self.kind!r}")


CharClass = Literal["upper", "lower", "digit", "symbol"]


class PasswordPolicy(Strict):
    min_length: int = Field(ge=4, le=128)
    """Shortest password accepted, in characters."""
    max_length: int = Field(ge=4, le=128)
    """Longest password accepted, in characters."""
    allowed: str
    """A regular-expression character class body of the allowed characters."""
    classes: list[CharClass] = []
    """The character classes counted by ``min_classes``."""
    min_classes: int = Field(0, ge=0, le=4)
    """How many of ``classes`` a password must use (0: no such rule)."""
    required_classes: list[CharClass] = []
    """Classes that must each appear."""
    rule_text: Text
    """The rule as the operator words it, shown next to the field."""
    rule_at_login: bool = False
    """Also show ``rule_text`` under the password field of the login page."""

    def check(self, rules: Rules) -> None:
        """- ``min_length`` ≤ ``max_length``; ``allowed`` is a valid character class.

        - ``min_classes`` ≤ the number of ``classes``; ``classes`` only with ``min_classes`` > 0; no class listed twice.

        - Every class in ``classes`` and ``required_classes`` has a character in ``allowed``.
        """
        if self.min_length > self.max_length:
            rules.refuse(
                "min_length",
                f"min_length ({self.min_length}) is greater than max_length ({self.max_length}); "
                "lower min_length or raise max_length",
            )
        if self.min_classes > len(self.classes):
            rules.refuse(
                "min_classes",
                f"{self.min_classes} is greater than the number of classes ({len(self.classes)}); "
                "lower min_classes or list more classes",
            )
        if self.classes and not self.min_classes:
            rules.refuse("classes", "has no effect: min_classes is 0; set min_classes or remove classes")
        rules.duplicates("classes", self.classes)
        rules.duplicates("required_classes", self.required_classes)
        if rules.pattern("allowed", self.allowed, "[{}]"):
            for key in ("classes", "required_classes"):
                for name in getattr(self, key):
                    if not _accepts(self.allowed, CHAR_CLASSES[name]):
                        rules.refuse(
                            key,
                            f"class {name!r} cannot occur: allowed ({self.allowed!r}) has no such character; "
                            "add such characters to allowed or remove the class",
                        )


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
VERIFICATION_FIELDS: tuple[str, ...] = get_args(VerificationField)
LOCATING_FIELDS = ("customer_number", "phone", "contract_number", "device_id")
"""Fields by which ``identity/verification.py`` finds the candidate customers; the others only confirm."""

REGISTRATION_ENTRY = "/register"
"""Redirects to the tenant's registration pipeline (``identity/registration/__init__.py``)."""
REGISTRATION_PATHS = {
    "chosen": "/register/chosen-id",
    "email": "/register/email-id",
    "issued": "/register/issued-id",
}
"""The first page of the registration pipeline, by ``login_id.kind`` (a test checks the app serves them)."""
RegistrationStep = Literal["verify", "disambiguate", "credentials", "review", "confirm", "complete"]
RecoveryMethod = Literal["secret_question", "email_code", "email_link"]
RECOVERY_METHOD_PATHS = {"secret_question": "/forgot", "email_code": "/forgot", "email_link": "/forgot/email"}
"""The first page of each recovery method (a test checks the app serves them)."""
RECOVERY_CHOICE = "/forgot"
"""The recovery choice screen (パスワード/IDのどちらがご不明か, and by which method); with one choice it
leads straight to it."""
ID_LOOKUP_PATH = "/forgot/id"
"""``id_forgotten = "email_lookup"``: the form that mails the login IDs registered to an address."""


def recovery_entry(methods: list[str]) -> str:
    """The recovery entry derived from the methods: the choice screen when a method needs the login ID
    first (``secret_question``, ``email_code``; also with ``email_link`` beside them), else the link form."""
    return RECOVERY_CHOICE if {"secret_question", "email_code"} & set(methods) else RECOVERY_METHOD_PATHS["email_link"]


class Registration(Strict):
    """One registration pipeline for every tenant (``identity/registration``); which steps it runs follows from
    these settings and ``login_id.kind`` (``Registration.steps_for``): 本人確認 (``verify``), 追加認証 (``disambiguate``,
    only when several customers match), the login ID and password (``credentials``; none when IDs are issued),
    an optional 確認 page (``review``), the e-mail confirmation (``confirm``: link or code; issued IDs: the
    first-login link) and the completion (``complete``: contact address, password set or proven, done)."""

    verify_fields: list[VerificationField] = Field(min_length=1)
    """Fields the customer must enter, all matched against the contract holder; at least one of
    ``customer_number``, ``phone``, ``contract_number``, ``device_id`` (they find the candidates)."""
    verify_one_of: list[VerificationField] = []
    """Of these, the customer picks one and enters it (a one-of group such as お支払情報等); matched too."""
    disambiguate_with: list[VerificationField] = []
    """When the answers match several customers, a 追加認証情報 step asks one of these; empty: several
    matches count as no match."""
    collect_nickname: bool = False
    """Ask for a nickname (ニックネーム): on the login-ID page, or on the first-login password page when IDs are issued."""
    collect_email: bool = True
    """``login_id.kind = "issued"``: the verification page asks for an e-mail address (the credentials are
    mailed to it). A chosen ID always asks for a contact address (cannot be false); an e-mail ID is the
    address (cannot be true)."""
    require_terms: bool = False
    """The verification page has a 利用規約に同意 box the customer must tick; needs ``terms_url``."""
    terms_url: str = Field("", pattern=URL_OR_DOCUMENT)
    """The terms (利用規約) linked from the 同意 box: ``https://…``, ``/terms[/<name>]`` (a tenant document) or
    ``/static/<file>``; only with ``require_terms``."""
    confirm: Literal["link", "code"] = "link"
    """How the e-mail address is confirmed before the account exists: ``link`` (a link mailed, valid
    ``tokens.registration_link_minutes``) or ``code`` (a 認証コード mailed and typed in the same browser, valid
    ``tokens.email_code_minutes``). Issued IDs are always mailed with a first-login link (``link``)."""
    review: bool = False
    """A 確認 page shows the entries before the confirmation is mailed ([入力画面に戻る] / [仮登録する]); not with issued IDs."""
    confirm_password: bool = False
    """The confirmation asks again for the password chosen at registration (proving who completes it), and the
    last page then logs the customer in directly (そのままログイン); otherwise the password is typed twice at
    registration and the last page leads to the login page. Not with issued IDs (they have no chosen password)."""
    steps: list[RegistrationStep] = []
    """Optional, for the reader: the steps the pipeline runs, in order; when set it must equal the steps the
    other settings give (start-up says which); empty: derived."""
    strip_leading_zeros: bool = False
    """Customer numbers are entered without their leading zeros (both forms are accepted)."""
    contract_number_patterns: list[str] = []
    """Regular expressions a contract number must match, after normalisation; empty: any."""
    contract_number_strip_prefixes: list[str] = []
    """Prefixes printed on invoices that are dropped (e.g. ``2N``)."""
    corporate_forms: list[str] = []
    """Corporate forms (株式会社 …) ignored when names are compared and listed by 「登録済みの法人格を表示」."""
    entry_path: str = Field("/register", pattern=r"^/")
    """Where the login page's 新規登録 link points: ``/register`` (goes to the pipeline) or the pipeline's own
    path (``/register/chosen-id``, ``/register/email-id``, ``/register/issued-id`` by ``login_id.kind``)."""

    def asked_fields(self) -> set[str]:
        """Every verification field a customer may be asked for."""
        return {*self.verify_fields, *self.verify_one_of, *self.disambiguate_with}

    def steps_for(self, kind: str) -> list[str]:
        """The steps of the pipeline for login IDs of ``kind``, in order."""
        steps = ["verify"]
        if self.disambiguate_with:
            steps.append("disambiguate")
        if kind != "issued":
            steps.append("credentials")
            if self.review:
                steps.append("review")
        return [*steps, "confirm", "complete"]

    def check(self, rules: Rules) -> None:
        """- ``verify_fields`` names at least one of ``customer_number``, ``phone``, ``contract_number``, ``device_id``; no field listed twice.

        - ``verify_one_of`` and ``disambiguate_with``: none of them in ``verify_fields``; ``verify_one_of`` has at least two fields (one is simply a verify field).

        - ``terms_url`` is set exactly when ``require_terms`` is true.

        - ``strip_leading_zeros`` needs ``customer_number`` asked; ``contract_number_patterns`` (valid regular expressions) and ``contract_number_strip_prefixes`` need ``contract_number`` asked; ``corporate_forms`` needs ``name`` asked.
        """
        rules.duplicates("verify_fields", self.verify_fields)
        rules.duplicates("verify_one_of", self.verify_one_of)
        rules.duplicates("disambiguate_with", self.disambiguate_with)
        if not set(self.verify_fields) & set(LOCATING_FIELDS):
            rules.refuse(
                "verify_fields",
                "needs at least one of " + ", ".join(LOCATING_FIELDS) + " (the fields that find the customer); add one of them",
            )
        for key in ("verify_one_of", "disambiguate_with"):
            both = [f for f in getattr(self, key) if f in self.verify_fields]
            if both:
                rules.refuse(key, f"{', '.join(both)} already in verify_fields (asked anyway); remove it here")
        if len(self.verify_one_of) == 1:
            rules.refuse("verify_one_of", "a choice of one: list at least two fields, or move it to verify_fields")
        if self.require_terms and not self.terms_url:
            rules.refuse(
                "terms_url",
                "is empty but require_terms is true; set terms_url to the terms the customer agrees to "
                "(/terms with content/terms.md, or https://…)",
            )
        if self.terms_url and not self.require_terms:
            rules.refuse("terms_url", "has no effect: require_terms is false; remove it or set require_terms = true")
        asked = self.asked_fields()
        if "customer_number" not in asked:
            rules.unused(self, "strip_leading_zeros", "registration does not ask for customer_number")
        if "contract_number" not in asked:
            rules.unused(self, "contract_number_patterns", "registration does not ask for contract_number")
            rules.unused(self, "contract_number_strip_prefixes", "registration does not ask for contract_number")
        if "name" not in asked:
            rules.unused(self, "corporate_forms", "registration does not ask for name")
        for index, pattern in enumerate(self.contract_number_patterns):
            rules.pattern(f"contract_number_patterns.{index}", pattern)

    def check_with_kind(self, kind: str, rules: Rules) -> None:
        """Rules that need ``login_id.kind`` (run by :class:`Identity`; keys relative to this model)."""
        if kind == "chosen" and "collect_email" in self.model_fields_set and not self.collect_email:
            rules.refuse("collect_email", "a chosen login ID always asks for an e-mail address (the contact address); remove it")
        if kind == "email" and "collect_email" in self.model_fields_set and self.collect_email:
            rules.refuse("collect_email", "with login_id.kind 'email' the login ID is the e-mail address; remove it")
        if kind == "issued":
            if not self.collect_email and "email" not in self.verify_fields:
                rules.refuse(
                    "collect_email",
                    "issued credentials are mailed, but no address is asked: set collect_email = true or add 'email' to verify_fields",
                )
            if self.confirm != "link":
                rules.refuse("confirm", "issued IDs are mailed with a first-login link; use confirm = 'link' or another kind")
            if self.review:
                rules.refuse("review", "with issued IDs there is nothing to review before the mail; remove it")
            if self.confirm_password:
                rules.refuse("confirm_password", "issued IDs have no password chosen at registration to ask again; remove it")
        derived = self.steps_for(kind)
        if self.steps and self.steps != derived:
            rules.refuse("steps", f"{self.steps} is not what these settings run: {derived} (remove steps or make them match)")
        allowed = {REGISTRATION_ENTRY, REGISTRATION_PATHS[kind]}
        if self.entry_path not in allowed:
            rules.refuse("entry_path", f"{self.entry_path!r} is not served; use {' or '.join(map(repr, sorted(allowed)))}")


class Recovery(Strict):
    methods: list[RecoveryMethod] = Field(["email_link"], min_length=1)
    """How a customer who forgot the password proves who he is: ``secret_question`` (合言葉),
    ``email_code`` (認証コード mailed; both at ``/forgot``), ``email_link`` (reset link mailed, ``/forgot/email``).
    Any list works: with several, ``/forgot`` offers the choice."""
    secret_questions: list[Text] = []
    """The questions offered for ``secret_question`` (needed exactly when that method is on)."""
    id_forgotten: Literal["reregister", "email_lookup", "none"] = "reregister"
    """What a customer who forgot the login ID is offered on the recovery entry screen: ``reregister`` (a link
    to registration), ``email_lookup`` (a form at ``/forgot/id`` that mails the login IDs registered to an
    address, with the same answer whether or not it is registered; needs an e-mail address collected),
    ``none`` (nothing)."""
    entry_path: str = Field("", pattern=r"^(/\S*)?$")
    """Where the login page's 「お忘れの方」 link points; empty (default): derived from ``methods`` —
    ``/forgot`` (the choice screen) when ``secret_question`` or ``email_code`` is a method, else ``/forgot/email``.
    When set, it must be that entry or, with only ``email_link``, ``/forgot/email``."""

    @model_validator(mode="before")
    @classmethod
    def _derived_entry(cls, data):
        if isinstance(data, dict) and not data.get("entry_path"):
            data = {**data, "entry_path": recovery_entry(list(data.get("methods") or ["email_link"]))}
        return data

    def forgot_page_methods(self) -> list[str]:
        """The methods that start at ``/forgot/identify`` (the login ID first)."""
        return [m for m in self.methods if m in ("secret_question", "email_code")]

    def check(self, rules: Rules) -> None:
        """- No method listed twice; ``secret_questions`` is non-empty exactly when ``secret_question`` is a method.

        - ``entry_path`` is the entry derived from ``methods``: ``/forgot`` when ``secret_question`` or ``email_code`` is a method (the choice screen, which also offers ``email_link`` when listed), else ``/forgot/email``.
        """
        rules.duplicates("methods", self.methods)
        if "secret_question" in self.methods and not self.secret_questions:
            rules.refuse(
                "secret_questions",
                'method \'secret_question\' needs at least one question; add secret_questions = [{ ja = "…", en = "…" }]',
            )
        if "secret_question" not in self.methods and self.secret_questions:
            rules.refuse("secret_questions", "has no effect: 'secret_question' is not in methods; remove them")
        entry = recovery_entry(self.methods)
        if self.entry_path != entry:
            served = (
                "the choice screen of methods " + ", ".join(self.methods) if entry == RECOVERY_CHOICE else "the e-mail link form"
            )
            rules.refuse(
                "entry_path",
                f"{self.entry_path!r} is not the entry of a configured method; use {entry!r} ({served}) or leave it out",
            )


class Captcha(Strict):
    provider: Literal["altcha", "recaptcha", "turnstile"] = "altcha"
    """``altcha``: a proof-of-work puzzle served by the portal (no keys); ``recaptcha`` / ``turnstile``:
    Google's or Cloudflare's service (need ``site_key`` and ``secret_key``)."""
    site_key: str = ""
    """``recaptcha``/``turnstile``: the public key the widget shows."""
    secret_key: str = ""
    """``recaptcha``/``turnstile``: the private key the portal verifies answers with."""
    altcha_max_number: int = Field(50_000, ge=1000, le=10_000_000)
    """``altcha``: the puzzle's search space (higher: slower for the browser and for robots)."""
    placement: Literal["login", "email_otp", "step"] | None = None
    """Where the captcha is answered: ``login`` (on the login form, checked before the password),
    ``email_otp`` (on the one-time-password page, one screen; needs factor ``email_otp``), ``step`` (a page of
    its own after the password, at its place in ``identity.factors``); empty: ``email_otp`` when that factor is
    on, else ``step``."""

    def check(self, rules: Rules) -> None:
        """- ``recaptcha``/``turnstile`` need ``site_key`` and ``secret_key`` and take no ``altcha_max_number``; ``altcha`` takes no keys."""
        if self.provider != "altcha":
            for key in ("site_key", "secret_key"):
                if not getattr(self, key):
                    rules.refuse(
                        key,
                        f"provider {self.provider!r} needs site_key and secret_key; set both (from the provider's "
                        "console) or use provider = 'altcha'",
                    )
            rules.unused(self, "altcha_max_number", f"provider is {self.provider!r}")
        else:
            rules.unused(self, "site_key", "provider 'altcha' uses no keys")
            rules.unused(self, "secret_key", "provider 'altcha' uses no keys")


class AccountChanges(Strict):
    """お客さま情報確認・変更 at ``/account``: the logged-in customer changes the login ID (confirmed by a
    code mailed to the contact address) and the password. Absent: those pages answer 404."""

    login_id: bool = True
    """The customer may change the login ID."""
    password: bool = True
    """The customer may change the password."""

    def check(self, rules: Rules) -> None:
        """- At least one of ``login_id`` and ``password`` is true (else omit the table)."""
        if not self.login_id and not self.password:
            rules.refuse("login_id", "both login_id and password are false; remove the [identity.account_changes] table")


Factor = Literal["password", "email_otp", "captcha", "totp"]


class Identity(Strict):
    login_id: LoginIdPolicy
    """What a login ID may look like and how it is made."""
    password: PasswordPolicy
    """What a password may look like."""
    factors: list[Factor] = ["password"]
    """Login steps, in order: ``password`` (required, first) then any of ``email_otp`` (a code mailed at each
    login), ``captcha`` (私はロボットではありません; where it is shown: ``captcha.placement``), ``totp`` (an
    authenticator app, required of every customer: one without an app sets it up at login)."""
    registration: Registration
    """How a customer creates an account."""
    recovery: Recovery = Recovery()
    """How a customer who forgot the password (or ID) gets back in."""
    captcha: Captcha = Captcha()
    """The captcha of the ``captcha`` factor (only with that factor)."""
    tokens: TokenLifetimes = TokenLifetimes()
    """Lifetimes and limits of mailed codes and links."""
    lockout: Lockout = Lockout()
    """Limits on wrong passwords and checks."""
    totp_optional: bool = False
    """Customers may add an authenticator app (TOTP) as a second factor (not with factor ``totp``)."""
    show_password_toggle: bool = False
    """Password fields get a 「パスワードを表示」 switch."""
    login_button: Text = Text(ja="ログイン", en="Log in")
    """The label of the login page's button (送信 where the next step mails a one-time password)."""
    login_reset_button: bool = False
    """The login page and the registration verification forms get a 「リセット」 button that clears the form (no script needed)."""
    other_login_url: str = ""
    """A link under the login page's form to another way in (e.g. the operator's separate account login),
    labelled by the text ``link.other_login``; empty: no link."""
    account_changes: AccountChanges | None = None
    """お客さま情報確認・変更 (``/account``); absent: off."""

    @field_validator("factors")
    @classmethod
    def _password_first(cls, factors: list[str]) -> list[str]:
        if not factors or factors[0] != "password":
            raise ValueError("factors must start with 'password' (the other steps follow it in the listed order)")
        return factors

    def captcha_placement(self) -> str | None:
        """Where the ``captcha`` factor is answered (``login``, ``email_otp``, ``step``); ``None``: no captcha."""
        if "captcha" not in self.factors:
            return None
        return self.captcha.placement or ("email_otp" if "email_otp" in self.factors else "step")

    def collects_email(self) -> bool:
        """Whether registration leaves the account with an e-mail address to mail codes and links to."""
        rules = self.registration
        if self.login_id.kind == "issued":
            return rules.collect_email or "email" in rules.verify_fields
        return True

    def check(self, rules: Rules) -> None:
        """- The registration settings fit ``login_id.kind``: ``collect_email`` cannot be false with ``chosen`` nor true with ``email``; with ``issued`` the credentials need an address to go to (``collect_email`` or an ``email`` field), the confirmation is a link and there is no ``review`` nor ``confirm_password``; ``registration.steps`` (when set) equals the derived steps; ``registration.entry_path`` is ``/register`` or the pipeline's path for the kind.

        - No factor listed twice; ``totp`` as a factor excludes ``totp_optional``; an ``[identity.captcha]`` table needs the ``captcha`` factor; ``captcha.placement = "email_otp"`` needs the ``email_otp`` factor; ``tokens.login_otp_minutes`` (when set) needs ``email_otp``.

        - When registration collects no e-mail address (issued IDs with ``collect_email = false`` and no ``email`` field), neither ``email_otp``, the ``email_code``/``email_link`` recovery methods nor ``id_forgotten = "email_lookup"`` are allowed.

        - ``tokens.resend_interval_seconds`` is shorter than the shortest code lifetime (``email_code_minutes``, ``login_otp_minutes``).
        """
        own = Rules()
        self.registration.check_with_kind(self.login_id.kind, own)
        for key, problem in own.problems:
            rules.refuse(f"registration.{key}", problem)
        rules.duplicates("factors", self.factors)
        if "totp" in self.factors and self.totp_optional:
            rules.refuse("totp_optional", "factor 'totp' makes the authenticator app required; remove totp_optional")
        if "captcha" not in self.factors and "captcha" in self.model_fields_set:
            rules.refuse("captcha", "has no effect: 'captcha' is not in factors; remove the table or add the factor")
        if self.captcha.placement == "email_otp" and "email_otp" not in self.factors:
            rules.refuse(
                "captcha.placement",
                "'email_otp' shows the captcha on the one-time-password page, but 'email_otp' is not in factors",
            )
        if "email_otp" not in self.factors and "login_otp_minutes" in self.tokens.model_fields_set:
            rules.refuse("tokens.login_otp_minutes", "has no effect: 'email_otp' is not in factors; remove it")
        if not self.collects_email():
            needing = [m for m in self.recovery.methods if m in ("email_code", "email_link")]
            for method in needing:
                rules.refuse(
                    "recovery.methods",
                    f"{method!r} mails the customer, but registration collects no e-mail address (registration.collect_email "
                    "is false); set registration.collect_email = true or remove the method",
                )
            if self.recovery.id_forgotten == "email_lookup":
                rules.refuse(
                    "recovery.id_forgotten",
                    "'email_lookup' mails the login ID, but registration collects no e-mail address (registration.collect_email "
                    "is false); set registration.collect_email = true or use id_forgotten = 'reregister' or 'none'",
                )
            if "email_otp" in self.factors:
                rules.refuse(
                    "factors",
                    "'email_otp' mails the customer, but registration collects no e-mail address (registration.collect_email "
                    "is false); set registration.collect_email = true or remove the factor",
                )
        shortest = min(self.tokens.email_code_minutes, self.tokens.login_otp_minutes) * 60
        if self.tokens.resend_interval_seconds >= shortest:
            rules.refuse(
                "tokens.resend_interval_seconds",
                f"{self.tokens.resend_interval_seconds} s is not shorter than the shortest code lifetime ({shortest} s): "
                f"a code would expire before a new one may be sent; use less than {shortest}",
            )


class MenuItem(Strict):
    label: Text
    """The item's text."""
    href: str = Field(pattern=r"^(/|https?://)")
    """A portal path (``/billing``) or an external address. A path of a feature needs that feature on."""
    feature: str = ""
    """The feature this item belongs to; the item is refused at start-up if that feature is off.
    ``feature.flag`` (e.g. ``contracts.history``) names a boolean flag of a feature."""
    description: Text | None = None
    """A sentence under the item (home page menu list)."""
    roles: list[Literal["owner", "admin", "general"]] = []
    """Account roles (``owner``, ``admin``, ``general``) that see the item; empty: everyone."""


class MenuGroup(Strict):
    label: Text
    """The group's heading."""
    items: list[MenuItem]
    """The group's links, in order."""


class BillingFeature(Strict):
    months: int = Field(15, ge=1, le=120)
    """How many billing months are listed, newest first."""
    earliest_month: str = Field("2000-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    """No month before this one is shown (YYYY-MM)."""
    layout: Literal["month_list", "fiscal_year"] = "month_list"
    """``month_list``: a list of months with [詳細]; ``fiscal_year``: 年度選択 then months (請求月)."""
    invoice_pdf: bool = True
    """Invoices can be downloaded as PDF (適格請求書)."""
    payment_method: bool = False
    """お支払い方法の確認・変更 (change to credit card through the payment gateway)."""
    gateway: Literal["builtin"] = "builtin"
    """The payment gateway that registers cards (``builtin``: stores only a random token, brand, last 4, expiry)."""
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    """``fiscal_year`` layout: the month a 年度 starts (1: calendar years, 4: April–March)."""

    def check(self, rules: Rules) -> None:
        """- ``fiscal_year_start_month`` only with ``layout = "fiscal_year"``; ``gateway`` only with ``payment_method = true``."""
        if self.layout != "fiscal_year":
            rules.unused(self, "fiscal_year_start_month", f"layout is {self.layout!r}, not 'fiscal_year'")
        if not self.payment_method:
            rules.unused(self, "gateway", "payment_method is false")


class ContractCategory(Strict):
    key: str = Field(pattern=r"^[a-z_]+$")
    """``Contract.category`` of the contracts behind this button."""
    label: Text
    """The button's text."""
    description: Text | None = None
    """A sentence under the button."""


class ContractsFeature(Strict):
    layout: Literal["lines", "summary"] = "summary"
    """``lines``: 契約回線 list with a detail per line; ``summary``: ご契約情報 of the customer."""
    opening_notice_pdf: bool = False
    """開通のご案内 of a line can be downloaded as PDF."""
    history: bool = False
    """サービス加入・変更履歴 (``/contracts/history``)."""
    confirmation_pdf: bool = False
    """契約内容確認書 can be downloaded as PDF (``/contracts/confirmation``)."""
    referral: bool = False
    """お友だち紹介 (``/contracts/referral``): a referral code, link and QR code."""
    speed_test_url: str = Field("", pattern=r"^(https?://\S+)?$")
    """A speed-test page linked from the contract pages; empty: no link."""
    support_url: str = Field("", pattern=r"^(https?://\S+)?$")
    """A support page linked from the contract pages; empty: no link."""
    categories: list[ContractCategory] = []
    """``lines`` layout: buttons on the home page (契約内容), one per contract category; empty: no buttons."""
    tax_rate: int = Field(10, ge=0, le=100)
    """Consumption tax rate (%) of the contracts' monthly fees, which are stored excluding tax: 月額 is shown
    both 税抜 and 税込 (the tax truncated as on invoices)."""

    def check(self, rules: Rules) -> None:
        """- ``categories`` only with ``layout = "lines"``; category keys are unique."""
        if self.layout != "lines":
            rules.unused(self, "categories", f"layout is {self.layout!r}, not 'lines'")
        rules.duplicates("categories", [c.key for c in self.categories])


class CallDetailsFeature(Strict):
    page_size: int = Field(100, ge=10, le=1000)
    """Calls per page on screen."""
    csv_encodings: list[Literal["utf-8-sig", "cp932"]] = Field(["utf-8-sig", "cp932"], min_length=1)
    """Encodings offered for the CSV download, the first preselected."""

    def check(self, rules: Rules) -> None:
        """- No encoding listed twice."""
        rules.duplicates("csv_encodings", self.csv_encodings)


class InquiryCategory(Strict):
    key: str = Field(pattern=r"^[a-z_]+$")
    """Identifies the category (``/inquiries?category=<key>``); unique."""
    label: Text
    """The category's name in the form."""
    applies: Literal["none", "call_details", "paper_stop_opening_notice", "paper_stop_transfer_notice"] = "none"
    """What approving such an inquiry does: ``call_details`` turns on call detail records for the contract
    (needs the ``call_details`` feature), ``paper_stop_*`` stops a paper notice; ``none``: nothing."""
    subject: Text | None = None
    """件名 prefilled when the form is opened for this category (``/inquiries?category=<key>``)."""
    body_hint: Text | None = None
    """What to write in 内容, shown under the field (e.g. お客様名・担当者名をご記入願います。)."""
    filed_as: str | None = None
    """A request filed under another category (its key) instead of being a 種別 of its own: it is not in the
    種別 list; ``/inquiries?category=<key>`` selects that category and prefills ``subject``, and an inquiry of
    that category whose 件名 is this ``subject`` keeps this ``applies`` for staff approval (e.g. 紙発送停止
    filed as その他)."""


class InquiriesFeature(Strict):
    categories: list[InquiryCategory] = Field(min_length=1)
    """The categories offered in the inquiry form, in order."""
    max_per_hour: int = Field(10, ge=1, le=1000)
    """Inquiries one account may send per hour."""
    body_required: bool = True
    """内容 must be filled in; ``false``: 内容 is optional (件名 is always optional)."""

    def check(self, rules: Rules) -> None:
        """- Category keys are unique.
        - A category's ``filed_as`` names another category that is itself in the 種別 list, and it has a
          ``subject`` and an ``applies`` other than ``none``."""
        rules.duplicates("categories", [c.key for c in self.categories])
        listed = {c.key for c in self.categories if c.filed_as is None}
        for i, c in enumerate(self.categories):
            if c.filed_as is None:
                continue
            if c.filed_as not in listed:
                rules.refuse(
                    f"categories.{i}.filed_as",
                    f"{c.filed_as!r} is not a category of the 種別 list; use the key of a category without filed_as",
                )
            if c.subject is None or c.applies == "none":
                rules.refuse(
                    f"categories.{i}.filed_as",
                    "a filed request needs a subject and an applies other than 'none'; add them or remove filed_as",
                )


class MembersFeature(Strict):
    max_members: int = Field(20, ge=1, le=1000)
    """Most accounts (owner included) one customer may have."""


class MailboxesFeature(Strict):
    max_addresses: int = Field(5, ge=1, le=50)
    """Most mail addresses one customer may register."""
    domain: str
    """Addresses are ``local@<subdomain>.<domain>``."""
    candidates_per_page: int = Field(3, ge=1, le=10)
    """Sub-domain candidates offered at a time when an address is registered."""
    requires_service: str = "internet"
    """Only customers with a contract of this service (``Contract.service``) may register addresses."""
    terms_url: str = Field("", pattern=URL_OR_DOCUMENT)
    """契約約款 shown before registering an address (``https://…``, ``/terms[/<name>]`` or ``/static/<file>``;
    empty: the portal's generic wording only)."""
    pop_server: str = Field("", pattern=HOST_NAME)
    """The incoming (POP3) server shown on each address's メール設定 page; empty: not shown."""
    pop_port: int = Field(110, ge=1, le=65535)
    """Its port, shown with it."""
    smtp_server: str = Field("", pattern=HOST_NAME)
    """The outgoing (SMTP) server shown on each address's メール設定 page; empty: not shown."""
    smtp_port: int = Field(587, ge=1, le=65535)
    """Its port, shown with it (587: submission with authentication)."""
    webmail_url: str = Field("", pattern=r"^(https://\S+)?$")
    """The operator's web mail, linked from the list and each メール設定 page, labelled by the
    text ``mailboxes.webmail``; empty: not linked."""
    password: PasswordPolicy | None = None
    """The rule of a mailbox password the customer sets on メール設定 (メールパスワード変更); absent: the password
    cannot be changed in the portal (only the one shown at registration)."""


class SecurityAddonFeature(Strict):
    name: Text
    """The product's name."""
    price_yen: int = Field(ge=0)
    """Monthly price, in yen."""
    tax_included: bool = True
    """``price_yen`` includes consumption tax (税込)."""
    devices: int = Field(ge=1)
    """Devices one subscription covers."""
    supported_os: list[str]
    """Operating systems listed as supported."""
    highlights: list[Text]
    """Bullet points on the product page."""
    description: Text
    """A paragraph on the product page."""
    requires_service: str = "internet"
    """Only customers with a contract of this service (``Contract.service``) may apply."""
    download_url: str = Field("", pattern=r"^(https://\S+)?$")
    """Where a subscriber downloads the software: shown once applied (on the page and in the application mail)
    with ``setup_steps``; empty: not shown."""
    setup_steps: list[Text] = []
    """How a subscriber installs the software and uses the licence, in order (the vendor's own steps)."""


class Features(Strict):
    """Each feature is a table; an absent table means the feature is off (its URLs answer 404)."""

    billing: BillingFeature | None = None
    """ご利用料金 (``/billing``)."""
    contracts: ContractsFeature | None = None
    """ご契約内容 (``/contracts``)."""
    call_details: CallDetailsFeature | None = None
    """通話料金明細 (``/calls``)."""
    inquiries: InquiriesFeature | None = None
    """お問い合わせ (``/inquiries``)."""
    members: MembersFeature | None = None
    """ユーザ管理 (``/members``): several accounts per customer, with roles."""
    mailboxes: MailboxesFeature | None = None
    """メールアドレスの設定・変更 (``/mailboxes``)."""
    security_addon: SecurityAddonFeature | None = None
    """インターネットセキュリティサービス (``/security``)."""

    def enabled(self, name: str) -> bool:
        """``billing``: the feature is on; ``contracts.history``: the feature is on and that flag is set."""
        feature, _, flag = name.partition(".")
        section = getattr(self, feature, None) if feature in type(self).model_fields else None
        if section is None:
            return False
        return bool(getattr(section, flag, False)) if flag else True

    def names(self) -> list[str]:
        return [name for name in type(self).model_fields if self.enabled(name)]

    @classmethod
    def known_names(cls) -> list[str]:
        """Every feature and ``feature.flag`` (boolean flags) a menu item may name."""
        names = []
        for name, info in cls.model_fields.items():
            names.append(name)
            model = next(a for a in get_args(info.annotation) if isinstance(a, type) and issubclass(a, BaseModel))
            names += [f"{name}.{flag}" for flag, f in model.model_fields.items() if f.annotation is bool]
        return names

    def check(self, rules: Rules) -> None:
        """- An inquiry category that ``applies = "call_details"`` needs the ``call_details`` feature."""
        if self.inquiries is not None and self.call_details is None:
            for index, category in enumerate(self.inquiries.categories):
                if category.applies == "call_details":
                    rules.refuse(
                        f"inquiries.categories.{index}.applies",
                        "'call_details' turns on call detail records, but the call_details feature is off; "
                        "turn on [features.call_details] or use applies = 'none'",
                    )


FEATURE_PATHS = {
    "/billing": "billing",
    "/billing/payment-method": "billing.payment_method",
    "/contracts": "contracts",
    "/contracts/history": "contracts.history",
    "/contracts/confirmation": "contracts.confirmation_pdf",
    "/contracts/referral": "contracts.referral",
    "/calls": "call_details",
    "/inquiries": "inquiries",
    "/members": "members",
    "/mailboxes": "mailboxes",
    "/security": "security_addon",
}
"""Portal paths that answer 404 unless a feature (or flag) is on: a menu item linking one needs it."""


def feature_of_path(href: str) -> str | None:
    """The feature a portal path needs (longest matching prefix of :data:`FEATURE_PATHS`), if any."""
    path = href.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    best = None
    for prefix, feature in FEATURE_PATHS.items():
        if path == prefix or path.startswith(prefix + "/"):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, feature)
    return best[1] if best else None


class Invoicing(Strict):
    registration_number: str = Field(pattern=r"^T\d{13}$")
    """適格請求書発行事業者登録番号 (T and 13 digits), printed on invoices."""
    issuer_name: Text
    """The invoicing company's name, printed on invoices."""
    issuer_address: str = ""
    """The invoicing company's address, printed on invoices; empty: not printed."""


class TenantConfig(Strict):
    slug: str
    """The tenant's identifier: lower-case letters, digits and hyphens; must equal the folder name."""
    names: Text
    """The operator's name as customers know it."""
    portal_title: Text
    """The portal's title (header, page titles, mail subjects)."""
    hosts: list[str] = Field(min_length=1)
    """Host names that serve this tenant (the request's Host header picks the tenant); unique across tenants."""
    default_locale: Locale = "ja"
    """The language shown when the visitor has not chosen one; one of ``locales``."""
    timezone: str = "Asia/Tokyo"
    """IANA zone of the operator: dates shown and "today" (billing months, issue dates) follow it."""
    locales: list[Locale] = ["ja", "en"]
    """Languages the visitor may switch to."""
    theme: str = "base"
    """A folder under ``themes/`` (templates and static files; ``parent`` chains to ``base``)."""
    branding: Branding = Branding()
    """Logo and colours."""
    contact: Contact
    """The support desk customers are pointed to."""
    mail: Mail
    """Sender and signature of the tenant's mail."""
    session: Session = Session()
    """How long a login lasts."""
    identity: Identity
    """Login IDs, passwords, factors, registration and recovery."""
    invoicing: Invoicing
    """The invoicing company printed on invoices."""
    home_notes: list[Text] = []
    """Notes (※ …) on the home page, in order."""
    menu: list[MenuGroup] = []
    """The portal menu, in groups."""
    features: Features = Features()
    """Which features are on, and their settings."""
    texts: dict[str, Text] = {}
    """Tenant wording for keys used by templates (``t('key')``), overriding the catalog; only the keys
    of the text-key registry (``mypage/tenancy/texts.py``) are accepted."""

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

    def text_needs_met(self, needs: tuple[str, ...]) -> bool:
        for need in needs:
            kind, _, value = need.partition(":")
            if kind == "kind" and self.identity.login_id.kind == value:
                return True
            if kind == "factor" and value in self.identity.factors:
                return True
            if kind == "setting" and getattr(self.identity.registration, value):
                return True
        return not needs

    def check(self, rules: Rules) -> None:
        """- ``default_locale`` is one of ``locales``; no locale or host listed twice.

        - A menu item's ``feature`` is a known feature or boolean flag, and on; a menu item linking a feature's path (``/billing``, ``/contracts/history`` …) needs that feature on; ``/account`` needs ``[identity.account_changes]``.

        - Every ``[texts]`` key is in the text-key registry, is shown with this tenant's login-ID kind, factors and registration settings, and a ``<field>`` key names a field registration asks for.
        """
        if self.default_locale not in self.locales:
            rules.refuse(
                "default_locale",
                f"{self.default_locale!r} must be one of locales {self.locales}; use one of them or add it there",
            )
        rules.duplicates("locales", self.locales)
        rules.duplicates("hosts", self.hosts)
        known_features = Features.known_names()
        for g, group in enumerate(self.menu):
            for i, item in enumerate(group.items):
                key = f"menu.{g}.items.{i}"
                if item.feature and item.feature not in known_features:
                    rules.refuse(f"{key}.feature", f"unknown feature {item.feature!r}; known: {', '.join(known_features)}")
                elif item.feature and not self.features.enabled(item.feature):
                    rules.refuse(
                        f"{key}.feature",
                        f"menu item {item.label.ja!r} needs feature {item.feature!r}, which is off; "
                        "turn it on under [features] or remove the item",
                    )
                needed = feature_of_path(item.href) if item.href.startswith("/") else None
                if needed and not self.features.enabled(needed):
                    rules.refuse(
                        f"{key}.href", f"{item.href!r} answers 404 unless feature {needed!r} is on; turn it on or remove the item"
                    )
                path = item.href.split("?", 1)[0].rstrip("/")
                if path in ("/account", "/account/change") or path.startswith("/account/change/"):
                    if self.identity.account_changes is None:
                        rules.refuse(
                            f"{key}.href",
                            f"{item.href!r} answers 404 without [identity.account_changes]; add that table or remove the item",
                        )
        asked = self.identity.registration.asked_fields()
        for key in self.texts:
            where = f'texts."{key}"'
            entry = TEXT_KEYS.get(key)
            family = family_of(key, VERIFICATION_FIELDS) if entry is None else None
            if entry is None and family is None:
                rules.refuse(where, _unknown_text_key(key))
                continue
            needs = entry.needs if entry is not None else TEXT_KEY_FAMILIES[family[0]].needs
            if not self.text_needs_met(needs):
                rules.refuse(where, f"never shown: it needs {' or '.join(needs)}, which this tenant does not have; remove it")
            elif family is not None and family[1] not in asked:
                rules.refuse(where, f"never shown: registration does not ask for {family[1]!r}; remove it")

    @model_validator(mode="wrap")
    @classmethod
    def _all_rules(cls, data, handler):
        """Validates every field first, then runs the rules of all models and reports every problem together."""
        token = _DEFERRED.set(True)
        try:
            config = handler(data)
        finally:
            _DEFERRED.reset(token)
        rules = Rules()
        _collect(config, "", rules)
        rules.done()
        return config

    @functools.cached_property
    def menu_hrefs(self) -> frozenset[str]:
        """Every menu item's link: the menu marks the page it links to as current, so its rendering varies
        with the path only when the path is one of these."""
        return frozenset(item.href for group in self.menu for item in group.items)

    def text(self, key: str, locale: str) -> str | None:
        phrase = self.texts.get(key)
        return phrase.get(locale) if phrase else None


def _unknown_text_key(key: str) -> str:
    import difflib

    candidates = [*TEXT_KEYS, *(p.replace("<field>", f) for p in TEXT_KEY_FAMILIES for f in VERIFICATION_FIELDS)]
    close = difflib.get_close_matches(key, candidates, n=3, cutoff=0.7)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    return f"unknown text key; {hint}known keys: {known_keys_summary(VERIFICATION_FIELDS)}"
