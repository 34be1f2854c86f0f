"""A secret key kept in a file of its own: made once (mode 0600, atomically), then read."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .jsonfile import FILE_MODE, make_dirs


def load_or_create_key(path: Path, make: Callable[[], bytes]) -> bytes:
    """The key in `path`; a new one from `make()` when there is none.

    The new key is written to a temp file, synced, and linked to `path`: two processes that
    start at once both end up with the key that was linked first, and a crash never leaves a
    torn or empty key file (os.link fails when `path` exists; the loser reads the winner's).
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".swap", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)
            fh.write(make())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return _read(path)


def _read(path: Path) -> bytes:
    data = path.read_bytes().strip()
    if not data:
        raise ValueError(f"{path} is empty: remove it to make a new key (what it encrypted is lost).")
    return data
