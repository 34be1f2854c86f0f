"""A hostile IRC server: conversations it opens are capped, forced joins are undone, CTCP floods get few replies."""

from __future__ import annotations

import time

import test_irc_protocol
from events_helper import is_message, is_state
from test_irc_protocol import CID, Start, registered

from convos.errors import InvalidInput
from convos.store.logs.format import log_relpath

CAP = {"CONVOS_MAX_CONVERSATIONS": "5"}
start = test_irc_protocol.start  # the fixture: an app whose connection reaches the scripted peer


async def test_conversations_per_connection_are_capped(start: Start) -> None:
    s = await registered(start, env=CAP)  # in #convos: one conversation
    for i in range(20):
        await s.peer.send(f":stranger{i}!u@h PRIVMSG superman :hello {i}")
        await s.peer.send(f":superman!u@h JOIN #forced{i}")
        await s.peer.send(f":superman!u@h INVITE superman #invited{i}")
    await s.barrier("done")
    conversations = await s.conversations()
    assert len(conversations) == 5
    assert "#convos" in conversations
    # Nothing a stranger said is lost: past the limit it is in the server tab, after one warning.
    server_lines = [m["message"] for m in await s.logged("")]
    assert "hello 19" in server_lines
    warnings = [f for f in s.seen(is_message(conversation_id="", type="error"))
                if "too many conversations (5)" in f["message"]]
    assert len(warnings) == 1
    # The user gets an error, and nothing goes out.
    for command in ("/join #one-more", "/query someone", "/msg someone hi"):
        assert await s.fails(command) == "This connection has too many conversations."
    assert len(await s.conversations()) == 5
    # Closing one makes room again.
    await s.send("/close stranger0", target="")
    await s.send("/query someone", target="")
    assert "someone" in await s.conversations()


async def test_a_forced_join_and_part_leaves_nothing_behind(start: Start) -> None:
    s = await registered(start)
    for i in range(50):
        await s.peer.send(f":superman!u@h JOIN #forced{i}", f":superman!u@h PART #forced{i}")
    await s.peer.send(":superman!u@h JOIN #kept")
    await s.barrier("done")
    assert sorted(await s.conversations()) == ["#convos", "#kept"]
    assert s.seen(is_state("part", conversation_id="#forced49", nick="superman"))
    # Parted from a channel the user joined: it stays, as before.
    await s.peer.send(":superman!u@h PART #convos")
    # One the user wrote to is wanted too.
    await s.send("hello", target="#kept")
    await s.peer.send(":superman!u@h PART #kept")
    await s.barrier("parted")
    assert sorted(await s.conversations()) == ["#convos", "#kept"]


async def test_ctcp_replies_are_rate_limited(start: Start) -> None:
    s = await registered(start)
    for i in range(100):
        await s.peer.send(f":flooder!u@h PRIVMSG superman :\x01PING {i}\x01")
    await s.peer.send(":flooder!u@h PRIVMSG superman :\x01VERSION\x01")
    await s.synced("after-flood")  # every reply to the flood was written before this PONG
    replies = [line for line in s.peer.received if line.command == "NOTICE" and line.params[0] == "flooder"]
    assert [r.params[-1] for r in replies] == [f"\x01PING {i}\x01" for i in range(5)]


async def test_the_limit_is_a_setting(start: Start) -> None:
    s = await registered(start, env={"CONVOS_MAX_CONVERSATIONS": "2"})
    await s.send("/query one", target="")
    try:
        await s.send("/query two", target="")
    except InvalidInput as err:
        assert err.errors[0].message == "This connection has too many conversations."
    else:
        raise AssertionError("a third conversation was made")


async def test_nul_and_over_long_names_are_logged(start: Start) -> None:
    """Both were written nowhere (a NUL or a 255+ byte file name) and read back as a 500."""
    s = await registered(start)
    long_name = "#" + "a" * 300
    await s.peer.send(":a\0b!u@h PRIVMSG superman :hi a\0b", f":bob!u@h PRIVMSG {long_name} :a long one")
    await s.barrier("sent")
    assert [(m["from"], m["message"]) for m in await s.logged("a\0b")] == [("a\u2400b", "hi a\u2400b")]
    assert [m["message"] for m in await s.logged(long_name)] == ["a long one"]


async def test_a_line_that_cannot_be_logged_says_so(start: Start) -> None:
    """Nothing acknowledged is dropped silently: a failed write shows an error in the server tab."""
    s = await registered(start)
    conn_dir = s.core.store.connection_dir(s.email, CID)
    # A directory where the log file should be: the write fails as a full or broken disk would.
    (conn_dir / log_relpath(time.time(), "#broken")).mkdir(parents=True)
    await s.peer.send(":bob!u@h PRIVMSG #broken :lost?")
    message = await s.wait(is_message(conversation_id="#broken", message="lost?"))
    assert "id" not in message  # shown, but not in the log
    error = await s.wait(is_message(conversation_id="", type="error"))
    assert error["message"].startswith("Could not log a message of #broken: ")
