"""Login attempts: token buckets per client address and per account, and one check per address at a time.

Each attempt takes a token from the bucket of its address and of its account before the password
is checked, and a successful login gives them back: only failures count. An empty bucket, or an
address that already has a check waiting or running, is answered 429 with Retry-After, before any
Argon2 work. So one address can never queue more than one check ahead of everyone else's, and
the Argon2 slots (core/passwords.py) stay free for other addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import TooManyRequests

# Buckets kept per table (addresses, accounts); the least recently used goes first. A bucket
# holds a 16-byte digest and two floats, so a full table is a few MiB at most.
MAX_KEYS = 10_000
# Password checks one address may have waiting or running at once.
PENDING_PER_ADDRESS = 1
MESSAGE = "Too many login attempts. Try again later."
CODE_MESSAGE = "Too many wrong codes. Try again later."


class TokenBuckets:
    """`burst` tokens per key, one back every `interval` seconds; at most `max_keys` keys.

    `burst` or `interval` of 0 (or less) means no limit. A key that was forgotten starts full
    again, so the limit is exact for the `max_keys` keys used last.
    """

    def __init__(self, burst: int, interval: float, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.interval = interval
        self.max_keys = max(1, max_keys)
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def unlimited(self) -> bool:
        return self.burst <= 0 or self.interval <= 0

    def _tokens(self, key: str, now: float) -> float:
        entry = self._entries.get(key)
        if entry is None:
            return float(self.burst)
        tokens, stamp = entry
        return min(float(self.burst), tokens + max(0.0, now - stamp) / self.interval)

    def take(self, key: str) -> float:
        """Take a token: 0 when there was one, else the seconds until there is."""
        if self.unlimited:
            return 0.0
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens < 1:
            return (1 - tokens) * self.interval
        self._entries[key] = (tokens - 1, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_keys:
            self._entries.popitem(last=False)
        return 0.0

    def give_back(self, key: str) -> None:
        if self.unlimited or key not in self._entries:
            return
        now = self.clock()
        self._entries[key] = (min(float(self.burst), self._tokens(key, now) + 1), now)


def address_key(address: str) -> str:
    """What one client is: an IPv4 address, or the /64 network of an IPv6 address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _digest(kind: str, value: str) -> str:
    # Fixed-size keys: an address or email of any length costs the same memory.
    return hashlib.blake2b(f"{kind}\0{value}".encode(), digest_size=16).hexdigest()


class Attempt:
    """One login attempt in progress; call succeeded() when the password was right."""

    __slots__ = ("ok",)

    def __init__(self) -> None:
        self.ok = False

    def succeeded(self) -> None:
        self.ok = True


class LoginLimits:
    """Failed-login limits per address and per account (CONVOS_LOGIN_FAILURES_*)."""

    def __init__(self, per_address: int, per_account: int, interval: float, max_keys: int = MAX_KEYS, *,
                 codes_per_account: int = 5, code_interval: float = 300.0) -> None:
        self.clock: Callable[[], float] = time.monotonic
        self.addresses = TokenBuckets(per_address, interval, max_keys, clock=lambda: self.clock())
        self.accounts = TokenBuckets(per_account, interval, max_keys, clock=lambda: self.clock())
        # Wrong two-factor codes per account (CONVOS_AUTH_TOTP_FAILURES*): whoever tries them
        # already has the password, so the bucket is small and slow to refill.
        self.codes = TokenBuckets(codes_per_account, code_interval, max_keys, clock=lambda: self.clock())
        self._pending: dict[str, int] = {}

    @contextmanager
    def code_attempt(self, account: str) -> Iterator[Attempt]:
        """Raises TooManyRequests, or runs the block as one code check (given back on success)."""
        acct = _digest("code", account.strip().lower())
        wait = self.codes.take(acct)
        if wait:
            raise TooManyRequests(CODE_MESSAGE, retry_after=math.ceil(wait))
        attempt = Attempt()
        yield attempt
        if attempt.ok:
            self.codes.give_back(acct)

    @contextmanager
    def attempt(self, address: str, account: str, *, account_exempt: bool = False) -> Iterator[Attempt]:
        """Raises TooManyRequests, or runs the block as one attempt (its tokens come back on success).

        `account_exempt`: the address is the one the account used last, so failures from
        elsewhere do not lock its owner out.
        """
        addr = _digest("address", address_key(address))
        acct = _digest("account", account.strip().lower())
        if self._pending.get(addr, 0) >= PENDING_PER_ADDRESS:
            raise TooManyRequests(MESSAGE, retry_after=1)
        wait = self.addresses.take(addr)
        if not wait and not account_exempt:
            wait = self.accounts.take(acct)
            if wait:
                self.addresses.give_back(addr)
        if wait:
            raise TooManyRequests(MESSAGE, retry_after=math.ceil(wait))
        self._pending[addr] = self._pending.get(addr, 0) + 1
        attempt = Attempt()
        try:
            yield attempt
        finally:
            left = self._pending[addr] - 1
            if left:
                self._pending[addr] = left
            else:
                del self._pending[addr]
            if attempt.ok:
                self.addresses.give_back(addr)
                if not account_exempt:
                    self.accounts.give_back(acct)
