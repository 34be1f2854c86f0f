"""Request base URL, readiness, and the one place errors become HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from ..errors import ConvosError, ErrorItem, InvalidInput, NotReady
from .keys import CONFIG, CORE

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def error_response(err: ConvosError) -> web.Response:
    return json_response(err.to_dict(), status=err.status, headers=err.headers or None)


def is_api(request: web.Request) -> bool:
    base = request.get("base_path", "")
    path = request.path
    if base and path.startswith(base):
        path = path[len(base) :]
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
            from .pages import not_found_page  # pages import middlewares for json_response

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
    from .pages import render_error  # pages import middlewares for json_response

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
