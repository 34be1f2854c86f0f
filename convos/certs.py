"""Self-signed certificates kept in CONVOS_HOME: made once with `cryptography`, written 0600 and
atomically, and their fingerprints. The IRC core makes client certificates with it (SASL
EXTERNAL, CertFP) and the IRC listener its server certificate."""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def ensure_self_signed(cert: Path, key: Path, make_key: Callable[[], PrivateKey],
                       subject: Sequence[tuple[x509.ObjectIdentifier, str]],
                       *, days: int = 3650, dns_names: Sequence[str] = (),
                       key_format: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> None:
    """Write a key from `make_key()` and a certificate for it, signed by itself, unless both exist.

    Both files are mode 0600 and written to a temp file, synced and renamed: a crash leaves the
    old file or the new one, never a torn one. The key is written first, so a certificate on disk
    always has its key."""
    if cert.is_file() and key.is_file():
        return
    private = make_key()
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in subject])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
                                        critical=False)
    certificate = builder.sign(private, hashes.SHA256())
    cert.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(key, private.private_bytes(serialization.Encoding.PEM, key_format, serialization.NoEncryption()))
    write_private(cert, certificate.public_bytes(serialization.Encoding.PEM))


def write_private(path: Path, data: bytes) -> None:
    """`data` into `path`, mode 0600, atomically."""
    # Not ".swap": the store sweeps those from CONVOS_HOME when it starts, maybe while this runs.
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fingerprint(cert: Path, algorithm: str) -> str:
    """The `algorithm` ("sha256", "sha512") digest of the (first) certificate in `cert`, in DER,
    lower-case hex without colons."""
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    return hashlib.new(algorithm, loaded.public_bytes(serialization.Encoding.DER)).hexdigest()
