"""getDictionary: the translations of the best matching language."""

from __future__ import annotations

from aiohttp import web

from ..i18n import choose_language, request_languages
from ..keys import CATALOG, CONFIG
from ..middlewares import json_response
from . import ApiRoutes, Input

routes = ApiRoutes()

ONE_DAY = 86400


@routes.get("/i18n/{lang}")
async def get_dictionary(request: web.Request, inp: Input) -> web.Response:
    """`/api/i18n/{lang}`: only the path decides, so the cached answer cannot depend on headers."""
    dictionaries = await request.app[CATALOG].dictionaries()
    lang = choose_language(request_languages(request, str(inp.get("lang", ""))), dictionaries.meta)
    reload = request.app[CONFIG].reload_dictionaries
    cache = "no-cache" if reload else f"max-age={ONE_DAY}"
    return json_response(dictionaries.response(lang), headers={"Cache-Control": cache})
