"""A Convos account: the fields of user.json and what the API shows of them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .connection import Connection
from .sessions import SessionState

_WORD = re.compile(r"\w")
_ATOM = r"[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+"  # RFC 5322 atext without "/"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*", re.ASCII)
KNOWN_KEYS = ("email", "highlight_keywords", "password", "registered", "remote_address", "roles", "sessions", "uid",
              "unread")


def valid_email(value: str) -> bool:
    """Dot-atom local part, "@", dot-separated host labels; never a path separator or control char."""
    return len(value) <= 254 and _EMAIL_RE.fullmatch(value) is not None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_keywords(words: Any) -> list[str]:
    """Trim each keyword and drop the ones without a word character (spec §2.3)."""
    if not isinstance(words, list):
        return []
    out = []
    for word in words:
        if not isinstance(word, str):
            continue
        word = word.strip()
        if word and _WORD.search(word):
            out.append(word)
    return out


@dataclass(slots=True, eq=False)
class User:
    email: str
    password: str = ""
    highlight_keywords: list[str] = field(default_factory=list)
    registered: str = ""
    remote_address: str = ""
    roles: list[str] = field(default_factory=list)
    uid: str = ""
    unread: int = 0
    # Not in 8.07's user.json: written once the user has logged in here (see core/sessions.py).
    sessions: SessionState = field(default_factory=SessionState)
    # Keys we do not know are kept so a round trip never loses data.
    extra: dict[str, Any] = field(default_factory=dict)
    removed: bool = False
    connections: dict[str, Connection] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> User:
        roles = data.get("roles")
        unread = data.get("unread")
        return cls(
            email=normalize_email(str(data.get("email", ""))),
            password=str(data.get("password") or ""),
            highlight_keywords=normalize_keywords(data.get("highlight_keywords")),
            registered=str(data.get("registered") or ""),
            remote_address=str(data.get("remote_address") or ""),
            roles=[str(r) for r in roles] if isinstance(roles, list) else [],
            uid=str(data.get("uid") or ""),
            unread=unread if isinstance(unread, int) and not isinstance(unread, bool) else 0,
            sessions=SessionState.from_dict(data.get("sessions")),
            extra={k: v for k, v in data.items() if k not in KNOWN_KEYS},
        )

    def to_dict(self) -> dict[str, Any]:
        """The user.json form, password hash included."""
        data = dict(self.extra)
        data.update(
            email=self.email,
            highlight_keywords=list(self.highlight_keywords),
            password=self.password,
            registered=self.registered,
            remote_address=self.remote_address,
            roles=list(self.roles),
            uid=self.uid,
            unread=self.unread,
        )
        if self.sessions.generation:
            data["sessions"] = self.sessions.to_dict()
        return data

    def api_dict(self) -> dict[str, Any]:
        """The API form: never the password."""
        return {
            "email": self.email,
            "highlight_keywords": list(self.highlight_keywords),
            "registered": self.registered,
            "remote_address": self.remote_address,
            "roles": list(self.roles),
            "uid": self.uid,
            "unread": self.unread,
        }

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def sorted_connections(self) -> list[Connection]:
        return sorted(self.connections.values(), key=lambda c: (c.name, c.connection_id))

    def get_connection(self, connection_id: str) -> Connection | None:
        return self.connections.get(connection_id)
