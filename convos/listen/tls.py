"""TLS of the IRC listener: the configured certificate, or a self-signed one made on first start."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .. import certs

VALID_DAYS = 3650


def ensure_self_signed(cert: Path, key: Path) -> None:
    """Make a self-signed certificate and its key unless both exist (written atomically, 0600)."""
    host = socket.gethostname() or "localhost"
    names = [host, "localhost"] if host != "localhost" else ["localhost"]
    certs.ensure_self_signed(cert, key, lambda: ec.generate_private_key(ec.SECP256R1()),
                             [(NameOID.ORGANIZATION_NAME, "Convos"), (NameOID.COMMON_NAME, host[:64])],
                             days=VALID_DAYS, dns_names=names)


def fingerprint(cert: Path) -> str:
    """SHA-256 of the (first) certificate in DER, lower-case hex: what clients pin."""
    return certs.fingerprint(cert, "sha256")


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
