"""Request base URL, readiness, the Origin check, and the one place errors become HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from ..errors import ConvosError, ErrorItem, Forbidden, InvalidInput, NotReady
from .keys import CONFIG, CORE
from .render import not_found_page, render_error

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def error_response(err: ConvosError) -> web.Response:
    return json_response(err.to_dict(), status=err.status, headers=err.headers or None)


def own_path(request: web.Request) -> str:
    """The request's path without the base path."""
    base = request.get("base_path", "")
    path = request.path
    return path[len(base) :] if base and path.startswith(base) else path


def is_api(request: web.Request) -> bool:
    path = own_path(request)
    return path == "/api" or path.startswith(("/api/", "/api."))


_HTTP_MESSAGES = {
    404: "Not Found.",
    405: "Method Not Allowed.",
    413: "Request body is too large.",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /api error leaves as {"errors":[{"message","path"}]}; nothing escapes as a bare 500."""
    try:
        response = await _answer(request, handler)
    except web.HTTPException as exc:
        exc.headers["X-Provider-Name"] = "ConvosApp"
        raise
    response.headers["X-Provider-Name"] = "ConvosApp"
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ConvosError as err:
        if is_api(request) or request.headers.get("Accept", "").startswith("application/json"):
            return error_response(err)
        return html_error(request, err.status, err.errors[0].message if err.errors else "Error")
    except web.HTTPException as exc:
        if exc.status == 404 and not is_api(request):
            return not_found_page(request)
        if exc.status < 400 or not is_api(request):
            raise
        message = _HTTP_MESSAGES.get(exc.status, exc.reason + ".")
        body = {"errors": [{"message": message, "path": "/"}], "status": exc.status}
        return json_response(body, status=exc.status)
    except Exception:
        log.exception("Unhandled error in %s %s", request.method, request.path)
        if is_api(request):
            body = {"errors": [{"message": "Internal server error.", "path": "/"}], "status": 500}
            return json_response(body, status=500)
        return html_error(request, 500, "Internal server error.")


def html_error(request: web.Request, status: int, message: str) -> web.Response:
    return render_error(request, status, message)


@web.middleware
async def base_url_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Work out the public base URL (reverse proxy, CONVOS_REQUEST_BASE or the request itself)."""
    config = request.app[CONFIG]
    header = request.headers.get("X-Request-Base")
    if header is not None and not config.reverse_proxy:
        # The original answers 500 here; a clear 400 says what to fix.
        raise InvalidInput("X-Request-Base header was seen, but CONVOS_REVERSE_PROXY is not set.")
    if header:
        base = header
    elif config.request_base:
        base = config.request_base
    else:
        scheme = request.scheme
        if config.reverse_proxy:
            scheme = request.headers.get("X-Forwarded-Proto", scheme).split(",")[0].strip() or scheme
        base = f"{scheme}://{request.host}/"
    try:
        parts = urlsplit(base)
    except ValueError:
        raise InvalidInput("Invalid base URL.", "/X-Request-Base") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("Invalid base URL.", "/X-Request-Base")
    base_path = parts.path.rstrip("/")
    request["base_path"] = base_path
    request["base_url"] = f"{parts.scheme}://{parts.netloc}{base_path}/"
    return await handler(request)


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(url: str, *, with_path: bool = False) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not host or (parts.path not in ("", "/") and not with_path):
        return None
    return scheme, host.lower(), port or DEFAULT_PORTS[scheme]


def origin_allowed(request: web.Request) -> bool:
    """No Origin and no Referer (not a browser), or the origin the app is served from.

    The `Origin` header decides; without it, the scheme, host and port of the `Referer`.
    Allowed: the scheme, host and port of the public base URL, and the Host header of the
    request with the base URL's scheme (or, without a reverse proxy, the request's own scheme).
    Behind a proxy the request's scheme is the proxy's, so plain http is not trusted there.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        got = _origin_key(origin)
    else:
        referer = request.headers.get("Referer", "").strip()
        if not referer:
            return True
        got = _origin_key(referer, with_path=True)
    if got is None:
        return False
    base = request.get("base_url", "")
    allowed = {_origin_key(base, with_path=True)}
    host = request.headers.get("Host")
    if host:
        schemes = {urlsplit(base).scheme}
        if not request.app[CONFIG].reverse_proxy:
            schemes.add(request.scheme)
        allowed.update(_origin_key(f"{scheme}://{host}") for scheme in schemes)
    return got in allowed


STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# GET routes that change state: logout (it also needs the session's csrf token).
_LOGOUT_PATHS = frozenset({"/logout", "/api/user/logout", "/api/user/logout.json", "/api/user/logout.html"})


@web.middleware
async def origin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state changes a page on another site asks for (CSRF, login CSRF).

    Webhooks are exempt: they come from GitHub or Gitea, and check their own senders.
    """
    path = own_path(request)
    changes = request.method in STATE_CHANGING or (request.method == "GET" and path in _LOGOUT_PATHS)
    if changes and not path.startswith("/api/webhook/") and not origin_allowed(request):
        log.info("Refused %s %s from %s: Origin %r, Referer %r (serving %s).", request.method, path,
                 request.remote, request.headers.get("Origin"), request.headers.get("Referer"),
                 request.get("base_url"))
        raise Forbidden("Invalid Origin.", "/Origin")
    return await handler(request)


@web.middleware
async def ready_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.app[CORE].ready:
        if is_api(request):
            # The original's body has no "path" here.
            err = NotReady(errors=[ErrorItem("Backend is starting.")])
            return json_response({"errors": [{"message": "Backend is starting."}]}, status=err.status)
        return html_error(request, 503, "Backend is starting")
    return await handler(request)


async def remember_base_url(request: web.Request) -> None:
    """Persist the base URL the way users reach us (used for links in invites and pastes).

    Only an admin's requests may change it, so a forged Host header from anyone else
    cannot rewrite the links we hand out.
    """
    core = request.app[CORE]
    base = request.get("base_url")
    if base and base != core.settings.base_url:
        core.settings.base_url = base
        await core.save_settings()
