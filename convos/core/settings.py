"""Server-wide settings, persisted as settings.json with the original's ten keys."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PUBLIC_KEYS = (
    "contact",
    "default_connection",
    "forced_connection",
    "open_to_public",
    "organization_name",
    "organization_url",
    "video_service",
)


def random_secret() -> str:
    """40 lower-case hex characters, as the original makes them (SHA-1 of 128 random bytes)."""
    return hashlib.sha1(os.urandom(128)).hexdigest()


@dataclass(slots=True)
class Settings:
    base_url: str = "http://127.0.0.1:8080"
    contact: str = "mailto:root@localhost"
    default_connection: str = "irc://irc.libera.chat:6697/%23convos"
    forced_connection: bool = False
    open_to_public: bool = False
    organization_name: str = "Convos"
    organization_url: str = "https://convos.chat"
    video_service: str = "https://meet.jit.si/"
    local_secret: str = ""
    session_secrets: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        s = cls()
        for key in ("base_url", "contact", "default_connection", "organization_name",
                    "organization_url", "video_service", "local_secret"):
            value = data.get(key)
            if isinstance(value, str):
                setattr(s, key, value)
        for key in ("forced_connection", "open_to_public"):
            if key in data:
                setattr(s, key, _as_bool(data[key]))
        secrets = data.get("session_secrets")
        if isinstance(secrets, list):
            s.session_secrets = [str(x) for x in secrets if str(x)]
        return s

    def replace_with(self, other: Settings) -> None:
        """Take every value of `other`: this object is shared by the core's services."""
        for name in self.__slots__:
            setattr(self, name, getattr(other, name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "contact": self.contact,
            "default_connection": self.default_connection,
            "forced_connection": self.forced_connection,
            "local_secret": self.local_secret,
            "open_to_public": self.open_to_public,
            "organization_name": self.organization_name,
            "organization_url": self.organization_url,
            "session_secrets": list(self.session_secrets),
            "video_service": self.video_service,
        }

    def public_dict(self) -> dict[str, Any]:
        """What the API may show: never the secrets."""
        data = {key: getattr(self, key) for key in PUBLIC_KEYS}
        data["base_url"] = self.base_url
        return data

    def default_connection_safe(self) -> str:
        """The default connection URL with any channel key (after a space in the path) removed."""
        url = self.default_connection
        parts = urlsplit(url)
        path = parts.path
        for sep in ("%20", " "):
            if sep in path:
                path = path.split(sep, 1)[0]
        return parts._replace(path=path).geturl()


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def valid_url(url: str, schemes: tuple[str, ...] | None = None) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.scheme or not parts.hostname:
        return False
    return schemes is None or parts.scheme in schemes
