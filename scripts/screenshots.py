"""Screenshots of every screen of the operators' guides at 1280×900 and 390×844, in Chromium.

    /work/main/.venv/bin/python scripts/screenshots.py [--out FOLDER] [--tenant aicom ...]

Starts the portal on a fresh SQLite database with the demo data (as ``tests/browser/conftest.py`` does),
walks the screens of ``tests/browser/guide_screens.py`` (one browser context per tenant, one login) and
writes ``<out>/<tenant>/<nn>-<screen>-<desktop|phone>.png`` (full page) and ``<out>/index.md`` (screen,
guide step, file). The folder is not part of the repository (default: ``screenshots/``, ignored by git).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from tests.browser.guide_screens import LOGIN_WALKS, LOGINS, PHONE, SCREENS, SIZES, Outbox  # noqa: E402

CHROMIUM = os.environ.get("MYPAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]


class Live:
    def __init__(self, port: int, sqlite_path: Path):
        self.port = port
        self.sqlite_path = sqlite_path

    def url(self, tenant: str, path: str = "/") -> str:
        return f"http://{tenant}.localhost:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_portal(folder: Path) -> tuple[Live, subprocess.Popen]:
    sqlite_path = folder / "screens.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "MYPAGE_SQLITE_PATH": str(sqlite_path),
        "MYPAGE_SECRET_KEY": "screenshots-secret-0123456789abcdef0123",
        "PORT": str(port),
        "MYPAGE_SMTP_URL": "",
        "MYPAGE_DATABASE_URL": "",
        "MYPAGE_REDIS_URL": "",
        "PYTHONPATH": str(ROOT / "platform"),
    }
    subprocess.run([sys.executable, "-m", "mypage.cli", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(folder / "server.log", "w")  # noqa: SIM115 - the server writes to it until the end
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mypage.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return Live(port, sqlite_path), server
        except Exception:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                raise SystemExit(f"the portal did not start:\n{(folder / 'server.log').read_text()}") from None
            time.sleep(0.2)


def shoot(live: Live, out: Path, tenants: list[str]) -> list[str]:
    from playwright.sync_api import sync_playwright

    rows = ["| tenant | screen | guide | step | desktop | phone |", "| --- | --- | --- | --- | --- | --- |"]
    mail = Outbox(live.sqlite_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for tenant in tenants:
            (out / tenant).mkdir(parents=True, exist_ok=True)
            context = browser.new_context(locale="ja-JP", viewport=PHONE)
            page = context.new_page()
            page.set_default_timeout(15000)
            logged_in = False
            screens = [s for s in SCREENS if s.tenant == tenant]
            for number, screen in enumerate(screens, 1):
                if screen.login and not logged_in and screen.walk not in LOGIN_WALKS:
                    LOGINS[tenant](page, live, mail)
                logged_in = logged_in or screen.login
                page.set_viewport_size(PHONE)
                if screen.path is not None:
                    page.goto(live.url(tenant, screen.path))
                else:
                    screen.walk(page, live, mail)
                files = {}
                for size, viewport in SIZES.items():
                    page.set_viewport_size(viewport)
                    name = f"{number:02d}-{screen.name}-{size}.png"
                    page.screenshot(path=str(out / tenant / name), full_page=True)
                    files[size] = f"{tenant}/{name}"
                rows.append(
                    f"| {tenant} | {screen.name} | {screen.guide} | {screen.step} | {files['desktop']} | {files['phone']} |"
                )
                print(f"{tenant} {screen.name}", flush=True)
            context.close()
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the PNG files")
    parser.add_argument("--tenant", action="append", help="only these tenants (repeatable)")
    args = parser.parse_args()
    tenants = args.tenant or sorted({s.tenant for s in SCREENS})
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mypage-screens-") as folder:
        live, server = start_portal(Path(folder))
        try:
            rows = shoot(live, args.out, tenants)
        finally:
            server.terminate()
            server.wait(timeout=10)
    (args.out / "index.md").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows) - 2} screens, {2 * (len(rows) - 2)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
