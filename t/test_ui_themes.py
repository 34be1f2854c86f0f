"""Themes in headless Chromium: every bundled theme readable at WCAG AA, an admin's theme from
CONVOS_HOME/themes in the picker, and a user's own CSS kept with the account.

Fixtures: `ui_daemon`, `page` (t/browser.py).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from browser import contrast_failures
from playwright.async_api import expect
from test_ui_chat import log_of, register_first_user

BUNDLED = {"desert": ("Desert", "light"), "dracula": ("Dracula", "dark"), "hacker": ("Hacker", "dark"),
           "high-contrast": ("High contrast", "light"), "nord": ("Nord", "dark")}


async def test_bundled_themes_are_readable(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    # Text of every kind: nicks, a mention, status lines, the input.
    await page.get_by_role("textbox", name="Message").fill("hello superman, how are you")
    await page.keyboard.press("Enter")
    await expect(log_of(page).get_by_text("hello superman, how are you")).to_be_visible()
    themes = await page.evaluate("fetch('/api/themes').then((r) => r.json())")
    listed = {t["id"]: (t["name"], t["color_scheme"]) for t in themes["themes"]}
    assert BUNDLED.items() <= listed.items(), listed
    html = page.locator("html")
    backgrounds = set()
    for theme_id, (name, scheme) in BUNDLED.items():
        await page.goto(d.url + "/settings/account")
        await page.get_by_role("group", name="Theme").get_by_label(name, exact=True).check()
        await expect(html).to_have_attribute("data-theme", scheme)
        await expect(page.locator("link#theme_primary")).to_have_attribute("href", f"/themes/{theme_id}.css")
        await page.wait_for_function("() => [...document.styleSheets].some((s) => s.ownerNode && s.ownerNode.id === 'theme_primary' && s.cssRules.length)")
        backgrounds.add(await page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert await contrast_failures(page) == [], theme_id
        await page.goto(d.url + "/chat/irc-localhost/%23convos")
        await expect(log_of(page).get_by_text("hello superman, how are you")).to_be_visible()
        assert await contrast_failures(page) == [], theme_id
    assert len(backgrounds) == len(BUNDLED)  # each theme has its own colours
    # The choice is in the cookie, so the server links the theme before any script runs.
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert json.loads(base64.b64decode(cookies["convos_js"]["value"])) == {"theme": "nord", "colorScheme": "dark"}
    res = await page.request.get(d.url + "/chat")
    body = await res.text()
    assert '<link rel="stylesheet" id="theme_primary" href="' + d.url + '/themes/nord.css">' in body
    assert '<html lang="en" data-theme="dark">' in body
    # Back to plain dark: the theme's stylesheet goes away.
    await page.goto(d.url + "/settings/account")
    await page.get_by_role("group", name="Theme").get_by_label("Dark", exact=True).check()
    await expect(page.locator("link#theme_primary")).to_have_count(0)
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(22, 24, 29)"


async def test_admin_theme_and_custom_css(ui_daemon: Any, page: Any, tmp_path: Any) -> None:
    home = tmp_path / "ui-home"
    (home / "themes").mkdir(parents=True)
    (home / "themes" / "MyTheme.css").write_text(
        "/* name: My Theme\n   color-scheme: dark */\n:root[data-theme] { --bg: #102030; --fg: #f0f0f0; }\n")
    (home / "themes" / "bad name.css").write_text("body { color: red }")  # not a valid name: left out
    (home / "themes" / ".hidden.css").write_text("body { color: red }")
    d = await ui_daemon(home)
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    await page.goto(d.url + "/settings/account")
    group = page.get_by_role("group", name="Theme")
    await expect(group.get_by_label("My Theme")).to_be_visible()
    await expect(group.get_by_label("bad name")).to_have_count(0)
    await group.get_by_label("My Theme").check()
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await page.wait_for_function("() => getComputedStyle(document.body).backgroundColor === 'rgb(16, 32, 48)'")
    # Served as CSS, safely; other names are 404s in CSS.
    res = await page.request.get(d.url + "/themes/MyTheme.css")
    assert res.status == 200
    assert res.headers["content-type"] == "text/css; charset=utf-8"
    assert res.headers["x-content-type-options"] == "nosniff"
    for name in ("nope.css", "..%2Fsettings.json", ".hidden.css", "bad%20name.css", "MyTheme"):
        res = await page.request.get(d.url + "/themes/" + name)
        assert res.status == 404, name
    assert "nope.css not found" in await (await page.request.get(d.url + "/themes/nope.css")).text()

    # Custom CSS: saved with the account, linked as a stylesheet (the CSP holds), in every browser.
    await page.get_by_role("textbox", name="Custom CSS").fill(".sidebar { outline: 3px solid rgb(255, 0, 255); }")
    form = page.locator("form").filter(has=page.get_by_role("textbox", name="Custom CSS"))
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("status")).to_have_text("Saved.")
    await page.goto(d.url + "/chat/irc-localhost/%23convos")
    await page.wait_for_function(
        "() => { const el = document.querySelector('.sidebar');"
        " return Boolean(el) && getComputedStyle(el).outlineColor === 'rgb(255, 0, 255)'; }")
    assert (home / "superman@example.com" / "custom.css").read_text().startswith(".sidebar")
    res = await page.request.get(d.url + "/api/custom-css")
    assert res.headers["content-type"] == "text/css; charset=utf-8"
    # Over the limit: the server's words at the field.
    await page.goto(d.url + "/settings/account")
    await page.get_by_role("textbox", name="Custom CSS").evaluate("(el) => { el.removeAttribute('maxlength'); el.value = 'a'.repeat(40000); }")
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_text("String is too long: 40000/32768.")).to_be_visible()
    # Emptied: the file goes.
    await page.get_by_role("textbox", name="Custom CSS").fill("")
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("status")).to_have_text("Saved.")
    assert not (home / "superman@example.com" / "custom.css").exists()
