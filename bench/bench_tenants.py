"""Benchmark: the portal with 1,000 tenant folders (issue 12): start-up time and memory, reload time, and
what serving the tenants' pages adds.

    .venv/bin/python bench/bench_tenants.py [--tenants 1000] [--touch 100] [--repeat 2]

``MYPAGE_BENCH_PLATFORM=/other/checkout/platform`` measures another checkout's code (the "before" figures).

Generates ``--tenants`` tenant folders with their child themes in a temporary folder: three with
``mypage tenant new`` (one from each shipped tenant, placeholders filled in as an operator would), then
copies of those three under new slugs and hosts, round robin. Every measurement runs in a fresh
interpreter (so one's caches and memory do not help or burden another) and reports wall time and the
process's resident memory (RSS, ``/proc/self/status``):

1. **start-up**: ``create_app`` with the shipped 3 tenants, then with all of them; split into the tenant
   registry (read and validate every ``tenant.toml``), the themes and the ``Portal`` (one Jinja
   environment per tenant, catalogs); memory per tenant is the difference divided by the extra tenants;
2. **reload**: in the same process, as every worker does it after ``mypage tenant reload`` (or SIGHUP): the
   change announced (``tenancy.reload.announce``) and ``Portal.refresh()`` (the function the watcher calls)
   timed, three times: nothing changed, one tenant's ``tenant.toml`` changed, every ``tenant.toml`` touched
   (a full reload); and the RSS after them;
3. **serving**: ``GET /login`` on ``--touch`` different tenants through the test client (each tenant's
   Jinja environment compiles its templates on first use): the first request's time, the median of the
   others, and RSS growth per tenant served;
4. **platform console**: a platform staff member logs in (password and authenticator code) on the platform
   host, then the tenant list ``/platform`` with every tenant: the median time of 20 pages (50 tenants
   each, their health figures read with one grouped query per figure) and of 10 searches.

Prints the figures and a ``RESULT key=value …`` line for ``run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM = Path(os.environ.get("MYPAGE_BENCH_PLATFORM") or ROOT / "platform")
sys.path.insert(0, str(PLATFORM))

TEMPLATES = ("aicom", "itscom", "nmedia")


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak, in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


# -- generating the folders ------------------------------------------------------------------------


def fill(folder: Path, slug: str) -> None:
    toml = folder / "tenant.toml"
    text = toml.read_text(encoding="utf-8").replace("TODO: ", "")
    toml.write_text(text.replace("todo.invalid", f"{slug}.example.jp").replace("T0000000000000", "T5010001000005"), "utf-8")
    for document in (folder / "content").rglob("*.md"):
        document.write_text("# 利用規約\n\n第1条 …\n", encoding="utf-8")


def generate(count: int, base: Path) -> tuple[Path, Path]:
    """``count`` tenant folders and their themes under ``base``; returns (tenants_dir, themes_dir)."""
    from mypage.tenancy import scaffold

    tenants, themes = base / "tenants", base / "themes"
    tenants.mkdir(parents=True)
    shutil.copytree(ROOT / "themes" / "base", themes / "base")
    source = base / "source"
    shutil.copytree(ROOT / "tenants", source)
    for index, template in enumerate(TEMPLATES):
        slug = f"model{index}"
        answers = scaffold.Answers.model_validate(
            {
                "slug": slug,
                "from": template,
                "name_ja": f"見本ケーブル{index}",
                "name_en": f"Model Cable {index}",
                "hosts": [f"{slug}.example.jp"],
            }
        )
        scaffold.write_tenant(answers, source, themes)
        fill(source / slug, slug)
    models = [(source / f"model{i}", (source / f"model{i}" / "tenant.toml").read_text(encoding="utf-8")) for i in range(3)]
    for number in range(count):
        slug = f"t{number:05d}"
        folder, text = models[number % 3]
        model = folder.name
        shutil.copytree(folder, tenants / slug)
        text = text.replace(f'"{model}', f'"{slug}').replace(f"{model}.", f"{slug}.")
        (tenants / slug / "tenant.toml").write_text(text, encoding="utf-8")
        shutil.copytree(themes / model, themes / slug)
        (themes / slug / "theme.toml").write_text(f'name = "{slug}"\nparent = "base"\n', encoding="utf-8")
    for index in range(3):
        shutil.rmtree(themes / f"model{index}")
    return tenants, themes


# -- measurements in a fresh interpreter ---------------------------------------------------------------


def child(mode: str, tenants: Path, themes: Path, touch: int, sqlite: Path) -> dict:
    started = time.perf_counter()
    from mypage.app import create_app
    from mypage.portal import Portal
    from mypage.settings import Settings
    from mypage.tenancy.registry import TenantRegistry
    from mypage.web.templating import ThemeRegistry

    imported = time.perf_counter()
    rss_imports, _ = rss_mb()
    settings = Settings(tenants_dir=tenants, themes_dir=themes, sqlite_path=sqlite, secret_key="bench-" + "x" * 40)
    out: dict = {"import_s": imported - started, "rss_imports_mb": rss_imports}
    t0, c0 = time.perf_counter(), time.process_time()
    registry = TenantRegistry.load(tenants, themes)
    out["registry_s"], out["registry_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    c0 = time.process_time()
    for folder in sorted(tenants.iterdir())[:100]:  # the part of it that is TOML parsing (a sample of 100)
        tomllib.loads((folder / "tenant.toml").read_text(encoding="utf-8"))
    out["toml_cpu_share"] = (time.process_time() - c0) * len(registry) / min(100, len(registry)) / out["registry_cpu_s"]
    t0 = time.perf_counter()
    ThemeRegistry(themes)
    out["themes_s"] = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    portal = Portal(settings, tenants=registry)
    out["portal_s"], out["portal_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    app = create_app(settings, portal=portal)
    out["create_app_s"] = time.perf_counter() - t0
    out["startup_s"] = out["registry_s"] + out["themes_s"] + out["portal_s"] + out["create_app_s"]
    out["tenants"] = len(registry)
    out["rss_loaded_mb"], out["hwm_loaded_mb"] = rss_mb()
    if mode == "reload":
        import asyncio

        out.update(asyncio.run(reload_times(portal, settings)))
        out["rss_reloaded_mb"], out["hwm_reloaded_mb"] = rss_mb()
    if mode == "touch":
        import asyncio

        from litestar.testing import TestClient

        from mypage.db.engine import bind_tables, make_engine
        from mypage.db.migrate import migrate

        engine = make_engine(settings)
        bind_tables(engine)
        asyncio.run(migrate(engine))
        console_secret = asyncio.run(platform_member())
        slugs = registry.slugs
        step = max(1, len(slugs) // touch)
        chosen = slugs[::step][:touch]
        times = []
        before, _ = rss_mb()
        with TestClient(app) as client:
            for slug in chosen:
                t0 = time.perf_counter()
                page = client.get("/login", headers={"host": f"{slug}.localhost"})
                times.append(time.perf_counter() - t0)
                assert page.status_code == 200, (slug, page.status_code)
            again = []
            for slug in chosen[:20]:
                t0 = time.perf_counter()
                client.get("/login", headers={"host": f"{slug}.localhost"})
                again.append(time.perf_counter() - t0)
            out.update(console_latency(client, console_secret, len(slugs)))
        after, _ = rss_mb()
        out["touched"] = len(chosen)
        out["first_login_ms"] = times[0] * 1000
        out["first_login_other_median_ms"] = statistics.median(times[1:]) * 1000 if len(times) > 1 else 0.0
        out["warm_login_median_ms"] = statistics.median(again) * 1000
        out["rss_per_served_tenant_kb"] = (after - before) * 1024 / max(1, len(chosen))
        out["rss_served_mb"] = after
    return out


async def reload_times(portal, settings) -> dict:
    """``Portal.refresh()`` after an announced folder change: nothing changed, one tenant changed, all touched."""
    import re

    from mypage.db.engine import bind_tables, make_engine
    from mypage.db.migrate import migrate
    from mypage.tenancy.reload import FOLDERS, announce

    engine = make_engine(settings)
    bind_tables(engine)
    await migrate(engine)
    await portal.refresh()  # the first refresh of a worker: overrides and suspensions, folders as loaded
    out: dict = {}

    async def timed(name: str) -> None:
        await announce(FOLDERS)
        t0, c0 = time.perf_counter(), time.process_time()
        await portal.refresh()
        out[f"{name}_s"], out[f"{name}_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0

    await timed("reload_same")
    slug = portal.base.slugs[len(portal.base) // 2]
    toml = settings.tenants_dir / slug / "tenant.toml"
    toml.write_text(re.sub(r'primary_colour = "#[0-9a-fA-F]{6}"', 'primary_colour = "#123456"', toml.read_text("utf-8")), "utf-8")
    await timed("reload_one")
    assert portal.tenants.get(slug).config.branding.primary_colour == "#123456", "the changed tenant was not reloaded"
    now = time.time_ns()
    for folder in settings.tenants_dir.iterdir():
        os.utime(folder / "tenant.toml", ns=(now, now))
    await timed("reload_all")
    return out


BENCH_PASSWORD = "bench-password-0123"


async def platform_member() -> str:
    import pyotp

    from mypage.identity.passwords import hash_password_async
    from mypage.platformconsole.repository import PlatformStaffRepository

    secret = pyotp.random_base32()
    await PlatformStaffRepository().create(
        email="bench@platform.example",
        name="bench",
        status="active",
        password_hash=await hash_password_async(BENCH_PASSWORD),
        totp_secret=secret,
    )
    return secret


def console_latency(client, secret: str, tenants: int) -> dict:
    """The platform console's tenant list with every tenant: pages and searches (median ms)."""
    import pyotp

    host = {"host": "platform.localhost"}
    client.get("/platform/login", headers=host)
    token = client.cookies.get("mypage_csrf")
    login = {"email": "bench@platform.example", "password": BENCH_PASSWORD, "_csrf_token": token}
    assert client.post("/platform/login", data=login, headers=host, follow_redirects=False).status_code == 303
    code = {"code": pyotp.TOTP(secret).now(), "_csrf_token": token}
    assert client.post("/platform/login/totp", data=code, headers=host, follow_redirects=False).status_code == 303
    pages, searches = [], []
    last = max(1, -(-tenants // 50))
    for number in range(20):
        t0 = time.perf_counter()
        page = client.get("/platform", params={"page": 1 + number * last // 20}, headers=host)
        pages.append(time.perf_counter() - t0)
        assert page.status_code == 200 and page.text.count("data-tenant=") > 0
    for number in range(10):
        t0 = time.perf_counter()
        client.get("/platform", params={"q": f"t{number * 7:05d}"}, headers=host)
        searches.append(time.perf_counter() - t0)
    return {"console_page_ms": statistics.median(pages) * 1000, "console_search_ms": statistics.median(searches) * 1000}


def measure(mode: str, tenants: Path, themes: Path, touch: int, sqlite: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(PLATFORM)}
    args = [sys.executable, __file__, "--child", mode, "--tenants-dir", str(tenants), "--themes-dir", str(themes)]
    args += ["--touch", str(touch), "--sqlite", str(sqlite)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--touch", type=int, default=100, help="tenants whose login page is served once")
    parser.add_argument("--repeat", type=int, default=2, help="start-up and reload measurements (median)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tenants-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--themes-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sqlite", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.tenants_dir, args.themes_dir, args.touch, args.sqlite)))
        return

    with tempfile.TemporaryDirectory(prefix="mypage-bench-tenants-") as temp:
        base = Path(temp)
        t0 = time.perf_counter()
        tenants, themes = generate(args.tenants, base)
        generated = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in tenants.rglob("*") if p.is_file()) / 1e6
        print(f"generated {args.tenants} tenant folders and themes in {generated:.1f} s ({size:.1f} MB on disk)")
        shipped = [measure("start", ROOT / "tenants", ROOT / "themes", 0, base / "a.sqlite3") for _ in range(args.repeat)]
        many = [measure("reload", tenants, themes, 0, base / "b.sqlite3") for _ in range(args.repeat)]
        served = measure("touch", tenants, themes, args.touch, base / "c.sqlite3")

    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    extra = many[0]["tenants"] - shipped[0]["tenants"]
    per_tenant_kb = (med(many, "rss_loaded_mb") - med(shipped, "rss_loaded_mb")) * 1024 / extra
    print(f"\nstart-up (median of {args.repeat}, fresh interpreter each; imports excluded: {med(many, 'import_s'):.2f} s)")
    print(f"{'':24}{'tenants':>8}{'registry':>10}{'themes':>8}{'Portal':>8}{'create_app':>11}{'total':>8}{'RSS':>9}")
    for name, runs in (("shipped tenants", shipped), (f"{args.tenants} generated", many)):
        print(
            f"{name:24}{runs[0]['tenants']:>8}{med(runs, 'registry_s'):>9.2f}s{med(runs, 'themes_s'):>7.2f}s"
            f"{med(runs, 'portal_s'):>7.2f}s{med(runs, 'create_app_s'):>10.2f}s{med(runs, 'startup_s'):>7.2f}s"
            f"{med(runs, 'rss_loaded_mb'):>7.0f}MB"
        )
    print(
        f"CPU time with {args.tenants}: registry {med(many, 'registry_cpu_s'):.2f} s "
        f"({med(many, 'toml_cpu_share') * 100:.0f}% of it parsing TOML), Portal {med(many, 'portal_cpu_s'):.2f} s"
    )
    print(f"memory per loaded tenant: {per_tenant_kb:.0f} KB (RSS difference / {extra} tenants)")
    print(
        f"\nreload of {args.tenants} tenants (announce + Portal.refresh(), median of {args.repeat}): "
        f"nothing changed {med(many, 'reload_same_s'):.2f} s ({med(many, 'reload_same_cpu_s'):.2f} s CPU), "
        f"one tenant changed {med(many, 'reload_one_s'):.2f} s ({med(many, 'reload_one_cpu_s'):.2f} s CPU), "
        f"every tenant.toml touched {med(many, 'reload_all_s'):.2f} s ({med(many, 'reload_all_cpu_s'):.2f} s CPU); "
        f"RSS {med(many, 'rss_loaded_mb'):.0f} MB before, {med(many, 'rss_reloaded_mb'):.0f} MB after, "
        f"peak {med(many, 'hwm_reloaded_mb'):.0f} MB"
    )
    print(
        f"\nserving: GET /login on {served['touched']} different tenants: first {served['first_login_ms']:.0f} ms, "
        f"each next new tenant median {served['first_login_other_median_ms']:.1f} ms, again (warm) median "
        f"{served['warm_login_median_ms']:.1f} ms; RSS +{served['rss_per_served_tenant_kb']:.0f} KB per tenant served "
        f"({served['rss_served_mb']:.0f} MB after); all {args.tenants} served: about "
        f"{served['rss_loaded_mb'] + served['rss_per_served_tenant_kb'] * args.tenants / 1024:.0f} MB"
    )
    print(
        f"\nplatform console with {args.tenants} tenants: list page (50 tenants with health) median "
        f"{served['console_page_ms']:.1f} ms, search median {served['console_search_ms']:.1f} ms"
    )
    result = {
        "tenants": many[0]["tenants"],
        "startup_s": f"{med(many, 'startup_s'):.3f}",
        "startup_shipped_s": f"{med(shipped, 'startup_s'):.3f}",
        "registry_s": f"{med(many, 'registry_s'):.3f}",
        "registry_cpu_s": f"{med(many, 'registry_cpu_s'):.3f}",
        "toml_share": f"{med(many, 'toml_cpu_share'):.2f}",
        "portal_cpu_s": f"{med(many, 'portal_cpu_s'):.3f}",
        "portal_s": f"{med(many, 'portal_s'):.3f}",
        "rss_mb": f"{med(many, 'rss_loaded_mb'):.0f}",
        "rss_shipped_mb": f"{med(shipped, 'rss_loaded_mb'):.0f}",
        "kb_per_tenant": f"{per_tenant_kb:.0f}",
        "reload_s": f"{med(many, 'reload_all_s'):.3f}",
        "reload_cpu_s": f"{med(many, 'reload_all_cpu_s'):.3f}",
        "reload_one_s": f"{med(many, 'reload_one_s'):.3f}",
        "reload_one_cpu_s": f"{med(many, 'reload_one_cpu_s'):.3f}",
        "reload_same_cpu_s": f"{med(many, 'reload_same_cpu_s'):.3f}",
        "rss_reloaded_mb": f"{med(many, 'rss_reloaded_mb'):.0f}",
        "first_page_new_tenant_ms": f"{served['first_login_other_median_ms']:.1f}",
        "warm_page_ms": f"{served['warm_login_median_ms']:.1f}",
        "kb_per_served_tenant": f"{served['rss_per_served_tenant_kb']:.0f}",
        "console_page_ms": f"{served['console_page_ms']:.1f}",
        "console_search_ms": f"{served['console_search_ms']:.1f}",
    }
    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
