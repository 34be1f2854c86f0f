"""The browser app end to end: headless Chromium, a real daemon and a real ngircd."""

from __future__ import annotations

import re

from playwright.async_api import expect

EMAIL = "superman@example.com"
PASSWORD = "s3cret-enough"


async def register_first_user(page, url: str) -> None:
    await page.goto(url + "/")
    await expect(page).to_have_url(re.compile(r"/register$"))
    await expect(page.get_by_role("heading", name="Set up Convos")).to_be_visible()
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))


async def test_register_and_default_connection(ui_daemon, page):
    d = await ui_daemon()
    await register_first_user(page, d.url)
    sidebar = page.get_by_role("navigation", name="Conversations")
    await expect(sidebar.get_by_role("link", name="#convos")).to_be_visible()
    await expect(sidebar.get_by_role("img", name="Connected")).to_be_visible()
    await page.screenshot(path="/tmp/uitest/first.png")
