"""Webhook requests: which providers we know, who may send them (source network or signature)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Where each provider names the event. Gitea also sends the GitHub header, older versions only Gogs'.
EVENT_HEADERS: dict[str, tuple[str, ...]] = {
    "github": ("x-github-event",),
    "gitea": ("x-gitea-event", "x-gogs-event", "x-github-event"),
}


@dataclass(slots=True)
class Webhook:
    provider: str
    headers: dict[str, str]  # lower-case names
    body: bytes  # exactly as received: signatures are over these bytes
    payload: dict[str, Any]
    remote_address: str

    @classmethod
    def make(cls, provider: str, headers: Mapping[str, str], body: bytes, payload: dict[str, Any],
             remote_address: str) -> Webhook:
        return cls(provider, {k.lower(): v for k, v in headers.items()}, body, payload, remote_address)

    @property
    def event(self) -> str:
        """The event name; 400 when the provider's header is missing."""
        for name in EVENT_HEADERS[self.provider]:
            value = self.headers.get(name, "").strip()
            if value:
                return value
        header = "X-GitHub-Event" if self.provider == "github" else "X-Gitea-Event"
        raise InvalidInput(f"Missing {header} header.", f"/{header}")

    def signed_with(self, secrets: Iterable[str]) -> bool:
        """Whether X-Hub-Signature-256 (`sha256=<hex>`) or X-Gitea-Signature (`<hex>`) matches a secret."""
        given = []
        hub = self.headers.get("x-hub-signature-256", "").strip()
        if hub[:7].lower() == "sha256=":
            given.append(hub[7:])
        gitea = self.headers.get("x-gitea-signature", "").strip()
        if gitea:
            given.append(gitea)
        if not given:
            return False
        ok = False
        for secret in secrets:
            if not secret:
                continue
            expected = hmac.new(secret.encode("utf-8"), self.body, hashlib.sha256).hexdigest().encode("ascii")
            for sig in given:
                # Every candidate is compared in full, so timing does not tell which one matched.
                ok |= hmac.compare_digest(expected, sig.lower().encode("utf-8", "replace"))
        return ok


def parse_networks(cidrs: Iterable[str]) -> list[Network]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            log.warning("CONVOS_WEBHOOK_NETWORKS: %r is not a network; ignoring it.", cidr)
    return networks


def address_in(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:140.82.112.1 is a GitHub address on a dual-stack socket
    return any(ip.version == net.version and ip in net for net in networks)
