"""``mypage run --workers 2`` as a real process: a published override and a reloaded folder reach both
workers without a restart; SIGHUP with a broken folder changes nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tenant_folders import add_tenant, copy_folders, edit

from conftest import run
from mypage.db.engine import bind_tables, make_engine
from mypage.overrides.service import Overrides
from mypage.tenancy.registry import TenantRegistry

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(db, tmp_path):
    tenants, themes = copy_folders(tmp_path)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "platform"),
        "MYPAGE_TENANTS_DIR": str(tenants),
        "MYPAGE_THEMES_DIR": str(themes),
        "MYPAGE_DATABASE_URL": db.database_url,
        "MYPAGE_SQLITE_PATH": str(db.sqlite_path),
        "MYPAGE_SECRET_KEY": db.secret_key,
        "PORT": str(port),
    }
    log = (tmp_path / "server.log").open("wb")  # a file, not a pipe: a full pipe would stall the server
    process = subprocess.Popen(
        [sys.executable, "-c", "from mypage.cli import main; main()", "run", "--workers", "2", "--no-demo"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the workers go with it if start-up fails
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("the server did not start:\n" + (tmp_path / "server.log").read_text())
        time.sleep(0.2)
    bind_tables(make_engine(db))
    yield base, process, db.with_(tenants_dir=tenants, themes_dir=themes)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    print((tmp_path / "server.log").read_text()[-4000:])  # shown when the test failed


def get(base: str, host: str, path: str) -> httpx.Response:
    # A new connection each time: uvicorn's workers share the socket, so the kernel spreads them.
    return httpx.get(base + path, headers={"Host": host}, timeout=10)


def wait_until_every_response(base: str, host: str, path: str, predicate, *, seconds: float = 40) -> None:
    """``predicate`` holds for 20 responses in a row (both workers answered by then)."""
    deadline = time.monotonic() + seconds
    streak = 0
    while streak < 20:
        assert time.monotonic() < deadline, f"{host}{path}: not every worker changed within {seconds}s"
        streak = streak + 1 if predicate(get(base, host, path)) else 0
        time.sleep(0.02)


def test_a_published_override_reaches_every_worker(server):
    base, _, settings = server
    assert "#0a7d3b" in get(base, "aicom.localhost", "/brand.css").text
    registry = TenantRegistry.load(settings.tenants_dir, settings.themes_dir)
    editor = Overrides(registry.get("aicom"), {"base", "aicom", "itscom", "nmedia"})
    version = run(editor.save_draft({"branding": {"primary_colour": "#145a32"}}, "staff"))
    run(editor.publish(version, "admin"))
    wait_until_every_response(base, "aicom.localhost", "/brand.css", lambda r: "#145a32" in r.text)
    run(editor.restore(version, "admin"))  # a restore publishes a copy: version 2, the same colour
    assert len(run(editor.versions.versions())) == 2


def test_sighup_reloads_folders_on_every_worker_and_refuses_a_broken_one(server):
    base, process, settings = server
    broken = add_tenant(settings.tenants_dir, "hikari", host="hikari.localhost", name="ひかりネット マイページ")
    edit(broken / "tenant.toml", 'primary_colour = "#0a7d3b"', 'primary_colour = "green"')
    process.send_signal(signal.SIGHUP)
    time.sleep(3)
    assert process.poll() is None
    for _ in range(10):
        assert get(base, "hikari.localhost", "/login").status_code == 404
        assert get(base, "aicom.localhost", "/login").status_code == 200
    edit(broken / "tenant.toml", 'primary_colour = "green"', 'primary_colour = "#0a7d3b"')
    process.send_signal(signal.SIGHUP)
    wait_until_every_response(
        base, "hikari.localhost", "/login", lambda r: r.status_code == 200 and "ひかりネット マイページ" in r.text
    )
