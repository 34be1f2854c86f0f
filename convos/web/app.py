"""create_app: the API routes checked against our OpenAPI document, middlewares, sessions, pages,
and what each application owns (its AppKeys)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp_session import session_middleware

from .. import auth
from ..config import Config
from ..core.core import Core
from ..embed import Embedder
from ..errors import NotImplementedYet, PayloadTooLarge, UnsupportedMediaType
from ..paths import share_dir
from . import pages, themes
from .events import setup_events
from .i18n import make_catalog
from .keys import (
    AUTH,
    CATALOG,
    CHAT,
    CONFIG,
    CONNECTIONS,
    CORE,
    EMBEDDER,
    FILES,
    LOGIN_LIMITS,
    PROFILES,
    RAW_BODY,
    SPEC,
    TEMPLATES,
    THEMES,
    UPDATE_CHECKER,
)
from .loginlimit import LoginLimits
from .middlewares import (
    base_url_middleware,
    error_middleware,
    json_response,
    origin_middleware,
    ready_middleware,
)
from .openapi import ApiSpec, Operation
from .routes import (
    Handler,
    appearance,
    apppasswords,
    connections,
    embed,
    files,
    history,
    i18n,
    push,
    settings,
    updates,
    users,
    webhook,
)
from .routes import auth as auth_routes
from .serverlog import ServerLog
from .session import SessionStorage, current_user, require_login
from .signin import add_oidc_routes
from .templates import Templates
from .updates import UpdateChecker

log = logging.getLogger(__name__)

# Operations that also answer with an `.html` suffix in the original.
HTML_SUFFIX = {"embed", "inviteUser", "logoutUser"}
# The API: one route table per resource (routes/<resource>.py).
API_ROUTES: tuple[web.RouteTableDef, ...] = (
    users.routes, connections.routes, history.routes, files.routes, settings.routes, i18n.routes,
    embed.routes, updates.routes, webhook.routes, appearance.routes, push.routes, apppasswords.routes,
    auth_routes.routes,
)


def _not_implemented(op: Operation) -> Handler:
    async def handler(request: web.Request, inp: dict[str, Any]) -> dict[str, Any]:
        if op.auth != "public":
            await require_login(request)
        raise NotImplementedYet("Not implemented yet.")

    return handler


def _too_large() -> PayloadTooLarge:
    # The upload handler reads multipart bodies itself, within the same limit (path /file).
    return PayloadTooLarge("Maximum message size exceeded", "/body")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refused (413) past `limit` bytes: at once when Content-Length says so,
    else as soon as a chunked body passes it. Later readers find it in request[RAW_BODY]."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            raise _too_large()
        chunks.append(chunk)
    body = request[RAW_BODY] = b"".join(chunks)
    return body


def _endpoint(spec: ApiSpec, op: Operation, impl: Handler, config: Config) -> Any:
    wants_body = op.body_schema is not None or "formData" in {p.get("in") for p in op.parameters}
    multipart = any("multipart" in c for c in op.consumes)
    # x-convos-max-body: the operation's own limit, checked before a byte of the body is read;
    # CONVOS_MAX_UPLOAD_SIZE is the ceiling of them all.
    limit = config.max_upload_size
    if op.max_body != "CONVOS_MAX_UPLOAD_SIZE":
        limit = min(limit, int(op.max_body))

    async def handler(request: web.Request) -> web.StreamResponse:
        body: bytes | None = None
        if wants_body and not (multipart and request.content_type.startswith("multipart/")):
            body = await read_body(request, limit)
        if op.body_schema is not None and body and not body.isspace() and request.content_type != "application/json":
            # JSON bodies only as JSON: a form or text/plain body is what a page on another site
            # can send without the browser asking first (CORS preflight).
            raise UnsupportedMediaType("Expected Content-Type: application/json.", "/Content-Type")
        params = dict(request.match_info)
        inp = spec.validate(op, params, request.query, body, request.content_type)
        if "conversation_id" in params:
            await _conversation_in_path(request, inp)
        result = await impl(request, inp)
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    handler.__name__ = op.operation_id
    return handler


async def _conversation_in_path(request: web.Request, inp: dict[str, Any]) -> None:
    """A conversation id encoded twice in the path, as clients of 8.07 send it, means the same conversation."""
    user = await current_user(request)
    conn = user.get_connection(inp["connection_id"]) if user is not None else None
    if conn is not None:
        inp["conversation_id"] = conn.conversation_id_in_path(inp["conversation_id"])


async def api_spec(request: web.Request) -> web.Response:
    """Our OpenAPI document, with host, scheme and basePath of the public base URL."""
    base = urlsplit(request["base_url"])
    doc = request.app[SPEC].for_request(host=base.netloc, base_path=request.get("base_path", ""), scheme=base.scheme)
    return json_response(doc)


async def _core_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Load users in the background (the API answers 503 meanwhile); stop the core on shutdown."""
    core = app[CORE]

    async def start() -> None:
        if not core.ready:
            await core.load_users()
        await core.connections.start_connections()

    task = asyncio.create_task(start(), name="core-start")
    task.add_done_callback(_log_failure)
    yield
    if task is not None and not task.done():
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    await core.stop()


