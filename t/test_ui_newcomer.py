"""What a newcomer meets in the browser app: a page load, a new connection, a slow websocket,
text that cannot be sent, a flood of unread lines, /list.

Fixtures: `ui_daemon`, `page` (t/browser.py), `ircd`, `irc_client` (t/ircd.py), `irc_peer`
(t/irc_peer.py). `SlowSocketProxy` holds the websocket back while HTTP goes through, as a slow
network does: the page's first requests are answered long before its websocket opens.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from browser import SubPathProxy, until, write_settings
from playwright.async_api import expect
from test_ui_chat import register_first_user, sidebar

MAX_MESSAGES = 300  # share/public/js/views/messages.js: the DOM bound of the message log
DOM_BOUND = 2500  # elements in the whole document (t/test_ui_history.py)


class SlowSocketProxy(SubPathProxy):
    """The daemon under /sub; websocket upgrades wait while `gate` is clear."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.gate = asyncio.Event()
        self.gate.set()

    async def _handle(self, request: Any) -> Any:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            await self.gate.wait()
        return await super()._handle(request)


@pytest.fixture
async def slow_proxy() -> AsyncIterator[Any]:
    proxies: list[SlowSocketProxy] = []

    async def make(upstream: str) -> SlowSocketProxy:
        proxy = SlowSocketProxy(upstream)
        proxies.append(proxy)
        return await proxy.start()

    yield make
    for proxy in proxies:
        proxy.gate.set()
        await proxy.close()


def log_named(page: Any, name: str) -> Any:
    return page.get_by_role("log", name=f"Messages in {name}")


def participants(page: Any) -> Any:
    return page.get_by_role("complementary", name=re.compile("Participants"))


async def api(page: Any, operation: str, params: dict[str, Any]) -> Any:
    """An API call made by the page's own API client (the app's cookies, base path and headers)."""
    return await page.evaluate("([op, params]) => window.convos.api.call(op, params)", [operation, params])


async def texts_of(log: Any) -> list[str]:
    return [t.strip() for t in await log.locator(".msg .msg__text").all_text_contents()]


async def unread_of(page: Any, conversation_id: str, count: int) -> None:
    """Wait until the server counts `count` unread messages in the conversation."""
    await until(page, """async ([id, count]) => {
        const {conversations} = await window.convos.api.call("listConversations", {});
        return conversations.find((c) => c.conversation_id === id).unread === count;
    }""", [conversation_id, count])


# --- 1. the participants list after a page load --------------------------------------------


