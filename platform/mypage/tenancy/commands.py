"""``mypage tenant new`` and ``mypage tenant check`` (added to the ``tenant`` group in ``cli.py``)."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from mypage.settings import Settings
from mypage.tenancy import scaffold
from mypage.tenancy.explain import Problem, Report, check_all, parse_lines


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _choices(allowed: Sequence[str], required: Sequence[str] = ()):
    """A ``value_proc`` for a comma-separated answer whose items must be among ``allowed``."""

    def parse(value: str) -> list[str]:
        items = _csv(value) or []
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise click.BadParameter(f"unknown: {', '.join(unknown)}; choose among {', '.join(allowed)}")
        missing = [item for item in required if item not in items]
        if missing:
            raise click.BadParameter(f"{', '.join(missing)} is always on; keep it in the list")
        return items

    return parse


def _template_choices(tenants_dir: Path, template: str) -> dict[str, Any]:
    """The template tenant's current choices: the defaults of the interactive questions."""
    data = scaffold.template_data(tenants_dir, template)
    identity = data.get("identity", {})
    return {
        "login_id_kind": identity.get("login_id", {}).get("kind", "chosen"),
        "factors": identity.get("factors", ["password"]),
        "recovery": identity.get("recovery", {}).get("methods", ["email_link"]),
        "features": list(data.get("features", {})),
    }


