"""Two-factor codes of the logged-in user (and an admin's reset of someone's), and the admin's list
of sign-in providers."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ...auth.totp import TwoFactor
from ...errors import Forbidden, InvalidInput, NotFound
from ..keys import AUTH, CORE, LOGIN_LIMITS
from ..session import remote_address, require_admin, require_login
from ..signin import check_code
from . import ApiRoutes, Input

log = logging.getLogger(__name__)
routes = ApiRoutes()


def _two_factor(request: web.Request) -> TwoFactor:
    two_factor = request.app[AUTH].two_factor
    if two_factor is None:
        raise NotFound("Two-factor codes are off.")
    return two_factor


@routes.get("/user/two-factor")
async def get_two_factor(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return _two_factor(request).status(user)


@routes.post("/user/two-factor")
async def start_two_factor(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    two_factor = _two_factor(request)
    if two_factor.enabled(user):
        raise InvalidInput("Two-factor codes are on already: turn them off first.")
    enrolment = await two_factor.begin(user, user.email)
    return {"secret": enrolment.secret, "uri": enrolment.uri, "qr": enrolment.qr_svg}


@routes.post("/user/two-factor/confirm")
async def confirm_two_factor(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    two_factor = _two_factor(request)
    with request.app[LOGIN_LIMITS].code_attempt(user.email) as attempt:
        codes = await two_factor.confirm(user, str(inp["body"].get("code", "")))
        attempt.succeeded()
    return {**two_factor.status(user), "recovery_codes": codes}


@routes.delete("/user/two-factor")
async def remove_two_factor(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    two_factor = _two_factor(request)
    if two_factor.required:
        raise Forbidden("Your admin requires two-factor codes.")
    body = inp.get("body") or {}
    if user.password:
        password = str(body.get("password") or "")
        limits = request.app[LOGIN_LIMITS]
        with limits.attempt(remote_address(request), user.email, account_exempt=False) as attempt:
            if not await request.app[CORE].check_password(user, password):
                raise InvalidInput("Invalid current password.", "/body/password")
            attempt.succeeded()
    elif two_factor.enabled(user):
        await check_code(request, user, str(body.get("code") or ""), "A current code is required.")
    await two_factor.disable(user)
    return two_factor.status(user)


@routes.delete("/user/{email}/two-factor")
async def reset_two_factor(request: web.Request, inp: Input) -> dict[str, Any]:
    """An admin turns off someone's codes: what to do for a user who lost the app and the
    recovery codes. Not a way around the user's own rules: the admin could reset the password."""
    admin = await require_admin(request, forbidden="Only admins can turn off someone else's two-factor codes.")
    two_factor = _two_factor(request)
    user = request.app[CORE].get_user(str(inp["email"]))
    if user is None:
        raise NotFound("No such user.")
    was_on = two_factor.enabled(user)
    await two_factor.disable(user)
    if was_on:
        log.warning("Two-factor codes of %s turned off by %s.", user.email, admin.email if admin else "the local admin")
    return two_factor.status(user)


@routes.get("/auth/providers")
async def get_auth_providers(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_admin(request, forbidden="Only admins can see the sign-in providers.")
    return {"providers": request.app[AUTH].describe()}
