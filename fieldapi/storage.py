"""Where uploaded files (job photos) live: a small interface, a directory behind it today.

An object store (S3, GCS) fits the same three methods later; callers only ever hold a key.
Keys are `/`-separated words of letters, digits, `-` and `_` (e.g. `<org id>/<photo id>`).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
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


def photo_store(config: Mapping[str, Any]) -> FileStore:
    """The photo store configured by PHOTO_DIR (default `var/photos`)."""
    configured = config.get("PHOTO_DIR")
    return DirectoryStore(Path(configured) if configured else var_dir() / "photos")
