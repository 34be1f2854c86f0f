"""Screenshots of the main screens for docs/screenshots (light, dark, a 360 px phone).

Not part of a normal run: `CONVOS_UI_SCREENSHOTS=1 bin/convos-test t/test_ui_screenshots.py`
refreshes the PNG files. Refresh them when the UI changes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
EMAIL = "superman@example.com"

pytestmark = pytest.mark.skipif(not os.environ.get("CONVOS_UI_SCREENSHOTS"),
                                reason="set CONVOS_UI_SCREENSHOTS=1 to refresh docs/screenshots")


async def test_screenshots(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    d = await ui_daemon()
    await page.emulate_media(color_scheme="light")
    await page.goto(d.url + "/register")
    await page.get_by_label("Email").fill(EMAIL)
    await page.screenshot(path=str(OUT / "register-light.png"))
    await page.get_by_label("Password").fill("s3cret-enough")
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    nav = page.get_by_role("navigation", name="Conversations")
    await expect(nav.get_by_role("img", name="Connected")).to_be_visible()

    lois = await irc_client("lois")
    jimmy = await irc_client("jimmy")
    perry = await irc_client("perry_white")
    for c in (lois, jimmy, perry):
        await c.join("#convos")
    await lois.send("TOPIC #convos :The Daily Planet newsroom \x02·\x02 https://convos.chat")
    await jimmy.join("#photos")
    await page.get_by_role("button", name="Add conversation").click()
    await page.get_by_label("Channel or nick").fill("#photos")
    await page.get_by_role("dialog").get_by_role("button", name="Add").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23photos$"))
    await nav.get_by_role("link", name="#convos").click()
    composer = page.get_by_role("textbox", name="Message #convos")
    # Joins and a part in a row: one folded line.
    for nick in ("clark_k", "bruce_w"):
        peer = await irc_client(nick)
        await peer.join("#convos")
    await peer.send("PART #convos :back to Gotham")
    await expect(page.get_by_role("log").locator(".fold__toggle")).to_have_text("2 joined, 1 left")
    await lois.privmsg("#convos", "Morning all! Anyone seen the proofs for page one?")
    await lois.privmsg("#convos", "They should be on my desk by nine.")
    await jimmy.privmsg("#convos", "\x01ACTION waves from the darkroom\x01")
    await jimmy.privmsg("#convos", "Uploading them now: https://example.com/proofs/page-one.png")
    await composer.fill("Thanks Jimmy, I'll take a look.")
    await composer.press("Enter")
    await perry.privmsg("#convos", "superman: meeting in \x0304,99five\x03 minutes, \x02sharp\x02.")
    await perry.send("NOTICE #convos :Reminder: deadline at \x1f17:00\x1f")
    await lois.privmsg("#convos", "Rendering of <b>tags</b> stays as text, as it should.")
    await lois.privmsg("superman", "Lunch later?")
    await jimmy.privmsg("#photos", "New batch is in.")
    await expect(page.get_by_role("log").get_by_text("Rendering of <b>tags</b>")).to_be_visible()
    await expect(nav.get_by_role("link", name=re.compile("^lois"))).to_be_visible()
    await page.get_by_role("button", name="Add conversation").focus()
    await composer.fill("/jo")
    await page.screenshot(path=str(OUT / "chat-light.png"))

    await composer.fill("")
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(OUT / "chat-dark.png"))
    # The nick menu of someone in the log (an operator's: op, voice, kick and ban too).
    await page.get_by_role("log").locator(".msg__nick[data-nick='perry_white']").first.click()
    await expect(page.get_by_role("menu", name="perry_white")).to_be_visible()
    await page.screenshot(path=str(OUT / "nick-menu-dark.png"))
    await page.keyboard.press("Escape")
    await composer.focus()

    await page.set_viewport_size({"width": 360, "height": 740})
    await page.emulate_media(color_scheme="light")
    await expect(nav).not_to_be_in_viewport()  # the drawer slid away
    await page.screenshot(path=str(OUT / "phone-chat.png"))
    await page.get_by_role("button", name="Show conversations").click()
    await expect(nav.get_by_role("link", name="#photos")).to_be_in_viewport(ratio=1)
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(OUT / "phone-sidebar-dark.png"))


def gradient_png(width: int = 320, height: int = 180) -> bytes:
    """A blue-to-green picture for the link previews (no image library needed)."""
    import struct
    import zlib

    rows = b"".join(b"\x00" + b"".join(bytes((40 + 80 * y // height, 90 + 120 * x // width, 200 - 90 * x // width))
                                       for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def test_screenshots_search_and_previews(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    from aiohttp import web
    from test_ui_search import irc_peer_in_convos, wait_until_found

    picture = gradient_png()
    site = web.Application()
    article = """<!DOCTYPE html><html><head>
        <meta property="og:title" content="Proofs for page one: the new layout">
        <meta property="og:description" content="Three columns, a bigger masthead and room for the photo of the week.">
        <meta property="og:image" content="/cover.png"><meta property="og:site_name" content="Daily Planet">
        </head><body></body></html>"""
    site.router.add_get("/proofs", lambda _: web.Response(text=article, content_type="text/html"))
    site.router.add_get("/cover.png", lambda _: web.Response(body=picture, content_type="image/png"))
    site.router.add_get("/darkroom.png", lambda _: web.Response(body=picture, content_type="image/png"))
    runner = web.AppRunner(site)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    base = f"http://127.0.0.1:{tcp._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        d = await ui_daemon(env={"CONVOS_EMBED_ALLOW_PRIVATE": "1", "CONVOS_MAX_UPLOAD_SIZE": "100000"})
        await page.emulate_media(color_scheme="light")
        await page.goto(d.url + "/register")
        await page.get_by_label("Email").fill(EMAIL)
        await page.get_by_label("Password").fill("s3cret-enough")
        await page.get_by_role("button", name="Register").click()
        await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
        lois = await irc_peer_in_convos(irc_client, "lois")
        jimmy = await irc_peer_in_convos(irc_client, "jimmy")
        await lois.privmsg("#convos", "superman: the proofs for page one are ready")
        await jimmy.privmsg("#convos", f"Layout draft: {base}/proofs")
        await jimmy.privmsg("#convos", f"And the photo from the darkroom: {base}/darkroom.png")
        await lois.privmsg("#convos", "Perry wants the proofs before noon.")
        log = page.get_by_role("log")
        await expect(log.locator(".embed--photo img")).to_be_visible()
        await expect(log.locator(".embed--card img")).to_be_visible()
        composer = page.get_by_role("textbox", name="Message #convos")
        async with page.expect_file_chooser() as chooser:
            await page.get_by_role("button", name="Upload a file").click()
        await (await chooser.value).set_files(files=[{"name": "scan-of-page-one.tiff", "mimeType": "image/tiff",
                                                      "buffer": b"x" * 200_000}])
        await expect(page.get_by_role("alert")).to_contain_text("Maximum message size exceeded")
        await composer.fill("Looks good, send it to print.")
        await page.emulate_media(color_scheme="dark")
        await page.screenshot(path=str(OUT / "previews-dark.png"))

        await page.emulate_media(color_scheme="light")
        await wait_until_found(page, "Perry wants the proofs")
        await page.goto(d.url + "/search?q=proofs")
        await expect(page.get_by_role("list", name="Search results").get_by_role("listitem")).to_have_count(3)
        await page.screenshot(path=str(OUT / "search-light.png"))
    finally:
        await runner.cleanup()


async def test_screenshots_media_tools_and_themes(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    """Inline media and a paste, the header's tools, the download dialog, two themes, the login page."""
    from test_ui_media import upload
    from test_ui_search import irc_peer_in_convos

    OUT.mkdir(parents=True, exist_ok=True)
    d = await ui_daemon()
    await page.emulate_media(color_scheme="light")
    await page.goto(d.url + "/register")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill("s3cret-enough")
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    lois = await irc_peer_in_convos(irc_client, "lois")
    await lois.send("TOPIC #convos :The Daily Planet newsroom")
    log = page.get_by_role("log")
    composer = page.get_by_role("textbox", name="Message #convos")
    picture = await upload(page, "front-page.png", gradient_png(480, 200))
    paste = await upload(page, "story.txt", "".join(
        f"{i:2}. {line}\n" for i, line in enumerate([
            "METROPOLIS - A mysterious flying man rescued the crew",
            "of the Constitution yesterday, when its landing gear failed",
            "over the harbour. Witnesses describe a figure in blue",
            "and red who lifted the ship to the ground.",
            "", "The Daily Planet has learned that the same man", "was seen on the waterfront last week.",
            "More on page two."], 1)))
    await lois.privmsg("#convos", "superman: the front page, draft two")
    await composer.fill(f"Here it is: {picture}")
    await composer.press("Enter")
    await lois.privmsg("#convos", f"And the story so far: {paste}")
    await expect(log.locator(".embed--photo img")).to_be_visible()
    await expect(log.locator(".embed--paste pre")).to_be_visible()
    await page.locator(".conv__header").get_by_role("button", name="Edit topic").click()
    await page.locator(".conv__header").get_by_role("textbox", name="Topic").fill("The Daily Planet newsroom · deadline 17:00")
    await page.screenshot(path=str(OUT / "media-light.png"))
    await page.locator(".conv__header").get_by_role("textbox", name="Topic").press("Escape")

    await page.locator(".conv__header").get_by_role("button", name="Download history").click()
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(OUT / "download-dark.png"))
    await page.keyboard.press("Escape")

    await page.emulate_media(color_scheme="light")
    for theme, name in (("nord", "Nord"), ("desert", "Desert")):
        await page.goto(d.url + "/settings/account")
        await page.get_by_role("group", name="Theme").get_by_label(name, exact=True).check()
        await page.goto(d.url + "/chat/irc-localhost/%23convos")
        await expect(page.get_by_role("log").locator(".embed--photo img")).to_be_visible()
        await page.screenshot(path=str(OUT / f"theme-{theme}.png"))
    await page.goto(d.url + "/settings/account")
    await page.get_by_role("group", name="Theme").get_by_label("Auto", exact=True).check()
    await page.get_by_role("group", name="Theme").scroll_into_view_if_needed()
    await page.screenshot(path=str(OUT / "settings-themes-light.png"))

    await page.context.clear_cookies()
    await page.emulate_media(color_scheme="dark")
    await page.goto(d.url + "/login")
    await expect(page.get_by_role("region", name="Log in")).to_be_visible()
    await page.screenshot(path=str(OUT / "login-dark.png"))
