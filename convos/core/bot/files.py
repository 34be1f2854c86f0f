"""The bot's own files under its home directory: bot.yaml and the spool. Blocking; run in a thread."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is much faster, when PyYAML was built with libyaml
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader  # type: ignore[assignment]

Signature = tuple[int, int]
MAX_FILE_SIZE = 1_000_000


class BadFile(Exception):
    """A file that exists but cannot be read or parsed."""


def signature(path: Path) -> Signature | None:
    """(mtime in ns, size) of a non-empty file, or None when there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size == 0 or not path.is_file():
        return None
    return st.st_mtime_ns, st.st_size


def load_yaml(path: Path) -> Any:
    """Parse a YAML (or JSON: YAML is a superset) file with the safe loader: no Python objects."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise BadFile(f"{path}: {err.strerror or err}") from None
    if len(raw) > MAX_FILE_SIZE:
        raise BadFile(f"{path}: larger than {MAX_FILE_SIZE} bytes.")
    try:
        return yaml.load(raw, Loader=SafeLoader)
    except yaml.YAMLError as err:
        raise BadFile(f"{path}: {err}") from None


def spool_files(directory: Path, limit: int) -> list[Path]:
    """Message files in name order. Dot files and `*.tmp` are being written; `*.failed` were bad."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        if name.startswith(".") or name.endswith((".tmp", ".failed")):
            continue
        path = directory / name
        if path.is_file():
            out.append(path)
            if len(out) >= limit:
                break
    return out


def make_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


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
