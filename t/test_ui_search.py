"""Search in the browser: results newest first, #channel and @nick filters, "Load older", and
one click to the message in its conversation with the messages around it.

Fixtures: `ui_daemon`, `page` (t/browser.py), `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from browser import until, write_settings
from playwright.async_api import expect
from test_ui_chat import EMAIL, PASSWORD, log_of, register_first_user, sidebar
from test_ui_history import write_log

ARCHIVED = 150  # logged lines, a minute apart: three pages of search results


async def irc_peer_in_convos(irc_client: Any, nick: str = "alice") -> Any:
    """An IRC client in #convos once the user's connection is in it too (either may join first)."""
    peer = await irc_client(nick)
    names = await peer.join("#convos")
    if "superman" not in [n.lstrip("~&@%+") for n in names]:
        await peer.expect(lambda m: m.command == "JOIN" and m.nick == "superman", timeout=10)
    return peer


async def wait_until_found(page: Any, words: str) -> None:
    """Log lines are written by a thread: wait until the search API sees them."""
    await until(page, """async (words) => {
        const res = await fetch("/api/search?match=" + encodeURIComponent(words));
        return (await res.json()).messages.length > 0;
    }""", words)


def results(page: Any) -> Any:
    return page.get_by_role("list", name="Search results").get_by_role("listitem")


async def search(page: Any, words: str) -> None:
    box = page.get_by_role("searchbox", name="Search messages")
    await box.fill(words)
    await box.press("Enter")
    await expect(page.get_by_role("status").filter(has_text=re.compile(r"found|Showing"))).to_be_visible()


async def test_search_and_jump_to_context(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_peer_in_convos(irc_client)

    for i in range(3):
        await alice.privmsg("#convos", f"context before {i}")
    await alice.privmsg("#convos", "superman: what rhymes with xylophone?")
    await expect(log_of(page).get_by_text("what rhymes with xylophone?")).to_be_visible()
    composer = page.get_by_role("textbox", name="Message #convos")
    await composer.fill("alice: nothing rhymes with xylophone, sorry")
    await composer.press("Enter")
    await alice.expect(lambda m: m.command == "PRIVMSG" and "nothing rhymes" in m.params[-1])
    for i in range(3):
        await alice.privmsg("#convos", f"context after {i}")
    await expect(log_of(page).get_by_text("context after 2", exact=True)).to_be_visible()
    await wait_until_found(page, "context after 2")

    # The search page, from the sidebar.
    await sidebar(page).get_by_role("link", name="Search", exact=True).click()
    await expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    await expect(page.get_by_role("searchbox", name="Search messages")).to_be_focused()

    # Newest first: the reply comes before the question.
    await search(page, "xylophone")
    await expect(page).to_have_url(re.compile(r"/search\?q=xylophone$"))
    await expect(results(page)).to_have_count(2)
    await expect(results(page).nth(0)).to_contain_text("nothing rhymes with xylophone, sorry")
    await expect(results(page).nth(0).locator(".msg__from")).to_have_text("superman")
    await expect(results(page).nth(1)).to_contain_text("what rhymes with xylophone?")
    await expect(results(page).nth(0).get_by_role("link", name="#convos")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="2 messages found.")).to_be_visible()

    # @nick and #channel filters typed in the box.
    await search(page, "xylophone @superman")
    await expect(results(page)).to_have_count(1)
    await expect(results(page).nth(0)).to_contain_text("nothing rhymes")
    await search(page, "#nowhere xylophone")
    await expect(page.get_by_role("status").filter(has_text="No messages found.")).to_be_visible()
    await expect(results(page)).to_have_count(0)

    # Reloading the page keeps the search (it is in the URL).
    await search(page, "xylophone @superman")
    await page.reload()
    await expect(page.get_by_role("searchbox", name="Search messages")).to_have_value("xylophone @superman")
    await expect(results(page)).to_have_count(1)

    # One click on the result opens the conversation at the reply, with its neighbours.
    await results(page).nth(0).locator(".msg__text").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos\?around_id=[\w-]{16}$"))
    reply = log_of(page).locator(".msg", has_text="nothing rhymes with xylophone, sorry")
    await expect(reply).to_be_in_viewport()
    target = log_of(page).locator(".msg--target")
    await expect(target).to_have_count(1)
    # The link names the message by its id: the marked line is the reply itself, not the
    # first line of its second.
    await expect(target).to_contain_text("nothing rhymes with xylophone, sorry")
    await expect(log_of(page).locator(".msg", has_text="what rhymes with xylophone?")).to_be_visible()
    await expect(log_of(page).locator(".msg", has_text="context after 0")).to_be_visible()
    await expect(log_of(page).locator(".msg", has_text="context before 2")).to_be_visible()
    assert page.seen.dialogs == []


async def test_search_pages_back_and_opens_old_messages(daemon: Any, page: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_settings(home, default_connection="irc://localhost:6667/%23convos?tls=0")  # never connects
    d = await daemon(home)
    async with aiohttp.ClientSession() as http:
        res = await http.post(d.url + "/api/user/register", json={"email": EMAIL, "password": PASSWORD})
        assert res.status == 200, await res.text()
    await d.stop()
    # "line N of the long history", one a minute, ending a month ago.
    write_log(home, datetime.now(UTC).replace(microsecond=0) - timedelta(days=30), lines=ARCHIVED)
    d = await daemon(home)

    await page.goto(d.url + "/login")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile("/chat/"))
    await page.goto(d.url + "/search?q=long+history")
    await expect(results(page)).to_have_count(50)
    await expect(results(page).nth(0)).to_contain_text(f"line {ARCHIVED - 1} of")
    await expect(page.get_by_role("status").filter(has_text="Showing the newest 50 messages.")).to_be_visible()
    older = page.get_by_role("button", name="Load older")
    await older.click()
    await expect(results(page)).to_have_count(100)
    await expect(results(page).nth(50).get_by_role("link")).to_be_focused()
    await older.click()
    await expect(results(page)).to_have_count(ARCHIVED)
    await expect(results(page).nth(ARCHIVED - 1)).to_contain_text("line 0 of")
    await expect(older).to_be_hidden()
    await expect(page.get_by_role("status").filter(has_text=f"{ARCHIVED} messages found.")).to_be_visible()

    # The link of an old result opens the conversation there, not at its newest lines.
    await results(page).filter(has_text="line 20 of").get_by_role("link", name="#convos").click()
    log = page.get_by_role("log", name="Messages in #convos")
    marked = log.locator(".msg--target")
    await expect(marked).to_contain_text("line 20 of")
    await expect(marked).to_be_in_viewport()
    await expect(log.locator(".msg", has_text="line 19 of")).to_be_visible()
    await expect(log.locator(".msg", has_text="line 21 of")).to_be_visible()
