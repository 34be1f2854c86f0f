"""Sign-in of a native IRC client: `email/network` and a password, by SASL PLAIN or PASS."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..core import apppasswords
from ..core.user import User
from ..errors import TooManyRequests

if TYPE_CHECKING:
    from ..core.connection import Connection
    from ..core.core import Core


class Attempt(Protocol):
    def succeeded(self) -> None: ...


class AttemptLimits(Protocol):
    """The failed-login limits per address and account, shared with the web logins (cli.py wires
    the web application's)."""

    def attempt(self, address: str, account: str, *,
                account_exempt: bool = False) -> AbstractContextManager[Attempt]: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    email: str
    network: str  # a connection id or name; "" when the client did not say
    password: str


def split_account(account: str) -> tuple[str, str]:
    """`email/network` -> (email, network); the network part is optional."""
    email, _, network = account.strip().partition("/")
    return email.strip(), network.strip()


def from_pass(password: str, username: str = "") -> Credentials | None:
    """PASS `email/network:password`, or PASS `password` with USER `email/network`."""
    if "@" in username:
        email, network = split_account(username)
        if "@" in password.partition(":")[0] and ":" in password:
            account, _, secret = password.partition(":")
            email, network = split_account(account)
            return Credentials(email, network, secret)
        return Credentials(email, network, password)
    account, sep, secret = password.partition(":")
    if not sep or "@" not in account:
        return None
    email, network = split_account(account)
    return Credentials(email, network, secret)


def from_sasl_plain(payload: str) -> Credentials | None:
    """The AUTHENTICATE payload of PLAIN: base64 of `authzid NUL authcid NUL password`."""
    try:
        raw = base64.b64decode(payload, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    parts = raw.split("\0")
    if len(parts) != 3:
        return None
    authzid, authcid, password = parts
    email, network = split_account(authcid or authzid)
    if not email or not password:
        return None
    return Credentials(email, network, password)


PasswordCheck = Callable[[str, str], Awaitable["User | None"]]


class SignIn:
    """Checks credentials off the loop (Argon2 in a thread), within the shared limits: an app
    password of the account (core/apppasswords.py), or its password by `check_password` (what
    cli.py hands over: the web login's check)."""

    def __init__(self, core: Core, limits: AttemptLimits, check_password: PasswordCheck) -> None:
        self.core = core
        self.limits = limits
        self.check_password = check_password

    async def check(self, creds: Credentials, address: str) -> User | None:
        """The user, or None for a wrong password; TooManyRequests past the limits."""
        with self.limits.attempt(address, creds.email) as attempt:
            if apppasswords.looks_like_one(creds.password):
                found = self.core.get_user(creds.email)
                ok = await apppasswords.check(found, creds.password) if found else await apppasswords.check(
                    User(email=""), creds.password)
                user = found if ok else None
            else:
                user = await self.check_password(creds.email, creds.password)
            if user is not None:
                attempt.succeeded()
            return user


def pick_connection(user: User, network: str) -> Connection | None:
    """The connection a client asked for by id (`irc-libera`) or name (`libera`); the only one
    when it did not say."""
    connections = list(user.connections.values())
    if not network:
        return connections[0] if len(connections) == 1 else None
    wanted = network.lower()
    for conn in connections:
        if conn.connection_id.lower() == wanted:
            return conn
    for conn in connections:
        if conn.name.lower() == wanted:
            return conn
    return None


def connection_names(user: User) -> Iterator[str]:
    for conn in user.connections.values():
        yield f"{conn.connection_id} ({conn.name})"


__all__ = ["Credentials", "SignIn", "TooManyRequests", "connection_names", "from_pass", "from_sasl_plain",
           "pick_connection"]
