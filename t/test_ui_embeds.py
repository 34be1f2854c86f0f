"""Link previews in the browser, from /api/embed: a card built from a page's OpenGraph tags
(text stays text), a photo, one request per link, nothing for a broken link.

The pages come from a small aiohttp site in the test, on 127.0.0.1, so the daemon runs with
CONVOS_EMBED_ALLOW_PRIVATE=1 (docs/embed.md).
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from playwright.async_api import expect
from test_ui_chat import log_of, register_first_user
from test_ui_search import irc_peer_in_convos

HOSTILE = "<img src=x onerror=alert(1)>"
# A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PAGE = """<!DOCTYPE html><html><head>
<meta property="og:title" content="&lt;img src=x onerror=alert(1)&gt;">
<meta property="og:description" content="A page &amp; its &lt;description&gt;">
<meta property="og:image" content="/thumb.png">
<meta property="og:site_name" content="Test site">
<title>ignored</title></head><body><script>alert(2)</script></body></html>"""


class Site:
    def __init__(self) -> None:
        self.url = ""
        self.hits: list[str] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        if request.path == "/page.html":
            return web.Response(text=PAGE, content_type="text/html")
        if request.path in ("/photo.png", "/thumb.png"):
            return web.Response(body=PNG, content_type="image/png")
        return web.Response(status=404, text="not here")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    s = Site()
    app = web.Application()
    app.router.add_get("/{tail:.*}", s.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    s.url = f"http://127.0.0.1:{port}"
    yield s
    await runner.cleanup()


async def test_embeds(ui_daemon: Any, page: Any, irc_client: Any, site: Site) -> None:
    d = await ui_daemon(env={"CONVOS_EMBED_ALLOW_PRIVATE": "1"})
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/embed" in r.url else None)
    third_party: list[str] = []
    page.on("request", lambda r: third_party.append(r.url) if not r.url.startswith(d.url) else None)
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_peer_in_convos(irc_client)
    log = log_of(page)

    # A card from the page's OpenGraph tags; the hostile title is text.
    await alice.privmsg("#convos", f"look at {site.url}/page.html please")
    card = log.locator(".msg", has_text="look at").locator(".embed--card")
    await expect(card).to_be_visible()
    title = card.get_by_role("link", name=HOSTILE)
    await expect(title).to_have_text(HOSTILE)
    await expect(title).to_have_attribute("href", f"{site.url}/page.html")
    await expect(title).to_have_attribute("rel", "noopener noreferrer")
    await expect(card.locator(".embed__desc")).to_have_text("A page & its <description>")
    await expect(card.locator(".embed__provider")).to_have_text("Test site")
    thumb = card.locator("img")
    # Pictures of other sites come through the server: the browser asks no third party.
    await expect(thumb).to_have_attribute("src", "/api/embed/image?url=" + quote(f"{site.url}/thumb.png", safe=""))
    await page.wait_for_function("(img) => img.complete && img.naturalWidth === 1", arg=await thumb.element_handle())
    await expect(log.locator("img[src=x], script")).to_have_count(0)

    # A broken link gets nothing (the site answered 404); a photo is an image.
    async with page.expect_response(lambda r: "/api/embed" in r.url and "nothing-here" in r.url) as answer:
        await alice.privmsg("#convos", f"{site.url}/nothing-here")
    assert (await answer.value).status == 502
    await alice.privmsg("#convos", f"a photo: {site.url}/photo.png")
    photo = log.locator(".msg", has_text="a photo:").locator(".embed--photo img")
    await expect(photo).to_have_attribute("src", "/api/embed/image?url=" + quote(f"{site.url}/photo.png", safe=""))
    await expect(photo).to_be_visible()
    await page.wait_for_function("(img) => img.complete && img.naturalWidth === 1", arg=await photo.element_handle())
    await expect(log.locator(".msg", has_text="nothing-here").locator(".embed")).to_have_count(0)

    # The same link again: the browser asks once.
    await alice.privmsg("#convos", f"again {site.url}/page.html")
    await expect(log.locator(".msg", has_text="again").locator(".embed--card")).to_be_visible()
    assert len([u for u in asked if "page.html" in u]) == 1
    assert site.hits.count("/page.html") == 1
    assert page.seen.dialogs == []
    assert third_party == []  # the page, its thumbnail and the photo: all through Convos


async def test_embeds_keep_the_dom_bounded(ui_daemon: Any, page: Any, irc_client: Any, site: Site) -> None:
    """At most MAX_LIVE (30) previews exist; older ones out of view become empty boxes."""
    d = await ui_daemon(env={"CONVOS_EMBED_ALLOW_PRIVATE": "1"})
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_peer_in_convos(irc_client)
    log = log_of(page)
    links = 45
    for i in range(links):
        await alice.privmsg("#convos", f"link {i}: {site.url}/page.html?n={i}")
    await expect(log.locator(".msg", has_text=f"link {links - 1}:").locator(".embed")).to_be_visible()

    # Scroll up to the first link, letting the previews of what is in view load on the way.
    all_shown = """(log) => {
        const box = log.getBoundingClientRect();
        return [...log.querySelectorAll(".msg[data-embed-url]")].every((m) => {
            const r = m.getBoundingClientRect();
            return r.bottom <= box.top || r.top >= box.bottom || m.querySelector(":scope > .embed");
        });
    }"""
    most = 0
    handle = await log.element_handle()
    while True:
        await page.wait_for_function(all_shown, arg=handle)
        most = max(most, await log.locator(".embed").count())
        if await log.evaluate("(el) => el.scrollTop === 0"):
            break
        await log.evaluate("(el) => { el.scrollTop = Math.max(0, el.scrollTop - el.clientHeight / 2); }")
    await expect(log.locator(".msg", has_text="link 0:").locator(".embed--card")).to_be_visible()
    assert most <= 30
    assert await log.locator(".embed-placeholder").count() >= links - 30
    # Back down: the newest come back from the cache, without new requests.
    hits = len(site.hits)
    await log.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
    await expect(log.locator(".msg", has_text=f"link {links - 1}:").locator(".embed--card")).to_be_visible()
    assert await log.locator(".embed").count() <= 30
    assert len(site.hits) == hits


RENDER_CASES: list[tuple[dict[str, Any], str | None]] = [
    # (the /api/embed answer, the preview's outerHTML or None)
    ({"type": "link", "url": "https://x.org/", "title": "x.org"}, None),
    ({"type": "rich", "url": "https://x.org/a", "title": "https://x.org/a", "description": ""}, None),
    ({"type": "rich", "url": "javascript:alert(1)", "title": "t", "description": "d"}, None),
    ({"type": "rich", "url": "https://x.org/a", "title": "<b>T</b>", "description": "d & <i>e</i>",
      "thumbnail_url": "javascript:alert(1)", "provider_name": "X", "html": "<script>alert(1)</script>"},
     '<div class="embed embed--card"><div class="embed__meta"><p class="embed__provider">X</p>'
     '<a href="https://x.org/a" target="_blank" rel="noopener noreferrer" class="embed__title">&lt;b&gt;T&lt;/b&gt;</a>'
     '<p class="embed__desc">d &amp; &lt;i&gt;e&lt;/i&gt;</p></div></div>'),
    ({"type": "photo", "url": "https://x.org/p.png", "title": "p.png", "thumbnail_url": "https://x.org/p.png"},
     '<div class="embed embed--photo"><a href="https://x.org/p.png" target="_blank" rel="noopener noreferrer" '
     'class="embed__photo" aria-label="p.png"><img src="/api/embed/image?url=https%3A%2F%2Fx.org%2Fp.png" alt="p.png" loading="lazy" '
     'referrerpolicy="no-referrer" class="embed__img" decoding="async"></a></div>'),
    # Video players and videos on other sites are cards: the CSP allows media only from 'self'.
    ({"type": "video", "url": "https://www.youtube.com/watch?v=abcdefghijk", "title": "A video",
      "html": "<iframe src=https://www.youtube-nocookie.com/embed/abcdefghijk></iframe>", "provider_name": "YouTube"},
     '<div class="embed embed--card"><div class="embed__meta"><p class="embed__provider">YouTube</p>'
     '<a href="https://www.youtube.com/watch?v=abcdefghijk" target="_blank" rel="noopener noreferrer" '
     'class="embed__title">A video</a></div></div>'),
    ({"type": "video", "url": "ORIGIN/file/1/clip.mp4", "title": "clip.mp4"},
     '<div class="embed embed--video"><video class="embed__video" src="ORIGIN/file/1/clip.mp4" controls="" '
     'preload="metadata" aria-label="clip.mp4"></video></div>'),
]


async def test_render_embed(client: Any, page: Any) -> None:
    await page.goto(str(client.make_url("/assets/css/convos.css")))
    origin = str(client.make_url("/")).rstrip("/")
    cases = [({k: v.replace("ORIGIN", origin) for k, v in doc.items()}, want and want.replace("ORIGIN", origin))
             for doc, want in RENDER_CASES]
    got = await page.evaluate("""async (docs) => {
        const {renderEmbed} = await import("/assets/js/embeds.js");
        return docs.map((doc) => { const el = renderEmbed(doc); return el ? el.outerHTML : null; });
    }""", [doc for doc, _ in cases])
    assert got == [want for _, want in cases]
