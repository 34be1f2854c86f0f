"""Connection profiles: per-host limits and options shared by every user's connections."""

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "max_bulk_message_size": self.max_bulk_message_size,
            "max_message_length": self.max_message_length,
            "service_accounts": list(self.service_accounts),
            "skip_queue": self.skip_queue,
            "url": self.url,
            "webirc_password": self.webirc_password,
        }

    def api_dict(self, *, default_url: str, forced: bool, admin: bool) -> dict[str, Any]:
        data = self.to_dict()
        is_default = host_port(self.url)[0] == host_port(default_url)[0] != ""
        data["is_default"] = is_default
        data["is_forced"] = is_default and forced
        if not admin:
            del data["webirc_password"]
        return data
