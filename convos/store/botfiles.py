"""The bot's own files: `<home>/<bot email>/bot.yaml` and its spool directory. Blocking; run in a thread.

The bot asks for them by email and file name through the store (FileStore's bot methods), so
it never builds a path itself. Contents are handed over as bytes: parsing them is the bot's job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .base import StoreError
from .jsonfile import make_dirs

CONFIG_NAME = "bot.yaml"
SPOOL_NAME = "spool"


def stamp(path: Path) -> tuple[int, int] | None:
    """(mtime in ns, size) of a non-empty regular file, or None when there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size == 0 or not path.is_file():
        return None
    return st.st_mtime_ns, st.st_size


def read(path: Path, max_size: int) -> bytes:
    """At most `max_size` bytes; StoreError (naming the file) when it cannot be read or is larger."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_size + 1)
    except OSError as err:
        raise StoreError(f"{path}: {err.strerror or err}") from None
    if len(raw) > max_size:
        raise StoreError(f"{path}: larger than {max_size} bytes.")
    return raw


def spool_names(directory: Path, limit: int, usable: Callable[[str], bool]) -> list[str]:
    """Message files in name order. Dot files and `*.tmp` are being written; `*.failed` were bad;
    a name that is not `usable` (control characters...) is left alone."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        if name.startswith(".") or name.endswith((".tmp", ".failed")) or not usable(name):
            continue
        if (directory / name).is_file():
            out.append(name)
            if len(out) >= limit:
                break
    return out


def make_spool(directory: Path) -> None:
    make_dirs(directory)


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def set_aside(path: Path) -> None:
    """Keep a bad spool file for the admin to look at, out of the way of the next run."""
    try:
        os.replace(path, path.with_name(path.name + ".failed"))
    except FileNotFoundError:
        pass
