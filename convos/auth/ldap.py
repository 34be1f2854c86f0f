"""Passwords checked by an LDAP bind (the original's Auth::LDAP), with the local password as
the fallback. Binds run in threads (ldap3 is blocking), a few at a time."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from ..config import AuthConfig, is_true
from ..core.core import Core
from ..core.user import User, normalize_email
from ..errors import Unauthorized

log = logging.getLogger(__name__)

DEFAULT_DN = "uid=%uid,dc=%domain,dc=%tld"
# Binds (threads) at once, server-wide: a slow directory must not take every thread.
BINDS_AT_ONCE = 4


@dataclass(frozen=True, slots=True)
class LdapSettings:
    host: str
    port: int
    use_ssl: bool
    start_tls: bool
    timeout: int  # seconds; ldap3 packs it into a socket option, so whole seconds
    ca_file: str

    @classmethod
    def from_url(cls, url: str, ca_file: str = "") -> LdapSettings:
        """`ldap://host:389?timeout=10&start_tls=1` or `ldaps://host:636`; the query string
        holds options, as in the original (timeout, default 10 s)."""
        parts = urlsplit(url)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ValueError(f"CONVOS_AUTH_LDAP_URL: {url!r} is not an ldap:// or ldaps:// URL.")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        use_ssl = parts.scheme == "ldaps"
        return cls(
            host=parts.hostname, port=parts.port or (636 if use_ssl else 389), use_ssl=use_ssl,
            start_tls=is_true(query.get("start_tls", query.get("starttls", "0")), "start_tls"),
            timeout=max(1, int(float(query.get("timeout", "10")))), ca_file=query.get("ca_file", ca_file),
        )


def placeholders(email: str) -> dict[str, str]:
    """%uid, %domain, %tld and %email of an email: jane@example.com -> jane, example, com."""
    uid, _, host = email.partition("@")
    domain, _, tld = host.rpartition(".") if "." in host else (host, "", "")
    return {"%uid": uid, "%domain": domain, "%tld": tld, "%email": email}


def fill(template: str, values: dict[str, str], escape: Callable[[str], str]) -> str:
    """The template with each placeholder replaced by its escaped value (longest names first)."""
    out = template
    for key in sorted(values, key=len, reverse=True):
        if key in out:
            out = out.replace(key, escape(values[key]) if values[key] else "")
    return out


class LdapPasswords:
    """A bind as the user's DN (CONVOS_AUTH_LDAP_DN), or as the one entry CONVOS_AUTH_LDAP_FILTER
    finds under CONVOS_AUTH_LDAP_BASE. A good bind signs in the user, registering an unknown
    email with that password (as the original does); a bad one lets the local password try."""

    name = "ldap"

    def __init__(self, core: Core, config: AuthConfig) -> None:
        self.core = core
        self.settings = LdapSettings.from_url(config.ldap_url, config.ldap_ca)
        self.dn = config.ldap_dn
        self.base = config.ldap_base
        self.filter = config.ldap_filter
        self.bind_dn = config.ldap_bind_dn
        self.bind_password = config.ldap_bind_password
        if self.filter and not self.base:
            raise ValueError("CONVOS_AUTH_LDAP_FILTER needs CONVOS_AUTH_LDAP_BASE.")
        self._slots = asyncio.Semaphore(BINDS_AT_ONCE)

    async def check_password(self, email: str, password: str) -> User | None:
        email = normalize_email(email)
        if not password or "@" not in email:
            # An empty password is an "unauthenticated bind" that many servers accept.
            return None
        async with self._slots:
            ok = await asyncio.to_thread(self._bind, email, password)
        if not ok:
            return None
        user = self.core.get_user(email)
        if user is not None:
            log.info("Login SUCCESS for %s (LDAP)", email)
            return user
        try:
            user = await self.core.create_user(email, password)
        except Unauthorized:  # taken meanwhile (a broken user directory, or a login at the same time)
            return self.core.get_user(email)
        log.info("Registered %s from LDAP.", email)
        await self.core.connections.initial_connection(user)
        return user

    def user_dn(self, email: str) -> str:
        values = placeholders(email)
        template = self.dn
        if not values["%tld"] and template == DEFAULT_DN:
            template = "uid=%uid,dc=%domain"
        return fill(template, values, escape_rdn)

    def _server(self) -> ldap3.Server:
        s = self.settings
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=s.ca_file or None,
                        version=ssl.PROTOCOL_TLS_CLIENT)
        return ldap3.Server(s.host, port=s.port, use_ssl=s.use_ssl, tls=tls, connect_timeout=s.timeout,
                            get_info=ldap3.NONE)

    def _connection(self, server: ldap3.Server, dn: str | None, password: str | None) -> ldap3.Connection:
        conn = ldap3.Connection(server, user=dn, password=password, receive_timeout=self.settings.timeout,
                                raise_exceptions=False, auto_bind=ldap3.AUTO_BIND_NONE)
        conn.open()
        if self.settings.start_tls and not self.settings.use_ssl:
            conn.start_tls()  # verifies the certificate (CERT_REQUIRED) or raises
        return conn

    def _bind(self, email: str, password: str) -> bool:
        """In a thread: whether the directory takes this password for this email."""
        server = self._server()
        try:
            dn = self.user_dn(email) if not self.filter else self._search(server, email)
            if dn is None:
                log.info("Login FAIL for %s (LDAP): no such entry", email)
                return False
            conn = self._connection(server, dn, password)
            try:
                ok = bool(conn.bind())
            finally:
                conn.unbind()
        except (LDAPException, OSError, ssl.SSLError) as err:
            log.warning("LDAP %s:%s: %s (the local password is checked instead)", self.settings.host,
                        self.settings.port, err)
            return False
        if not ok:
            log.info("Login FAIL for %s (LDAP): %s", email, conn.result.get("description", "bind refused"))
        return ok

    def _search(self, server: ldap3.Server, email: str) -> str | None:
        """The DN of the one entry the filter finds (values escaped), or None."""
        query = fill(self.filter, placeholders(email), escape_filter_chars)
        conn = self._connection(server, self.bind_dn or None, self.bind_password or None)
        try:
            if not conn.bind():
                raise LDAPException(f"search bind refused: {conn.result.get('description')}")
            conn.search(self.base, query, attributes=[], size_limit=2)
            entries = list(conn.entries)
        finally:
            conn.unbind()
        return entries[0].entry_dn if len(entries) == 1 else None

    def describe(self) -> dict[str, Any]:
        s = self.settings
        scheme = "ldaps" if s.use_ssl else "ldap"
        return {"name": self.name, "title": "LDAP", "url": f"{scheme}://{s.host}:{s.port}",
                "start_tls": s.start_tls, "dn": self.dn if not self.filter else "", "filter": self.filter}
