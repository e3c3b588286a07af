"""Attacks on the running portal: a real uvicorn server (one per database backend, in a thread of the test
process), real HTTP over loopback, parallel requests from a bounded thread pool.

``live`` gives a :class:`LiveServer` on an emptied database of the current backend (SQLite and PostgreSQL,
like the ``db`` fixture). ``live.tenant("aicom")`` makes an :class:`Attacker`: an HTTP client on that
tenant's host that keeps its cookies and knows the CSRF token, and can fire one form many times at once.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

MAX_WORKERS = 32


@dataclass
class LiveServer:
    port: int
    settings: object

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tenant(self, slug: str) -> Attacker:
        return Attacker(self, f"{slug}.localhost")


class Attacker:
    """One browser-like client on a tenant host (cookies kept), plus parallel fire of the same request."""

    def __init__(self, server: LiveServer, host: str):
        self.server = server
        self.host = host
        self.client = httpx.Client(base_url=server.base_url, headers={"Host": host}, follow_redirects=False, timeout=60)

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def csrf(self) -> str:
        token = self.client.cookies.get("mypage_csrf")
        if not token:
            self.client.get("/login")
            token = self.client.cookies.get("mypage_csrf")
        assert token, "no CSRF cookie"
        return token

    def submit(self, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
        payload = {**(data or {}), "_csrf_token": self.csrf()}
        return self.client.post(path, data=payload, **kwargs)

    def fire(self, path: str, forms: list[dict], *, headers: dict | None = None) -> list[httpx.Response]:
        """Posts every form at once with this client's cookies (one session, many parallel requests)."""
        token = self.csrf()
        cookies = dict(self.client.cookies)
        base = {"Host": self.host, **(headers or {})}

        def one(form: dict) -> httpx.Response:
            with httpx.Client(base_url=self.server.base_url, timeout=120, cookies=cookies) as client:
                return client.post(path, data={**form, "_csrf_token": token}, headers=base)

        return parallel(one, forms)


def parallel(task, items: list, workers: int = MAX_WORKERS) -> list:
    """Runs ``task(item)`` for every item on a bounded thread pool, all started together."""
    barrier = threading.Barrier(min(workers, len(items)) or 1)

    def gated(item):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        return task(item)

    with ThreadPoolExecutor(max_workers=min(workers, len(items)) or 1) as pool:
        return list(pool.map(gated, items))


def mailed_code(text: str) -> str:
    """The code on a line of its own or after 「認証コード :」 (not the phone numbers of the signature)."""
    found = re.search(r"^(?:.*コード\s*:\s*)?(\d{6})\s*$", text, re.MULTILINE)
    assert found, text
    return found.group(1)


_servers: dict[str, tuple[LiveServer, uvicorn.Server, threading.Thread]] = {}


def _start(app, settings) -> tuple[LiveServer, uvicorn.Server, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"live-{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    return LiveServer(port=port, settings=settings), server, thread


@pytest.fixture
def live(app, db) -> LiveServer:
    """The app served over real HTTP on the current backend (one server per backend, database emptied per test)."""
    key = db.database_url or "sqlite"
    if key not in _servers:
        _servers[key] = _start(app, db)
    return _servers[key][0]


def pytest_sessionfinish(session, exitstatus):
    for _, server, thread in _servers.values():
        server.should_exit = True
        thread.join(timeout=10)
