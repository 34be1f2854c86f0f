"""TLS for IRC: verified by default, with a per-connection client certificate made by cryptography."""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def make_context(*, verify: bool, ca_file: str = "", cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A client context. Verification is on unless the URL says `tls_verify=0`."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None and key is not None and cert.is_file() and key.is_file():
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def ensure_client_cert(cert: Path, key: Path, email: str, bits: int = 2048, days: int = 3650) -> None:
    """Create a self-signed client certificate (for SASL EXTERNAL / CertFP) unless one exists."""
    if cert.is_file() and key.is_file():
        return
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Convos"),
        x509.NameAttribute(NameOID.COMMON_NAME, email.split("@")[0][:64] or "convos"),
        x509.NameAttribute(NameOID.EMAIL_ADDRESS, email[:128] or "convos@localhost"),
    ])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(private, hashes.SHA256())
    )
    cert.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_bytes = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    _write_private(key, key_bytes)
    _write_private(cert, certificate.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.swap")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fingerprint(cert: Path) -> str:
    """SHA-512 of the DER certificate, lower-case hex without colons ('' when there is none)."""
    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return ""
    return hashlib.sha512(loaded.public_bytes(serialization.Encoding.DER)).hexdigest()
