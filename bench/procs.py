"""Reading the server's processes from /proc (Linux): uvicorn's workers, their CPU time and memory."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(x) for x in text]
    return found


def workers(master: int, count: int, timeout: float = 30) -> list[int]:
    """The pids of uvicorn's ``count`` worker processes (children of ``master`` running Python), once started."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [p for p in children(master) if "python" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]
        found = [p for p in found if b"multiprocessing.resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise SystemExit(f"uvicorn (pid {master}) did not start {count} workers")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def status_kb(pid: int, key: str) -> int:
    """A ``kB`` figure of /proc/<pid>/status, e.g. ``VmRSS`` or ``VmHWM``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving ``database`` on this machine, polled from /proc while a
    ``with`` block runs (a backend's process title names its database; one that ends between two polls loses
    at most its last ``interval``). Empty when the server is not local."""

    def __init__(self, database: str, interval: float = 0.2):
        import threading

        self.marker = f" {database} ".encode()
        self.interval, self.seen, self.stop = interval, {}, threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.stop.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    if self.marker in (entry / "cmdline").read_bytes() and b"postgres" in (entry / "cmdline").read_bytes():
                        self.seen[int(entry.name)] = cpu_seconds([int(entry.name)])
                except OSError:
                    continue
            self.stop.wait(self.interval)

    def __enter__(self) -> BackendCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())

    def settled(self) -> float:
        """:attr:`seconds` after one more poll (for a figure taken between two measurements)."""
        import time

        time.sleep(self.interval * 1.5)
        return self.seconds
