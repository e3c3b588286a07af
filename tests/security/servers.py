"""Serving an app of the test's own (other settings than the shared ``live`` server) over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn

from mypage.cli import server_options


@contextmanager
def serve(app, settings):
    """The app under uvicorn with the options ``mypage run`` uses, on a free port in a thread; yields its URL."""
    options = {**server_options(settings), "log_level": "warning"}
    options.pop("host"), options.pop("port")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", access_log=False, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"serve-{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
