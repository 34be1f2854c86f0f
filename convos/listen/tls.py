"""TLS of the IRC listener: the configured certificate, or a self-signed one made on first start."""

from __future__ import annotations

import datetime
import hashlib
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 3650


def ensure_self_signed(cert: Path, key: Path) -> None:
    """Make a self-signed certificate and its key unless both exist (written atomically, 0600)."""
    if cert.is_file() and key.is_file():
        return
    private = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname() or "localhost"
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Convos"),
        x509.NameAttribute(NameOID.COMMON_NAME, host[:64]),
    ])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(host), x509.DNSName("localhost")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names if host != "localhost" else names[1:]), critical=False)
        .sign(private, hashes.SHA256())
    )
    cert.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(key, private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    _write_private(cert, certificate.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    # Not ".swap": the store sweeps those from CONVOS_HOME when it starts, maybe while this runs.
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fingerprint(cert: Path) -> str:
    """SHA-256 of the (first) certificate in DER, lower-case hex: what clients pin."""
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    return hashlib.sha256(loaded.public_bytes(serialization.Encoding.DER)).hexdigest()


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
