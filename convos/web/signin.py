"""Sign-in steps the routes share: the two-factor code check."""

from __future__ import annotations

from aiohttp import web

from ..core.user import User
from ..errors import InvalidInput
from .keys import AUTH, LOGIN_LIMITS


async def check_code(request: web.Request, user: User, code: str, missing: str) -> None:
    """A two-factor or recovery code of the user, or InvalidInput at /body/code; wrong codes
    are limited per account (429, CONVOS_AUTH_TOTP_FAILURES)."""
    two_factor = request.app[AUTH].two_factor
    if two_factor is None:
        raise InvalidInput("Two-factor codes are off.", "/body/code")
    if not code:
        raise InvalidInput(missing, "/body/code")
    with request.app[LOGIN_LIMITS].code_attempt(user.email) as attempt:
        if not await two_factor.verify(user, code):
            raise InvalidInput("Invalid two-factor code.", "/body/code")
        attempt.succeeded()
