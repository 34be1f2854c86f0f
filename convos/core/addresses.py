"""Which network addresses users may reach: the SSRF rules of link previews and IRC connections."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressCheck = Callable[[IPAddress], bool]
# loop.getaddrinfo's shape: (host, port, type=...) -> [(family, type, proto, canonname, sockaddr)]
Resolve = Callable[..., Awaitable[list[tuple[Any, ...]]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(ip: IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, unspecified, reserved and CGNAT addresses,
    including IPv4 addresses wrapped in IPv6 (mapped, 6to4, NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.is_site_local or (ip.teredo is not None):
            return False
    elif ip in _CGNAT:
        return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_unspecified or ip.is_reserved
    )


def any_address(ip: IPAddress) -> bool:
    return True


def parse_address(text: str) -> IPAddress | None:
    """An IP address literal (an IPv6 zone is ignored), or None for anything else."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def is_loopback_host(host: str | None) -> bool:
    """`localhost` or a loopback address literal: where plain-text http:// or irc:// may listen
    or be fetched from without giving passwords away."""
    if host is None:
        return False
    if host == "localhost":
        return True
    ip = parse_address(host)
    return ip is not None and ip.is_loopback


class NotPublicAddress(Exception):
    """A host is, or resolved to, an address that is not allowed."""

    def __init__(self, host: str, address: str) -> None:
        self.host = host
        self.address = address
        where = host if host == address else f"{host} ({address})"
        super().__init__(f"{where}: not a public address")


async def vetted_addresses(host: str, port: int, allowed: AddressCheck, *, resolve: Resolve | None = None
                           ) -> list[str]:
    """Every address `host` resolves to, once; NotPublicAddress when any of them is not allowed.

    Connect to these addresses (never to the name again), so a second lookup cannot give
    another answer between the check and the connect (DNS rebinding).
    """
    literal = parse_address(host)
    if literal is not None:
        if not allowed(literal):
            raise NotPublicAddress(host, str(literal))
        return [str(literal)]
    lookup = resolve or asyncio.get_running_loop().getaddrinfo
    infos = await lookup(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0])
        ip = parse_address(text)
        if ip is None or not allowed(ip):
            raise NotPublicAddress(host, text)
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise OSError(f"No address for {host}.")
    return addresses
