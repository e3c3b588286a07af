"""Solving the self-hosted ALTCHA captcha as the browser script does, for tests that log in over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json


def solve_altcha(client) -> str:
    """The form value for a fresh challenge from ``client`` (TestClient or httpx): SHA-256(salt + n) == challenge."""
    challenge = client.get("/captcha/challenge").json()
    for number in range(challenge["maxNumber"] + 1):
        if hashlib.sha256(f"{challenge['salt']}{number}".encode()).hexdigest() == challenge["challenge"]:
            payload = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}
            payload["number"] = number
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise AssertionError("challenge not solvable")
