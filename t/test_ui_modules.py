"""The app's pure JS modules, run in Chromium: IRC formatting, command rewriting, completion data."""

from __future__ import annotations

from typing import Any

import pytest

FORMAT_CASES = [
    ("plain <b>text</b> & more", "plain &lt;b&gt;text&lt;/b&gt; &amp; more"),
    ("\x02bold\x02 \x1ditalic\x1d \x1funder\x1f \x1estrike\x1e \x11mono\x11",
     '<span class="irc-b">bold</span> <span class="irc-i">italic</span> <span class="irc-u">under</span> '
     '<span class="irc-s">strike</span> <span class="irc-m">mono</span>'),
    ("\x0304red\x03 \x0312,01blue on black\x0f plain", '<span class="irc-fg-4">red</span> '
     '<span class="irc-fg-12 irc-bg-1">blue on black</span> plain'),
    ("\x0399default\x03\x0352x", 'default<span class="irc-fg-52">x</span>'),
    ("\x034,five", '<span class="irc-fg-4">,five</span>'),
    ("\x16rev\x16 \x0303,05\x16swap", '<span class="irc-reverse">rev</span> <span class="irc-fg-5 irc-bg-3">swap</span>'),
    ("\x02bold \x0fend", '<span class="irc-b">bold </span>end'),
    ("\x04ff0000hex\x04", "hex"),
    ("bell\x07 and \x01ACTION\x01", "bell and ACTION"),
    ("see https://example.com/a_(b)?c=1. and (http://x.org/y)",
     'see <a href="https://example.com/a_(b)?c=1" target="_blank" rel="noopener noreferrer" class="msg__link">'
     'https://example.com/a_(b)?c=1</a>. and (<a href="http://x.org/y" target="_blank" rel="noopener noreferrer" '
     'class="msg__link">http://x.org/y</a>)'),
    ("javascript:alert(1) data:text/html,x ftp://x", "javascript:alert(1) data:text/html,x ftp://x"),
    ('https://x.org/"><img src=x onerror=alert(1)>',
     '<a href="https://x.org/" target="_blank" rel="noopener noreferrer" class="msg__link">https://x.org/</a>'
     '"&gt;&lt;img src=x onerror=alert(1)&gt;'),
]

REWRITE_CASES = [
    ("hello", False, "hello"),
    ("/me waves", False, "/me waves"),
    ("  /join #a", False, "/join #a"),
    ("/j #convos", False, "/join #convos"),
    ("/raw PING x", False, "/quote PING x"),
    ("/shrug", False, "/say ¯\\_(ツ)_/¯"),
    ("/shrug so it goes", False, "/say so it goes ¯\\_(ツ)_/¯"),
    ("/cs op #a me", False, "/quote chanserv op #a me"),
    ("/ns identify pw", False, "/quote nickserv identify pw"),
    ("/hs on", False, "/quote hostserv on"),
    ("PRIVMSG alice :hi", True, "/quote PRIVMSG alice :hi"),
    ("nickserv: identify pw", True, "nickserv: identify pw"),
    ("/whois alice", True, "/whois alice"),
]


@pytest.fixture
async def app_page(client: Any, page: Any) -> Any:
    await page.goto(str(client.make_url("/assets/css/convos.css")))
    return page


async def test_format_message(app_page: Any) -> None:
    got = await app_page.evaluate("""async (cases) => {
        const {formatMessage} = await import("/assets/js/irc/format.js");
        return cases.map((text) => {
            const div = document.createElement("div");
            div.append(formatMessage(text));
            return div.innerHTML;
        });
    }""", [text for text, _ in FORMAT_CASES])
    for (text, want), html in zip(FORMAT_CASES, got, strict=True):
        assert html == want, repr(text)


async def test_rewrite_commands_and_completion_data(app_page: Any) -> None:
    got = await app_page.evaluate("""async (cases) => {
        const {rewrite, matchCommands} = await import("/assets/js/irc/commands.js");
        const {nickColorClass} = await import("/assets/js/irc/format.js");
        const {matchEmoji} = await import("/assets/js/input/emoji.js");
        return {
            rewritten: cases.map(([text, server]) => rewrite(text, {isServerTab: server, serviceAccounts: ["nickserv"]})),
            commands: matchCommands("jo").map((c) => c.name),
            all: matchCommands("").length,
            colors: [nickColorClass("Alice"), nickColorClass("alice"), nickColorClass("bob")],
            emoji: matchEmoji("tad").map(([code, emoji]) => code + emoji),
        };
    }""", [[text, server] for text, server, _ in REWRITE_CASES])
    assert got["rewritten"] == [want for _, _, want in REWRITE_CASES]
    assert got["commands"] == ["join"]
    assert got["all"] >= 23 + 9  # every command of docs/irc.md and the browser's aliases
    assert got["colors"][0] == got["colors"][1]
    assert all(c.startswith("nick-c") for c in got["colors"])
    assert got["emoji"] == ["tada🎉"]


async def test_a_connection_answer_keeps_the_websockets_state(app_page: Any) -> None:
    # updateConnection answers before the network is done: the websocket's state and info may be newer.
    got = await app_page.evaluate("""async () => {
        const {ChatStore} = await import("/assets/js/store.js");
        const store = new ChatStore();
        const answer = {connection_id: "irc-x", name: "x", state: "disconnected", info: {nick: "old"},
                        url: "irc://x?nick=new", wanted_state: "connected"};
        store.connectionAnswer(answer);
        const first = {...store.connection("irc-x")};
        store.handleFrame({event: "state", type: "connection", connection_id: "irc-x", state: "connected"});
        store.handleFrame({event: "state", type: "info", connection_id: "irc-x", info: {nick: "new"}});
        store.connectionAnswer({...answer, url: "irc://x?nick=newer", wanted_state: "disconnected"});
        return {first, now: store.connection("irc-x")};
    }""")
    assert (got["first"]["state"], got["first"]["info"]) == ("disconnected", {"nick": "old"})
    now = got["now"]
    assert (now["state"], now["info"], now["url"], now["wanted_state"]) == (
        "connected", {"nick": "new"}, "irc://x?nick=newer", "disconnected")


