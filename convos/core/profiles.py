"""Connection profiles: per-host limits and options for every user's connections to a host.

A profile an admin saved (or one from Convos 8.07, which only admins could write) is shown to
every user unless the admin chose not to share it. A profile made in memory for a user's
connection (`implicit`) is never shown to other users, and not shown at all once no
connection uses it; the connections still get its defaults (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..config import Config
from .connection import connection_id_for


def host_port(url: str) -> tuple[str, int | None]:
    try:
        parts = urlsplit(url)
        return (parts.hostname or "", parts.port)
    except ValueError:
        return ("", None)


def profile_url(url: str) -> str:
    """A connection URL reduced to what a profile keeps: no userinfo, only tls/tls_verify."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in ("tls", "tls_verify")]
    return urlunsplit((parts.scheme, netloc, "", urlencode(query), ""))


@dataclass(slots=True)
class Profile:
    id: str
    url: str
    max_bulk_message_size: int = 3
    max_message_length: int = 512
    service_accounts: list[str] = field(default_factory=lambda: ["chanserv", "nickserv"])
    skip_queue: bool = False
    webirc_password: str = ""
    # Shown to every user (not only admins). Files without the key (8.07) were admin-made: shared.
    shared: bool = True
    # Who made it: the admin who saved it, or the user whose connection it was made for.
    created_by: str = ""
    # Made in memory for a connection, never saved by an admin (no file).
    implicit: bool = False

    @classmethod
    def default_for(cls, url: str, config: Config) -> Profile:
        pid = connection_id_for(url)
        name = pid.split("-", 1)[-1]
        return cls(
            id=pid,
            url=url,
            max_bulk_message_size=config.max_bulk_message_size,
            max_message_length=config.max_message_length,
            service_accounts=list(config.service_accounts),
            skip_queue=host_port(url)[0] == "localhost",
            webirc_password=config.webirc_passwords.get(name.lower(), ""),
        )

    def update(self, data: dict[str, Any]) -> None:
        for key in ("max_bulk_message_size", "max_message_length"):
            if isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
                setattr(self, key, data[key])
        if isinstance(data.get("service_accounts"), list):
            self.service_accounts = [str(a).strip() for a in data["service_accounts"] if str(a).strip()]
        if "skip_queue" in data and data["skip_queue"] is not None:
            self.skip_queue = bool(data["skip_queue"])
        if isinstance(data.get("webirc_password"), str):
            self.webirc_password = data["webirc_password"]

    def load(self, data: dict[str, Any]) -> None:
        """A profile file: the saved values, and who may see it (8.07 files: everyone)."""
        self.url = str(data.get("url") or self.url)
        self.update(data)
        self.shared = data.get("shared") is not False
        self.created_by = str(data.get("created_by") or "")
        self.implicit = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "created_by": self.created_by,
            "id": self.id,
            "max_bulk_message_size": self.max_bulk_message_size,
            "max_message_length": self.max_message_length,
            "service_accounts": list(self.service_accounts),
            "shared": self.shared,
            "skip_queue": self.skip_queue,
            "url": self.url,
            "webirc_password": self.webirc_password,
        }

    def api_dict(self, *, default_url: str, forced: bool, admin: bool) -> dict[str, Any]:
        data = self.to_dict()
        is_default = host_port(self.url)[0] == host_port(default_url)[0] != ""
        data["is_default"] = is_default
        data["is_forced"] = is_default and forced
        data["shared"] = self.shared or is_default  # every user sees the default connection's
        if not admin:
            # What 8.07 showed: a user sees only shared profiles, so `shared` tells nothing.
            for key in ("webirc_password", "shared", "created_by"):
                del data[key]
        return data
