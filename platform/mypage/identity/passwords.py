"""argon2id password hashing at OWASP's parameters (m = 19 MiB, t = 2, p = 1).

The portal calls the ``*_async`` functions: hashing runs on a small thread pool (argon2-cffi releases the
GIL), one thread per core, so a burst of logins queues there while the event loop keeps serving other
requests. The plain functions are for scripts and tests.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)  # OWASP's argon2id parameters
# Verifying against this keeps the time of a login for an unknown ID like that of a known one.
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")
_pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="argon2")


def use_light_parameters() -> None:
    """Cheaper argon2id parameters, for the test suite only (every test hashes several passwords)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (an unknown account) a dummy hash is verified all the same."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, verify_password, password_hash, password)
