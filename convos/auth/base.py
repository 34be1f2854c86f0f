"""The sign-in interface: what a provider is, and the chain that asks the active ones in turn.

Two kinds of provider, each a small class chosen by configuration (CONVOS_AUTH_PROVIDERS,
CONVOS_PLUGINS): a password provider checks an email and a password (the local Argon2 hashes,
LDAP); a request provider says who a request is from (a trusted header). OpenID Connect is a
redirect flow of its own (oidc.py), and two-factor codes (totp.py) are a second step after a
password. A fifth provider implements one of the two protocols and joins the list in build().
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..core.user import User

if TYPE_CHECKING:
    from .oidc import OidcProvider
    from .totp import TwoFactor

log = logging.getLogger(__name__)


class PasswordProvider(Protocol):
    """Checks a password; None means "not by me" and the next provider is asked."""

    name: str

    async def check_password(self, email: str, password: str) -> User | None: ...

    def describe(self) -> dict[str, Any]: ...


class RequestProvider(Protocol):
    """Says who a request is from by its headers and TCP peer; None when the request says nothing.

    It raises a ConvosError (Forbidden, Unauthorized) when the request claims an identity it
    may not claim: that request is refused, it does not fall back to the session cookie.
    """

    name: str

    async def identify(self, headers: Mapping[str, str], peer: str) -> User | None: ...

    def describe(self) -> dict[str, Any]: ...


class Auth:
    """The active providers. The web layer and (later) the IRC listener's SASL go through it."""

    def __init__(self, passwords: Sequence[PasswordProvider], requests: Sequence[RequestProvider],
                 two_factor: TwoFactor | None = None, oidc: OidcProvider | None = None) -> None:
        self.passwords = list(passwords)
        self.requests = list(requests)
        self.two_factor = two_factor
        self.oidc = oidc

    async def check_password(self, email: str, password: str) -> User | None:
        """A sign-in by password alone (the IRC listener's SASL PLAIN): the user, or None.

        A user with two-factor codes on (or required and not set up) is refused: a password
        alone must not get around the second factor. The web login, which asks for the code
        next, uses check_first_factor.
        """
        user = await self.check_first_factor(email, password)
        if user is not None and self.two_factor is not None and (
                self.two_factor.enabled(user) or self.two_factor.must_enrol(user)):
            log.info("Login FAIL for %s: two-factor codes are on, and a password alone was given", user.email)
            return None
        return user

    async def check_first_factor(self, email: str, password: str) -> User | None:
        """The user whose password this is, by the first provider that says so (LDAP, local)."""
        for provider in self.passwords:
            user = await provider.check_password(email, password)
            if user is not None:
                return user
        return None

    async def identify(self, headers: Mapping[str, str], peer: str) -> User | None:
        for provider in self.requests:
            user = await provider.identify(headers, peer)
            if user is not None:
                return user
        return None

    def describe(self) -> list[dict[str, Any]]:
        """The active providers, for the admin page (never a secret)."""
        out = [p.describe() for p in self.requests]
        out += [p.describe() for p in self.passwords]
        if self.oidc is not None:
            out.append(self.oidc.describe())
        if self.two_factor is not None:
            out.append(self.two_factor.describe())
        return out
