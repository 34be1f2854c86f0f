"""The registry of the accounts the daemon holds: the Core fills it, its services look users up in it."""

from __future__ import annotations

from collections.abc import Iterable

from .connection import Connection
from .user import User, normalize_email


class Users:
    def __init__(self) -> None:
        self._by_email: dict[str, User] = {}

    def __len__(self) -> int:
        return len(self._by_email)

    def __contains__(self, email: str) -> bool:
        return email in self._by_email

    def all(self) -> list[User]:
        """Every user, in the order they registered."""
        return list(self._by_email.values())

    def get(self, email: str) -> User | None:
        return self._by_email.get(normalize_email(email))

    def by_uid(self, uid: str) -> User | None:
        return next((u for u in self._by_email.values() if u.uid == uid), None)

    def replace(self, users: Iterable[User]) -> None:
        self._by_email = {user.email: user for user in users}

    def add(self, user: User) -> None:
        self._by_email[user.email] = user

    def pop(self, email: str) -> User | None:
        return self._by_email.pop(email, None)

    def is_current(self, conn: Connection) -> bool:
        """Whether the connection is still its user's: a removed one may still be saying goodbye."""
        user = self._by_email.get(conn.email)
        return user is not None and user.connections.get(conn.connection_id) is conn

    def connections(self) -> list[Connection]:
        return [conn for user in self._by_email.values() for conn in user.connections.values()]