async def test_live_lines_survive_the_catch_up_of_an_empty_conversation(app_page: Any) -> None:
    # The socket became ready while the first page of an empty conversation loaded; a join and a
    # topic change came meanwhile. They are in no log, so the catch-up after the open must keep them
    # (it reopened the log, which wiped them: a flaky test_ui_trust under load).
    got = await app_page.evaluate("""async () => {
        const {MessageLog} = await import("/assets/js/views/messages.js");
        const asked = [];
        const answers = [];
        const fetchPage = (params) => new Promise((resolve) => { asked.push(params); answers.push(resolve); });
        const until = async (f) => { for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5)); };
        let ready = false;
        const log = new MessageLog({fetchPage, myNick: () => "me", subscribed: () => ready});
        document.body.append(log.el);
        const opened = log.open();
        const ts = new Date().toISOString();
        log.addLive({status: true, type: "join", message: "alice joined.", from: "alice", ts});
        ready = true;
        const caught = log.catchUp();
        log.addLive({status: true, type: "topic", message: "alice changed the topic", from: "alice", ts});
        answers.shift()({messages: []});
        await until(() => answers.length);
        const second = asked[1] || null;
        if (answers.length) answers.shift()({messages: [{id: "AAAAAAAAAAAAAAAA", from: "bob", message: "hi", ts}]});
        await until(() => answers.length || !log.loading);
        while (answers.length) answers.shift()({messages: []});  // a reopen: answered, and counted
        await Promise.all([opened, caught]);
        return {second, more: asked.length, texts: log.items.map((i) => i.msg.message), loading: log.loading};
    }""")
    assert got["second"] == {"limit": 100}
    assert got["more"] == 2
    assert got["texts"] == ["hi", "alice joined.", "alice changed the topic"]
    assert got["loading"] is None


async def test_a_late_live_line_already_in_a_page_shows_once(app_page: Any) -> None:
    # The server writes a line, then publishes its event: a page read in between holds the line,
    # and its websocket frame (held back under load) comes after the page was shown. Seen as
    # "welcome back" twice in test_ui_chat after a daemon restart (the catch-up page, then the frame).
    got = await app_page.evaluate("""async () => {
        const {MessageLog} = await import("/assets/js/views/messages.js");
        const ts = new Date().toISOString();
        const line = (id, message) => ({id, from: "alice", message, type: "private", ts});
        const pages = [
            {messages: [line("AAAAAAAAAAAAAAAA", "before")]},
            {messages: [line("AAAAAAAAAAAAAAAB", "welcome back")]},
        ];
        const fetchPage = async () => pages.shift();
        const log = new MessageLog({fetchPage, myNick: () => "me"});
        document.body.append(log.el);
        await log.open();
        log.socketLost();
        await log.catchUp();
        log.addLive(line("AAAAAAAAAAAAAAAB", "welcome back"));  // the frame of the line the page had
        log.addLive(line("AAAAAAAAAAAAAAAC", "and again"));
        // Also after a page opened at the newest messages.
        const again = new MessageLog({fetchPage: async () => ({messages: [line("AAAAAAAAAAAAAAAD", "hi")]}),
            myNick: () => "me"});
        document.body.append(again.el);
        await again.open();
        again.addLive(line("AAAAAAAAAAAAAAAD", "hi"));
        return {
            texts: log.items.map((i) => i.msg.message),
            shown: log.list.querySelectorAll(".msg").length,
            again: again.items.map((i) => i.msg.message),
        };
    }""")
    assert got["texts"] == ["before", "welcome back", "and again"]
    assert got["shown"] == 3
    assert got["again"] == ["hi"]


async def test_a_catch_up_asked_during_one_runs_after_it(app_page: Any) -> None:
    # The socket dropped and opened again while the catch-up of its previous opening was loading:
    # that page was read before the new socket listened, so what was logged in between is only in
    # a second catch-up. It used to be skipped (a catch-up was running), and the line was missing.
    got = await app_page.evaluate("""async () => {
        const {MessageLog} = await import("/assets/js/views/messages.js");
        const ts = new Date().toISOString();
        const line = (id, message) => ({id, from: "alice", message, type: "private", ts});
        const asked = [];
        const answers = [];
        const fetchPage = (params) => new Promise((resolve) => { asked.push(params); answers.push(resolve); });
        const until = async (f) => { for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5)); };
        const log = new MessageLog({fetchPage, myNick: () => "me"});
        document.body.append(log.el);
        const opened = log.open();
        answers.shift()({messages: [line("AAAAAAAAAAAAAAAA", "before")]});
        await opened;
        log.socketLost();
        const first = log.catchUp();  // the socket opened
        log.socketLost();  // ...and dropped again before the page came
        const second = log.catchUp();  // open again
        answers.shift()({messages: []});
        await until(() => answers.length);
        if (answers.length) answers.shift()({messages: [line("AAAAAAAAAAAAAAAB", "said in between")]});
        await Promise.all([first, second]);
        return {asked: asked.slice(1), texts: log.items.map((i) => i.msg.message), loading: log.loading};
    }""")
    assert got["asked"] == [{"after_id": "AAAAAAAAAAAAAAAA", "limit": 200}] * 2
    assert got["texts"] == ["before", "said in between"]
    assert got["loading"] is None
