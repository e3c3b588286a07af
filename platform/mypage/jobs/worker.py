"""The job worker: a task of each server process (started in the app's lifespan when ``run_job_worker``).

Each round runs, in order, the queued CSV imports (:func:`mypage.importjobs.service.run_queued`) and the
mails of scheduled お知らせ whose time has come (:func:`mypage.notices.service.mail_due_notices`). Both claim
their work with a conditional UPDATE, so several processes never run the same job twice. A round starts every
``job_worker_interval`` seconds, or at once when this process queued something (:func:`wake`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from mypage.settings import Settings

log = logging.getLogger("mypage.jobs")
_wake: asyncio.Event | None = None


def wake() -> None:
    """Starts the next round now (an import was just queued in this process)."""
    if _wake is not None:
        _wake.set()


async def run_round(settings: Settings, portal) -> None:
    from mypage.importjobs.service import run_queued
    from mypage.notices.service import mail_due_notices

    await run_queued(settings, portal)
    await mail_due_notices(portal)


async def run_worker(settings: Settings, portal, stop: asyncio.Event) -> None:
    global _wake
    _wake = asyncio.Event()
    while not stop.is_set():
        _wake.clear()
        try:
            await run_round(settings, portal)
        except Exception:  # keep the worker alive; the next round retries
            log.exception("job round failed")
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(_wake.wait())]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait(waits, timeout=settings.job_worker_interval, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waits:
            waiter.cancel()
