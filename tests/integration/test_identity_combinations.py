"""Every combination of the registration settings, generated: login-ID kind × confirmation × verification
shape × terms × nickname × 確認 page × password asked again at confirmation (480 combinations).

The schema accepts exactly the ones that can work and refuses the others with the key and the problem; a
set of contradictions is refused for every valid combination too. A sample of valid combinations, spread
over every kind, confirmation and shape, is registered end to end through the HTTP client (mail from the
real SMTP server), then logged in with the new credentials.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pytest

from composed_tenants import ComposedApps, register, tenants_folder
from conftest import run
from mypage.identity.tables import Account
from mypage.records.tables import Contract, Customer, Device
from mypage.tenancy.config import REGISTRATION_PATHS
from mypage.tenancy.registry import TenantConfigError, validate_config

KINDS = ("chosen", "email", "issued")
CONFIRMS = ("link", "code")
SHAPES = {
    "number_phone": {"verify_fields": ["customer_number", "phone"]},
    "contract_postal": {"verify_fields": ["contract_number", "postal_code"]},
    "kana_phone_one_of": {"verify_fields": ["name_kana", "phone"], "verify_one_of": ["bank_last4", "card_last4"]},
    "kana_phone_extra": {"verify_fields": ["name_kana", "phone"], "disambiguate_with": ["customer_number"]},
    "kana_phone_one_of_extra": {
        "verify_fields": ["name_kana", "phone"],
        "verify_one_of": ["bank_last4", "card_last4"],
        "disambiguate_with": ["customer_number", "device_id"],
    },
}
FLAGS = ("terms", "nickname", "review", "confirm_password")
COMBINATIONS = [
    (kind, confirm, shape, *flags)
    for kind, confirm, shape in itertools.product(KINDS, CONFIRMS, SHAPES)
    for flags in itertools.product((False, True), repeat=len(FLAGS))
]
LOGIN_IDS = {
    "chosen": {"min_length": 4, "max_length": 30, "allowed": "A-Za-z0-9_.\\-"},
    "email": {"min_length": 6, "max_length": 120, "allowed": "A-Za-z0-9@._+\\-"},
    "issued": {"min_length": 6, "max_length": 6, "allowed": "a-z0-9", "issued_length": 6},
}
PASSWORD = "combo2026pass"


def name(combo) -> str:
    kind, confirm, shape, *flags = combo
    return "-".join([kind, confirm, shape, *(f for f, on in zip(FLAGS, flags, strict=True) if on)])


def refusals(combo) -> set[str]:
    """The keys the schema must refuse, by the rules as the docs state them (empty: valid)."""
    kind, confirm, _shape, _terms, _nickname, review, confirm_password = combo
    if kind != "issued":
        return set()
    return {key for key, on in (("confirm", confirm == "code"), ("review", review), ("confirm_password", confirm_password)) if on}


def config(combo, slug: str = "combo") -> dict:
    kind, confirm, shape, terms, nickname, review, confirm_password = combo
    registration: dict = {**copy.deepcopy(SHAPES[shape]), "collect_nickname": nickname}
    if confirm != "link":
        registration["confirm"] = confirm
    if review:
        registration["review"] = True
    if confirm_password:
        registration["confirm_password"] = True
    if terms:
        registration |= {"require_terms": True, "terms_url": "/terms"}
    text = {"ja": "テスト", "en": "Test"}
    return {
        "slug": slug,
        "names": {"ja": f"テスト {slug}", "en": f"Test {slug}"},
        "portal_title": {"ja": f"{slug} マイページ", "en": f"{slug} My Page"},
        "hosts": [f"{slug}.localhost"],
        "contact": {"name": text, "hours": text},
        "mail": {"sender": f"mypage@{slug}.example", "sender_name": text, "signature": text},
        "identity": {
            "login_id": {"kind": kind, "label": {"ja": "ログインID", "en": "Login ID"}, "rule_text": text, **LOGIN_IDS[kind]},
            "password": {"min_length": 8, "max_length": 32, "allowed": "A-Za-z0-9", "rule_text": text},
            "registration": registration,
        },
        "invoicing": {"registration_number": "T9000000000009", "issuer_name": text},
    }


def toml(data: dict) -> str:
    """A tenant.toml of ``data`` (tables of scalars, lists and inline ``{ja, en}`` tables)."""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else str(v)

    def table(prefix: str, d: dict) -> list[str]:
        simple = {k: v for k, v in d.items() if not (isinstance(v, dict) and "ja" not in v)}
        lines = ([f"[{prefix}]"] if prefix else []) + [f"{k} = {value(v)}" for k, v in simple.items()]
        for k, v in d.items():
            if k not in simple:
                lines += ["", *table(f"{prefix}.{k}" if prefix else k, v)]
        return lines

    return "\n".join(table("", data)) + "\n"


@pytest.mark.parametrize("combo", COMBINATIONS, ids=name)
def test_the_schema_accepts_exactly_the_combinations_that_work(combo):
    path = Path("tenants/combo/tenant.toml")
    wanted = refusals(combo)
    if not wanted:
        validated = validate_config(config(combo), path)
        assert validated.identity.registration.steps_for(combo[0])[0] == "verify"
        return
    with pytest.raises(TenantConfigError) as info:
        validate_config(config(combo), path)
    message = str(info.value)
    for key in wanted:
        assert f"{path}: key 'identity.registration.{key}': " in message, message


CONTRADICTIONS = [
    # (change of the registration table, the key refused, part of the problem)
    (lambda r, kind: r.update(terms_url="/terms", require_terms=False), "terms_url", "require_terms is false"),
    (lambda r, kind: r.update(require_terms=True, terms_url=""), "terms_url", "require_terms is true"),
    (lambda r, kind: r.update(steps=["verify", "complete"]), "steps", "is not what these settings run"),
    (lambda r, kind: r.update(verify_one_of=["card_last4"]), "verify_one_of", "a choice of one"),
    (lambda r, kind: r.update(verify_fields=["name_kana"]), "verify_fields", "needs at least one of"),
    (lambda r, kind: r.update(disambiguate_with=[r["verify_fields"][0]]), "disambiguate_with", "already in verify_fields"),
    (
        lambda r, kind: r.update(entry_path=REGISTRATION_PATHS["email" if kind != "email" else "chosen"]),
        "entry_path",
        "is not served",
    ),
]


def test_every_valid_combination_refuses_each_contradiction():
    path = Path("tenants/combo/tenant.toml")
    checked = 0
    for combo in (c for c in COMBINATIONS if not refusals(c)):
        for change, key, problem in CONTRADICTIONS:
            data = config(combo)
            change(data["identity"]["registration"], combo[0])
            with pytest.raises(TenantConfigError) as info:
                validate_config(data, path)
            assert f"key 'identity.registration.{key}': " in str(info.value) and problem in str(info.value), (name(combo), key)
            checked += 1
        # the steps written out are accepted when they are the derived ones
        data = config(combo)
        data["identity"]["registration"]["steps"] = validate_config(config(combo), path).identity.registration.steps_for(combo[0])
        validate_config(data, path)
    assert checked == len(CONTRADICTIONS) * sum(1 for c in COMBINATIONS if not refusals(c))


def _sample() -> list[tuple]:
    """Valid combinations covering every kind × confirmation and every shape, and each flag on and off."""
    valid = [c for c in COMBINATIONS if not refusals(c)]
    picked: list[tuple] = []
    for i, (kind, confirm) in enumerate(itertools.product(KINDS, CONFIRMS)):
        candidates = [c for c in valid if c[:2] == (kind, confirm)]
        if candidates:
            picked += [candidates[(i * 7) % len(candidates)], candidates[(i * 11 + 5) % len(candidates)]]
    shapes = {c[2] for c in picked}
    picked += [next(c for c in valid if c[2] == s) for s in SHAPES if s not in shapes]
    return picked


SAMPLE = _sample()


def test_the_sample_covers_the_dimensions():
    assert {c[0] for c in SAMPLE} == set(KINDS) and {c[1] for c in SAMPLE} == set(CONFIRMS)
    assert {c[2] for c in SAMPLE} == set(SHAPES)
    for index in range(3, 7):
        assert {c[index] for c in SAMPLE} == {False, True}
    assert len(COMBINATIONS) == 480 and sum(1 for c in COMBINATIONS if not refusals(c)) == 340


@pytest.fixture(scope="module")
def sampled(base_settings, tmp_path_factory):
    extra = {f"combo{i:02d}": toml(config(combo, f"combo{i:02d}")) for i, combo in enumerate(SAMPLE)}
    return ComposedApps(tenants_folder(tmp_path_factory.mktemp("combos") / "tenants", extra), base_settings)


def _customers(slug: str, twin: bool) -> str:
    """The contract holder (and, for the 追加認証 shapes, a second customer the first answers also match)."""

    async def go():
        numbers = ["5000001", "5000002"] if twin else ["5000001"]
        for number in numbers:
            customer = Customer(
                tenant=slug,
                number=number,
                name="試験 太郎",
                name_kana="シケン　タロウ",
                phone="0312340000",
                postal_code="1000001",
                bank_last4="1111",
                card_last4="2222",
                email="onfile@example.jp",
            )
            await customer.save()
            await Contract(tenant=slug, customer=customer.id, number=f"CN{number}", postal_code="1000001").save()
            await Device(tenant=slug, customer=customer.id, kind="stb", device_id=f"STB{number}").save()
        return numbers[-1]

    return run(go())


@pytest.mark.parametrize("index", range(len(SAMPLE)), ids=[name(c) for c in SAMPLE])
def test_a_sampled_combination_registers_and_logs_in(index, sampled, db, deliver):
    combo = SAMPLE[index]
    kind, _confirm, shape, *_flags = combo
    slug = f"combo{index:02d}"
    tenant = sampled.portal.tenants.get(slug)
    twin = "disambiguate_with" in SHAPES[shape]
    number = _customers(slug, twin)
    answers = {
        "customer_number": number,
        "phone": "03-1234-0000",
        "contract_number": f"CN{number}",
        "postal_code": "100-0001",
        "name_kana": "シケン タロウ",
    }
    fields = SHAPES[shape]["verify_fields"]
    client_for = sampled.client_for(db)
    login_id = register(
        client_for(slug),
        tenant,
        deliver,
        answers={f: answers[f] for f in fields},
        pay=("card_last4", "2222") if "verify_one_of" in SHAPES[shape] else None,
        extra={"customer_number": number} if twin else None,
        login_id={"chosen": "combo.user", "email": "combo@example.jp", "issued": ""}[kind],
        email="combo@example.jp",
        password=PASSWORD,
    )

    async def account():
        return await Account.select().where(Account.tenant == slug).first()

    row = run(account())
    assert row["status"] == "active" and row["login_id"] == login_id.lower()
    assert row["nickname"] == ("ニック" if combo[4] else "")
    home = client_for(slug).submit("/login", {"login_id": login_id, "password": PASSWORD}, follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/", home.text[-1500:]
