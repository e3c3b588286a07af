"""``mypage tenant new`` and ``mypage tenant check`` (issue 12, item 1): a new tenant folder from each
shipped tenant's rules, without that operator's identity; placeholders reported until filled; the
answer file and the interactive questions write the same file; taken or invalid slugs and hosts refused."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from mypage.app import create_app
from mypage.cli import main
from mypage.portal import Portal

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ("aicom", "itscom", "nmedia")


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    tenants, themes = tmp_path / "tenants", tmp_path / "themes"
    shutil.copytree(ROOT / "tenants", tenants)
    shutil.copytree(ROOT / "themes", themes)
    return tenants, themes


def mypage(folders: tuple[Path, Path], *args: str, input: str | None = None):
    tenants, themes = folders
    env = {"MYPAGE_TENANTS_DIR": str(tenants), "MYPAGE_THEMES_DIR": str(themes)}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def new_tenant(folders, template: str, slug: str = "kamome", *extra: str):
    return mypage(
        folders,
        *("tenant", "new", slug, "--from", template, "--name-ja", "かもめケーブルテレビ", "--name-en", "Kamome Cable TV"),
        *("--host", f"mypage.{slug}-catv.jp", *extra),
    )


def fill_placeholders(folder: Path) -> None:
    """What the operator does after `tenant new`: every placeholder replaced by the real value."""
    toml = folder / "tenant.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace("TODO: ", "").replace("todo.invalid", "kamome-catv.jp").replace("T0000000000000", "T5010001000005")
    toml.write_text(text, encoding="utf-8")
    for document in (folder / "content").rglob("*.md"):
        document.write_text("# 利用規約\n\n第1条 本規約は…\n", encoding="utf-8")
    logo = folder / "static" / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', encoding="utf-8")


def operator_identity(template: str) -> set[str]:
    """What identifies the template's operator: names, slug, domains of its hosts and addresses, its texts."""
    data = tomllib.loads((ROOT / "tenants" / template / "tenant.toml").read_text(encoding="utf-8"))
    found = {template, *data["names"].values(), *data["invoicing"]["issuer_name"].values()}
    for address in [*data["hosts"], data["contact"].get("email", ""), data["mail"]["sender"]]:
        domain = address.rsplit("@", 1)[-1]
        if domain and not domain.endswith("localhost"):
            found.add(".".join(domain.split(".")[-3:]) if domain.endswith(".co.jp") else ".".join(domain.split(".")[-2:]))
    found |= {value["ja"] for value in data.get("texts", {}).values() if len(value["ja"]) >= 6}
    found.add(data["identity"]["login_id"]["label"]["ja"]) if template == "itscom" else None
    return {word.lower() for word in found}


@pytest.mark.parametrize("template", TEMPLATES)
def test_new_tenant_is_flagged_until_its_placeholders_are_filled(folders, template):
    tenants, themes = folders
    written = new_tenant(folders, template)
    assert written.exit_code == 0, written.output
    folder = tenants / "kamome"
    assert (folder / "tenant.toml").is_file() and (folder / "static" / "logo.svg").is_file()
    assert tomllib.loads((themes / "kamome" / "theme.toml").read_text(encoding="utf-8")) == {"name": "kamome", "parent": "base"}
    data = tomllib.loads((folder / "tenant.toml").read_text(encoding="utf-8"))
    assert data["texts"] == {} and data["theme"] == "kamome"
    assert data["hosts"] == ["mypage.kamome-catv.jp", "kamome.localhost"]

    before = mypage(folders, "tenant", "check")
    assert before.exit_code == 1
    for key in ("contact.name", "contact.hours", "mail.sender", "mail.signature", "invoicing.registration_number"):
        assert f"{folder / 'tenant.toml'}: key '{key}': still the placeholder" in before.output, key
    assert "right: fill in:" in before.output
    assert "ok  aicom" in before.output  # the other tenants are fine

    fill_placeholders(folder)
    after = mypage(folders, "tenant", "check", "kamome")
    assert after.exit_code == 0, after.output
    assert "ok  kamome     かもめケーブルテレビ (mypage.kamome-catv.jp, kamome.localhost)" in after.output
    assert mypage(folders, "tenant", "check").exit_code == 0


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_template_operator_s_identity_is_not_carried_over(folders, template):
    tenants, themes = folders
    assert new_tenant(folders, template).exit_code == 0
    words = operator_identity(template)
    hits = []
    for path in [*(tenants / "kamome").rglob("*"), *(themes / "kamome").rglob("*")]:
        if path.is_file():
            text = path.read_text(encoding="utf-8").lower()
            hits += [f"{path.name}: {word}" for word in words if word in text]
    assert not hits, hits
    assert not (tenants / "kamome" / "templates" / "home.html").exists()  # template overrides are the operator's


