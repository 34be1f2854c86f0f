"""A local push service for tests (RFC 8030 as far as Convos uses it), over TLS with a test CA.

It checks what a real one checks: the VAPID JWT (RFC 8292) against the key the server
publishes, the TTL and encoding headers; and it decrypts each message (RFC 8291) with the
private key of the test's own subscription, so a test reads what the phone would show.
Each endpoint answers with the statuses a test scripts (201 when none are left).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import os
import ssl
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from py_vapid import jwt as vapid_jwt

from convos.cli import build_app, build_core
from convos.config import Config
from convos.push import Push
from convos.web.keys import PUSH


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class TestCA:
    """A CA made for this test, and a certificate of it for 127.0.0.1 and localhost."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def make(cls) -> TestCA:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Convos test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, encipher_only=False, decipher_only=False),
                             critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "push.test")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        return cls(ca.public_bytes(pem), cert.public_bytes(pem),
                   key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    def client_context(self) -> ssl.SSLContext:
        """What Convos connects with: trusts this CA only."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def server_context(self, tmp: Any) -> ssl.SSLContext:
        cert, key = tmp / "push-cert.pem", tmp / "push-key.pem"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context


@dataclass
class Device:
    """A browser's side of a subscription: its key pair and auth secret, and its endpoint."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}


@dataclass
class Received:
    name: str
    status: int  # what the stub answered
    headers: dict[str, str]
    claims: dict[str, Any]
    payload: dict[str, Any]
    at: float


class PushStub:
    def __init__(self, ca: TestCA) -> None:
        self.ca = ca
        self.devices: dict[str, Device] = {}
        self.script: dict[str, deque[int]] = defaultdict(deque)
        self.delay: dict[str, float] = {}  # seconds an endpoint waits before it answers
        self.received: list[Received] = []
        self.problems: list[str] = []  # what a real push service would refuse
        self.vapid_key = ""  # the server's public key (GET /api/push/key); the JWT must verify with it
        self._arrived = asyncio.Condition()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self, tmp: Any) -> PushStub:
        app = web.Application()
        app.router.add_post("/push/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ca.server_context(tmp))
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def device(self, name: str, host: str = "127.0.0.1") -> Device:
        device = self.devices[name] = Device(f"https://{host}:{self.port}/push/{name}")
        return device

    def answer(self, name: str, *statuses: int) -> None:
        self.script[name].extend(statuses)

    def of(self, name: str) -> list[Received]:
        return [r for r in self.received if r.name == name]

    async def wait(self, count: int, name: str | None = None, timeout: float = 10) -> list[Received]:
        """Until `count` messages (of endpoint `name`) arrived; returns them."""
        def got() -> list[Received]:
            return [r for r in self.received if name is None or r.name == name]

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(got()) >= count), timeout)
        return got()

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        if name in self.delay:
            await asyncio.sleep(self.delay[name])
        claims: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        try:
            claims = self._check_vapid(request)
            for header, want in (("Content-Encoding", "aes128gcm"), ("Content-Type", "application/octet-stream")):
                if request.headers.get(header) != want:
                    raise ValueError(f"{header}: {request.headers.get(header)!r}")
            if not request.headers.get("TTL", "").isdigit():
                raise ValueError("no TTL")
            if request.headers.get("Urgency") not in ("very-low", "low", "normal", "high"):
                raise ValueError(f"Urgency: {request.headers.get('Urgency')!r}")
            device = self.devices[name]
            plain = http_ece.decrypt(body, private_key=device.key, auth_secret=device.auth, version="aes128gcm")
            payload = json.loads(plain)
        except Exception as err:  # every problem is the test's business
            self.problems.append(f"{name}: {type(err).__name__}: {err}")
            status = 400
        else:
            status = self.script[name].popleft() if self.script[name] else 201
        async with self._arrived:
            self.received.append(Received(name, status, dict(request.headers), claims, payload, time.monotonic()))
            self._arrived.notify_all()
        headers = {"Retry-After": "0"} if status == 429 else {}
        return web.Response(status=status, text="" if status == 201 else f"status {status}", headers=headers)

    def _check_vapid(self, request: web.Request) -> dict[str, Any]:
        scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
        if scheme != "vapid":
            raise ValueError(f"Authorization scheme {scheme!r}")
        parts = dict(part.split("=", 1) for part in rest.split(","))
        if parts.get("k") != self.vapid_key:
            raise ValueError("k is not the server's public key")
        claims = vapid_jwt.decode(parts["t"], parts["k"])  # raises InvalidSignature
        if claims.get("aud") != f"https://{request.host}":
            raise ValueError(f"aud {claims.get('aud')!r}")
        if not (time.time() < claims["exp"] <= time.time() + 24 * 3600):
            raise ValueError(f"exp {claims['exp']}")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError(f"sub {claims.get('sub')!r}")
        return claims


# --- fixtures (a pytest plugin of t/conftest.py) ----------------------------------------------

PushClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture(scope="module")
def test_ca() -> TestCA:
    return TestCA.make()


@pytest.fixture
async def stub(test_ca: TestCA, tmp_path: Path) -> AsyncIterator[PushStub]:
    """The local push service, started for the test."""
    service = await PushStub(test_ca).start(tmp_path)
    yield service
    await service.close()


@pytest.fixture
def push_client(aiohttp_client: Any, home: Path, test_ca: TestCA) -> PushClient:
    """An app built as the daemon builds it, whose push deliveries trust the test CA."""

    async def make(env: dict[str, str] | None = None, **push_attrs: Any) -> TestClient:
        config = Config.from_env({"CONVOS_HOME": str(home), "CONVOS_SKIP_CONNECT": "1",
                                  "CONVOS_IRC_ALLOW_PRIVATE": "1", "CONVOS_PUSH_ALLOW_PRIVATE": "1", **(env or {})})
        core = build_core(config)
        await core.load_settings()
        app = build_app(core, config)
        push = app[PUSH]
        assert isinstance(push, Push)
        push.ssl_context = test_ca.client_context()
        push.retry_base = 0.01
        for name, value in push_attrs.items():
            setattr(push, name, value)
        client = await aiohttp_client(app)
        await asyncio.wait_for(core.ready_event.wait(), 10)
        return client

    return make


def push_of(client: TestClient) -> Push:
    push = client.server.app[PUSH]
    assert isinstance(push, Push)
    return push


async def subscribe(client: TestClient, stub: PushStub, name: str, **extra: Any) -> dict[str, Any]:
    res = await client.post("/api/push/subscriptions",
                            json={"subscription": stub.device(name, **extra).subscription(), "name": name})
    body = await res.json()
    assert res.status == 200, body
    return body


async def logged_in(client: TestClient, stub: PushStub, email: str = "superman@example.com", *,
                    register: bool = True) -> None:
    """Register (the first user) and tell the stub the server's VAPID key."""
    if register:
        res = await client.post("/api/user/register", json={"email": email, "password": "longenough"})
        assert res.status == 200, await res.text()
    res = await client.get("/api/push/key")
    assert res.status == 200
    stub.vapid_key = (await res.json())["public_key"]
