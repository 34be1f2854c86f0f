"""REST handlers, one module per resource, registered by OpenAPI operationId."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Input = dict[str, Any]
Handler = Callable[[web.Request, Input], Awaitable[web.StreamResponse | dict[str, Any] | list[Any]]]

HANDLERS: dict[str, Handler] = {}
# The request body as sent (request[RAW_BODY]), read by the endpoint within x-convos-max-body.
RAW_BODY = web.RequestKey("raw_body", bytes)


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise RuntimeError(f"{operation_id} registered twice")
        HANDLERS[operation_id] = fn
        return fn

    return register


def load_all() -> None:
    """Import every module of this package, so each registers its operations."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