async def test_participants_after_a_page_load(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    """`/names` asked while the websocket is still opening waits for it (it was refused and
    the list said "Loading..." for good): after a reload, on a direct link, on a phone."""
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_client("alice")
    await alice.join("#convos")
    people = participants(page)
    await expect(people.get_by_role("button", name="alice", exact=True)).to_be_visible()

    await page.reload()
    await expect(people.get_by_role("button", name="alice", exact=True)).to_be_visible()
    await expect(people.get_by_text("Loading...")).to_have_count(0)

    await page.goto("about:blank")
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.goto(d.url + "/chat/irc-localhost/%23convos")
    # The header's buttons wrap before they squeeze the name to "#" (they did on a phone).
    name = page.get_by_role("heading", name="#convos", level=1)
    await expect(name).to_be_visible()
    assert await name.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    await page.get_by_role("button", name=re.compile("^Participants")).click()
    await expect(people.get_by_role("button", name=re.compile("^superman"))).to_be_visible()
    await expect(people.get_by_role("button", name="alice", exact=True)).to_be_visible()


# --- 2. a new connection on a slow network ---------------------------------------------------


async def server_tab_sees_everything(page: Any, peer: Any, proxy: SlowSocketProxy, nick: str) -> None:
    """The page has just registered (its websocket held back) and shows the new connection's
    server tab; the IRC server welcomes the connection now. Every line shows once, in order."""
    pc = await peer.accept()
    await pc.register(welcome=False)
    log = log_named(page, "localhost")
    await expect(log).to_have_attribute("aria-busy", "false")  # the tab's first page is there
    s = pc.server_name
    first = [f"Welcome to the TestNet Internet Relay Chat Network {nick}",
             f"Your host is {s}, running version scripted-1.0",
             "This server was created Thu Mar 21 2024 at 08:25:00 UTC"]
    await pc.send(f":{s} 001 {nick} :{first[0]}", f":{s} 002 {nick} :{first[1]}", f":{s} 003 {nick} :{first[2]}")
    # Logged (the API has them) while the page cannot hear about them yet.
    await until(page, """async () => {
        const page = await window.convos.api.call("connectionMessages", {connection_id: "irc-localhost", limit: 50});
        return page.messages.some((m) => m.message.startsWith("This server was created"));
    }""")
    proxy.gate.set()
    rest = ["Hello from the scripted peer"]
    await pc.send(f":{s} 004 {nick} {s} scripted-1.0 aiorswx biklmnopstv",
                  f":{s} 005 {nick} NETWORK=TestNet CHANTYPES=# PREFIX=(qaohv)~&@%+ :are supported by this server",
                  f":{s} 375 {nick} :- {s} Message of the Day -", f":{s} 372 {nick} :- {rest[0]}",
                  f":{s} 376 {nick} :End of /MOTD command.")
    await expect(log.locator(".msg", has_text=rest[0])).to_have_count(1)
    await expect(log.locator(".msg", has_text=first[0])).to_have_count(1)
    texts = await texts_of(log)
    at = [next((i for i, text in enumerate(texts) if text.startswith(want)), -1) for want in [*first, *rest]]
    assert -1 not in at and at == sorted(at), texts
    assert len(texts) == len(set(texts)), texts
    # The state is the server's: connected, not "Disconnected" with a Connect button.
    await expect(page.locator(".conv__topic .state")).to_have_text("Connected")
    await expect(page.get_by_role("button", name="Disconnect")).to_be_visible()
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()


async def test_a_new_connection_loses_nothing(ui_daemon: Any, slow_proxy: Any, irc_peer: Any, page: Any,
                                              tmp_path: Path) -> None:
    """A new admin, then an invited user (in the same browser, after logging out): each
    registers and lands on the server tab of the default connection while the websocket is slow
    to open. What the IRC server says before
    the socket listens used to be missing from the tab (it started at the 004 line)."""
    home = tmp_path / "home"
    write_settings(home, default_connection=f"irc://127.0.0.1:{irc_peer.port}?tls=0")
    d = await ui_daemon(home, env={"CONVOS_REVERSE_PROXY": "1"})
    proxy = await slow_proxy(d.url)

    proxy.gate.clear()
    await register_first_user(page, proxy.url)
    await expect(page).to_have_url(re.compile(r"/sub/chat/irc-localhost$"))
    await server_tab_sees_everything(page, irc_peer, proxy, "superman")

    invite = await api(page, "inviteUser", {"email": "lois@example.com"})
    await sidebar(page).get_by_role("link", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/sub/login$"))
    proxy.gate.clear()
    await page.goto(invite["url"])
    await page.get_by_label("Password").fill("lois-password")
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/sub/chat/irc-localhost$"))
    await server_tab_sees_everything(page, irc_peer, proxy, "lois")


# --- 3. text that cannot be sent stays in the box ---------------------------------------------


async def test_text_stays_in_the_box_until_accepted(ui_daemon: Any, slow_proxy: Any, ircd: Any, irc_client: Any,
                                                   page: Any) -> None:
    """The input box was emptied at once: with the daemon down the text survived only in an
    error line, with the IRC server down not at all. Now it stays until the server took it."""
    d = await ui_daemon(env={"CONVOS_REVERSE_PROXY": "1"})
    proxy = await slow_proxy(d.url)
    await register_first_user(page, proxy.url)
    await expect(page).to_have_url(re.compile(r"/sub/chat/irc-localhost/%23convos$"))
    alice = await irc_client("alice")
    await alice.join("#convos")
    await expect(participants(page).get_by_role("button", name="alice", exact=True)).to_be_visible()
    box = page.get_by_role("textbox", name="Message #convos")
    form = page.locator("form.composer")

    # The daemon is down: the line waits in the box, and goes out once Convos is back.
    proxy.gate.clear()  # the page reconnects only once the daemon is connected to IRC again
    await d.stop()
    await expect(page.get_by_role("status").filter(has_text="Lost the connection to Convos")).to_be_visible()
    await box.fill("sent when Convos is back")
    await box.press("Enter")
    await expect(form).to_have_attribute("aria-busy", "true")
    await expect(box).to_have_value("sent when Convos is back")
    d = await ui_daemon.start_again(d)
    await alice.expect(lambda m: m.command == "JOIN" and m.nick == "superman", timeout=10)
    proxy.gate.set()
    await alice.expect(lambda m: m.command == "PRIVMSG" and m.params[-1] == "sent when Convos is back", timeout=10)
    await expect(box).to_have_value("")
    await expect(form).to_have_attribute("aria-busy", "false")

    # The IRC server is down: the server says why, and the text is still there to send later.
    await ircd.stop()
    await expect(page.locator(".conv__frozen")).to_have_text("Not connected.")
    await box.fill("nobody hears this")
    await box.press("Enter")
    await expect(log_named(page, "#convos").locator(".msg--error", has_text="Not connected.")).to_be_visible()
    await expect(box).to_have_value("nobody hears this")
    await expect(form).to_have_attribute("aria-busy", "false")


# --- 6 and 7. a flood of unread lines -----------------------------------------------------------


async def dom_size(page: Any) -> tuple[int, int]:
    """(elements in the document, messages in the log)."""
    nodes, msgs = await page.evaluate(
        "[document.querySelectorAll('*').length, document.querySelectorAll('[role=log] .msg').length]")
    return int(nodes), int(msgs)


async def test_a_flood_of_unread_lines(ui_daemon: Any, irc_client: Any, page: Any) -> None:
    """5,000 lines arrive while another conversation is open. The "New messages" line goes
    above the first of them (not at the top of the history, above lines already read), the log
    opens there, "Jump to latest" and "Jump to first unread" go both ways, and the log never
    holds more than MAX_MESSAGES messages. Then 400 more, counted by this very page."""
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_client("alice")
    await alice.join("#convos")
    box = page.get_by_role("textbox", name="Message #convos")
    await box.fill("/join #flood")
    await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23flood$"))
    await alice.join("#flood")
    log = log_named(page, "#flood")
    for i in range(5):
        await alice.privmsg("#flood", f"read {i}")
    await expect(log.locator(".msg", has_text="read 4")).to_be_visible()
    await unread_of(page, "#flood", 0)

    await sidebar(page).get_by_role("link", name="#convos").click()
    flood = 5000
    await alice.send(*(f"PRIVMSG #flood :flood {i}" for i in range(flood)))
    await unread_of(page, "#flood", flood)
    await page.reload()  # the first unread message comes from the server, with the conversation
    await sidebar(page).get_by_role("link", name=re.compile(r"^#flood")).click()

    first = log.locator(".unread-marker + .msg")
    await expect(first).to_contain_text("flood 0")
    await expect(first).to_be_in_viewport()
    await expect(log.locator(".msg:has(+ .unread-marker)")).to_contain_text("read 4")
    nodes, msgs = await dom_size(page)
    assert msgs <= MAX_MESSAGES and nodes < DOM_BOUND, (nodes, msgs)

    latest = page.get_by_role("button", name=re.compile("Jump to latest"))
    await latest.click()
    await expect(log.locator(".msg", has_text=f"flood {flood - 1}")).to_be_in_viewport()
    nodes, msgs = await dom_size(page)
    assert msgs <= MAX_MESSAGES and nodes < DOM_BOUND, (nodes, msgs)
    await page.get_by_role("button", name=re.compile("Jump to first unread")).click()
    await expect(first).to_contain_text("flood 0")
    await expect(first).to_be_in_viewport()
    await unread_of(page, "#flood", 0)  # the newest lines were on screen

    # 400 more while #convos is open: this page counts them and knows the first one.
    await sidebar(page).get_by_role("link", name="#convos").click()
    await alice.send(*(f"PRIVMSG #flood :burst {i}" for i in range(400)))
    badge = sidebar(page).get_by_role("link", name=re.compile(r"^#flood")).locator(".badge")
    await expect(badge).to_have_text(re.compile(r"^400\b"))
    await sidebar(page).get_by_role("link", name=re.compile(r"^#flood")).click()
    await expect(first).to_contain_text("burst 0")
    await expect(first).to_be_in_viewport()
    await expect(log.locator(".msg:has(+ .unread-marker)")).to_contain_text(f"flood {flood - 1}")
    nodes, msgs = await dom_size(page)
    assert msgs <= MAX_MESSAGES and nodes < DOM_BOUND, (nodes, msgs)


# --- 8. /list -----------------------------------------------------------------------------------


async def test_list(ui_daemon: Any, irc_peer: Any, page: Any, tmp_path: Path) -> None:
    """The first /list answered "0 channels." and "send again" unless the IRC server had sent
    the whole list within the same moment. It shows the list when it has come now, and while a
    long list comes, one line says how much is there."""
    home = tmp_path / "home"
    write_settings(home, default_connection=f"irc://127.0.0.1:{irc_peer.port}?tls=0")
    d = await ui_daemon(home)
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost$"))
    pc = await irc_peer.accept()
    await pc.register()
    s = pc.server_name
    log = log_named(page, "localhost")
    box = page.get_by_role("textbox", name="Send a raw command to localhost")

    await box.fill("/list")
    await box.press("Enter")
    await pc.expect("^LIST$")
    await pc.send(f":{s} 321 superman Channel :Users  Name", f":{s} 322 superman #convos 2 :[+nt] all about convos",
                  f":{s} 322 superman #alpha 1 :", f":{s} 323 superman :End of /LIST")
    await expect(log.locator(".msg__text", has_text="#convos (2) all about convos")).to_be_visible()
    texts = await texts_of(log)
    assert texts[-3:] == ["2 channels.", "#convos (2) all about convos", "#alpha (1)"], texts
    await expect(log.get_by_text(re.compile("still loading|Loading the channel list"))).to_have_count(0)

    await box.fill("/list refresh")
    await box.press("Enter")
    await pc.expect("^LIST$")
    await pc.send(f":{s} 321 superman Channel :Users  Name",
                  *(f":{s} 322 superman #c{i} {10 + i} :topic {i}" for i in range(3)))
    progress = log.locator(".msg", has_text="Loading the channel list... 3 channels so far.")
    await expect(progress).to_be_visible()
    await pc.send(f":{s} 322 superman #big 99 :the biggest", f":{s} 323 superman :End of /LIST")
    await expect(log.locator(".msg", has_text="4 channels.")).to_be_visible()
    await expect(progress).to_have_count(0)  # the same line says it now
    texts = await texts_of(log)
    at = [texts.index(line) for line in ("4 channels.", "#big (99) the biggest", "#c2 (12) topic 2", "#c0 (10) topic 0")]
    assert at == sorted(at), texts
    assert [line.raw for line in pc.received].count("LIST") == 2  # asking again reads the cache
