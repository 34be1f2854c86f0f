"""/api/embed/image: other sites' pictures through the server, within the preview's rules."""
# ruff: noqa: F811 (the fixtures of test_web_embed are imported, and named as parameters)

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from test_web_embed import HUGE, PRIVATE_OK, Site, embed_client, logged_in, make_site, site  # noqa: F401

from convos.embed import Embedder, Limits

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


async def image(client: TestClient, url: str) -> Any:
    return await client.get("/api/embed/image", params={"url": url})


async def test_a_picture_is_passed_on(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    res = await image(client, site.url("/pic.png"))
    assert res.status == 200
    assert await res.read() == b"\x89PNG\r\n\x1a\n"
    assert res.headers["Content-Type"] == "image/png"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert res.headers["Cache-Control"] == "private, max-age=86400"
    assert "Cookie" not in site.headers["/pic.png"]


async def test_refusals(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    cases = [
        ("/og", 415, "Not a picture: text/html."),
        ("/clip.mp4", 415, "Not a picture: video/mp4."),
        ("/missing", 502, "answered 404"),
    ]
    for path, status, words in cases:
        res = await image(client, site.url(path))
        assert res.status == status, path
        body = await res.json()
        assert words in body["errors"][0]["message"], body
        assert body["errors"][0]["path"] == "/url"
    # Too big: cut at the limit, the rest never downloaded.
    res = await image(client, site.url("/huge.png"))
    assert res.status == 415
    assert (await res.json())["errors"][0]["message"] == "The picture is larger than 5242880 bytes."
    assert site.sent < HUGE
    res = await image(client, "javascript:alert(1)")
    assert res.status == 400
    anonymous = await make_client(PRIVATE_OK)
    assert (await image(anonymous, site.url("/pic.png"))).status == 401


async def test_the_address_rules_hold(embed_client: Any, site: Site) -> None:
    """As for previews: the tests' site is on 127.0.0.1, which the default rules refuse."""
    client = await embed_client(Embedder())
    res = await image(client, site.url("/pic.png"))
    assert res.status == 400
    assert "not a public address" in (await res.json())["errors"][0]["message"]
    assert site.hits["/pic.png"] == 0


async def test_content_that_lies_about_its_type(embed_client: Any, site: Site, aiohttp_server: Any) -> None:
    """An SVG or HTML served as image/png is refused by its first bytes; SVG is never passed on."""
    liar = web.Application()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    liar.router.add_get("/fake.png", lambda r: web.Response(body=svg, content_type="image/png"))
    liar.router.add_get("/real.svg", lambda r: web.Response(body=svg, content_type="image/svg+xml"))
    liar.router.add_get("/fake.webp", lambda r: web.Response(body=b"RIFF\0\0\0\0WAVE", content_type="image/webp"))
    server = await aiohttp_server(liar, host="127.0.0.1")
    client = await embed_client(Embedder(allow_private=True, limits=Limits(max_image_bytes=1024)))
    for path, message in (("/fake.png", "Not a picture: image/png that is something else."),
                          ("/real.svg", "Not a picture: image/svg+xml."),
                          ("/fake.webp", "Not a picture: image/webp that is something else.")):
        res = await image(client, str(server.make_url(path)))
        assert res.status == 415, path
        assert (await res.json())["errors"][0]["message"] == message
    res = await image(client, site.url("/huge.png"))
    assert res.status == 415
    assert (await res.json())["errors"][0]["message"] == "The picture is larger than 1024 bytes."
