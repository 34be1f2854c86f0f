"""The file store: everything lives under CONVOS_HOME in the original Convos layout."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from .base import DiskUsage, StoreError, UserRecord
from .jsonfile import JsonWriter, decode, make_dirs

log = logging.getLogger(__name__)

# A user directory is named by the lower-cased email; refuse anything that could
# step outside CONVOS_HOME or hide as a dot file.
_SAFE_SEGMENT = re.compile(r"^[^/\\\x00-\x1f]+$")


def safe_segment(name: str) -> str:
    if not name or name in (".", "..") or name.startswith(".") or not _SAFE_SEGMENT.match(name):
        raise StoreError(f"Invalid name {name!r}.")
    return name


class FileStore:
    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self._writer = JsonWriter()
        self._broken: dict[str, str] = {}

    # --- paths -------------------------------------------------------------

    def user_dir(self, email: str) -> Path:
        return self.home / safe_segment(email)

    @property
    def settings_path(self) -> Path:
        return self.home / "settings.json"

    # --- settings ----------------------------------------------------------

    async def load_settings(self) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._read_json, self.settings_path)

    async def save_settings(self, data: dict[str, Any]) -> None:
        await self._writer.save(self.settings_path, data)

    async def load_legacy_secrets(self) -> list[str]:
        """Pre-2020 homes kept secrets in `<home>/secrets`, split on U+201A; read once, then removed."""

        def read() -> list[str]:
            path = self.home / "secrets"
            try:
                text = path.read_text("utf-8")
            except FileNotFoundError:
                return []
            secrets = [s.strip() for s in text.split("\u201a") if s.strip()]
            return secrets

        return await asyncio.to_thread(read)

    async def remove_legacy_secrets(self) -> None:
        await asyncio.to_thread(lambda: (self.home / "secrets").unlink(missing_ok=True))

    # --- users -------------------------------------------------------------

    async def load_users(self) -> list[UserRecord]:
        return await asyncio.to_thread(self._load_users)

    def _load_users(self) -> list[UserRecord]:
        make_dirs(self.home)
        records = []
        for entry in sorted(os.scandir(self.home), key=lambda e: e.name):
            if not entry.is_dir() or "@" not in entry.name[1:-1] or entry.name.startswith("."):
                continue
            path = Path(entry.path) / "user.json"
            try:
                data = self._read_json(path)
                if data is None:
                    continue
                if not isinstance(data, dict) or not isinstance(data.get("email"), str):
                    raise StoreError("not a user object")
                records.append(UserRecord(data=data, ctime=path.stat().st_ctime))
            except (OSError, ValueError, StoreError) as err:
                # Keep serving everyone else; remember the name so nothing overwrites the file.
                self._broken[entry.name] = str(err)
                log.error("Skipping user %s: cannot read %s: %s", entry.name, path, err)
        return records

    def is_broken_user(self, email: str) -> bool:
        return email in self._broken

    async def save_user(self, email: str, data: dict[str, Any]) -> None:
        if email in self._broken:
            raise StoreError(f"Refusing to overwrite unreadable user.json for {email}.")
        await self._writer.save(self.user_dir(email) / "user.json", data)

    async def delete_user(self, email: str) -> None:
        path = self.user_dir(email)
        self._writer.forget(path / "user.json")
        await asyncio.to_thread(shutil.rmtree, path, True)

    # --- disk usage --------------------------------------------------------

    async def disk_usage(self) -> DiskUsage | None:
        return await asyncio.to_thread(self._disk_usage)

    def _disk_usage(self) -> DiskUsage | None:
        try:
            st = os.statvfs(self.home)
        except OSError:
            return None
        return DiskUsage(
            dev=_device_of(self.home),
            block_size=st.f_frsize,
            blocks_total=st.f_blocks,
            blocks_used=st.f_blocks - st.f_bfree,
            blocks_free=st.f_bavail,
            inodes_total=st.f_files,
            inodes_used=st.f_files - st.f_ffree,
            inodes_free=st.f_favail,
        )

    # --- helpers -----------------------------------------------------------

    @staticmethod
    def _read_json(path: Path) -> Any:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        return decode(raw)


def _device_of(path: Path) -> str:
    """The mounted device holding `path`, as `df` would name it."""
    best, dev = "", ""
    try:
        target = str(path.resolve())
        with open("/proc/mounts", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 2:
                    continue
                mount = parts[1].replace("\\040", " ")
                inside = target == mount or target.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) >= len(best):
                    best, dev = mount, parts[0]
    except OSError:
        pass
    return dev
