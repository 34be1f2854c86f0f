"""REST handlers, one module per resource, each with its own `routes` (an ApiRoutes, a web.RouteTableDef).

A handler is declared with the method and path of its operation in share/convos-api.json
(`@routes.get("/user")`, the path without `/api`) and takes the request and its validated input.
create_app (web/app.py) lists the tables, validates every request against the document before
the handler runs, and answers 501 for an operation no table serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiohttp import web

Input = dict[str, Any]
Handler = Callable[[web.Request, Input], Awaitable[web.StreamResponse | dict[str, Any] | list[Any]]]


class ApiRoutes(web.RouteTableDef):
    """A route table of API handlers. They take the validated input besides the request, and may
    answer with what becomes JSON, so they are not aiohttp handlers: create_app wraps each of
    them (web/app.py) and never adds this table to a router as it is. Only the handler type of
    the decorators differs from web.RouteTableDef's, hence the ignored overrides."""

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:  # type: ignore[override]
        return self._api("GET", path)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:  # type: ignore[override]
        return self._api("POST", path)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:  # type: ignore[override]
        return self._api("DELETE", path)

    def _api(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.route(method, path)(cast(Any, handler))
            return handler

        return register