def test_every_key_is_explained_with_choices_and_defaults(folders):
    tenants, _ = folders
    assert new_tenant(folders, "nmedia").exit_code == 0
    text = (tenants / "kamome" / "tenant.toml").read_text(encoding="utf-8")
    assert "# The support desk's name, shown wherever customers are told whom to contact.\n# (required)\nname = " in text
    assert '# (choices: "chosen", "email", "issued"; required)\nkind = "issued"' in text
    assert "# (at least 1; at most 1440; default: 30)\nidle_timeout_minutes = 10" in text
    assert "# [features.mailboxes]" in text and "# domain = " in text  # a feature that is off, commented out
    assert "# secret_questions = []" in text  # a key at its default
    assert "[texts]\n" in text and '# "link.register" = { ja = "初めてログインされる方", en = "" }' in text


def test_written_tenant_serves_its_login_page(folders, db):
    tenants, themes = folders
    assert new_tenant(folders, "itscom", "kamome", "--id-kind", "chosen", "--factors", "password,captcha").exit_code == 0
    fill_placeholders(tenants / "kamome")
    settings = db.with_(tenants_dir=tenants, themes_dir=themes)
    app = create_app(settings, portal=Portal(settings))
    with TestClient(app, base_url="http://kamome.localhost") as client:
        page = client.get("/login")
        assert page.status_code == 200, page.text
        assert "かもめケーブルテレビ" in page.text and "ログインID" in page.text
        assert client.get("/static/logo.svg").status_code == 200
        assert client.get("/register", follow_redirects=False).status_code in (302, 303)


ANSWERS = {
    "slug": "kamome",
    "from": "aicom",
    "name_ja": "かもめケーブルテレビ",
    "name_en": "Kamome Cable TV",
    "hosts": ["mypage.kamome-catv.jp"],
    "contact_phone": "0120-000-000",
    "login_id_kind": "email",
    "factors": ["password", "email_otp"],
    "recovery": ["email_code", "email_link"],
    "features": ["billing", "contracts", "inquiries"],
}
TYPED = [
    "kamome",  # slug
    "aicom",  # from
    "かもめケーブルテレビ",
    "Kamome Cable TV",
    "mypage.kamome-catv.jp",
    "0120-000-000",
    "",  # contact e-mail: placeholder
    "",  # mail sender: placeholder
    "email",
    "password,sms",  # refused: asked again
    "password,email_otp",
    "email_code,email_link",
    "billing,contracts,inquiries",
]


def test_answer_files_and_the_interactive_questions_write_the_same_file(tmp_path):
    written = []
    for way in ("toml", "json", "interactive"):
        run = tmp_path / way
        shutil.copytree(ROOT / "tenants", run / "tenants")
        shutil.copytree(ROOT / "themes", run / "themes")
        folders = (run / "tenants", run / "themes")
        if way == "interactive":
            result = mypage(folders, "tenant", "new", "--interactive", input="\n".join(TYPED) + "\n")
            assert "unknown: sms" in result.output
        else:
            answers = run / f"answers.{way}"
            if way == "json":
                answers.write_text(json.dumps(ANSWERS, ensure_ascii=False), encoding="utf-8")
            else:
                answers.write_text(
                    "\n".join(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in ANSWERS.items()),
                    encoding="utf-8",
                )
            result = mypage(folders, "tenant", "new", "--answers", str(answers))
        assert result.exit_code == 0, result.output
        written.append((run / "tenants" / "kamome" / "tenant.toml").read_text(encoding="utf-8"))
    assert written[0] == written[1] == written[2]
    data = tomllib.loads(written[0])
    assert data["identity"]["login_id"]["kind"] == "email" and "flow" not in data["identity"]["registration"]
    assert data["identity"]["factors"] == ["password", "email_otp"]
    assert data["identity"]["recovery"]["entry_path"] == "/forgot"
    assert set(data["features"]) == {"billing", "contracts", "inquiries"}
    assert data["contact"]["phone"] == "0120-000-000"
    hrefs = [item["href"] for group in data["menu"] for item in group["items"]]
    assert "/inquiries" in hrefs


def test_options_override_the_answer_file(folders, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS, ensure_ascii=False), encoding="utf-8")
    result = mypage(folders, "tenant", "new", "--answers", str(answers), "--features", "-", "--id-kind", "issued")
    assert result.exit_code == 0, result.output
    data = tomllib.loads((folders[0] / "kamome" / "tenant.toml").read_text(encoding="utf-8"))
    assert data.get("features", {}) == {} and data["identity"]["login_id"]["kind"] == "issued"
    items = [item for group in data.get("menu", []) for item in group["items"]]
    assert [item["href"] for item in items] == ["/account/profile"]  # the items of features that are off are gone


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("aicom", "--host", "new.example.jp"), "already exists"),
        (("kamome", "--host", "aicom.localhost"), "'aicom.localhost' already serves tenant 'aicom'"),
        (("kamome", "--host", "mypage.itscom.jp"), "already serves tenant 'itscom'"),
        (("Kamome", "--host", "new.example.jp"), "not a valid slug"),
        (("1kamome", "--host", "new.example.jp"), "not a valid slug"),
        (("kamome", "--host", "bad host!"), "is not a host name"),
    ],
)
def test_taken_or_invalid_slugs_and_hosts_are_refused(folders, args, message):
    tenants, themes = folders
    before = sorted(p.name for p in tenants.iterdir()), sorted(p.name for p in themes.iterdir())
    slug, *rest = args
    result = mypage(folders, "tenant", "new", slug, "--from", "nmedia", "--name-ja", "かもめ", *rest)
    assert result.exit_code != 0
    assert message in result.output
    assert (sorted(p.name for p in tenants.iterdir()), sorted(p.name for p in themes.iterdir())) == before


