"""Attention and nicks in the browser, end to end: the unread and mention count in the tab's
title and on the favicon, the dot on the phone's menu button, muting a conversation, "Mark all
conversations as read", the nick menu (keyboard, Escape, whois, mention, a private
conversation, and for an operator voice and kick), grouped messages and folded joins.

Fixtures: `ui_daemon`, `page` (t/browser.py), `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from typing import Any

from browser import until
from playwright.async_api import expect
from test_ui_chat import log_of, register_first_user, sidebar
from test_ui_search import irc_peer_in_convos


def conv_link(page: Any, name: str) -> Any:
    return sidebar(page).get_by_role("link", name=re.compile(f"^{re.escape(name)}\\b"))


async def open_other_channel(page: Any) -> None:
    await page.get_by_role("button", name="Add conversation").click()
    dialog = page.get_by_role("dialog", name="Add conversation")
    await dialog.get_by_label("Channel or nick").fill("#other")
    await dialog.get_by_role("button", name="Add").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23other$"))


async def test_title_favicon_dot_mute_and_read_all(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_peer_in_convos(irc_client)
    await open_other_channel(page)
    await expect(page).to_have_title("#other - Convos")
    icon = page.locator("link[rel~='icon']")
    await expect(icon).to_have_attribute("href", re.compile(r"convos\.svg$"))

    # Two messages in #convos while #other is open: the title and the favicon count them.
    await alice.privmsg("#convos", "one")
    await alice.privmsg("#convos", "two")
    await expect(page).to_have_title("(2) #other - Convos")
    await expect(icon).to_have_attribute("href", re.compile(r"^data:image/png;base64,"))
    await expect(icon).to_have_attribute("data-badge", "u2")
    # A mention: counted apart, the badge turns red.
    await alice.privmsg("#convos", "superman: look")
    await expect(page).to_have_title("(@1 · 3) #other - Convos")
    await expect(icon).to_have_attribute("data-badge", "m1")

    # On a phone the menu button has a dot (red for mentions) and says why.
    await page.set_viewport_size({"width": 360, "height": 700})
    menu = page.get_by_role("button", name="Show conversations (unread mentions)")
    await expect(menu).to_be_visible()
    await expect(menu.locator(".menu-toggle__dot--mention")).to_be_visible()
    await page.set_viewport_size({"width": 1280, "height": 800})

    # Mute #convos: its unread count goes (the mention stays), on the server too.
    await conv_link(page, "#convos").click()
    await expect(page.get_by_role("heading", name="#convos", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Mute").click()
    await expect(page.get_by_role("button", name="Muted")).to_have_attribute("aria-pressed", "true")
    await until(page, """async () => {
        const {conversations} = await (await fetch("/api/conversations")).json();
        return conversations.find((c) => c.conversation_id === "#convos").muted === true;
    }""")
    await conv_link(page, "#other").click()
    await expect(page).to_have_title("#other - Convos")
    await alice.privmsg("#convos", "muted chatter")
    await alice.privmsg("#convos", "more muted chatter")
    muted = conv_link(page, "#convos")
    await expect(muted).to_have_class(re.compile(r"nav-item--muted"))
    await until(page, """async () => {
        const {conversations} = await (await fetch("/api/conversations")).json();
        return conversations.find((c) => c.conversation_id === "#convos").unread === 2;
    }""")
    await expect(muted.locator(".badge")).to_have_count(0)
    await expect(page).to_have_title("#other - Convos")
    # ...but a mention counts, also in the title.
    await alice.privmsg("#convos", "superman: still there?")
    await expect(muted.locator(".badge")).to_have_text(re.compile(r"^1\b"))
    await expect(page).to_have_title("(@1 · 1) #other - Convos")
    # Muted after a reload too (kept by the server).
    await page.reload()
    await expect(conv_link(page, "#convos")).to_have_class(re.compile(r"nav-item--muted"))
    await expect(page).to_have_title("(@1 · 1) #other - Convos")

    # "Mark all conversations as read" clears every count, here and on the server.
    await conv_link(page, "#convos").click()
    await page.get_by_role("button", name="Muted").click()
    await expect(page.get_by_role("button", name="Mute")).to_have_attribute("aria-pressed", "false")
    await conv_link(page, "#other").click()
    await alice.privmsg("#convos", "unmuted again")
    await expect(conv_link(page, "#convos").locator(".badge")).to_have_text(re.compile(r"^1\b"))
    await sidebar(page).get_by_role("button", name="Mark all conversations as read").click()
    await expect(sidebar(page).locator(".badge")).to_have_count(0)
    await expect(page).to_have_title("#other - Convos")
    await expect(icon).to_have_attribute("href", re.compile(r"convos\.svg$"))
    await expect(sidebar(page).get_by_role("button", name="Mark all conversations as read")).to_have_count(0)
    await until(page, """async () => {
        const {conversations} = await (await fetch("/api/conversations")).json();
        return conversations.every((c) => c.unread === 0 && c.notifications === 0);
    }""")


async def test_nick_menu_grouping_and_folding(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    # A channel of our own: the first to join is its operator.
    composer = page.get_by_role("textbox", name="Message #convos")
    await composer.fill("/join #ops")
    await composer.press("Enter")
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23ops$"))
    participants = page.get_by_role("complementary")
    await expect(participants.get_by_role("button", name="superman (operator)")).to_be_visible()

    # Joins and parts in a row fold into one line that opens on a click.
    peers = []
    for nick in ("bob", "carol", "dave"):
        peer = await irc_client(nick)
        await peer.join("#ops")
        peers.append(peer)
    await peers[2].send("PART #ops :bye")
    log = log_of(page)
    fold = log.locator(".fold__toggle")
    await expect(fold).to_have_text("3 joined, 1 left")
    await expect(fold).to_have_attribute("aria-expanded", "false")
    await expect(log.get_by_text("carol joined.")).to_be_hidden()
    await fold.click()
    await expect(fold).to_have_attribute("aria-expanded", "true")
    await expect(log.get_by_text("carol joined.")).to_be_visible()

    # One sender's lines in a row show the nick once.
    alice = await irc_client("alice")
    await alice.join("#ops")
    await expect(fold).to_have_text("4 joined, 1 left")
    for text in ("first", "second", "third"):
        await alice.privmsg("#ops", text)
    lines = log.locator(".msg", has_text=re.compile(r"^.*(first|second|third)$"))
    await expect(lines).to_have_count(3)
    await expect(log.locator(".msg.msg--cont")).to_have_count(2)
    await expect(log.locator(".msg", has_text="first").locator(".msg__from")).to_be_visible()

    # The nick in the log opens a menu: focus on the first item, arrows move, Escape closes.
    await log.locator(".msg", has_text="first").locator(".msg__nick").click()
    menu = page.get_by_role("menu", name="alice")
    await expect(menu).to_be_visible()
    items = menu.get_by_role("menuitem")
    await expect(items).to_have_text(["Private conversation", "Whois", "Mention", "Give operator", "Give voice",
                                      "Kick", "Ban"])
    await expect(items.nth(0)).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(items.nth(1)).to_be_focused()
    await page.keyboard.press("End")
    await expect(items.nth(6)).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(items.nth(0)).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(menu).to_have_count(0)

    # Mention puts the nick in the input box.
    await log.locator(".msg", has_text="first").locator(".msg__nick").click()
    await menu.get_by_role("menuitem", name="Mention").click()
    await expect(page.get_by_role("textbox", name="Message #ops")).to_have_value("alice: ")
    await expect(page.get_by_role("textbox", name="Message #ops")).to_be_focused()

    # Whois from the participants list, with the keyboard.
    await participants.get_by_role("button", name="alice", exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(menu).to_be_visible()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await expect(log.locator(".msg--notice", has_text="alice (")).to_be_visible()

    # Operator: voice and kick go to the server as commands.
    await participants.get_by_role("button", name="alice", exact=True).click()
    await menu.get_by_role("menuitem", name="Give voice").click()
    await expect(participants.get_by_role("button", name="alice (voice)")).to_be_visible()
    await participants.get_by_role("button", name="alice (voice)").click()
    await expect(menu.get_by_role("menuitem", name="Take voice")).to_be_visible()
    await menu.get_by_role("menuitem", name="Kick").click()
    await alice.expect(lambda m: m.command == "KICK" and m.params[1] == "alice")
    await expect(participants.get_by_role("button", name=re.compile("^alice"))).to_have_count(0)
    await expect(log.get_by_text("alice was kicked by superman.")).to_be_visible()

    # Private conversation opens it.
    await participants.get_by_role("button", name="bob", exact=True).click()
    await page.get_by_role("menu", name="bob").get_by_role("menuitem", name="Private conversation").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/bob$"))


async def test_joins_and_parts_setting(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    for nick in ("bob", "carol"):
        await irc_peer_in_convos(irc_client, nick)
    log = log_of(page)
    await expect(log.locator(".fold__toggle")).to_have_text("2 joined")
    await expect(log.get_by_text("bob joined.")).to_be_hidden()
    # The settings in a second tab: the open conversation follows at once (joins are in no
    # log, so the lines are only in this tab).
    settings = await page.context.new_page()
    await settings.goto(d.url + "/settings/account")
    group = settings.get_by_role("group", name="Joins, parts and nick changes")
    await expect(group.get_by_label("Folded into one line")).to_be_checked()
    await group.get_by_label("In full").check()
    await expect(log.get_by_text("bob joined.")).to_be_visible()
    await expect(log.locator(".fold")).to_have_count(0)
    await group.get_by_label("Hidden").check()
    await expect(log.get_by_text("bob joined.")).to_be_hidden()
    await expect(log.get_by_text("carol joined.")).to_be_hidden()
    dave = await irc_client("dave")
    await dave.join("#convos")
    await dave.privmsg("#convos", "dave is here")
    await expect(log.get_by_text("dave is here")).to_be_visible()
    await expect(log.get_by_text("dave joined.")).to_be_hidden()
    await expect(log.locator(".fold")).to_have_count(0)
    # Kept with the account too.
    await until(settings, """async () => (await (await fetch("/api/preferences")).json()).joins === "hide" """)
    await settings.evaluate("localStorage.clear()")
    await settings.reload()
    await expect(group.get_by_label("Hidden")).to_be_checked()
    await group.get_by_label("Folded into one line").check()
    await expect(log.locator(".fold__toggle")).to_have_text("3 joined")
