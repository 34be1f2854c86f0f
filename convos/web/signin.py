"""Sign-in steps beside the API: the two-factor code check the routes share, and the pages
of the OpenID Connect flow."""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from ..auth.oidc import OidcProvider, Pending
from ..core.user import User
from ..errors import ConvosError, InvalidInput
from .keys import AUTH, LOGIN_LIMITS
from .render import render_error
from .session import login, session_of

log = logging.getLogger(__name__)


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


# --- OpenID Connect: /auth/oidc/login sends the browser to the provider, which sends it back
# to /auth/oidc/callback. Both land on fixed pages of ours: no return URL is ever taken from
# the request, so neither can redirect anywhere else (no open redirect).

_PENDING = "oidc"


def _redirect_uri(request: web.Request) -> str:
    return f"{request['base_url']}auth/oidc/callback"


def _oidc(request: web.Request) -> OidcProvider:
    oidc = request.app[AUTH].oidc
    if oidc is None:
        raise web.HTTPNotFound()
    return oidc


async def oidc_login(request: web.Request) -> web.StreamResponse:
    oidc = _oidc(request)
    try:
        url, pending = await oidc.begin(_redirect_uri(request))
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        return _unreachable(request, err)
    session = await session_of(request)
    session[_PENDING] = pending.to_dict()
    raise web.HTTPFound(url, headers={"Cache-Control": "no-store"})


async def oidc_callback(request: web.Request) -> web.StreamResponse:
    oidc = _oidc(request)
    session = await session_of(request)
    # Taken out of the cookie whatever happens next: a sign-in is tried once.
    pending = Pending.from_dict(session.pop(_PENDING, None))
    try:
        user = await oidc.finish(request.query, pending, _redirect_uri(request))
    except ConvosError as err:
        message = err.errors[0].message if err.errors else "Sign-in failed."
        return render_error(request, err.status, message, link_text="Log in")
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        return _unreachable(request, err)
    await login(request, user, method="oidc")
    raise web.HTTPFound(request.get("base_path", "") + "/chat", headers={"Cache-Control": "no-store"})


def _unreachable(request: web.Request, err: Exception) -> web.Response:
    log.warning("OpenID Connect: the identity provider cannot be reached: %s", err)
    return render_error(request, 502, "The identity provider cannot be reached.", link_text="Log in")


def add_oidc_routes(app: web.Application) -> None:
    app.router.add_get("/auth/oidc/login", oidc_login)
    app.router.add_get("/auth/oidc/callback", oidc_callback)
