"""What create_app builds: the API from one route table per module, checked against the OpenAPI
document (and 501 for an operation nobody serves), state each application owns, and /assets
from aiohttp's static handler."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from conftest import ROOT, register

from convos.cli import build_core
from convos.config import Config
from convos.paths import share_dir
from convos.web import pages
from convos.web.app import API_ROUTES, api_handlers, create_app
from convos.web.keys import CATALOG, EMBEDDER, TEMPLATES, UPDATE_CHECKER
from convos.web.openapi import ApiSpec
from convos.web.routes import users

SPEC = ApiSpec.load(share_dir() / "convos-api.json")


# --- the route tables ---------------------------------------------------------------------------


def test_the_route_tables_serve_every_operation_once() -> None:
    handlers = api_handlers(SPEC, API_ROUTES)
    assert all(isinstance(table, web.RouteTableDef) for table in API_ROUTES)
    assert set(handlers) == {op.operation_id for op in SPEC.operations}
    assert handlers["getUser"].__name__ == "get_user"
    for module in (ROOT / "convos" / "web" / "routes").glob("[!_]*.py"):
        tree = ast.parse(module.read_text("utf-8"))
        tables = [n for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.value) == "ApiRoutes()"]
        assert tables, f"{module.name} has no route table"


def test_a_route_that_is_no_operation_is_refused() -> None:
    stray = web.RouteTableDef()

    @stray.get("/user/nope")
    async def nope(request: web.Request, inp: dict[str, Any]) -> dict[str, Any]:
        return {}

    with pytest.raises(RuntimeError, match=r"GET /user/nope .* is not an operation"):
        api_handlers(SPEC, [stray])
    with pytest.raises(RuntimeError, match="is served twice"):
        api_handlers(SPEC, [users.routes, users.routes])


async def test_an_operation_nobody_serves_answers_501_after_validation(aiohttp_client: Any, home: Path) -> None:
    config = Config.from_env({"CONVOS_HOME": str(home), "CONVOS_SKIP_CONNECT": "1"})
    core = build_core(config)
    await core.load_settings()
    client = await aiohttp_client(create_app(core, config, api_routes=[users.routes]))
    await core.ready_event.wait()
    # Not logged in: 401, as a built operation would answer.
    assert (await client.get("/api/search")).status == 401
    await register(client, "superman@example.com")
    res = await client.get("/api/search", params={"limit": "many"})
    assert res.status == 400  # the document is checked before any handler
    assert (await res.json())["errors"][0]["path"] == "/limit"
    res = await client.get("/api/search")
    assert res.status == 501
    assert (await res.json())["errors"][0]["message"] == "Not implemented yet."
    assert (await client.get("/api/user")).status == 200  # what the table serves is served


# --- what each application owns -------------------------------------------------------------------


async def test_each_app_owns_its_state(make_client: Any) -> None:
    one = (await make_client()).server.app
    two = (await make_client()).server.app
    for key in (TEMPLATES, CATALOG, UPDATE_CHECKER, EMBEDDER):
        assert one[key] is not two[key], key
    assert "$lang" in one[TEMPLATES]["app.html"].template
    with pytest.raises(KeyError, match=r"nope\.html"):
        one[TEMPLATES]["nope.html"]


def test_no_state_hides_in_module_globals() -> None:
    """Per-app singletons live in AppKeys: no WeakKeyDictionary keyed by the app, no template cache."""
    found = []
    for package in ("web", "embed", "bot"):
        for path in sorted((ROOT / "convos" / package).rglob("*.py")):
            text = path.read_text("utf-8")
            if "WeakKeyDictionary" in text or "_templates" in text or "global _template" in text:
                found.append(str(path.relative_to(ROOT)))
    assert not found


# --- /assets ---------------------------------------------------------------------------------------


@pytest.fixture
def public_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """share/public to serve, with what must never be served beside it."""
    share = tmp_path / "share"
    shutil.copytree(share_dir() / "public", share / "public")
    (share / "public" / ".hidden").write_text("secret")
    (share / "public" / ".git").mkdir()
    (share / "public" / ".git" / "config").write_text("secret")
    (share / "secret.txt").write_text("secret")
    (share / "public" / "leak.txt").symlink_to(share / "secret.txt")
    monkeypatch.setattr(pages, "share_dir", lambda: share)
    return share / "public"


async def test_assets_come_from_the_static_handler(make_client: Any, public_copy: Path) -> None:
    client = await make_client()
    statics = [r for r in client.server.app.router.resources() if isinstance(r, web.StaticResource)]
    assert [r.get_info()["prefix"] for r in statics] == ["/assets"]

    res = await client.get("/assets/js/app.js")
    assert res.status == 200
    assert res.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert res.headers["Cache-Control"] == "no-cache"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert await res.read() == (public_copy / "js" / "app.js").read_bytes()
    again = await client.get("/assets/js/app.js", headers={"If-Modified-Since": res.headers["Last-Modified"]})
    assert again.status == 304
    assert again.headers["Cache-Control"] == "no-cache" and again.headers["X-Content-Type-Options"] == "nosniff"
    for path, ctype in (("css/convos.css", "text/css; charset=utf-8"), ("images/convos.svg", "image/svg+xml"),
                        ("images/icon-192.png", "image/png")):
        res = await client.get(f"/assets/{path}")
        assert (res.status, res.headers["Content-Type"]) == (200, ctype), path
    assert (await client.head("/assets/js/app.js")).status == 200

    for bad in ("/assets/.hidden", "/assets/.git/config", "/assets/js/../.hidden", "/assets/%2e%2e/secret.txt",
                "/assets/..%2fsecret.txt", "/assets/leak.txt", "/assets/nope.js", "/assets/js/"):
        res = await client.get(bad)
        assert res.status in (403, 404), bad
        assert "secret" not in await res.text(), bad
    # The manifest is a page, not a file, and the app's pages keep their CSP.
    res = await client.get("/assets/site.webmanifest")
    assert res.status == 200 and res.content_type == "application/manifest+json"
    res = await client.get("/")
    assert "script-src 'self';" in res.headers["Content-Security-Policy"]
    assert res.headers["X-Content-Type-Options"] == "nosniff"
