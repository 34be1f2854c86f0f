"""Link previews, /api/embed (spec §4.9, fact 91), against a local site that the tests start."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient, TestServer
from conftest import free_port, register

from convos.cli import build_core
from convos.config import Config
from convos.core.addresses import is_public_address
from convos.embed import Embedder, Limits, LinkCache
from convos.embed.page import Link, PageParser, decode, describe_page, parse_page, safe_url
from convos.web.app import create_app
from convos.web.keys import EMBEDDER

PRIVATE_OK = {"CONVOS_EMBED_ALLOW_PRIVATE": "1"}
HUGE = 50 * 1024 * 1024
CHUNK = 64 * 1024

OG_PAGE = """<!DOCTYPE html><html><head>
<title>Not this one</title>
<meta property="og:title" content="An OpenGraph page">
<meta property="og:description" content="With a description.">
<meta property="og:image" content="/pics/cover.jpg">
<meta property="og:site_name" content="The Test Site">
</head><body><meta property="og:title" content="Not from the body"></body></html>"""

OEMBED_PAGE = """<html><head><title>Page title</title>
<link rel="alternate" type="application/json+oembed" href="/oembed.json?url=x" title="oEmbed">
<meta property="og:title" content="OpenGraph title"></head><body></body></html>"""

OEMBED_DOC = {
    "type": "video", "version": "1.0", "title": "Title from oEmbed", "author_name": "Some Author",
    "provider_name": "Tube", "thumbnail_url": "http://cdn.example.com/thumb.jpg", "width": 640, "height": 360,
    "html": '<iframe src="https://evil.example/player"></iframe><script>alert(1)</script>',
}

PLAIN_PAGE = """<html><head><title>  Plain &amp; simple
  page </title><meta name="description" content="Just a page."></head><body>hi</body></html>"""

HOSTILE_PAGE = """<html><head>
<meta property="og:title" content='"><script>alert(1)</script>" onerror="alert(2)'>
<meta property="og:description" content="<img src=x onerror=alert(3)>">
<meta property="og:image" content="javascript:alert(4)">
<meta property="og:site_name" content='<b onmouseover="alert(5)">x</b>'>
</head><body></body></html>"""


@dataclass
class Site:
    """A small website the embedder fetches from; it counts hits and notices disconnects."""

    server: TestServer | None = None
    hits: Counter[str] = field(default_factory=Counter)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    sent: int = 0
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    redirect_to: str = ""

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))


def site_app(site: Site) -> web.Application:
    async def html_page(request: web.Request, text: str) -> web.Response:
        return web.Response(text=text, content_type="text/html")

    async def stream(request: web.Request, content_type: str, head: bytes) -> web.StreamResponse:
        res = web.StreamResponse(headers={"Content-Type": content_type})
        await res.prepare(request)
        try:
            await res.write(head)
            site.sent = len(head)
            while site.sent < HUGE:
                await res.write(b"x" * CHUNK)
                site.sent += CHUNK
        except (ConnectionError, asyncio.CancelledError):
            site.disconnected.set()
            raise
        return res

    async def slow(request: web.Request) -> web.StreamResponse:
        res = web.StreamResponse(headers={"Content-Type": "text/html"})
        if request.path == "/slow-body":
            await res.prepare(request)
            await res.write(b"<html><head>")
        try:
            await asyncio.wait_for(site.release.wait(), 30)
        except asyncio.CancelledError:
            site.disconnected.set()
            raise
        return res

    routes = {
        "/og": lambda r: html_page(r, OG_PAGE),
        "/oembed-page": lambda r: html_page(r, OEMBED_PAGE),
        "/oembed.json": lambda r: web.json_response(OEMBED_DOC),
        "/plain": lambda r: html_page(r, PLAIN_PAGE),
        "/hostile": lambda r: html_page(r, HOSTILE_PAGE),
        "/pic.png": lambda r: web.Response(body=b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        "/clip.mp4": lambda r: web.Response(body=b"\0" * 64, content_type="video/mp4"),
        "/notes.txt": lambda r: web.Response(text="line <script>alert(1)</script>\n", content_type="text/plain"),
        "/huge": lambda r: stream(r, "text/html", b"<html><head><title>Huge</title></head><body>"),
        "/huge.png": lambda r: stream(r, "image/png", b"\x89PNG\r\n\x1a\n"),
        "/slow": slow,
        "/slow-body": slow,
        "/missing": lambda r: web.Response(status=404, text="nope"),
        "/go": lambda r: web.HTTPFound(site.redirect_to),
        "/oembed-elsewhere": lambda r: html_page(r, '<title>Outside</title><link rel="alternate" '
                                                    f'type="application/json+oembed" href="{site.redirect_to}">'),
        "/loop": lambda r: web.HTTPFound("/loop"),
        "/set-cookie": lambda r: web.HTTPFound("/cookie", headers={"Set-Cookie": "sid=secret; Path=/"}),
        "/cookie": lambda r: html_page(r, f"<title>cookie: {r.headers.get('Cookie', 'none')}</title>"),
    }

    async def handler(request: web.Request) -> web.StreamResponse:
        site.hits[request.path] += 1
        site.headers[request.path] = dict(request.headers)
        answer = routes.get(request.path)
        if answer is None:
            raise web.HTTPNotFound()
        result = answer(request)
        result = await result if asyncio.iscoroutine(result) else result
        if isinstance(result, web.HTTPException):
            raise result
        return result

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def make_site(aiohttp_server: Any) -> AsyncIterator[SiteFactory]:
    sites: list[Site] = []

    async def make(host: str = "127.0.0.1") -> Site:
        site = Site()
        site.server = await aiohttp_server(site_app(site), host=host)
        sites.append(site)
        return site

    yield make
    for site in sites:  # let slow handlers finish before the servers close
        site.release.set()


@pytest.fixture
async def site(make_site: SiteFactory) -> Site:
    return await make_site()


@pytest.fixture
def embed_client(aiohttp_client: Any, home: Path) -> Callable[[Embedder], Awaitable[TestClient]]:
    """A logged-in client of an app whose embedder the test chose (set through the EMBEDDER AppKey)."""

    async def make(embedder: Embedder) -> TestClient:
        config = Config.from_env({"CONVOS_HOME": str(home), "CONVOS_SKIP_CONNECT": "1"})
        core = build_core(config)
        await core.load_settings()
        app = create_app(core, config)
        app[EMBEDDER] = embedder
        client = await aiohttp_client(app)
        await asyncio.wait_for(core.ready_event.wait(), 10)
        await register(client, "superman@example.com")
        return client

    return make


async def logged_in(make_client: Any, env: dict[str, str] | None = None) -> TestClient:
    client = await make_client(env)
    await register(client, "superman@example.com")
    return client


async def embed(client: TestClient, url: str, suffix: str = "", **headers: str) -> tuple[int, Any, Any]:
    res = await client.get(f"/api/embed{suffix}", params={"url": url}, headers=headers)
    body = await (res.text() if suffix == ".html" and res.status == 200 else res.json())
    return res.status, body, res.headers


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


SAFE_TAGS = {"div", "a", "img", "h3", "p", "pre", "video", "audio", "iframe"}


def assert_safe_html(markup: str) -> list[tuple[str, dict[str, str]]]:
    """Only our own tags, no event handlers, and every URL attribute http(s)."""
    collector = TagCollector()
    collector.feed(markup)
    collector.close()
    assert collector.tags, markup
    for tag, attrs in collector.tags:
        assert tag in SAFE_TAGS, (tag, markup)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, markup)
            if name in ("href", "src", "poster"):
                assert value.startswith(("http://", "https://")), (name, value)
    return collector.tags


def assert_error(answer: tuple[int, Any, Any], expected: int, words: str) -> None:
    status, body, _ = answer
    assert status == expected, body
    assert set(body) >= {"errors"}, body
    message = body["errors"][0]["message"]
    assert words in message, message
    assert body["errors"][0]["path"] == "/url"


# ---- the route: auth, input, variants, cache ----

async def test_missing_url_is_400_before_auth_and_anonymous_is_401(client: TestClient) -> None:
    res = await client.get("/api/embed")
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/url"
    res = await client.get("/api/embed", params={"url": "/foo"})
    assert res.status == 401
    assert (await res.json())["errors"][0]["message"] == "Need to log in first."


@pytest.mark.parametrize("url", ["/foo", "ftp://example.com/x", "javascript:alert(1)", "http://", "file:///etc/passwd",
                                 "http://a b/", "http://xn--zz/", "http://a..b/", "http://a:99999/", "http://[::1/"])
async def test_only_http_and_https(make_client: Any, url: str) -> None:
    client = await logged_in(make_client)
    status, body, _ = await embed(client, url)
    assert status == 400, body
    assert body["errors"][0]["path"] == "/url"


async def test_opengraph_page(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    status, doc, headers = await embed(client, site.url("/og"), **{"User-Agent": "TestBrowser/1.0"})
    assert status == 200, doc
    assert headers["Cache-Control"] == "max-age=600"
    assert "X-Cached" not in headers
    assert doc["type"] == "rich" and doc["version"] == "1.0"
    assert doc["url"] == site.url("/og")
    assert doc["title"] == "An OpenGraph page"
    assert doc["description"] == "With a description."
    assert doc["thumbnail_url"] == site.url("/pics/cover.jpg")
    assert doc["provider_name"] == "The Test Site"
    assert doc["cache_age"] == 600
    tags = assert_safe_html(doc["html"])
    assert ("img", {"src": site.url("/pics/cover.jpg"), "alt": "An OpenGraph page", "loading": "lazy",
                    "referrerpolicy": "no-referrer"}) in tags
    assert site.headers["/og"]["User-Agent"] == "TestBrowser/1.0"


async def test_oembed_discovery_is_used_but_its_html_is_not(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    status, doc, _ = await embed(client, site.url("/oembed-page"))
    assert status == 200, doc
    assert site.hits["/oembed.json"] == 1
    assert doc["title"] == "Title from oEmbed"
    assert doc["author_name"] == "Some Author"
    assert doc["provider_name"] == "Tube"
    assert doc["thumbnail_url"] == "http://cdn.example.com/thumb.jpg"
    assert (doc["width"], doc["height"]) == (640, 360)
    # A video from a provider we do not know becomes our own card, never its iframe or script.
    assert doc["type"] == "rich"
    assert "evil.example" not in doc["html"] and "<script" not in doc["html"]
    tags = assert_safe_html(doc["html"])
    assert {t for t, _ in tags} == {"div", "a", "img", "h3", "p"}


async def test_plain_title_page(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    status, doc, _ = await embed(client, site.url("/plain"))
    assert status == 200, doc
    assert doc["title"] == "Plain & simple page"
    assert doc["description"] == "Just a page."
    assert doc["provider_name"] == "127.0.0.1"
    assert "Plain &amp; simple page" in doc["html"]
    assert_safe_html(doc["html"])


async def test_image_video_and_text(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    status, doc, _ = await embed(client, site.url("/pic.png"))
    assert status == 200, doc
    assert (doc["type"], doc["title"], doc["thumbnail_url"]) == ("photo", "pic.png", site.url("/pic.png"))
    assert ("img", {"src": site.url("/pic.png"), "alt": "pic.png", "loading": "lazy",
                    "referrerpolicy": "no-referrer"}) in assert_safe_html(doc["html"])

    status, doc, _ = await embed(client, site.url("/clip.mp4"))
    assert (status, doc["type"]) == (200, "video")
    assert ("video", {"class": "le-video", "src": site.url("/clip.mp4"), "controls": "",
                      "preload": "metadata"}) in assert_safe_html(doc["html"])

    status, doc, _ = await embed(client, site.url("/notes.txt"))
    assert status == 200, doc
    assert doc["html"] == ('<div class="le-paste"><pre class="paste">line &lt;script&gt;alert(1)&lt;/script&gt;\n'
                           "</pre></div>")


async def test_hostile_content_is_escaped_or_dropped(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    status, doc, _ = await embed(client, site.url("/hostile"))
    assert status == 200, doc
    assert doc["title"] == '"><script>alert(1)</script>" onerror="alert(2)'  # JSON carries the text as is
    assert doc["thumbnail_url"] == ""  # javascript: is no image
    markup = doc["html"]
    assert "<script" not in markup and "<b " not in markup and "javascript:" not in markup
    assert "&lt;script&gt;" in markup and "&quot; onerror=&quot;alert(2)" in markup
    assert_safe_html(markup)

    status, text, _headers = await embed(client, site.url("/hostile"), ".html")
    assert status == 200 and text == markup


async def test_html_and_json_variants(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    status, text, headers = await embed(client, site.url("/plain"), ".html")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "max-age=600"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert text.startswith('<div class="le-card') and "Plain &amp; simple page" in text
    status, doc, headers = await embed(client, site.url("/plain"), ".json")
    assert status == 200 and headers["X-Cached"] == "1"
    assert doc["html"] == text
    status, _, headers = await embed(client, site.url("/nope"), ".html")
    assert status == 502 and headers["Content-Type"].startswith("application/json")


async def test_our_own_front_page(make_client: Any) -> None:
    """Spec §4.9: embedding the app's own front page gives its title (loopback, so only with the opt-in)."""
    client = await logged_in(make_client, PRIVATE_OK)
    status, doc, _ = await embed(client, str(client.make_url("/")))
    assert status == 200, doc
    assert doc["title"].startswith("Better group chat")
    assert doc["description"] == "A chat application that runs in your web browser"


