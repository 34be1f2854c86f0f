"""Invite and password-recovery tokens: HMAC-SHA1 as the original computes them."""

from __future__ import annotations

import hashlib
import hmac


def make_token(secret: str, email: str, exp: int | str, material: str) -> str:
    message = f"email:{email}:exp:{exp}:password:{material}"
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).hexdigest()


def token_matches(secrets: list[str], email: str, exp: int | str, material: str, token: str) -> bool:
    """True when any configured secret (old ones included, for rotation) made `token`."""
    ok = False
    for secret in secrets:
        # Compare against every secret so timing does not tell which one matched.
        ok |= hmac.compare_digest(make_token(secret, email, exp, material), token)
    return ok
