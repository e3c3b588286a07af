"""What a tenant folder looked like when it was read: the modification time (ns) and size of every file under it
and under its theme chain. A reload re-reads only the folders whose fingerprint changed."""

from __future__ import annotations

import hashlib
import os
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path

Files = tuple[tuple[str, int, int], ...]
"""``(path relative to the folder, st_mtime_ns, st_size)`` of every file, in a stable order."""
Chain = tuple[tuple[str, Files], ...]
"""Per theme of a chain (child first): its name and files."""
Fingerprint = bytes
"""A digest of the tenant folder's files and its theme chain's (16 bytes kept per tenant, not every file)."""

RACY_NS = 2_000_000_000
"""A file modified this close to the read (or later) may change again within the file system's timestamp
granularity without its mtime or size changing: such a folder gets no fingerprint and is read again next time."""


def files(folder: Path) -> Files:
    found: list[tuple[str, int, int]] = []

    def walk(directory: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(directory))
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
    return tuple(sorted(found))


def _parent(theme_toml: Path) -> str | None:
    try:
        parent = tomllib.loads(theme_toml.read_text(encoding="utf-8")).get("parent")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return parent if isinstance(parent, str) else None


def _digest(taken: Files, chain: Chain) -> Fingerprint:
    return hashlib.blake2b(repr((taken, chain)).encode(), digest_size=16).digest()


class Fingerprints:
    """Fingerprints taken during one load; a theme shared by many tenants is looked at once. ``parents`` (theme
    name to parent, as a ``ThemeRegistry`` read them) spares reading the ``theme.toml`` files again."""

    def __init__(self, themes_dir: Path | None, parents: Mapping[str, str | None] | None = None):
        self.themes_dir = themes_dir
        self.parents = parents
        self.started_ns = time.time_ns()
        self._themes: dict[str, tuple[Files, str | None]] = {}

    def of(self, folder: Path, theme: str) -> Fingerprint:
        return _digest(files(folder), self._chain(theme))

    def of_unread(self, folder: Path) -> Files:
        """The folder's files, taken *before* it is read: a change during the read shows at the next reload."""
        return files(folder)

    def settled(self, taken: Files, theme: str) -> Fingerprint | None:
        """The fingerprint of a folder just read (``taken`` by :meth:`of_unread`), or None when a file of it was
        modified too recently to trust its timestamp."""
        chain = self._chain(theme)
        recent = self.started_ns - RACY_NS
        every = [*taken, *(entry for _, listing in chain for entry in listing)]
        return None if any(mtime >= recent for _, mtime, _ in every) else _digest(taken, chain)

    def _chain(self, theme: str) -> Chain:
        chain: list[tuple[str, Files]] = []
        name: str | None = theme
        while self.themes_dir is not None and name and name not in {n for n, _ in chain}:
            known = self._themes.get(name)
            if known is None:
                folder = self.themes_dir / name
                parent = self.parents.get(name) if self.parents is not None else _parent(folder / "theme.toml")
                known = self._themes[name] = (files(folder), parent)
            chain.append((name, known[0]))
            name = known[1]
        return tuple(chain)
