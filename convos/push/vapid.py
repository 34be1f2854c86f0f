"""The server's VAPID key (RFC 8292): made when a browser first asks for it, kept by the store, and the signed
`Authorization` header of each push service (py-vapid signs; cached until close to expiry)."""

from __future__ import annotations

import base64
import logging
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from ..store.push import PushFiles

log = logging.getLogger(__name__)

# Seconds a token is valid (RFC 8292 allows at most 24 hours) and how long before that we sign anew.
TOKEN_LIFETIME = 12 * 3600
TOKEN_REFRESH = 3600
DEFAULT_SUBJECT = "mailto:root@localhost"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def subject(contact: str) -> str:
    """The `sub` claim: the server's contact (settings.json) when it is a mailto: or https: URL."""
    contact = contact.strip()
    if (contact.startswith("mailto:") and "@" in contact) or contact.startswith("https://"):
        return contact
    return DEFAULT_SUBJECT


class VapidKey:
    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._vapid = Vapid02(private_key, conf={"no-strict": True})
        raw = private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        self.public_key = b64url(raw)  # what browsers pass as applicationServerKey
        self._tokens: dict[tuple[str, str], tuple[float, str]] = {}

    @classmethod
    async def load(cls, store: PushFiles) -> VapidKey | None:
        """The key in the store; None before the first one was made."""
        pem = await store.load_vapid_key()
        if pem is None:
            return None
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"{store.vapid_key_location()}: not a P-256 private key.")
        return cls(key)

    @classmethod
    async def make(cls, store: PushFiles) -> VapidKey:
        """A new key, saved in the store (atomically, mode 0600) before it is used."""
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        await store.save_vapid_key(pem)
        log.info("Made a new VAPID key for Web Push: %s (keep it in backups).", store.vapid_key_location())
        return cls(key)

    def authorization(self, audience: str, sub: str) -> str:
        """`vapid t=<JWT>,k=<public key>` for the push service at `audience` (scheme://host[:port])."""
        now = time.time()
        cached = self._tokens.get((audience, sub))
        if cached is not None and cached[0] - now > TOKEN_REFRESH:
            return cached[1]
        exp = int(now) + TOKEN_LIFETIME
        header = self._vapid.sign({"aud": audience, "sub": sub, "exp": exp})["Authorization"]
        if len(self._tokens) > 1000:  # one per push service in practice
            self._tokens.clear()
        self._tokens[(audience, sub)] = (exp, header)
        return header
