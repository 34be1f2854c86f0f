"""The input box and the keyboard: completion, command help, aliases, history, multi-line,
server tabs, switching conversations, adding and closing conversations and connections."""

from __future__ import annotations

import re
from typing import Any

from browser import contrast_failures
from playwright.async_api import expect

EMAIL = "superman@example.com"


def privmsg_to(client: Any, target: str, text: str) -> Any:
    return client.expect(lambda m: m.command == "PRIVMSG" and m.params[0] == target and m.params[-1] == text)


async def test_input_and_keyboard(ui_daemon: Any, page: Any, irc_client: Any, ircd: Any) -> None:
    d = await ui_daemon()
    await page.goto(d.url + "/register")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill("s3cret-enough")
    await page.get_by_role("button", name="Register").click()
    nav = page.get_by_role("navigation", name="Conversations")
    await expect(nav.get_by_role("img", name="Connected")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_client("alice")
    await alice.join("#convos")
    participants = page.get_by_role("complementary", name=re.compile("Participants"))
    await expect(participants.get_by_role("button", name="alice", exact=True)).to_be_visible()
    await expect(participants.get_by_role("button", name=re.compile("^superman"))).to_have_accessible_name(
        "superman (operator)")

    box = page.get_by_role("textbox", name="Message #convos")
    # Typing "/" lists matching commands; Tab completes the command.
    await box.fill("/jo")
    popover = page.get_by_role("listbox", name="Matching commands")
    await expect(popover.get_by_role("option")).to_have_count(1)
    await expect(popover).to_contain_text("/join <#channel> [key]")
    await expect(popover).to_contain_text("Join a channel.")
    await box.press("Tab")
    await expect(box).to_have_value("/join ")
    await box.press_sequentially("#second")
    await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23second$"))
    await expect(nav.get_by_role("link", name="#second")).to_be_visible()

    # Alt+Up: the conversation above in the sidebar.
    second_box = page.get_by_role("textbox", name="Message #second")
    await second_box.press("Alt+ArrowUp")
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))

    # Tab completes nicks (with ": " at the start) and :emoji:; Shift+Enter adds a line.
    await box.press_sequentially("ali")
    await box.press("Tab")
    await expect(box).to_have_value("alice: ")
    await box.press_sequentially("party :tad")
    await box.press("Tab")
    await expect(box).to_have_value("alice: party 🎉")
    await box.press("Shift+Enter")
    await box.press_sequentially("second line")
    await box.press("Enter")
    await privmsg_to(alice, "#convos", "alice: party 🎉")
    await privmsg_to(alice, "#convos", "second line")
    await expect(box).to_have_value("")
    # Up brings back what was sent here; Down goes back to the empty box.
    await box.press("ArrowUp")
    await expect(box).to_have_value("alice: party 🎉\nsecond line")
    await box.press("ArrowDown")
    await expect(box).to_have_value("")

    # Browser-side aliases never reach the server as such.
    await box.fill("/shrug fine")
    await box.press("Enter")
    await privmsg_to(alice, "#convos", "fine ¯\\_(ツ)_/¯")

    # A command error shows in the conversation.
    await box.fill("/kick nobody_here")
    await box.press("Enter")
    await expect(page.get_by_role("log").locator(".msg--error")).to_be_visible()

    # Ctrl+K: go to a conversation by name; in a server tab text is a raw IRC line.
    await box.press("Control+k")
    switcher = page.get_by_role("dialog", name="Go to conversation")
    await switcher.get_by_role("combobox").fill("localh")
    await switcher.get_by_role("combobox").press("Enter")
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost$"))
    raw = page.get_by_role("textbox", name="Send a raw command to localhost")
    await raw.fill("PRIVMSG alice :raw hello")
    await raw.press("Enter")
    await privmsg_to(alice, "alice", "raw hello")

    # Close a conversation from its header.
    await nav.get_by_role("link", name="#second").click()
    await page.get_by_role("button", name="Leave").click()
    await expect(nav.get_by_role("link", name="#second")).to_have_count(0)
    await expect(page).not_to_have_url(re.compile(r"%23second"))

    # Add a connection: errors from the API show in the dialog.
    await page.get_by_role("button", name="Add connection").click()
    dialog = page.get_by_role("dialog", name="Add connection")
    await dialog.get_by_label("Server").fill("127.0.0.1")
    await dialog.get_by_label("Port").fill(str(ircd.port))
    await dialog.get_by_label("Secure connection (TLS)").uncheck()
    await dialog.get_by_role("button", name="Add connection").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Connection already exists.")
    await dialog.get_by_label("Server").fill("127.0.0.2")
    await dialog.get_by_label("Nick").fill("clark")
    await dialog.get_by_role("button", name="Add connection").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-127-0-0-2$"))
    await expect(nav.get_by_role("link", name=re.compile(r"^127-0-0-2"))).to_be_visible()
    assert page.seen.dialogs == []

    # Both colour schemes meet WCAG AA contrast, with the usual kinds of lines on screen.
    await nav.get_by_role("link", name="#convos").click()
    await alice.privmsg("#convos", "superman: a mention, \x02bold\x02 and https://example.com/")
    await alice.send("NOTICE #convos :a notice")
    await alice.privmsg("#convos", "\x01ACTION acts\x01")
    await expect(page.get_by_role("log").locator(".msg--highlight")).to_be_visible()
    await expect(page.get_by_role("log").get_by_text("acts")).to_be_visible()
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        assert await contrast_failures(page) == [], scheme

    # A phone: the sidebar is a drawer; Escape closes it and gives the focus back.
    await page.set_viewport_size({"width": 360, "height": 740})
    await expect(nav).not_to_be_in_viewport()
    menu = page.get_by_role("button", name="Show conversations")
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await expect(nav.get_by_role("link", name="#convos")).to_be_in_viewport(ratio=1)
    await expect(nav.get_by_role("link", name="#convos")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(nav).not_to_be_in_viewport()
    await expect(menu).to_be_focused()
    await expect(menu).to_have_attribute("aria-expanded", "false")
