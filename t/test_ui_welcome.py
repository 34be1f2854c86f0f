"""First impression in headless Chromium: the login and setup pages carry the product's look
(logo, what Convos is), and a first user whose connection cannot connect is told so plainly,
with a link to edit it, and ends in a working chat.

Fixtures: `ui_daemon`, `page` (t/browser.py), `ircd`, `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from typing import Any

from browser import CONTRAST_JS, write_settings
from conftest import free_port
from playwright.async_api import expect
from test_ui_chat import log_of, register_first_user, sidebar


async def contrast_failures(page: Any) -> list[str]:
    """As browser.contrast_failures, for a small page (a form has few texts)."""
    result = await page.evaluate(CONTRAST_JS, 4.5)
    assert result["checked"] >= 6, result
    return list(result["failures"])


TAGLINE = "Group chat in your browser. Convos stays on IRC for you, so you never miss what was said while you were away."


async def test_login_and_setup_pages_look_like_convos(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        await page.goto(d.url + "/")
        await expect(page).to_have_url(re.compile(r"/register$"))
        box = page.get_by_role("region", name="Set up Convos")
        await expect(box.get_by_text("Convos", exact=True)).to_be_visible()
        await expect(box.get_by_text(TAGLINE)).to_be_visible()
        logo = box.locator("img.auth__logo")
        await page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=await logo.element_handle())
        assert await contrast_failures(page) == [], scheme
    await page.emulate_media(color_scheme="light")
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    # The login page has the same look.
    await page.context.clear_cookies()
    await page.goto(d.url + "/login")
    box = page.get_by_role("region", name="Log in")
    await expect(box.get_by_text(TAGLINE)).to_be_visible()
    await expect(box.locator("img.auth__logo")).to_be_visible()
    assert await contrast_failures(page) == []


async def test_first_user_without_network_is_told_and_ends_in_a_chat(ui_daemon: Any, page: Any, ircd: Any,
                                                                   irc_client: Any, tmp_path: Any) -> None:
    home = tmp_path / "ui-home"
    closed = free_port()  # nothing listens there: as good as no network
    write_settings(home, default_connection=f"irc://127.0.0.1:{closed}/%23convos?tls=0")
    d = await ui_daemon(home)
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    notice = page.locator(".conv__header").get_by_role("status").filter(has_text="Could not connect")
    await expect(notice).to_contain_text(f"Could not connect to 127.0.0.1:{closed}.")
    await expect(notice).to_contain_text("Connection refused.")
    await notice.get_by_role("link", name="Edit connection").click()
    await expect(page).to_have_url(d.url + "/settings/connection?connection_id=irc-localhost")
    await page.get_by_label("Port").fill(str(ircd.port))
    await page.get_by_role("button", name="Update connection").click()
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()
    await sidebar(page).get_by_role("link", name="#convos").click()
    await expect(page.locator(".conn-notice")).to_be_hidden()
    # A working chat: a message reaches someone on IRC, and their answer comes back.
    lois = await irc_client("lois")
    await lois.join("#convos")
    box = page.get_by_role("textbox", name="Message #convos")
    await box.fill("hello from the first user")
    await box.press("Enter")
    await lois.expect(lambda m: m.command == "PRIVMSG" and m.params[-1] == "hello from the first user")
    await lois.privmsg("#convos", "welcome!")
    await expect(log_of(page).get_by_text("welcome!")).to_be_visible()
