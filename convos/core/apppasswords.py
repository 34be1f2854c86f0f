"""App passwords: one per device (an IRC client), made and revoked by the user, kept as Argon2id
hashes in user.json like the main password. A password names its own entry (`ap-<id>-<secret>`),
so a check costs one hash, whatever the number of devices."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput, NotFound
from .passwords import hash_password_async, verify_password_async
from .user import User

# Per user; the API refuses more.
MAX_APP_PASSWORDS = 20
MAX_NAME = 64
PREFIX = "ap-"


@dataclass(frozen=True, slots=True)
class AppPassword:
    id: str
    name: str
    hash: str
    created: str

    @classmethod
    def from_dict(cls, data: Any) -> AppPassword | None:
        if not isinstance(data, dict):
            return None
        ident, name, hashed, created = (data.get(k) for k in ("id", "name", "hash", "created"))
        if not (isinstance(ident, str) and isinstance(name, str) and isinstance(hashed, str)
                and isinstance(created, str) and ident and hashed):
            return None
        return cls(ident, name, hashed, created)

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "hash": self.hash, "created": self.created}

    def api_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "created": self.created}


def app_passwords(user: User) -> list[AppPassword]:
    """The user's app passwords, from user.json (kept among the keys the core does not model)."""
    items = user.extra.get("app_passwords")
    found = [AppPassword.from_dict(item) for item in items] if isinstance(items, list) else []
    return [item for item in found if item is not None]


def _store(user: User, items: list[AppPassword]) -> None:
    if items:
        user.extra["app_passwords"] = [item.to_dict() for item in items]
    else:
        user.extra.pop("app_passwords", None)


async def create(user: User, name: str) -> tuple[AppPassword, str]:
    """A new app password: its record, and the password itself (shown once, never kept)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"A name of 1 to {MAX_NAME} characters.", "/body/name")
    items = app_passwords(user)
    if len(items) >= MAX_APP_PASSWORDS:
        raise InvalidInput(f"At most {MAX_APP_PASSWORDS} app passwords: revoke one first.", "/body/name")
    ids = {item.id for item in items}
    ident = secrets.token_hex(4)
    while ident in ids:
        ident = secrets.token_hex(4)
    plain = f"{PREFIX}{ident}-{secrets.token_urlsafe(18)}"
    record = AppPassword(ident, name, await hash_password_async(plain),
                         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    _store(user, [*items, record])
    return record, plain


def revoke(user: User, ident: str) -> None:
    items = app_passwords(user)
    kept = [item for item in items if item.id != ident]
    if len(kept) == len(items):
        raise NotFound("No such app password.")
    _store(user, kept)


def looks_like_one(password: str) -> bool:
    return password.startswith(PREFIX) and password.count("-") >= 2


async def check(user: User, password: str) -> bool:
    """Whether `password` is one of the user's app passwords (one Argon2 check, off the loop)."""
    ident = password[len(PREFIX):].split("-", 1)[0]
    record = next((item for item in app_passwords(user) if item.id == ident), None)
    ok, _rehash = await verify_password_async(record.hash if record else "", password)
    return ok and record is not None
