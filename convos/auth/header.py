"""A reverse proxy says who the user is in a header (the original's Auth::Header), trusted only
from the addresses of CONVOS_AUTH_HEADER_TRUSTED."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.core import Core
from ..core.user import User, normalize_email, valid_email
from ..errors import Forbidden, InvalidInput, Unauthorized

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Sequence[str]) -> tuple[Network, ...]:
    """Addresses and CIDR networks; a bad item is an error at start-up, not a silent hole."""
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"CONVOS_AUTH_HEADER_TRUSTED: {item!r} is not an address or a network.") from None
    return tuple(out)


def in_networks(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


class HeaderAuth:
    """`header: email` from a trusted proxy signs the request in; an unknown email is registered
    on first sight (while there are no users, only CONVOS_ADMIN's)."""

    name = "header"

    def __init__(self, core: Core, header: str, trusted: Sequence[str], admin: str) -> None:
        self.core = core
        self.header = header
        self.trusted = parse_networks(trusted)
        self.admin = normalize_email(admin)

    async def identify(self, headers: Mapping[str, str], peer: str) -> User | None:
        value = headers.get(self.header)
        if value is None:
            return None
        if not in_networks(peer, self.trusted):
            # Someone talks to us directly, not through the proxy, and names a user: refuse it
            # loudly (a firewall or CONVOS_AUTH_HEADER_TRUSTED is wrong, or this is an attack).
            log.warning("Refused %s header from %s: not in CONVOS_AUTH_HEADER_TRUSTED.", self.header, peer or "?")
            raise Forbidden(f"The {self.header} header is not accepted from this address.", f"/{self.header}")
        email = normalize_email(value)
        if not valid_email(email):
            raise InvalidInput(f"The {self.header} header is not an email address.", f"/{self.header}")
        user = self.core.get_user(email)
        if user is not None:
            return user
        if not self.core.users and email != self.admin:
            log.warning("Refused %s from %s: the first user must be CONVOS_ADMIN.", email, self.header)
            raise Unauthorized("The first user must be the one CONVOS_ADMIN names.")
        try:
            user = await self.core.create_user(email, None, peer)
        except Unauthorized:  # registered by a request that came in at the same time
            user = self.core.user(email)
            return user
        log.info("Registered %s from the %s header.", email, self.header)
        await self.core.connections.initial_connection(user)
        return user

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": "Trusted header", "header": self.header,
                "trusted": [str(n) for n in self.trusted]}