async def test_lru_cache(make_client: Any, site: Site) -> None:
    """Fact 91: the second identical request is answered from the cache, with X-Cached: 1."""
    client = await logged_in(make_client, {**PRIVATE_OK, "CONVOS_MAX_LINK_CACHE_SIZE": "2"})
    a, b, c = site.url("/og"), site.url("/plain"), site.url("/pic.png")
    first = await embed(client, a)
    second = await embed(client, a)
    assert "X-Cached" not in first[2] and second[2]["X-Cached"] == "1"
    assert second[1] == first[1] and second[2]["Cache-Control"] == "max-age=600"
    assert site.hits["/og"] == 1
    await embed(client, b)
    assert (await embed(client, a))[2].get("X-Cached") == "1"  # a is now the youngest
    await embed(client, c)  # evicts b, the oldest
    assert (await embed(client, a))[2].get("X-Cached") == "1"
    assert "X-Cached" not in (await embed(client, b))[2]
    assert (site.hits["/og"], site.hits["/plain"], site.hits["/pic.png"]) == (1, 2, 1)
    # Failures are not cached.
    for _ in range(2):
        assert (await embed(client, site.url("/missing")))[0] == 502
    assert site.hits["/missing"] == 2


def test_link_cache_size_zero_keeps_nothing() -> None:
    cache = LinkCache(0)
    cache.put("a", {"x": 1})
    assert cache.get("a") is None and len(cache) == 0


