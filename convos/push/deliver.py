"""Delivery to push services (RFC 8030): the payload encrypted for the device (RFC 8291, http-ece),
signed for the service (RFC 8292, vapid.py), POSTed with aiohttp to an address checked after DNS.

Endpoints are URLs that users supply: the SSRF rule of core/addresses.py applies to every
address the host resolves to, and the connection goes to exactly those addresses.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
import http_ece
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography.hazmat.primitives.asymmetric import ec
from yarl import URL

from ..core.addresses import AddressCheck, NotPublicAddress, parse_address, vetted_addresses
from .devices import Device
from .limits import MAX_CONCURRENT, MAX_RESPONSE, MAX_TRIES, REQUEST_TIMEOUT, RETRY_BASE, RETRY_CAP
from .vapid import VapidKey, b64url, b64url_decode

log = logging.getLogger(__name__)


class VettedResolver(AbstractResolver):
    """Resolves through core/addresses.py's vetted_addresses: every address must pass `allowed`,
    and the connector connects to exactly these (no second lookup: no DNS rebinding)."""

    def __init__(self, allowed: AddressCheck) -> None:
        self._allowed = allowed

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        addresses = await vetted_addresses(host, port, self._allowed)
        return [ResolveResult(hostname=host, host=address, port=port,
                              family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST) for address in addresses]

    async def close(self) -> None:
        pass


def encrypt(payload: bytes, p256dh: str, auth: str) -> bytes:
    """The aes128gcm body (RFC 8291) for one device, with a new sender key of its own."""
    sender = ec.generate_private_key(ec.SECP256R1())
    return http_ece.encrypt(payload, private_key=sender, dh=b64url_decode(p256dh),  # type: ignore[no-any-return]
                            auth_secret=b64url_decode(auth), version="aes128gcm")


def topic(key: str) -> str:
    """RFC 8030 Topic (at most 32 base64url characters): a newer message of the same conversation
    replaces one the service still holds."""
    return b64url(hashlib.sha256(key.encode()).digest()[:18])


@dataclass(slots=True)
class Outcome:
    status: int  # the service's HTTP status; 0 when there was no answer
    message: str = ""
    refused: bool = False  # never sent: the endpoint's address is not allowed

    @property
    def retryable(self) -> bool:
        return not self.refused and (self.status in (0, 429) or self.status >= 500)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """The subscription expired or was withdrawn: forget the device."""
        return self.status in (404, 410)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: use our own backoff


class Sender:
    """Owns the HTTP client of push deliveries and the thread that encrypts."""

    def __init__(self, key: VapidKey, subject: Callable[[], str], *, allowed: AddressCheck,
                 ssl_context: ssl.SSLContext | None = None, retry_base: float = RETRY_BASE,
                 request_timeout: float = REQUEST_TIMEOUT) -> None:
        self.key = key
        self.subject = subject
        self.allowed = allowed
        self.retry_base = retry_base
        self.request_timeout = request_timeout
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        # Encryption costs an ECDH per device and message: off the event loop, in one thread.
        self._crypto = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convos-push")

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=VettedResolver(self.allowed), limit=MAX_CONCURRENT,
                                             ssl=self._ssl if self._ssl is not None else True)
            self._session = aiohttp.ClientSession(connector=connector,
                                                  timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._crypto.shutdown(wait=False, cancel_futures=True)

    async def send(self, device: Device, payload: bytes, *, ttl: int, urgency: str = "normal",
                   topic_key: str = "") -> Outcome:
        """Deliver to one device; 429, 5xx and network errors are tried again (MAX_TRIES in all)."""
        body = await asyncio.get_running_loop().run_in_executor(self._crypto, encrypt, payload, device.p256dh,
                                                                device.auth)
        outcome = Outcome(0)
        for attempt in range(MAX_TRIES):
            outcome, retry_after = await self._post(device.endpoint, body, ttl, urgency, topic_key)
            if not outcome.retryable or attempt == MAX_TRIES - 1:
                break
            delay = self.retry_base * 2 ** attempt
            if retry_after is not None:
                delay = max(delay, retry_after)
            if delay > RETRY_CAP:
                break  # the service wants us to wait longer than a notification is worth
            await asyncio.sleep(delay)
        return outcome

    async def _post(self, endpoint: str, body: bytes, ttl: int, urgency: str, topic_key: str
                    ) -> tuple[Outcome, float | None]:
        url = URL(endpoint)
        try:
            literal = parse_address(url.raw_host or "")
            if literal is not None and not self.allowed(literal):
                # The connector does not ask the resolver about an address literal.
                raise NotPublicAddress(url.raw_host or "", str(literal))
            headers = {
                "Authorization": self.key.authorization(str(url.origin()), self.subject()),
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "TTL": str(ttl),
                "Urgency": urgency,
            }
            if topic_key:
                headers["Topic"] = topic(topic_key)
            async with self.session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                text = await resp.content.read(MAX_RESPONSE)
                message = text.decode("utf-8", "replace").strip()[:200]
                return Outcome(resp.status, message or resp.reason or ""), _retry_after(resp.headers.get("Retry-After"))
        except NotPublicAddress as err:
            return Outcome(0, f"Refused: {err}.", refused=True), None
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as err:
            return Outcome(0, f"{type(err).__name__}: {err}"), None


class DeliveryThread:
    """The Sender on an event loop of its own, in a thread: the requests, their TLS and the
    encryption of a burst of 1,000 deliveries cost the main loop (IRC, the web) one hand-over
    each, not the work. Same `send` and `close` as the Sender."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="convos-push-delivery", daemon=True)

    def start(self) -> DeliveryThread:
        self._thread.start()
        self._ready.wait()
        return self

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def send(self, device: Device, payload: bytes, *, ttl: int, urgency: str = "normal",
                   topic_key: str = "") -> Outcome:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(
            self.sender.send(device, payload, ttl=ttl, urgency=urgency, topic_key=topic_key), self._loop)
        return await asyncio.wrap_future(future)

    async def close(self) -> None:
        loop = self._loop
        if loop is None or not self._thread.is_alive():
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.sender.close(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(self._thread.join)
