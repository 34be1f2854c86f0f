"""TLS for IRC: verified by default, with a per-connection client certificate made by cryptography."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .. import certs


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
    certs.ensure_self_signed(
        cert, key, lambda: rsa.generate_private_key(public_exponent=65537, key_size=bits),
        [(NameOID.COUNTRY_NAME, "NO"), (NameOID.ORGANIZATION_NAME, "Convos"),
         (NameOID.COMMON_NAME, email.split("@")[0][:64] or "convos"),
         (NameOID.EMAIL_ADDRESS, email[:128] or "convos@localhost")],
        days=days, key_format=serialization.PrivateFormat.TraditionalOpenSSL)


def fingerprint(cert: Path) -> str:
    """SHA-512 of the DER certificate, lower-case hex without colons ('' when there is none)."""
    try:
        return certs.fingerprint(cert, "sha512")
    except (OSError, ValueError):
        return ""
