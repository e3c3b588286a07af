"""Cross-field rules of the tenant schema: every combination that cannot work is refused at start-up,
with the file, the dotted key and the problem (``tenancy/config.py``, ``tenancy/registry.py``).

Each case starts from a shipped tenant's ``tenant.toml``, changes it in memory and expects one
message line ``<file>: key '<key>': …<problem>…``.
"""

from __future__ import annotations

import copy
import shutil
import tomllib
from pathlib import Path

import pytest

from mypage.portal import Portal
from mypage.settings import Settings
from mypage.tenancy.config import (
    FEATURE_PATHS,
    ISSUED_ID_CHARACTERS,
    RECOVERY_METHOD_PATHS,
    REGISTRATION_ENTRY,
    REGISTRATION_PATHS,
    Features,
    LoginIdKind,
    TenantConfig,
)
from mypage.tenancy.registry import TenantConfigError, TenantRegistry, load_tenant, validate_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {
    slug: tomllib.loads((ROOT / "tenants" / slug / "tenant.toml").read_text(encoding="utf-8"))
    for slug in ("aicom", "itscom", "nmedia")
}


def _walk(data: dict, dotted: str) -> tuple[dict | list, str | int]:
    parts = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    node = data
    for part in parts[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    return node, parts[-1]


def put(dotted: str, value):
    def change(data: dict) -> None:
        node, last = _walk(data, dotted)
        node[last] = value

    return change


def drop(dotted: str):
    def change(data: dict) -> None:
        node, last = _walk(data, dotted)
        del node[last]

    return change


def add_text(key: str):
    return lambda data: data.setdefault("texts", {}).__setitem__(key, {"ja": "文言"})


def add_menu_item(**item):
    return lambda data: data["menu"][0]["items"].append({"label": {"ja": "項目"}, **item})


def both(*changes):
    def change(data: dict) -> None:
        for one in changes:
            one(data)

    return change


QUESTION = [{"ja": "母親の旧姓は?"}]

# (tenant, change, key named in the message, problem fragment)
CASES = [
    # お問い合わせ: a request filed under another 種別 (紙発送停止 as その他)
    (
        "nmedia",
        put("features.inquiries.categories.1.filed_as", "nope"),
        "features.inquiries.categories.1.filed_as",
        "'nope' is not a category of the 種別 list",
    ),
    (
        "nmedia",
        put("features.inquiries.categories.1.applies", "none"),
        "features.inquiries.categories.1.filed_as",
        "needs a subject and an applies other than 'none'",
    ),
    # registration settings and login-ID kind
    (
        "nmedia",
        put("identity.registration.collect_email", False),
        "identity.registration.collect_email",
        "credentials are mailed",
    ),
    ("nmedia", put("identity.registration.confirm", "code"), "identity.registration.confirm", "issued IDs are mailed"),
    ("nmedia", put("identity.registration.review", True), "identity.registration.review", "nothing to review"),
    ("nmedia", put("identity.registration.confirm_password", True), "identity.registration.confirm_password", "no password"),
    (
        "aicom",
        put("identity.registration.steps", ["verify", "credentials", "confirm", "complete"]),
        "identity.registration.steps",
        "is not what these settings run: ['verify', 'credentials', 'review', 'confirm', 'complete']",
    ),
    # entry paths must be pages the app serves
    (
        "aicom",
        put("identity.recovery.entry_path", "/nowhere"),
        "identity.recovery.entry_path",
        "not the entry of a configured method; use '/forgot/email'",
    ),
    ("itscom", put("identity.recovery.entry_path", "/forgot/email"), "identity.recovery.entry_path", "use '/forgot'"),
    (
        "aicom",
        put("identity.registration.entry_path", "/register/issued-id"),
        "identity.registration.entry_path",
        "use '/register' or '/register/chosen-id'",
    ),
    # recovery methods, questions and id_forgotten
    (
        "itscom",
        put("identity.recovery.secret_questions", []),
        "identity.recovery.secret_questions",
        "needs at least one question",
    ),
    ("aicom", put("identity.recovery.secret_questions", QUESTION), "identity.recovery.secret_questions", "has no effect"),
    (
        "nmedia",
        both(
            put("identity.registration.collect_email", False),
            put("identity.recovery.methods", ["email_code"]),
            drop("identity.recovery.entry_path"),
            put("identity.factors", ["password", "captcha"]),
            drop("identity.tokens.login_otp_minutes"),
        ),
        "identity.recovery.id_forgotten",
        "'email_lookup' mails the login ID, but registration collects no e-mail address",
    ),
    (
        "aicom",
        put("identity.recovery.methods", ["email_link", "email_code"]),
        "identity.recovery.entry_path",
        "use '/forgot' (the choice screen of methods email_link, email_code)",
    ),
    ("aicom", put("identity.recovery.methods", ["email_link", "email_link"]), "identity.recovery.methods", "listed twice"),
    ("aicom", put("identity.recovery.methods", []), "identity.recovery.methods", "at least 1 item"),
    # terms
    ("nmedia", put("identity.registration.terms_url", ""), "identity.registration.terms_url", "require_terms is true"),
    ("nmedia", put("identity.registration.require_terms", False), "identity.registration.terms_url", "require_terms is false"),
    ("nmedia", put("identity.registration.terms_url", "/nowhere"), "identity.registration.terms_url", "should match pattern"),
    ("nmedia", put("identity.registration.terms_url", "/terms/../x"), "identity.registration.terms_url", "should match pattern"),
    ("aicom", put("identity.registration.require_terms", True), "identity.registration.terms_url", "require_terms is true"),
    # verification fields
    (
        "aicom",
        put("identity.registration.verify_one_of", ["bank_last4"]),
        "identity.registration.verify_one_of",
        "a choice of one",
    ),
    (
        "itscom",
        put("identity.registration.verify_one_of", ["phone", "bank_last4"]),
        "identity.registration.verify_one_of",
        "phone already in verify_fields",
    ),
    (
        "itscom",
        put("identity.registration.disambiguate_with", ["name_kana"]),
        "identity.registration.disambiguate_with",
        "already in verify_fields",
    ),
    (
        "nmedia",
        put("identity.registration.verify_fields", ["postal_code", "name"]),
        "identity.registration.verify_fields",
        "needs at least one of customer_number",
    ),
    (
        "nmedia",
        put("identity.registration.verify_fields", ["contract_number", "name", "name"]),
        "identity.registration.verify_fields",
        "'name' is listed twice",
    ),
    ("nmedia", put("identity.registration.verify_fields", []), "identity.registration.verify_fields", "at least 1 item"),
    (
        "nmedia",
        put("identity.registration.strip_leading_zeros", True),
        "identity.registration.strip_leading_zeros",
        "does not ask for customer_number",
    ),
    (
        "aicom",
        put("identity.registration.contract_number_patterns", ["^\\d+$"]),
        "identity.registration.contract_number_patterns",
        "does not ask for contract_number",
    ),
    (
        "aicom",
        put("identity.registration.contract_number_strip_prefixes", ["2N"]),
        "identity.registration.contract_number_strip_prefixes",
        "does not ask for contract_number",
    ),
    (
        "nmedia",
        put("identity.registration.contract_number_patterns", ["^CAF(\\d"]),
        "identity.registration.contract_number_patterns.0",
        "not a valid regular expression",
    ),
    (
        "aicom",
        put("identity.registration.corporate_forms", ["株式会社"]),
        "identity.registration.corporate_forms",
        "does not ask for name",
    ),
    (
        "aicom",
        put("identity.registration.collect_email", False),
        "identity.registration.collect_email",
        "always asks for an e-mail address",
    ),
    (
        "itscom",
        put("identity.registration.collect_email", True),
        "identity.registration.collect_email",
        "login ID is the e-mail address",
    ),
    # mail to an address nobody collected
    (
        "nmedia",
        put("identity.registration.collect_email", False),
        "identity.factors",
        "'email_otp' mails the customer, but registration collects no e-mail address",
    ),
    ("nmedia", put("identity.registration.collect_email", False), "identity.recovery.methods", "'email_link' mails the customer"),
    # factors and captcha
    ("aicom", put("identity.factors", ["password", "totp"]), "identity.totp_optional", "makes the authenticator app required"),
    ("aicom", put("identity.factors", ["password", "password"]), "identity.factors", "listed twice"),
    ("aicom", put("identity.factors", ["captcha", "password"]), "identity.factors", "must start with 'password'"),
    (
        "aicom",
        both(put("identity.factors", ["password", "captcha"]), put("identity.captcha", {"placement": "email_otp"})),
        "identity.captcha.placement",
        "'email_otp' is not in factors",
    ),
    ("aicom", put("identity.captcha", {"provider": "altcha"}), "identity.captcha", "'captcha' is not in factors"),
    ("nmedia", put("identity.captcha", {"provider": "recaptcha"}), "identity.captcha.site_key", "needs site_key and secret_key"),
    (
        "nmedia",
        put("identity.captcha", {"provider": "turnstile", "site_key": "s"}),
        "identity.captcha.secret_key",
        "needs site_key and secret_key",
    ),
    ("nmedia", put("identity.captcha.secret_key", "k"), "identity.captcha.secret_key", "provider 'altcha' uses no keys"),
    (
        "nmedia",
        put("identity.captcha", {"provider": "recaptcha", "site_key": "s", "secret_key": "k", "altcha_max_number": 90000}),
        "identity.captcha.altcha_max_number",
        "provider is 'recaptcha'",
    ),
    # token lifetimes, lockout, session
    ("aicom", put("identity.tokens.login_otp_minutes", 5), "identity.tokens.login_otp_minutes", "'email_otp' is not in factors"),
    (
        "itscom",
        put("identity.tokens.resend_interval_seconds", 900),
        "identity.tokens.resend_interval_seconds",
        "a code would expire before a new one may be sent",
    ),
    (
        "aicom",
        put("identity.lockout", {"max_failures": 10, "per_address_max_failures": 5}),
        "identity.lockout.per_address_max_failures",
        "below max_failures (10)",
    ),
    (
        "aicom",
        put("session", {"idle_timeout_minutes": 600, "absolute_timeout_hours": 8}),
        "session.idle_timeout_minutes",
        "longer than absolute_timeout_hours",
    ),
    # login-ID and password policies
    ("aicom", put("identity.login_id.min_length", 40), "identity.login_id.min_length", "greater than max_length (30)"),
    ("aicom", put("identity.login_id.allowed", "z-a"), "identity.login_id.allowed", "not a valid regular expression"),
    ("itscom", put("identity.login_id.allowed", "A-Za-z0-9_-"), "identity.login_id.allowed", "needs '@' and '.'"),
    ("nmedia", put("identity.login_id.allowed", "a-z"), "identity.login_id.allowed", "'23456789' are not allowed"),
    (
        "nmedia",
        put("identity.login_id.issued_length", 8),
        "identity.login_id.issued_length",
        "outside min_length..max_length (6..6)",
    ),
    ("aicom", put("identity.login_id.issued_length", 8), "identity.login_id.issued_length", "only issued IDs are generated"),
    (
        "nmedia",
        put("identity.password.required_classes", ["upper", "digit"]),
        "identity.password.required_classes",
        "class 'upper' cannot occur",
    ),
    ("nmedia", put("identity.password.classes", ["lower", "digit"]), "identity.password.classes", "min_classes is 0"),
    ("aicom", put("identity.password.min_classes", 4), "identity.password.min_classes", "greater than the number of classes (3)"),
    ("aicom", put("identity.password.allowed", "a-z\\"), "identity.password.allowed", "not a valid regular expression"),
    (
        "itscom",
        put("identity.account_changes", {"login_id": False, "password": False}),
        "identity.account_changes.login_id",
        "remove the [identity.account_changes] table",
    ),
    # features
    (
        "aicom",
        put("features.billing.fiscal_year_start_month", 4),
        "features.billing.fiscal_year_start_month",
        "layout is 'month_list'",
    ),
    ("aicom", put("features.billing.gateway", "builtin"), "features.billing.gateway", "payment_method is false"),
    (
        "itscom",
        put("features.contracts.categories", [{"key": "main", "label": {"ja": "主"}}]),
        "features.contracts.categories",
        "layout is 'summary'",
    ),
    ("nmedia", put("features.contracts.categories.1.key", "main"), "features.contracts.categories", "'main' is listed twice"),
    (
        "nmedia",
        put("features.inquiries.categories.3.key", "call_details"),
        "features.inquiries.categories",
        "'call_details' is listed twice",
    ),
    ("nmedia", both(drop("features.call_details")), "features.inquiries.categories.0.applies", "the call_details feature is off"),
    (
        "nmedia",
        put("features.call_details.csv_encodings", ["cp932", "cp932"]),
        "features.call_details.csv_encodings",
        "listed twice",
    ),
    (
        "itscom",
        put("features.contracts.speed_test_url", "speedtest"),
        "features.contracts.speed_test_url",
        "should match pattern",
    ),
    # menu
    (
        "itscom",
        put("menu.1.items.1.feature", "contracts.histroy"),
        "menu.1.items.1.feature",
        "unknown feature 'contracts.histroy'; known: billing",
    ),
    (
        "itscom",
        put("features.contracts.history", False),
        "menu.1.items.1.feature",
        "needs feature 'contracts.history', which is off",
    ),
    ("aicom", add_menu_item(href="/mailboxes"), "menu.0.items.3.href", "answers 404 unless feature 'mailboxes' is on"),
    (
        "aicom",
        add_menu_item(href="/billing/payment-method", feature="billing"),
        "menu.0.items.3.href",
        "unless feature 'billing.payment_method' is on",
    ),
    ("aicom", add_menu_item(href="/contracts/history?x=1"), "menu.0.items.3.href", "unless feature 'contracts.history' is on"),
    ("aicom", add_menu_item(href="/account"), "menu.0.items.3.href", "without [identity.account_changes]"),
    ("aicom", add_menu_item(href="/", roles=["boss"]), "menu.0.items.3.roles.0", "'owner', 'admin' or 'general'"),
    # locales and hosts
    ("aicom", both(put("locales", ["ja"]), put("default_locale", "en")), "default_locale", "must be one of locales"),
    ("aicom", put("locales", ["ja", "en", "ja"]), "locales", "listed twice"),
    ("aicom", put("hosts", ["aicom.localhost", "AICOM.localhost"]), "hosts", "'aicom.localhost' is listed twice"),
    # [texts]
    (
        "itscom",
        add_text("link.regsiter"),
        'texts."link.regsiter"',
        "unknown text key; did you mean 'link.register'? known keys: billing.title",
    ),
    (
        "itscom",
        add_text("verify.postal_code.label"),
        'texts."verify.postal_code.label"',
        "registration does not ask for 'postal_code'",
    ),
    ("aicom", add_text("register.one_of_help"), 'texts."register.one_of_help"', "never shown: it needs setting:verify_one_of"),
    ("aicom", add_text("link.email_forgotten"), 'texts."link.email_forgotten"', "needs factor:email_otp"),
    # mail.greeting is no longer here: every mail of a tenant greets with it, so any tenant may set it
    ("itscom", add_text("register.email.help"), 'texts."register.email.help"', "needs kind:chosen"),
    ("nmedia", add_text("register.help.phone"), 'texts."register.help.phone"', "unknown text key"),
]


@pytest.mark.parametrize(("slug", "change", "key", "problem"), CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_a_contradiction_is_refused_with_file_key_and_problem(slug, change, key, problem):
    data = copy.deepcopy(SHIPPED[slug])
    change(data)
    path = ROOT / "tenants" / slug / "tenant.toml"
    with pytest.raises(TenantConfigError) as info:
        validate_config(data, path)
    lines = str(info.value).splitlines()
    wanted = f"{path}: key '{key}': "
    assert any(line.startswith(wanted) and problem in line for line in lines), "\n".join(lines)


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_the_shipped_tenants_pass_every_rule(slug):
    assert validate_config(copy.deepcopy(SHIPPED[slug]), Path(slug)).slug == slug


def test_the_test_fixture_tenants_still_load():
    """Tenant folders among the test fixtures (none today) must pass the same rules."""
    for toml in sorted((ROOT / "tests" / "fixtures").rglob("tenant.toml")):
        load_tenant(toml.parent, ROOT / "themes")


def test_the_shipped_tenants_load_with_their_themes():
    assert {"aicom", "itscom", "nmedia"} <= set(TenantRegistry.load(ROOT / "tenants", ROOT / "themes").slugs)


def test_all_cross_field_problems_are_reported_together():
    data = copy.deepcopy(SHIPPED["nmedia"])
    data["identity"]["login_id"]["kind"] = "email"
    data["identity"]["registration"]["steps"] = ["verify"]
    data["identity"]["recovery"]["entry_path"] = "/nowhere"
    data["texts"]["link.regsiter"] = {"ja": "x"}
    data["identity"]["lockout"] = {"max_failures": 10, "per_address_max_failures": 5}
    with pytest.raises(TenantConfigError) as info:
        validate_config(data, Path("tenants/nmedia/tenant.toml"))
    message = str(info.value)
    for key in (
        "identity.registration.steps",
        "identity.login_id.allowed",
        "identity.recovery.entry_path",
        'texts."link.regsiter"',
        "identity.lockout.per_address_max_failures",
    ):
        assert f"tenants/nmedia/tenant.toml: key '{key}': " in message, key


def test_a_type_error_is_reported_before_the_rules():
    data = copy.deepcopy(SHIPPED["aicom"])
    data["session"] = {"idle_timeout_minutes": "thirty"}
    data["identity"]["recovery"]["entry_path"] = "/nowhere"
    with pytest.raises(TenantConfigError) as info:
        validate_config(data, Path("t.toml"))
    assert "key 'session.idle_timeout_minutes'" in str(info.value)


# -- the same through the files and start-up, as an operator meets them ----------------------------


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    tenants, themes = tmp_path / "tenants", tmp_path / "themes"
    shutil.copytree(ROOT / "tenants", tenants)
    shutil.copytree(ROOT / "themes", themes)
    return tenants, themes


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def start_up_error(tenants: Path, themes: Path) -> str:
    with pytest.raises(TenantConfigError) as info:
        Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    return str(info.value)


def test_start_up_refuses_a_code_confirmation_with_issued_ids(folders):
    tenants, themes = folders
    toml = tenants / "nmedia" / "tenant.toml"
    edit(toml, "collect_email = true", 'collect_email = true\nconfirm = "code"')
    message = start_up_error(tenants, themes)
    assert f"{toml}: key 'identity.registration.confirm': issued IDs are mailed with a first-login link" in message


def test_start_up_refuses_a_misspelt_text_key_with_the_known_keys(folders):
    tenants, themes = folders
    toml = tenants / "itscom" / "tenant.toml"
    edit(toml, '"link.register" =', '"link.regsiter" =')
    message = start_up_error(tenants, themes)
    assert f"{toml}: key 'texts.\"link.regsiter\"': unknown text key; did you mean 'link.register'?" in message
    assert "verify.<field>.detail" in message and "(<field>: customer_number" in message


def test_start_up_refuses_a_recovery_entry_that_is_not_served(folders):
    tenants, themes = folders
    toml = tenants / "aicom" / "tenant.toml"
    edit(toml, 'entry_path = "/forgot/email"', 'entry_path = "/nowhere"')
    message = start_up_error(tenants, themes)
    assert f"{toml}: key 'identity.recovery.entry_path': '/nowhere' is not the entry of a configured method" in message


def test_a_static_terms_link_must_name_a_served_file(folders):
    tenants, themes = folders
    toml = tenants / "nmedia" / "tenant.toml"
    edit(toml, 'terms_url = "/terms"', 'terms_url = "/static/terms.pdf"')
    message = start_up_error(tenants, themes)
    assert f"{toml}: key 'identity.registration.terms_url': '/static/terms.pdf' is not a file" in message
    (tenants / "nmedia" / "static" / "terms.pdf").write_bytes(b"%PDF-1.4")
    Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    edit(toml, 'terms_url = "/static/terms.pdf"', 'terms_url = "/static/css/portal.css"')  # from the base theme
    Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    edit(toml, 'terms_url = "/static/css/portal.css"', 'terms_url = "/static/../tenant.toml"')
    assert "is not a file" in start_up_error(tenants, themes)


def test_a_terms_link_must_name_a_tenant_document(folders):
    tenants, themes = folders
    toml = tenants / "nmedia" / "tenant.toml"
    (tenants / "nmedia" / "content" / "terms.md").unlink()
    message = start_up_error(tenants, themes)
    assert f"{toml}: key 'identity.registration.terms_url': '/terms' is served from" in message and "does not exist" in message
    itscom = tenants / "itscom" / "tenant.toml"
    edit(itscom, 'terms_url = "/terms/mail"', 'terms_url = "/terms/mial"')
    message = start_up_error(tenants, themes)
    assert f"{itscom}: key 'features.mailboxes.terms_url': '/terms/mial' is served from" in message


def test_the_document_routes_are_the_ones_the_loader_checks():
    assert {"/terms", "/terms/{document:str}"} <= _served_paths()


# -- the registries of paths and kinds agree with the code ----------------------------------------


def _served_paths() -> set[str]:
    from litestar import Router

    from mypage.app import route_handlers

    paths: set[str] = set()
    for handler in route_handlers():
        # A feature may bring a Router (the staff console's): its routes carry their full paths.
        paths |= {route.path for route in handler.routes} if isinstance(handler, Router) else set(handler.paths)
    return paths


def test_the_entry_and_feature_paths_the_schema_allows_are_served():
    served = _served_paths()
    wanted = {REGISTRATION_ENTRY, *REGISTRATION_PATHS.values(), *RECOVERY_METHOD_PATHS.values(), "/account"}
    assert wanted - served == set(), f"entry paths the schema allows but no route serves: {sorted(wanted - served)}"
    # A feature path is a page or the prefix of pages (``/calls`` → ``/calls/{number:str}``).
    unknown = [p for p in FEATURE_PATHS if p not in served and not any(s.startswith(p + "/") for s in served)]
    assert not unknown, f"feature paths no route serves: {unknown}"


def test_the_path_registries_match_the_identity_modules():
    from mypage.identity import recovery_link, recovery_question
    from mypage.identity.registration.plan import paths

    assert paths() == list(REGISTRATION_PATHS.values())
    assert set(REGISTRATION_PATHS) == set(LoginIdKind.__args__)
    assert RECOVERY_METHOD_PATHS["email_link"] == recovery_link.PREFIX
    assert {RECOVERY_METHOD_PATHS[m] for m in recovery_question.METHODS} == {recovery_question.PREFIX}


def test_feature_paths_name_known_features():
    assert set(FEATURE_PATHS.values()) <= set(Features.known_names())


def test_issued_id_characters_match_the_generator():
    from mypage.identity import issued

    assert set(ISSUED_ID_CHARACTERS) == set(issued.LETTERS + issued.DIGITS)


def test_a_config_built_in_code_is_checked_too():
    data = copy.deepcopy(SHIPPED["aicom"])
    data["identity"]["recovery"]["entry_path"] = "/nowhere"
    with pytest.raises(ValueError, match="entry_path: '/nowhere' is not the entry"):
        TenantConfig.model_validate(data)
