"""What a tenant folder looked like when it was read: the modification time (ns) and size of every file under it
and under its theme chain. A reload re-reads only the folders whose fingerprint changed."""

from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path

Files = tuple[tuple[str, int, int], ...]
"""``(path relative to the folder, st_mtime_ns, st_size)`` of every file, in a stable order."""
Fingerprint = tuple[Files, tuple[tuple[str, Files], ...]]
"""The tenant folder's files and, per theme of its chain (child first), the theme's name and files."""

RACY_NS = 2_000_000_000
"""A file modified this close to the read (or later) may change again within the file system's timestamp
granularity without its mtime or size changing: such a folder gets no fingerprint and is read again next time."""


def files(folder: Path) -> Files:
    found: list[tuple[str, int, int]] = []

    def walk(directory: str, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            try:
                if entry.is_dir():
                    walk(entry.path, f"{prefix}{entry.name}/")
                else:
                    stat = entry.stat()
                    found.append((prefix + entry.name, stat.st_mtime_ns, stat.st_size))
            except OSError:  # removed while we looked: the next reload sees the folder as it then is
                continue

    walk(str(folder), "")
    return tuple(found)


def _parent(theme_toml: Path) -> str | None:
    try:
        parent = tomllib.loads(theme_toml.read_text(encoding="utf-8")).get("parent")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return parent if isinstance(parent, str) else None


class Fingerprints:
    """Fingerprints taken during one load; a theme shared by many tenants is looked at once."""

    def __init__(self, themes_dir: Path | None):
        self.themes_dir = themes_dir
        self.started_ns = time.time_ns()
        self._themes: dict[str, tuple[Files, str | None]] = {}

    def of(self, folder: Path, theme: str) -> Fingerprint:
        return files(folder), self._chain(theme)

    def of_unread(self, folder: Path) -> Files:
        """The folder's files, taken *before* it is read: a change during the read shows at the next reload."""
        return files(folder)

    def settled(self, taken: Files, theme: str) -> Fingerprint | None:
        """The fingerprint of a folder just read (``taken`` by :meth:`of_unread`), or None when a file of it was
        modified too recently to trust its timestamp."""
        fingerprint = (taken, self._chain(theme))
        recent = self.started_ns - RACY_NS
        every = [*taken, *(entry for _, listing in fingerprint[1] for entry in listing)]
        return None if any(mtime >= recent for _, mtime, _ in every) else fingerprint

    def _chain(self, theme: str) -> tuple[tuple[str, Files], ...]:
        chain: list[tuple[str, Files]] = []
        name: str | None = theme
        while self.themes_dir is not None and name and name not in {n for n, _ in chain}:
            known = self._themes.get(name)
            if known is None:
                folder = self.themes_dir / name
                known = self._themes[name] = (files(folder), _parent(folder / "theme.toml"))
            chain.append((name, known[0]))
            name = known[1]
        return tuple(chain)