# ---- upstream trouble: errors, limits, timeouts ----

async def test_upstream_errors(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    assert_error(await embed(client, site.url("/missing")), 502, "answered 404")
    assert_error(await embed(client, f"http://127.0.0.1:{free_port()}/"), 502, "Could not connect")
    assert_error(await embed(client, "http://no-such-host.invalid/"), 502, "Could not resolve")
    assert_error(await embed(client, site.url("/loop")), 502, "More than 5 redirects")
    assert site.hits["/loop"] == 6


async def test_a_huge_body_is_cut_at_the_limit(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    started = time.monotonic()
    status, doc, _ = await embed(client, site.url("/huge"))
    assert status == 200, doc
    assert doc["title"] == "Huge"
    await asyncio.wait_for(site.disconnected.wait(), 10)
    # We read 1 MiB; what else left the server sits in socket buffers, nowhere near 50 MB.
    assert site.sent < 16 * 1024 * 1024
    assert time.monotonic() - started < 10


async def test_media_bodies_are_not_downloaded(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    status, doc, _ = await embed(client, site.url("/huge.png"))
    assert (status, doc["type"]) == (200, "photo")
    await asyncio.wait_for(site.disconnected.wait(), 10)
    assert site.sent < 16 * 1024 * 1024


@pytest.mark.parametrize("path", ["/slow", "/slow-body"])
async def test_a_slow_server_times_out(embed_client: Any, site: Site, path: str) -> None:
    client = await embed_client(Embedder(allow_private=True, limits=Limits(connect=0.3, total=0.6)))
    started = time.monotonic()
    assert_error(await embed(client, site.url(path)), 504, "Timed out fetching 127.0.0.1")
    assert time.monotonic() - started < 5
    assert site.hits[path] == 1


async def test_total_limit_covers_every_hop(embed_client: Any, site: Site) -> None:
    """The total limit holds across redirect hops, even when no single read is slow enough to time out."""
    client = await embed_client(Embedder(allow_private=True, limits=Limits(connect=5, total=0.5)))
    site.redirect_to = "/slow"
    started = time.monotonic()
    assert_error(await embed(client, site.url("/go")), 504, "Timed out")
    assert time.monotonic() - started < 3
    assert (site.hits["/go"], site.hits["/slow"]) == (1, 1)


async def test_no_cookies_are_kept(embed_client: Any, site: Site) -> None:
    # A name, not an address: a normal cookie jar would keep a cookie for it (never for a bare IP).
    dns = ScriptedDns({"cookies.test": ["127.0.0.1"]})
    client = await embed_client(Embedder(allow_private=True, lookup=lambda: dns))
    assert site.server is not None
    status, doc, _ = await embed(client, f"http://cookies.test:{site.server.port}/set-cookie")
    assert status == 200, doc
    assert doc["title"] == "cookie: none"
    assert doc["url"] == f"http://cookies.test:{site.server.port}/cookie"
    assert dns.lookups == ["cookies.test", "cookies.test"]


# ---- the SSRF guard ----

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"])
async def test_local_addresses_are_refused(make_client: Any, site: Site, host: str) -> None:
    client = await logged_in(make_client)
    assert site.server is not None
    assert_error(await embed(client, f"http://{host}:{site.server.port}/og"), 400, "not a public address")
    assert site.hits["/og"] == 0


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                 "http://192.168.1.1/", "http://100.64.0.1/", "http://224.0.0.1/",
                                 "https://[fe80::1]/", "http://[fd00::1]/", "http://2130706433/"])
async def test_private_addresses_are_refused(make_client: Any, url: str) -> None:
    client = await logged_in(make_client)
    status, body, _ = await embed(client, url)
    assert status == 400, body
    assert body["errors"][0]["path"] == "/url"


async def test_the_opt_in_allows_private_addresses(make_client: Any, site: Site) -> None:
    client = await logged_in(make_client, PRIVATE_OK)
    assert site.server is not None
    status, doc, _ = await embed(client, f"http://localhost:{site.server.port}/og")
    assert (status, doc["title"]) == (200, "An OpenGraph page")


def pretend_public(*addresses: str) -> Callable[[Any], bool]:
    """Treat a few loopback addresses as if they were on the internet: the test's "public" site."""
    public = {ipaddress.ip_address(a) for a in addresses}
    return lambda ip: ip in public or is_public_address(ip)


async def test_redirect_to_loopback_is_refused(embed_client: Any, make_site: SiteFactory) -> None:
    inside = await make_site("127.0.0.1")
    outside = await make_site("127.0.0.2")
    client = await embed_client(Embedder(allowed=pretend_public("127.0.0.2")))
    # The "public" site itself works...
    status, doc, _ = await embed(client, outside.url("/plain"))
    assert (status, doc["title"]) == (200, "Plain & simple page")
    # ...but it cannot send us inside, by address or by name.
    assert inside.server is not None
    for target in (inside.url("/og"), f"http://localhost:{inside.server.port}/og",
                   f"http://[::1]:{inside.server.port}/og"):
        outside.redirect_to = target
        assert_error(await embed(client, outside.url("/go")), 400, "not a public address")
    assert inside.hits["/og"] == 0
    assert outside.hits["/go"] == 3
    # An oEmbed link goes through the same guard; a refused one just means "no oEmbed".
    outside.redirect_to = inside.url("/oembed.json")
    status, doc, _ = await embed(client, outside.url("/oembed-elsewhere"))
    assert (status, doc["title"]) == (200, "Outside")
    assert inside.hits["/oembed.json"] == 0
    outside.redirect_to = "file:///etc/passwd"
    assert_error(await embed(client, outside.url("/go")), 502, "not http or https")


async def test_redirect_to_loopback_works_with_the_opt_in(embed_client: Any, make_site: SiteFactory) -> None:
    inside = await make_site("127.0.0.1")
    outside = await make_site("127.0.0.2")
    client = await embed_client(Embedder(allow_private=True))
    outside.redirect_to = inside.url("/og")
    status, doc, _ = await embed(client, outside.url("/go"))
    assert (status, doc["title"], doc["url"]) == (200, "An OpenGraph page", inside.url("/og"))


class ScriptedDns(AbstractResolver):
    """Answers for made-up names, the next answer per lookup (the last one sticks): an attacker's DNS server."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        self.lookups.append(host)
        answers = self.answers[host]
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


async def test_we_connect_to_the_address_we_checked(embed_client: Any, make_site: SiteFactory) -> None:
    inside = await make_site("127.0.0.1")
    outside = await make_site("127.0.0.2")
    assert inside.server is not None and outside.server is not None
    dns = ScriptedDns({"rebind.test": ["127.0.0.2", "127.0.0.1", "127.0.0.2"]})
    client = await embed_client(Embedder(allowed=pretend_public("127.0.0.2"), lookup=lambda: dns))
    # rebind.test exists only in ScriptedDns: the connection can only have gone to its vetted answer.
    status, doc, _ = await embed(client, f"http://rebind.test:{outside.server.port}/plain")
    assert (status, doc["title"]) == (200, "Plain & simple page")
    # Next it answers 127.0.0.1: a redirect hop is looked up and checked again.
    outside.redirect_to = f"http://rebind.test:{inside.server.port}/og"
    assert_error(await embed(client, f"http://127.0.0.2:{outside.server.port}/go"), 400, "rebind.test (127.0.0.1)")
    assert inside.hits["/og"] == 0
    assert dns.lookups == ["rebind.test", "rebind.test"]


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:4700:4700::1111", True), ("8.8.8.8", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.0.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("255.255.255.255", False),
    ("224.0.0.1", False), ("240.0.0.1", False), ("192.0.2.1", False), ("::1", False), ("::", False),
    ("fe80::1", False), ("fc00::1", False), ("fd12:3456::1", False), ("ff02::1", False), ("fec0::1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("::ffff:8.8.8.8", True),
    ("2002:7f00:1::", False), ("2002:808:808::", True), ("64:ff9b::a00:1", False), ("::7f00:1", False),
])
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


# ---- the parts that build HTML ----

@pytest.mark.parametrize(("value", "expected"), [
    ("/a.jpg", "http://example.com/a.jpg"), ("https://cdn.example.com/b.png", "https://cdn.example.com/b.png"),
    ("javascript:alert(1)", None), (" JavaScript:alert(1)", None), ("java\nscript:alert(1)", None),
    ("data:image/png;base64,AAAA", None), ("//evil.example/x", "http://evil.example/x"),
    ("http://user:pw@example.com/", None), ("", None), (None, None),
])
def test_safe_url(value: Any, expected: str | None) -> None:
    assert safe_url(value, "http://example.com/page") == expected


@pytest.mark.parametrize(("url", "player"), [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
])
def test_known_video_sites_get_a_sandboxed_player(url: str, player: str) -> None:
    link = describe_page(Link(url=url, provider_name="x"), parse_page("<title>A video</title>"), OEMBED_DOC)
    assert link.type == "video"
    tags = assert_safe_html(link.html)
    assert tags[0][0] == "iframe"
    assert tags[0][1]["src"] == player
    assert tags[0][1]["sandbox"] == "allow-scripts allow-same-origin allow-presentation allow-popups"


@pytest.mark.parametrize("url", ["https://www.youtube.com/watch?v=%22onload%3D", "https://youtu.be/short",
                                 "https://vimeo.com/channels/staff"])
def test_bad_video_ids_get_no_player(url: str) -> None:
    link = describe_page(Link(url=url, provider_name="x"), parse_page("<title>A video</title>"), None)
    assert link.type == "rich" and "<iframe" not in link.html


def test_parser_stops_at_the_body_and_reads_charset() -> None:
    page: PageParser = parse_page('<meta name="description" content="head"><body><title>late</title>')
    assert page.meta == {"description": "head"} and page.title == ""
    assert decode('<meta charset="iso-8859-1"><title>Bl\xe5b\xe6r</title>'.encode("latin-1"), None).endswith(
        "Blåbær</title>")
    assert decode("Blåbær".encode(), "no-such-charset") == "Blåbær"


def test_og_video_file_becomes_a_video_tag() -> None:
    head = ('<meta property="og:video" content="/v.mp4"><meta property="og:video:type" content="video/mp4">'
            '<meta property="og:image" content="/poster.jpg">')
    link = describe_page(Link(url="https://example.com/p"), parse_page(head), None)
    assert link.type == "video"
    tags = assert_safe_html(link.html)
    assert tags[0] == ("video", {"class": "le-video", "src": "https://example.com/v.mp4", "controls": "",
                                 "preload": "metadata", "poster": "https://example.com/poster.jpg"})


async def test_the_default_embedder_follows_config(make_client: Any) -> None:
    """create_app builds one per app from CONVOS_EMBED_ALLOW_PRIVATE and CONVOS_MAX_LINK_CACHE_SIZE."""
    client = await make_client({"CONVOS_MAX_LINK_CACHE_SIZE": "7", "CONVOS_EMBED_ALLOW_PRIVATE": "1"})
    embedder = client.server.app[EMBEDDER]
    assert isinstance(embedder, Embedder)
    assert embedder.cache.size == 7
    assert embedder.allowed(ipaddress.ip_address("127.0.0.1"))
    other = (await make_client()).server.app[EMBEDDER]
    assert other is not embedder
    assert not other.allowed(ipaddress.ip_address("127.0.0.1"))
    assert other.cache.size == 100