async def _close_embedder(app: web.Application) -> None:
    app[EMBEDDER].close()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("Convos could not start", exc_info=task.exception())


def _route_order(op: Operation) -> tuple[int, str]:
    # Static segments first, so /user/login wins over /user/{email}.
    return (op.path.count("{"), op.path)


def api_handlers(spec: ApiSpec, tables: Iterable[web.RouteTableDef]) -> dict[str, Handler]:
    """The handler of each operation the tables serve, by operationId. A route that is not an
    operation of the document, or an operation served twice, is a mistake: RuntimeError."""
    by_route = {(op.method, op.path): op for op in spec.operations}
    handlers: dict[str, Handler] = {}
    for table in tables:
        for route in table:
            if not isinstance(route, web.RouteDef):
                raise RuntimeError(f"Only routes belong in an API table, not {route!r}.")
            op = by_route.get((route.method, route.path))
            if op is None:
                raise RuntimeError(f"{route.method} {route.path} ({route.handler.__module__}) is not an "
                                   "operation of share/convos-api.json.")
            if op.operation_id in handlers:
                raise RuntimeError(f"{op.operation_id} ({route.method} {route.path}) is served twice.")
            handlers[op.operation_id] = cast(Handler, route.handler)
    return handlers


def create_app(core: Core, config: Config, *, api_routes: Iterable[web.RouteTableDef] = API_ROUTES
               ) -> web.Application:
    """Build the application. Settings must be loaded (for the session secrets) before this.

    `api_routes` serve the operations of share/convos-api.json; an operation none of them serves
    answers 501 (after the login check, so that it tells an anonymous caller no more than 401)."""
    if not core.settings.session_secrets:
        raise RuntimeError("load settings before create_app()")
    spec = ApiSpec.load(share_dir() / "convos-api.json")
    handlers = api_handlers(spec, api_routes)
    storage = SessionStorage(
        core.settings.session_secrets, max_age=config.session_max_age, secure=config.secure_cookies
    )
    app = web.Application(
        client_max_size=config.max_upload_size,
        # Long search strings fit in the URL; the default 8 KiB line limit would cut them off.
        # A malformed request is one line in the log, and a flood of them a few (serverlog.py).
        handler_args={"max_line_size": 32768, "max_field_size": 32768, "logger": ServerLog()},
        middlewares=[error_middleware, base_url_middleware, origin_middleware, session_middleware(storage),
                     ready_middleware],
    )
    app[CORE] = core
    app[CHAT] = core.chat
    app[CONNECTIONS] = core.connections
    app[PROFILES] = core.profiles
    app[FILES] = core.files
    app[CONFIG] = config
    app[SPEC] = spec
    app[AUTH] = auth.build(core, config.auth)
    app[LOGIN_LIMITS] = LoginLimits(config.login_failures_per_address, config.login_failures_per_account,
                                    config.login_failure_interval, codes_per_account=config.auth.totp_failures,
                                    code_interval=config.auth.totp_failure_interval)
    app[EMBEDDER] = Embedder.from_config(config)
    app.on_cleanup.append(_close_embedder)
    app[TEMPLATES] = Templates(share_dir() / "templates")
    app[CATALOG] = make_catalog(config)
    app[UPDATE_CHECKER] = UpdateChecker()
    app[THEMES] = themes.ThemeList(config.home)

    router = app.router
    router.add_get("/api", api_spec)
    router.add_get("/api.json", api_spec)
    for op in sorted(spec.operations, key=_route_order):
        impl = handlers.get(op.operation_id) or _not_implemented(op)
        endpoint = _endpoint(spec, op, impl, config)
        path = "/api" + op.path
        suffixes = [".json", ".html", ""] if op.operation_id in HTML_SUFFIX else [".json", ""]
        for suffix in suffixes:
            router.add_route(op.method, path + suffix, endpoint)
    pages.add_page_routes(app)
    add_oidc_routes(app)
    files.add_file_pages(app)
    app.router.add_routes(themes.page_routes)
    setup_events(app)
    app.cleanup_ctx.append(_core_lifecycle)
    return app