def ask(known: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The questions of ``--interactive``; what is already known (options, answer file) is the default."""
    answers = dict(known)

    def slug_ok(value: str) -> str:
        try:
            scaffold.Answers.model_validate({"slug": value, "from": "x", "name_ja": "x", "hosts": ["x"]})
        except ValidationError as exc:
            raise click.BadParameter(exc.errors()[0]["msg"].removeprefix("Value error, ")) from exc
        if (settings.tenants_dir / value).exists():
            raise click.BadParameter(f"{value!r} is taken: {settings.tenants_dir / value} exists")
        return value

    click.echo("A new tenant: answer each question (Enter keeps the value in brackets).")
    answers["slug"] = click.prompt("Slug (folder and theme name)", default=known.get("slug"), value_proc=slug_ok)
    templates = sorted(p.parent.name for p in settings.tenants_dir.glob("*/tenant.toml"))
    answers["from"] = click.prompt(
        "Copy the rules of tenant",
        default=known.get("from") or (templates[0] if templates else None),
        type=click.Choice(templates),
    )
    answers["name_ja"] = click.prompt("Operator name (Japanese)", default=known.get("name_ja"))
    answers["name_en"] = click.prompt("Operator name (English)", default=known.get("name_en") or answers["name_ja"])
    hosts = click.prompt(
        "Host names, comma-separated (<slug>.localhost is added for development)",
        default=",".join(known.get("hosts") or []) or None,
    )
    answers["hosts"] = _csv(hosts)
    for key, label in (
        ("contact_phone", "Support phone number (empty: a placeholder to fill in)"),
        ("contact_email", "Support e-mail address (empty: a placeholder)"),
        ("mail_sender", "Sender (From) address of the portal's mail (empty: a placeholder)"),
    ):
        answers[key] = click.prompt(label, default=known.get(key, ""), show_default=bool(known.get(key)))
    current = {**_template_choices(settings.tenants_dir, answers["from"]), **{k: v for k, v in known.items() if v}}
    answers["login_id_kind"] = click.prompt(
        "Login ID kind (chosen: the customer picks it; email: the e-mail address; issued: the portal makes one)",
        default=current["login_id_kind"],
        type=click.Choice(list(scaffold.LOGIN_ID_PRESETS)),
    )
    answers["factors"] = click.prompt(
        f"Login factors, comma-separated (password, and any of {', '.join(scaffold.OPTIONAL_FACTORS)})",
        default=",".join(current["factors"]),
        value_proc=_choices(("password", *scaffold.OPTIONAL_FACTORS), required=("password",)),
    )
    answers["recovery"] = click.prompt(
        f"Password recovery methods, comma-separated ({', '.join(scaffold.RECOVERY_METHODS)})",
        default=",".join(current["recovery"]),
        value_proc=_choices(scaffold.RECOVERY_METHODS),
    )
    answers["features"] = click.prompt(
        f"Features, comma-separated ({', '.join(scaffold.FEATURE_NAMES)}; '-' for none)",
        default=",".join(current["features"]) or "-",
        value_proc=lambda value: [] if value.strip() == "-" else _choices(scaffold.FEATURE_NAMES)(value),
    )
    for key in ("contact_phone", "contact_email", "mail_sender"):
        if not answers[key]:
            del answers[key]
    return answers


def _merge(base: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    merged.update({key: value for key, value in options.items() if value is not None})
    return merged


@click.command(name="new")
@click.argument("slug", required=False)
@click.option("--from", "template", help="The tenant whose rules (identity, features, menu) are copied.")
@click.option("--name-ja", help="The operator's name in Japanese.")
@click.option("--name-en", help="The operator's name in English (default: the Japanese).")
@click.option("--host", "hosts", multiple=True, help="A host name of the portal (repeatable); <slug>.localhost is added.")
@click.option("--contact-phone", help="The support desk's phone number (default: a placeholder).")
@click.option("--contact-email", help="The support desk's e-mail address (default: a placeholder).")
@click.option("--mail-sender", help="The From address of the portal's mail (default: a placeholder).")
@click.option("--id-kind", "login_id_kind", type=click.Choice(list(scaffold.LOGIN_ID_PRESETS)), help="Login ID kind.")
@click.option("--factors", help="Login factors, comma-separated: password[,email_otp,captcha,totp].")
@click.option("--recovery", help="Recovery methods, comma-separated: secret_question, email_code, email_link.")
@click.option("--features", help="Features, comma-separated (billing, contracts, …); '-' for none.")
@click.option(
    "--answers", "answers_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A TOML or JSON answer file."
)
@click.option("--interactive", is_flag=True, help="Ask the questions in the terminal.")
def new(slug: str | None, answers_file: Path | None, interactive: bool, **options: Any) -> None:
    """Write tenants/SLUG/ (a commented tenant.toml, logo, empty texts) and themes/SLUG/ from another tenant's rules."""
    settings = Settings.from_env()
    try:
        known = scaffold.read_answers(answers_file) if answers_file else {}
        features = options.pop("features")
        given = {
            "slug": slug,
            "from": options.pop("template"),
            "hosts": list(options.pop("hosts")) or None,
            "factors": _csv(options.pop("factors")),
            "recovery": _csv(options.pop("recovery")),
            "features": None if features is None else ([] if features.strip() == "-" else _csv(features)),
            **options,
        }
        known = _merge(known, given)
        if interactive:
            known = ask(known, settings)
        missing = [name for name in ("slug", "from", "name_ja", "hosts") if not known.get(name)]
        if missing:
            options_of = {"slug": "SLUG", "from": "--from", "name_ja": "--name-ja", "hosts": "--host"}
            raise scaffold.ScaffoldError(
                "missing: "
                + ", ".join(options_of[m] for m in missing)
                + " (give them as options, in --answers or with --interactive)"
            )
        answers = scaffold.parse_answers(known, str(answers_file or "options"))
        written = scaffold.write_tenant(answers, settings.tenants_dir, settings.themes_dir)
    except scaffold.ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {written.folder}/ and {written.theme}/:")
    for path in written.files:
        click.echo(f"  {path}")
    if written.placeholders:
        click.echo("placeholders to fill in (mypage tenant check reports them until then):")
        for key in written.placeholders:
            click.echo(f"  {key}")
    click.echo(f"then: mypage tenant check {answers.slug}")


@click.command(name="check")
@click.argument("slug", required=False)
def check(slug: str | None) -> None:
    """Validate every tenant folder and theme (or only SLUG): every problem with file, key, what is wrong and what would be right."""
    settings = Settings.from_env()
    reports, problems = check_all(settings.tenants_dir, settings.themes_dir, slug)
    if slug is not None and not reports:
        raise click.ClickException(f"no tenant folder {slug!r} in {settings.tenants_dir}")
    for report in reports:
        problems += report.problems + _contrast_warnings(report)
    if not any(not p.warning for p in problems) and slug is None:
        problems += _portal_problems(settings)
    errors = [p for p in problems if not p.warning]
    for report in reports:
        if report.config is not None and not report.errors:
            config = report.config
            click.echo(f"ok  {config.slug:10} {config.names.ja} ({', '.join(config.hosts)})")
    for warning in (p for p in problems if p.warning):
        click.echo(str(warning))
    if errors:
        click.echo("tenant configuration is invalid:")
        for problem in errors:
            click.echo(str(problem))
        click.echo(f"{len(errors)} problem(s) in {sum(1 for r in reports if r.errors)} tenant folder(s)")
        if any(r.config is None and r.errors for r in reports):
            click.echo("(the rules between keys, and the logo, theme and documents, are checked once each key is right)")
        sys.exit(1)


def _contrast_warnings(report: Report) -> list[Problem]:
    """Brand colours below WCAG AA contrast: a warning (the console refuses them; a file is the operator's call)."""
    from mypage.overrides.contrast import contrast_problems

    if report.config is None:
        return []
    file = report.folder / "tenant.toml"
    return [Problem(file, p.key, p.message(), warning=True) for p in contrast_problems(report.config.branding)]


def _portal_problems(settings: Settings) -> list[Problem]:
    """What start-up itself would refuse beyond the folder checks (templates, catalogs)."""
    from mypage.portal import Portal
    from mypage.tenancy.registry import TenantConfigError

    try:
        Portal(settings)
    except TenantConfigError as exc:
        return parse_lines(str(exc))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [Problem(settings.tenants_dir, "", f"start-up fails: {exc}")]
    return []
