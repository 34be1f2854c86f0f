"""Two-factor codes for password logins (TOTP, RFC 6238) and single-use recovery codes.

State lives in user.json under `two_factor`: the secret encrypted with Fernet under the key in
`<home>/auth.key` (made on first use, mode 0600), the last time step used (a code works once),
and HMAC-SHA-256 digests of the unused recovery codes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pyotp
from cryptography.fernet import Fernet, InvalidToken

from ..core.core import Core
from ..core.user import User
from ..errors import InvalidInput

KEY = "two_factor"
STEP = 30
# A code of the step before or after counts too (clocks drift); each works once.
WINDOW = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str  # a data: URL of the QR code (SVG), for an <img>


def _qr_svg(uri: str) -> str:
    """The QR code of `uri` as a data: URL of an SVG. In a thread: segno is imported on the first
    enrolment (12 modules, ~1 MiB no daemon needs until then) and draws in pure Python."""
    import segno

    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="svg", scale=4, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def _chunk() -> str:
    return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5))


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


class TwoFactor:
    """Enrol, check and turn off two-factor codes; `required` makes them a must for everyone."""

    name = "totp"

    def __init__(self, core: Core, *, required: bool, issuer: str = "Convos", clock: Any = time.time) -> None:
        self.core = core
        self.required = required
        self.issuer = issuer
        self.clock = clock
        self._fernet: Fernet | None = None
        self._digest_key = b""

    async def _keys(self) -> Fernet:
        if self._fernet is None:
            key = await self.core.store.load_key("auth", Fernet.generate_key)
            self._fernet = Fernet(key)
            self._digest_key = hashlib.sha256(b"convos-recovery\0" + key).digest()
        return self._fernet

    @staticmethod
    def _state(user: User) -> dict[str, Any]:
        state = user.extra.get(KEY)
        return state if isinstance(state, dict) else {}

    def enabled(self, user: User) -> bool:
        return bool(self._state(user).get("secret"))

    def must_enrol(self, user: User) -> bool:
        """Required for everyone and not set up yet: the session may only set it up."""
        return self.required and not self.enabled(user)

    def status(self, user: User) -> dict[str, Any]:
        state = self._state(user)
        return {"enabled": self.enabled(user), "required": self.required,
                "recovery_codes_left": len(state.get("recovery") or []) if self.enabled(user) else 0}

    async def begin(self, user: User, account_name: str) -> Enrolment:
        """A new secret, kept (encrypted) as pending until a code from it confirms it."""
        fernet = await self._keys()
        secret = pyotp.random_base32(32)
        state = dict(self._state(user))
        state["pending"] = fernet.encrypt(secret.encode()).decode()
        user.extra[KEY] = state
        await self.core.save_user(user)
        uri = pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=account_name, issuer_name=self.issuer)
        return Enrolment(secret=secret, uri=uri, qr_svg=await asyncio.to_thread(_qr_svg, uri))

    async def confirm(self, user: User, code: str) -> list[str]:
        """Turn codes on with the pending secret; returns the ten recovery codes (shown once)."""
        fernet = await self._keys()
        state = dict(self._state(user))
        pending = state.get("pending")
        if not isinstance(pending, str):
            raise InvalidInput("Start setting up two-factor codes first.", "/body/code")
        secret = self._decrypt(fernet, pending)
        step = self._matching_step(secret, _clean(code), after=-1)
        if step is None:
            raise InvalidInput("Invalid code.", "/body/code")
        codes = [f"{_chunk()}-{_chunk()}" for _ in range(RECOVERY_CODES)]
        user.extra[KEY] = {"secret": pending, "last_step": step,
                           "recovery": [self._digest(user, c) for c in codes]}
        await self.core.save_user(user)
        return codes

    async def verify(self, user: User, code: str) -> bool:
        """A code from the app (once per time step) or an unused recovery code (then used up)."""
        fernet = await self._keys()
        state = self._state(user)
        if not state.get("secret"):
            return False
        given = _clean(code)
        if given.isdigit() and len(given) == 6:  # a recovery code is 10 characters
            secret = self._decrypt(fernet, str(state["secret"]))
            step = self._matching_step(secret, given, after=int(state.get("last_step", -1)))
            if step is None:
                return False
            # Marked used before anything awaits: the same code sent twice at once works once.
            user.extra[KEY] = {**state, "last_step": step}
        else:
            digest = self._digest(user, given)
            left = [d for d in state.get("recovery") or [] if not hmac.compare_digest(str(d), digest)]
            if len(left) == len(state.get("recovery") or []):
                return False
            user.extra[KEY] = {**state, "recovery": left}
        await self.core.save_user(user)
        return True

    async def disable(self, user: User) -> None:
        if user.extra.pop(KEY, None) is not None:
            await self.core.save_user(user)

    def _matching_step(self, secret: str, code: str, *, after: int) -> int | None:
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret, interval=STEP)
        now = int(self.clock()) // STEP
        found = None
        for step in range(now - WINDOW, now + WINDOW + 1):
            # Every candidate is compared (constant time each), whether or not one matched.
            if hmac.compare_digest(totp.at(step * STEP), code) and step > after and found is None:
                found = step
        return found

    @staticmethod
    def _decrypt(fernet: Fernet, token: str) -> str:
        try:
            return fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            # auth.key was replaced: the secret cannot be read, the user must set codes up again.
            raise InvalidInput("Two-factor codes cannot be checked: ask your admin to turn them off for you.",
                               "/body/code") from None

    def _digest(self, user: User, code: str) -> str:
        return hmac.new(self._digest_key, f"{user.email}\0{_clean(code)}".encode(), hashlib.sha256).hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": "Two-factor codes (TOTP)", "required": self.required}

