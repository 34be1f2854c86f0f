"""The pages Convos serves outside the app, in headless Chromium: `/file/<uid>/<id>` (what IRC
users open for uploads and pastes) and the page for an unknown address. They look like the
app in both themes (the `convos_js` cookie decides, as for the app), keep their
Content-Security-Policy, number the lines of a paste and give a readable date.

Fixtures: `ui_daemon`, `page` (t/browser.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from browser import contrast_failures
from playwright.async_api import expect
from test_ui_chat import register_first_user

PASTE = ("first line <b>not bold</b>\n\n  indented third line\n" + "x" * 300 + "\n"
         + "".join(f"line {n}\n" for n in range(5, 13)))

UPLOAD_JS = """async ([name, type, text]) => {
    const form = new FormData();
    form.append("file", new Blob([text], {type}), name);
    const res = await fetch("/api/files", {method: "POST", body: form, headers: {Accept: "application/json"}});
    return (await res.json()).files[0];
}"""

LOOK_JS = """() => {
    const css = (el, prop, pseudo) => getComputedStyle(el, pseudo || null).getPropertyValue(prop);
    return {
        font: css(document.body, "font-family"),
        background: css(document.body, "background-color"),
        theme: document.documentElement.dataset.theme || "",
        sheets: [...document.styleSheets].filter((s) => s.href).length,
    };
}"""


def scheme_cookie(url: str, scheme: str) -> dict[str, Any]:
    value = base64.b64encode(json.dumps({"theme": "convos", "colorScheme": scheme}).encode()).decode()
    return {"name": "convos_js", "value": value, "url": url}


def luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


async def test_paste_and_image_pages(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/"))
    paste = await page.evaluate(UPLOAD_JS, ["notes.txt", "text/plain", PASTE])

    res = await page.goto(paste["url"])
    assert res is not None and res.status == 200
    csp = res.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    await expect(page.get_by_role("heading", name="notes.txt", level=1)).to_be_visible()
    look = await page.evaluate(LOOK_JS)
    assert "system-ui" in look["font"], look  # the app's font, not the browser's Times
    assert look["sheets"] >= 1

    # One numbered line per line of the paste, the text as text.
    lines = page.locator(".paste > span")
    await expect(lines).to_have_count(12)
    await expect(lines.nth(11)).to_have_text("line 12")
    await expect(lines.nth(0)).to_have_text("first line <b>not bold</b>")
    await expect(page.locator(".paste b")).to_have_count(0)
    await expect(lines.nth(2)).to_have_text("  indented third line")
    numbers = await lines.evaluate_all("els => els.map((el) => getComputedStyle(el, '::before').content)")
    assert all(n not in ("none", "normal", "") for n in numbers), numbers
    # A line is an anchor: #L3 marks it.
    await expect(lines.nth(2)).to_have_attribute("id", "L3")
    # The long line wraps instead of widening the page.
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    # A date people read, in a <time> element with the exact time.
    date = page.locator("time")
    await expect(date).to_have_text(re.compile(r"^\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC$"))
    await expect(date).to_have_attribute("datetime", paste["saved"])
    await expect(page.get_by_role("link", name="Raw")).to_have_attribute("href", paste["url"] + ".txt")
    await expect(page.get_by_role("link", name="Convos")).to_be_visible()
    assert await contrast_failures(page) == []
    light = await page.evaluate(LOOK_JS)
    assert luminance(light["background"]) > 0.9, light

    # The theme chosen in the app (the convos_js cookie) wins over the system's.
    await page.context.add_cookies([scheme_cookie(d.url, "dark")])
    await page.emulate_media(color_scheme="light")
    await page.goto(paste["url"])
    dark = await page.evaluate(LOOK_JS)
    assert dark["theme"] == "dark" and luminance(dark["background"]) < 0.2, dark
    assert await contrast_failures(page) == []
    await page.context.add_cookies([scheme_cookie(d.url, "light")])
    await page.emulate_media(color_scheme="dark")
    await page.goto(paste["url"])
    again = await page.evaluate(LOOK_JS)
    assert again["theme"] == "light" and luminance(again["background"]) > 0.9, again
    # "Auto": the system's scheme.
    await page.context.add_cookies([scheme_cookie(d.url, "auto")])
    await page.goto(paste["url"])
    auto = await page.evaluate(LOOK_JS)
    assert auto["theme"] == "" and luminance(auto["background"]) < 0.2, auto
    await page.emulate_media(color_scheme="light")

    # An image is shown on the same kind of page, no wider than the screen.
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    await page.goto(d.url + "/chat")
    image = await page.evaluate("""async (bytes) => {
        const form = new FormData();
        form.append("file", new Blob([new Uint8Array(bytes)], {type: "image/png"}), "dot.png");
        const res = await fetch("/api/files", {method: "POST", body: form});
        return (await res.json()).files[0];
    }""", list(png))
    await page.goto(image["url"])
    await expect(page.get_by_role("img", name=image["filename"])).to_be_visible()
    assert "system-ui" in (await page.evaluate(LOOK_JS))["font"]


async def test_unknown_address_is_a_page(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    res = await page.goto(d.url + "/no/such/page")
    assert res is not None and res.status == 404
    assert res.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in res.headers["content-security-policy"]
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    await expect(page.get_by_role("link", name="Go to Convos")).to_have_attribute("href", "/")
    assert "system-ui" in (await page.evaluate(LOOK_JS))["font"]
    assert await page.title() == "Page not found (404) - Convos"

    # A file that does not exist: the same kind of page.
    res = await page.goto(d.url + "/file/1/nosuchfile")
    assert res is not None and res.status == 404
    await expect(page.get_by_role("heading", name="File not found.")).to_be_visible()

    # Under /api the JSON envelope stays.
    res = await page.goto(d.url + "/api/no/such/thing")
    assert res is not None and res.status == 404
    assert json.loads(await res.text()) == {"errors": [{"message": "Not Found.", "path": "/"}], "status": 404}


SOURCE = """#!/usr/bin/env python3
\"\"\"Print the Daily Planet's headlines, newest first.\"\"\"

import json
import sys


def headlines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        stories = json.load(f)
    stories.sort(key=lambda s: s["published"], reverse=True)
    return [f"{s['published'][:10]}  {s['title']}" for s in stories]


if __name__ == "__main__":
    for line in headlines(sys.argv[1] if len(sys.argv) > 1 else "stories.json"):
        print(line)
"""


@pytest.mark.skipif(not os.environ.get("CONVOS_UI_SCREENSHOTS"), reason="set CONVOS_UI_SCREENSHOTS=1 to refresh docs/screenshots")
async def test_paste_page_screenshot(ui_daemon: Any, page: Any) -> None:
    out = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/"))
    paste = await page.evaluate(UPLOAD_JS, ["headlines.py", "text/plain", SOURCE])
    await page.context.add_cookies([scheme_cookie(d.url, "dark")])
    await page.set_viewport_size({"width": 900, "height": 560})
    await page.goto(paste["url"] + "#L9")
    await expect(page.locator(".paste > span")).to_have_count(17)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(out / "paste-dark.png"))
