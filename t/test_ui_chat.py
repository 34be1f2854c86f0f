"""The browser app end to end: headless Chromium, a real daemon and a real ngircd.

Fixtures: `ui_daemon`, `page` (t/browser.py), `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from typing import Any

from browser import until
from playwright.async_api import expect

EMAIL = "superman@example.com"
PASSWORD = "s3cret-enough"


async def register_first_user(page: Any, url: str) -> None:
    await page.goto(url + "/")
    await expect(page).to_have_url(re.compile(r"/register$"))
    await expect(page.get_by_role("heading", name="Set up Convos")).to_be_visible()
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Register").click()


def sidebar(page: Any) -> Any:
    return page.get_by_role("navigation", name="Conversations")


def log_of(page: Any) -> Any:
    return page.get_by_role("log")


async def test_chat_end_to_end(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    d = await ui_daemon()

    # The first user registers; the default connection connects and #convos opens.
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    await expect(sidebar(page).get_by_role("link", name="#convos")).to_be_visible()
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()
    await expect(page.get_by_role("heading", name="#convos", exact=True)).to_be_visible()

    # Join another channel from the UI.
    await page.get_by_role("button", name="Add conversation").click()
    dialog = page.get_by_role("dialog", name="Add conversation")
    await dialog.get_by_label("Channel or nick").fill("#other")
    await dialog.get_by_role("button", name="Add").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23other$"))
    await expect(sidebar(page).get_by_role("link", name="#other")).to_be_visible()
    await expect(page.get_by_role("heading", name="#other", exact=True)).to_be_visible()
    await expect(dialog).to_have_count(0)

    # Back to #convos, where an external IRC client talks.
    await sidebar(page).get_by_role("link", name="#convos").click()
    await expect(page.get_by_role("heading", name="#convos", exact=True)).to_be_visible()
    alice = await irc_client("alice")
    await alice.join("#convos")
    await expect(log_of(page).get_by_text("alice joined.")).to_be_visible()
    await expect(page.get_by_role("complementary").get_by_role("button", name="alice", exact=True)).to_be_visible()

    await alice.privmsg("#convos", "hello from alice")
    line = log_of(page).locator(".msg", has_text="hello from alice")
    await expect(line).to_be_visible()
    await expect(line.locator(".msg__from")).to_have_text("alice")

    # A reply typed in the UI reaches the IRC client.
    composer = page.get_by_role("textbox", name="Message #convos")
    await composer.fill("hi alice, superman here")
    await composer.press("Enter")
    got = await alice.expect(lambda m: m.command == "PRIVMSG" and m.params[-1] == "hi alice, superman here")
    assert got.nick == "superman"
    await expect(log_of(page).locator(".msg--own", has_text="hi alice, superman here")).to_be_visible()
    await expect(composer).to_have_value("")

    # Markup in a message is text; IRC codes become colours and styles; links are safe.
    evil = "<img src=x onerror=alert(1)> \x0304,01red on black\x03 \x02bold\x02 see https://example.com/a?b=1."
    await alice.privmsg("#convos", evil)
    evil_line = log_of(page).locator(".msg", has_text="<img src=x onerror=alert(1)>")
    await expect(evil_line).to_be_visible()
    await expect(evil_line.locator("img")).to_have_count(0)
    await expect(log_of(page).locator("img")).to_have_count(0)
    await expect(evil_line.locator(".irc-fg-4.irc-bg-1")).to_have_text("red on black")
    await expect(evil_line.locator(".irc-b")).to_have_text("bold")
    link = evil_line.get_by_role("link", name="https://example.com/a?b=1")
    await expect(link).to_have_attribute("href", "https://example.com/a?b=1")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(link).to_have_attribute("target", "_blank")
    assert page.seen.dialogs == []

    # Unread badge for a conversation that is not open; opening it clears the badge.
    await sidebar(page).get_by_role("link", name="#other").click()
    await alice.join("#other")
    await alice.privmsg("#convos", "while you were away")
    badge = sidebar(page).get_by_role("link", name=re.compile(r"^#convos")).locator(".badge")
    await expect(badge).to_have_text(re.compile(r"^1\b"))
    await sidebar(page).get_by_role("link", name=re.compile(r"^#convos")).click()
    await expect(log_of(page).get_by_text("while you were away")).to_be_visible()
    await expect(log_of(page).locator(".unread-marker + .msg")).to_contain_text("while you were away")
    await expect(badge).to_have_count(0)
    # ...and tells the server (POST .../read), so the count is gone for other browsers too.
    await until(page, """async () => {
        const res = await fetch("/api/conversations");
        const {conversations} = await res.json();
        return conversations.find((c) => c.conversation_id === "#convos").unread === 0;
    }""")

    # The daemon goes away: the page says so, and reconnects when it is back.
    await d.stop()
    banner = page.get_by_role("status").filter(has_text="Lost the connection to Convos")
    await expect(banner).to_be_visible()
    await expect(banner.get_by_role("button", name="Reconnect now")).to_be_visible()
    d = await ui_daemon.start_again(d)
    # Press "Reconnect now" unless the backoff timer got there first (checked and clicked in
    # one step in the page, so the test does not race the timer).
    await page.evaluate("""() => {
        const button = document.querySelector(".banner:not([hidden]) button");
        if (button) button.click();
    }""")
    await expect(banner).to_be_hidden()
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()
    await alice.expect(lambda m: m.command == "JOIN" and m.nick == "superman" and m.params[0] == "#convos")
    await expect(page.get_by_role("complementary").get_by_role("button", name="alice", exact=True)).to_be_visible()
    await alice.privmsg("#convos", "welcome back")
    await expect(log_of(page).get_by_text("welcome back")).to_be_visible()

    # Log out; a wrong password gets the API's message; after logging in the history is there.
    await sidebar(page).get_by_role("link", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Invalid email or password.")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    await expect(log_of(page).locator(".msg", has_text="hello from alice")).to_be_visible()
    await expect(log_of(page).locator(".msg", has_text="hi alice, superman here")).to_be_visible()
    assert page.seen.dialogs == []
