"""The SSRF guard of link previews: a resolver that refuses names resolving to addresses users may not reach.

Which addresses those are is core/addresses.py's rule, shared with IRC connections.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from ..core.addresses import AddressCheck, parse_address


class BlockedAddress(Exception):
    """A host resolved to (or is) an address we do not fetch from."""

    def __init__(self, host: str, address: str) -> None:
        where = host if host == address else f"{host} ({address})"
        super().__init__(f"Refusing to fetch {where}: not a public address.")


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` and refuses the whole answer if any address fails `allowed`.

    The connector connects to exactly the addresses returned here, so a name cannot be
    re-resolved to something else between the check and the connect (DNS rebinding).
    """

    def __init__(self, allowed: AddressCheck, inner: AbstractResolver) -> None:
        self._allowed = allowed
        self._inner = inner

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            ip = parse_address(result["host"])
            if ip is None or not self._allowed(ip):
                raise BlockedAddress(host, result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()
