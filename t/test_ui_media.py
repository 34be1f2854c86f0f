"""Inline media in headless Chromium: uploaded pictures, videos and pastes in the conversation,
the setting that turns media off, and the size cap.

Fixtures: `ui_daemon`, `page` (t/browser.py), `ircd` (t/ircd.py).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from playwright.async_api import expect
from test_ui_admin import second_browser
from test_ui_chat import EMAIL, PASSWORD, log_of
from test_ui_trust import registered, say

# A 2x1 PNG.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4z8AARAAI/gH/xp559wAAAABJRU5ErkJggg=="

UPLOAD = """async ([name, b64, repeat]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const parts = Array(repeat).fill(bytes);
    const body = new FormData();
    body.append("file", new File(parts, name));
    const res = await fetch("/api/files", {method: "POST", body});
    return (await res.json()).files[0].url;
}"""


async def upload(page: Any, name: str, data: bytes | str, repeat: int = 1) -> str:
    raw = data.encode() if isinstance(data, str) else data
    url = await page.evaluate(UPLOAD, [name, base64.b64encode(raw).decode(), repeat])
    assert "/file/" in url
    return str(url)


async def test_uploads_show_inline(ui_daemon: Any, page: Any) -> None:
    d = await registered(ui_daemon, page)
    log = log_of(page)
    picture = await upload(page, "dot.png", base64.b64decode(PNG))
    await say(page, "#convos", f"a picture {picture}")
    img = log.locator(".msg", has_text="a picture").locator(".embed--photo img")
    await expect(img).to_have_attribute("src", picture + ".raw")
    await page.wait_for_function("(img) => img.complete && img.naturalWidth === 2", arg=await img.element_handle())
    await expect(log.locator(".msg", has_text="a picture").get_by_role("link", name="Image")).to_have_attribute("href", picture)

    clip = await upload(page, "clip.webm", b"\x1aE\xdf\xa3" + b"\0" * 64)
    await say(page, "#convos", f"a clip {clip}")
    video = log.locator(".msg", has_text="a clip").locator("video")
    await expect(video).to_have_attribute("src", clip + ".raw")
    await expect(video).to_have_attribute("controls", "")

    # A paste: its first six lines, then all of it.
    text = "\n".join(f"line {i} <b>not bold</b>" for i in range(1, 21)) + "\n"
    paste = await upload(page, "notes.txt", text)
    await say(page, "#convos", f"a paste {paste}")
    box = log.locator(".msg", has_text="a paste").locator(".embed--paste")
    await expect(box.locator("pre")).to_have_text("\n".join(text.splitlines()[:6]))
    await expect(box.locator("b")).to_have_count(0)
    await box.get_by_role("button", name="Show more").click()
    await expect(box.locator("pre")).to_have_text(text.rstrip("\n"))
    await expect(box.get_by_role("button", name="Show more")).to_have_count(0)
    await expect(box.get_by_role("link", name="Open the paste")).to_have_attribute("href", paste)
    # A short paste has nothing more to show.
    short = await upload(page, "short.txt", "just one line\n")
    await say(page, "#convos", f"short {short}")
    # (the open paste moved the log off its end: the new lines are below, out of view)
    await log.locator(".msg", has_text="short").scroll_into_view_if_needed()
    box = log.locator(".msg", has_text="short").locator(".embed--paste")
    await expect(box.locator("pre")).to_have_text("just one line")
    await expect(box.get_by_role("button", name="Show more")).to_have_count(0)

    # Over the size cap (5 MiB): only the link.
    big = await upload(page, "big.png", base64.b64decode(PNG) + b"\0" * (1 << 20), repeat=1)
    huge = await upload(page, "huge.png", base64.b64decode(PNG) + b"\0" * ((5 << 20) + 1))
    await say(page, "#convos", f"big one {big}")
    await log.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
    await expect(log.locator(".msg", has_text="big one").locator(".embed--photo img")).to_be_attached()
    # The huge one's HEAD answers its size, and no preview comes of it.
    async with page.expect_response(lambda r: r.url == huge + ".raw" and r.request.method == "HEAD") as head:
        await say(page, "#convos", f"huge one {huge}")
        await log.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
    assert int((await head.value).headers["content-length"]) > 5 << 20
    huge_msg = log.locator(".msg", has_text="huge one")
    await expect(huge_msg.get_by_role("link", name=huge)).to_be_visible()
    await expect(huge_msg.locator(".embed")).to_have_count(0)

    # The setting turns pictures and videos off; pastes stay.
    await page.goto(d.url + "/settings/account")
    switch = page.get_by_label("Show pictures and videos in conversations")
    await expect(switch).to_be_checked()
    await switch.uncheck()
    await page.goto(d.url + "/chat/irc-localhost/%23convos")
    await expect(log_of(page).locator(".msg", has_text="a paste").locator(".embed--paste")).to_be_visible()
    await expect(log_of(page).locator(".embed--photo, .embed--video")).to_have_count(0)
    await page.reload()
    await expect(log_of(page).locator(".msg", has_text="a paste").locator(".embed--paste")).to_be_visible()
    await expect(log_of(page).locator(".embed--photo, .embed--video")).to_have_count(0)
    # The setting is kept with the account: another browser has it too.
    assert await page.evaluate("fetch('/api/preferences').then((r) => r.json())") == {"inline_media": False, "joins": "fold"}
    async with second_browser() as other:
        await other.goto(d.url + "/login")
        await other.get_by_label("Email").fill(EMAIL)
        await other.get_by_label("Password").fill(PASSWORD)
        await other.get_by_role("button", name="Log in").click()
        await expect(other).to_have_url(re.compile(r"/chat"))
        await other.goto(d.url + "/chat/irc-localhost/%23convos")
        await expect(log_of(other).locator(".msg", has_text="a paste").locator(".embed--paste")).to_be_visible()
        await expect(log_of(other).locator(".embed--photo, .embed--video")).to_have_count(0)
        await other.goto(d.url + "/settings/account")
        await expect(other.get_by_label("Show pictures and videos in conversations")).not_to_be_checked()
