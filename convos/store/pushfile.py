"""The file side of PushFiles (store/push.py): `<home>/vapid.pem` and `<home>/<email>/push.json`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .base import StoreError
from .jsonfile import JsonWriter, atomic_write, decode

VAPID_NAME = "vapid.pem"
PUSH_NAME = "push.json"
# Larger than any push.json the limits allow (convos/push/limits.py): a bigger one was not written by us.
MAX_PUSH_FILE = 1 << 20
MAX_KEY_FILE = 16 << 10


def read_small(path: Path, max_size: int) -> bytes | None:
    """The file's bytes, None when it is missing; StoreError when unreadable or larger than `max_size`."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_size + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StoreError(f"{path}: {err.strerror or err}") from None
    if len(raw) > max_size:
        raise StoreError(f"{path}: larger than {max_size} bytes.")
    return raw


def read_json_object(path: Path, max_size: int) -> dict[str, Any] | None:
    raw = read_small(path, max_size)
    if raw is None:
        return None
    try:
        data = decode(raw)
    except ValueError as err:
        raise StoreError(f"{path}: {err}") from None
    if not isinstance(data, dict):
        raise StoreError(f"{path}: not a JSON object.")
    return data


class PushFileMethods:
    """Mixed into FileStore: its `home`, `user_dir` and `_writer` (saves of one path in order)."""

    home: Path
    _writer: JsonWriter

    def user_dir(self, email: str) -> Path:
        raise NotImplementedError

    @property
    def _vapid_path(self) -> Path:
        return self.home / VAPID_NAME

    async def load_vapid_key(self) -> bytes | None:
        return await asyncio.to_thread(read_small, self._vapid_path, MAX_KEY_FILE)

    async def save_vapid_key(self, pem: bytes) -> None:
        await asyncio.to_thread(atomic_write, self._vapid_path, pem)

    async def load_push(self, email: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(read_json_object, self.user_dir(email) / PUSH_NAME, MAX_PUSH_FILE)

    async def save_push(self, email: str, data: dict[str, Any]) -> None:
        await self._writer.save(self.user_dir(email) / PUSH_NAME, data)

    def vapid_key_location(self) -> str:
        return str(self._vapid_path)
