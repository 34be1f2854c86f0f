"""Sign-in (docs/authentication.md): the providers and the chain that uses them (base.py)."""

from __future__ import annotations

from ..config import AuthConfig
from ..core.core import Core
from .base import Auth, PasswordProvider, RequestProvider
from .header import HeaderAuth
from .local import LocalPasswords
from .oidc import OidcProvider
from .totp import TwoFactor

__all__ = ["Auth", "PasswordProvider", "RequestProvider", "build"]


def build(core: Core, config: AuthConfig) -> Auth:
    """The providers CONVOS_AUTH_PROVIDERS and CONVOS_PLUGINS turn on; local passwords always."""
    requests: list[RequestProvider] = []
    passwords: list[PasswordProvider] = []
    if "header" in config.providers:
        requests.append(HeaderAuth(core, config.header, config.header_trusted, config.admin))
    if "ldap" in config.providers:
        # Imported only when turned on: ldap3 and pyasn1 are ~130 modules and 5 MiB of every
        # daemon's memory (docs/performance.md).
        from .ldap import LdapPasswords

        passwords.append(LdapPasswords(core, config))  # first: a bad bind falls back to the local password
    passwords.append(LocalPasswords(core))
    oidc = OidcProvider(core, config) if "oidc" in config.providers else None
    return Auth(passwords, requests, TwoFactor(core, required=config.totp_required), oidc)