def test_a_taken_theme_name_and_an_unknown_template_are_refused(folders):
    tenants, themes = folders
    shutil.copytree(themes / "aicom", themes / "kamome")
    assert "theme folder" in new_tenant(folders, "aicom").output
    shutil.rmtree(themes / "kamome")
    result = new_tenant(folders, "nosuch")
    assert result.exit_code != 0 and "known tenants: aicom, itscom, nmedia" in result.output
    assert not (tenants / "kamome").exists()


def test_check_says_what_would_be_right(folders):
    tenants, _ = folders
    toml = tenants / "aicom" / "tenant.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace("[branding]\n", "[branding]\ncolour = 1\n").replace('layout = "month_list"', 'layout = "months"')
    toml.write_text(text, encoding="utf-8")
    result = mypage(folders, "tenant", "check", "aicom")
    assert result.exit_code == 1
    assert f"{toml}: key 'branding.colour': is not a key of this table\n    right: did you mean" in result.output
    assert (
        "key 'features.billing.layout': 'months' is not one of the choices\n    right: use one of 'month_list' or 'fiscal_year'"
        in (result.output)
    )
    # a cross-field rule, once the fields are right
    toml.write_text(
        re.sub(r"\[identity\.recovery\]\nmethods = \[\"email_link\"\]", '[identity.recovery]\nmethods = ["email_code"]', text)
        .replace("colour = 1\n", "")
        .replace('layout = "months"', 'layout = "month_list"'),
        encoding="utf-8",
    )
    result = mypage(folders, "tenant", "check", "aicom")
    assert result.exit_code == 1
    assert "key 'identity.recovery.entry_path'" in result.output and "right: use '/forgot'" in result.output


def test_check_of_an_unknown_slug(folders):
    result = mypage(folders, "tenant", "check", "nosuch")
    assert result.exit_code != 0 and "no tenant folder 'nosuch'" in result.output


def test_the_onboarding_guide_s_answer_file_and_command_write_the_same_tenant(tmp_path):
    """docs/onboarding.md: the worked example's answer file and its one-line command agree."""
    written = []
    for way in ("answers", "options"):
        folders = (tmp_path / way / "tenants", tmp_path / way / "themes")
        shutil.copytree(ROOT / "tenants", folders[0])
        shutil.copytree(ROOT / "themes", folders[1])
        if way == "answers":
            result = mypage(folders, "tenant", "new", "--answers", str(ROOT / "tests/fixtures/onboarding/shiokaze.answers.toml"))
        else:
            result = mypage(
                folders,
                *("tenant", "new", "shiokaze", "--from", "aicom", "--name-ja", "しおかぜケーブルテレビ"),
                *("--name-en", "Shiokaze Cable TV", "--host", "mypage.shiokaze-catv.jp", "--contact-phone", "0120-345-678"),
                *(
                    "--contact-email",
                    "support@shiokaze-catv.jp",
                    "--mail-sender",
                    "mypage@shiokaze-catv.jp",
                    "--id-kind",
                    "chosen",
                ),
                *("--factors", "password,email_otp", "--recovery", "email_link", "--features", "billing,contracts,inquiries"),
            )
        assert result.exit_code == 0, result.output
        written.append((folders[0] / "shiokaze" / "tenant.toml").read_text(encoding="utf-8"))
        check = mypage(folders, "tenant", "check", "shiokaze")
        assert check.exit_code == 1 and "7 problem(s) in 1 tenant folder(s)" in check.output
    assert written[0] == written[1]


def test_a_changed_id_kind_drops_what_only_the_old_kind_used(folders):
    tenants, _ = folders
    result = new_tenant(
        folders, "nmedia", "kamome", "--id-kind", "chosen", "--factors", "password", "--recovery", "secret_question"
    )
    assert result.exit_code == 0, result.output
    data = tomllib.loads((tenants / "kamome" / "tenant.toml").read_text(encoding="utf-8"))
    registration = data["identity"]["registration"]
    assert data["identity"]["login_id"]["kind"] == "chosen" and "collect_email" not in registration
    assert registration["require_terms"] and registration["terms_url"] == "/terms"  # every kind shows the terms
    assert "captcha" not in data["identity"] and "login_otp_minutes" not in data["identity"]["tokens"]
    assert data["identity"]["recovery"]["secret_questions"] and data["identity"]["recovery"]["entry_path"] == "/forgot"
    assert (tenants / "kamome" / "content" / "terms.md").exists()
