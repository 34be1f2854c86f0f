"""IRC over TLS: verified by default, tls_verify=0, CONVOS_TLS_CA, client certificates, plain fallback."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ipaddress
import ssl
from pathlib import Path

import pytest
from conftest import core_of, free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from events_helper import Events, is_state

from convos.store.jsonfile import atomic_write, encode


def make_server_cert(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "irc.test.local")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "server.pem", tmp / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TinyServer:
    """Accepts one client at a time (TLS or plain), records its first line and peer certificate."""

    def __init__(self, context: ssl.SSLContext | None) -> None:
        self.context = context
        self.port = free_port()
        self.lines: asyncio.Queue[tuple[str, bytes | None]] = asyncio.Queue()
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> TinyServer:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port, ssl=self.context)
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sslobj = writer.get_extra_info("ssl_object")
        peer = sslobj.getpeercert(binary_form=True) if sslobj else None
        # Like a real server: greet at once (a TLS client then sees plain text and gives up).
        writer.write(b":irc.test.local NOTICE * :*** Looking up your hostname...\r\n")
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            await self.lines.put((line.decode(errors="replace").strip(), peer))
            await reader.read()  # hold the connection until the client goes away
        except (OSError, TimeoutError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server:
            self.server.close()


@pytest.fixture
def certs(tmp_path):
    return make_server_cert(tmp_path)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = ssl.CERT_OPTIONAL  # ask for the client's certificate, accept any
    ctx.check_hostname = False
    return ctx


async def start_convos(make_client, home, env=None):
    atomic_write(home / "settings.json", encode({"default_connection": ""}))
    client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1",
                                "CONVOS_CONNECT_TIMEOUT": "5", **(env or {})})
    res = await client.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    return client, events


async def add(client, url: str) -> None:
    res = await client.post("/api/connections", json={"url": url})
    assert res.status == 200, await res.text()


async def test_self_signed_is_refused_by_default(make_client, home, certs):
    ctx = tls_context(*certs)
    ctx.verify_mode = ssl.CERT_NONE
    server = await TinyServer(ctx).start()
    client, events = await start_convos(make_client, home)
    await add(client, f"irc://127.0.0.1:{server.port}?tls=1")
    down = await events.wait(is_state("connection", state="disconnected"))
    assert "certificate" in down["message"].lower()
    assert "Reconnecting in" in down["message"]
    conn = core_of(client).get_user("superman@example.com").get_connection("irc-localhost")
    assert "tls=1" in conn.url  # never falls back to plain text after a failed check
    assert server.lines.empty()
    await server.stop()


async def test_tls_verify_off_and_client_certificate(make_client, home, certs):
    # The client certificate Convos will use, made up front so the test server can trust it
    # (Python's ssl cannot accept an unknown client certificate; Convos keeps an existing one).
    from convos.irc.tls import ensure_client_cert

    conn_dir = home / "superman@example.com" / "irc-localhost"
    ensure_client_cert(conn_dir / "irc-localhost.cert", conn_dir / "irc-localhost.key", "superman@example.com")
    ctx = tls_context(*certs)
    ctx.load_verify_locations(conn_dir / "irc-localhost.cert")
    server = await TinyServer(ctx).start()
    client, events = await start_convos(make_client, home)
    await add(client, f"irc://127.0.0.1:{server.port}?tls=1&tls_verify=0")
    await events.wait(is_state("connection", state="connected"))
    first, peer_cert = await asyncio.wait_for(server.lines.get(), 10)
    assert first.startswith("CAP LS")
    conn = core_of(client).get_user("superman@example.com").get_connection("irc-localhost")
    fingerprint = conn.info["certificate"]["fingerprint"]
    assert len(fingerprint) == 128
    # The certificate the server saw is the one whose fingerprint Convos shows.
    assert peer_cert is not None and hashlib.sha512(peer_cert).hexdigest() == fingerprint
    assert (home / "superman@example.com" / "irc-localhost" / "irc-localhost.key").stat().st_mode & 0o077 == 0
    await server.stop()


async def test_custom_ca_verifies(make_client, home, certs):
    ctx = tls_context(*certs)
    ctx.verify_mode = ssl.CERT_NONE
    server = await TinyServer(ctx).start()
    client, events = await start_convos(make_client, home, {"CONVOS_TLS_CA": str(certs[0])})
    await add(client, f"irc://127.0.0.1:{server.port}?tls=1")
    await events.wait(is_state("connection", state="connected"))
    first, _ = await asyncio.wait_for(server.lines.get(), 10)
    assert first.startswith("CAP LS")
    await server.stop()


async def test_plain_server_without_tls_param_falls_back(make_client, home):
    server = await TinyServer(None).start()
    client, _events = await start_convos(make_client, home)
    await add(client, f"irc://127.0.0.1:{server.port}")
    # First a TLS hello the plain server cannot read, then the same client in plain text.
    line = ""
    while not line.startswith("CAP LS"):
        line, _ = await asyncio.wait_for(server.lines.get(), 15)
    conn = core_of(client).get_user("superman@example.com").get_connection("irc-localhost")
    assert "tls=0" in conn.url
    await server.stop()
