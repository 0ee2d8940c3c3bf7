"""Where uploaded files (job photos) live: a small interface, a directory behind it today.

An object store (S3, GCS) fits the same four methods later; callers only ever hold a key.
Keys are `/`-separated words of letters, digits, `-` and `_` (e.g. `<org id>/<photo id>`).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from fieldapi.paths import var_dir

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")


class StoredFileMissing(LookupError):
    """The key names nothing in the store."""


class FileStore(Protocol):
    def save(self, key: str, data: bytes) -> None: ...

    def load(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def keys_older_than(self, moment: datetime) -> Iterator[str]:
        """Keys of the files last written before `moment` (an aware datetime)."""
        ...


class DirectoryStore:
    """Files under a root directory, written atomically (temporary file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise StoredFileMissing(key) from error

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys_older_than(self, moment: datetime) -> Iterator[str]:
        """By modification time. Only regular files whose path is a key: a save's temporary
        `.upload-*` file, a symlink or anything else put under the root is never listed."""
        if moment.tzinfo is None:
            raise ValueError("keys_older_than needs an aware datetime")
        cutoff = moment.timestamp()
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(name for name in dirs if _KEY.match(name))
            base = Path(folder).relative_to(self.root)
            for name in sorted(files):
                key = (base / name).as_posix()
                if not _KEY.match(key):
                    continue
                try:
                    info = os.lstat(self.root / key)
                except FileNotFoundError:  # deleted since the directory was read
                    continue
                if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    yield key


def photo_store(config: Mapping[str, Any]) -> FileStore:
    """The photo store configured by PHOTO_DIR (default `var/photos`)."""
    configured = config.get("PHOTO_DIR")
    return DirectoryStore(Path(configured) if configured else var_dir() / "photos")
