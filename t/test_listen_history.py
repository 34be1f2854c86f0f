"""CHATHISTORY through the IRC listener: every subcommand, by msgid and by timestamp, from the logs
that ngircd's lines were written to; MARKREAD, the browser's read position both ways (fixtures
`convos` and `native`: t/listen_client.py); the replay on attach for clients without chathistory."""

from __future__ import annotations

import json
import time
from typing import Any

from conftest import core_of
from events_helper import is_message, is_state
from irc_peer import IrcLine
from listen_client import EMAIL, PASSWORD, Native

from convos.listen.lines import parse_time, server_time

CAPS = ("server-time", "message-tags", "batch", "draft/chathistory")


async def history(client: Native, command: str) -> tuple[IrcLine, list[IrcLine]]:
    """Send one CHATHISTORY (or nothing: ""); the next BATCH start line and the lines in it (or a
    FAIL and nothing)."""
    if command:
        await client.send(command)
    start = await client.expect(lambda m: (m.command == "BATCH" and m.params[0].startswith("+")) or m.command == "FAIL")
    if start.command == "FAIL":
        return start, []
    ref = start.params[0][1:]
    lines: list[IrcLine] = []
    while True:
        line = await client.expect(lambda m: m.tags.get("batch") == ref or (m.command == "BATCH" and m.params[0] == f"-{ref}"))
        if line.command == "BATCH":
            return start, lines
        lines.append(line)


def texts(lines: list[IrcLine]) -> list[str]:
    return [m.text for m in lines]


async def test_chathistory_every_subcommand(convos: Any, native: Any, irc_client: Any) -> None:
    me = native()
    await me.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=CAPS)
    isupport = [p for m in me.inbox.history if m.command == "005" for p in m.params]
    assert "CHATHISTORY=500" in isupport and "MSGREFTYPES=msgid,timestamp" in isupport
    await me.expect("366")
    before_all = server_time(time.time() - 5)
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    ids: dict[int, str] = {}
    for i in range(1, 31):
        await jimmy.privmsg("#convos", f"line {i:02}")
    for i in range(1, 31):
        got = await me.expect(lambda m, i=i: m.command == "PRIVMSG" and m.text == f"line {i:02}")
        ids[i] = got.tags["msgid"]
    assert len(set(ids.values())) == 30

    start, lines = await history(me, "CHATHISTORY LATEST #convos * 10")
    assert start.params[1:] == ("chathistory", "#convos")
    assert texts(lines) == [f"line {i:02}" for i in range(21, 31)]
    assert [m.tags["msgid"] for m in lines] == [ids[i] for i in range(21, 31)]
    assert all(m.nick == "jimmy" and m.params[0] == "#convos" and m.tags["time"].endswith("Z") for m in lines)

    _, lines = await history(me, f"CHATHISTORY LATEST #convos msgid={ids[27]} 100")
    assert texts(lines) == ["line 28", "line 29", "line 30"]
    _, lines = await history(me, f"CHATHISTORY BEFORE #convos msgid={ids[20]} 5")
    assert texts(lines) == [f"line {i:02}" for i in range(15, 20)]
    _, lines = await history(me, f"CHATHISTORY AFTER #convos msgid={ids[20]} 5")
    assert texts(lines) == [f"line {i:02}" for i in range(21, 26)]
    _, lines = await history(me, f"CHATHISTORY AROUND #convos msgid={ids[20]} 6")
    assert texts(lines) == [f"line {i:02}" for i in range(17, 23)]
    _, lines = await history(me, f"CHATHISTORY BETWEEN #convos msgid={ids[5]} msgid={ids[10]} 100")
    assert texts(lines) == [f"line {i:02}" for i in range(6, 10)]
    _, lines = await history(me, f"CHATHISTORY BETWEEN #convos msgid={ids[10]} msgid={ids[5]} 2")
    assert texts(lines) == ["line 08", "line 09"]  # reversed bounds: the lines nearest the first one

    # By timestamp.
    after_all = server_time(time.time() + 5)
    _, lines = await history(me, f"CHATHISTORY AFTER #convos timestamp={before_all} 3")
    assert texts(lines) == ["line 01", "line 02", "line 03"]
    _, lines = await history(me, f"CHATHISTORY BEFORE #convos timestamp={after_all} 2")
    assert texts(lines) == ["line 29", "line 30"]
    _, lines = await history(me, f"CHATHISTORY BETWEEN #convos timestamp={before_all} timestamp={after_all} 100")
    assert texts(lines) == [f"line {i:02}" for i in range(1, 31)]
    _, lines = await history(me, f"CHATHISTORY AROUND #convos timestamp={after_all} 4")
    assert texts(lines) == [f"line {i:02}" for i in range(27, 31)]
    await jimmy.privmsg("superman", "a private line")
    await me.expect(lambda m: m.command == "PRIVMSG" and m.text == "a private line")
    start, lines = await history(me, f"CHATHISTORY TARGETS timestamp={before_all} timestamp={server_time(time.time() + 5)} 10")
    assert start.params[1] == "draft/chathistory-targets"
    assert sorted(m.params[1] for m in lines) == ["#convos", "jimmy"]
    assert all(m.command == "CHATHISTORY" and m.params[0] == "TARGETS" for m in lines)

    # Nothing for a conversation the connection does not have; errors as FAIL.
    _, lines = await history(me, "CHATHISTORY LATEST #nowhere * 10")
    assert lines == []
    for bad in ("CHATHISTORY BEFORE #convos * 10", "CHATHISTORY LATEST #convos * 0",
                "CHATHISTORY AFTER #convos msgid=nonsense 10", "CHATHISTORY SIDEWAYS #convos * 10"):
        fail, _ = await history(me, bad)
        assert fail.command == "FAIL" and fail.params[:2] == ("CHATHISTORY", "INVALID_PARAMS"), (bad, fail.raw)


async def test_chathistory_answers_up_to_500_lines_where_the_api_stops_at_200(convos: Any, native: Any) -> None:
    core = core_of(convos)
    conn = core.get_user(EMAIL).get_connection("irc-localhost")
    conv = conn.get_conversation("#convos")
    for i in range(600):
        await core.chat.ingest(conn, conv, type="private", from_="jimmy", message=f"old {i:03}")
    me = native()
    await me.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=CAPS)
    await me.expect("366")
    _, lines = await history(me, "CHATHISTORY LATEST #convos * 1000")
    assert texts(lines) == [f"old {i:03}" for i in range(100, 600)]  # the newest 500, in one answer
    _, lines = await history(me, f"CHATHISTORY BEFORE #convos msgid={lines[450].tags['msgid']} 500")
    assert texts(lines) == [f"old {i:03}" for i in range(50, 550)]
    _, lines = await history(me, f"CHATHISTORY AFTER #convos msgid={lines[0].tags['msgid']} 500")
    assert texts(lines) == [f"old {i:03}" for i in range(51, 551)]
    assert all(m.tags["time"].endswith(".000Z") and len(m.tags["time"]) == 24 for m in lines)
    res = await convos.get("/api/connection/irc-localhost/conversation/%23convos/messages", params={"limit": 500})
    assert len((await res.json())["messages"]) == 200  # the API's pages are as they were


async def test_chathistory_without_batch_gets_plain_lines(convos: Any, native: Any, irc_client: Any) -> None:
    me = native()
    await me.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=("draft/chathistory",))
    await me.expect("366")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await jimmy.privmsg("#convos", "only line")
    await me.expect(lambda m: m.command == "PRIVMSG" and m.text == "only line")
    await me.send("CHATHISTORY LATEST #convos * 5", "PING :done")
    again = await me.expect(lambda m: m.command == "PRIVMSG" and m.text == "only line")
    assert again.tags == {}
    await me.expect(lambda m: m.command == "PONG" and m.text == "done")
    assert not [m for m in me.inbox.history if m.command == "BATCH"]


async def test_read_marker_is_the_browsers_read_position(convos: Any, native: Any, irc_client: Any) -> None:
    events = convos.events
    a, b = native("a"), native("b")
    for n in (a, b):
        await n.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=("draft/read-marker",))
        await n.expect(lambda m: m.command == "JOIN")
        first = await n.expect(lambda m: m.command == "MARKREAD")  # after the JOIN: where reading stands
        assert first.params[0] == "#convos" and first.params[1].startswith("timestamp=")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await jimmy.privmsg("#convos", "superman: unread, please read me")
    logged = await events.wait(is_message(conversation_id="#convos", **{"from": "jimmy"}))
    await a.expect(lambda m: m.command == "PRIVMSG")
    await a.send("MARKREAD #convos")
    where = await a.expect(lambda m: m.command == "MARKREAD")
    unread_since = parse_time(where.params[1])
    assert unread_since is not None and unread_since < parse_time(logged["ts"])  # just before the unread line

    # A client reads: the browsers and the other client follow.
    await a.send(f"MARKREAD #convos timestamp={server_time(time.time())}")
    await events.wait(is_state("read", conversation_id="#convos"))
    moved = await b.expect(lambda m: m.command == "MARKREAD")
    assert parse_time(moved.params[1]) > unread_since
    res = await convos.get("/api/connection/irc-localhost/conversation/%23convos/messages")
    assert res.status == 200
    conv = core_of(convos).get_user(EMAIL).get_connection("irc-localhost").get_conversation("#convos")
    assert conv.unread == 0

    # The browser reads: the clients are told.
    await jimmy.privmsg("#convos", "another one")
    await events.wait(is_message(conversation_id="#convos", message="another one"))
    assert conv.unread == 1
    res = await convos.post("/api/connection/irc-localhost/conversation/%23convos/read")
    assert res.status == 200
    for n in (a, b):
        told = await n.expect(lambda m: m.command == "MARKREAD" and m.params[0] == "#convos")
        assert parse_time(told.params[1]) >= parse_time(logged["ts"])

    fail, _ = await history(a, "MARKREAD #nowhere")
    assert fail.command == "FAIL" and fail.params[:2] == ("MARKREAD", "INVALID_PARAMS")


async def test_replay_on_attach_for_clients_without_chathistory(convos: Any, native: Any, irc_client: Any,
                                                               home: Any) -> None:
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    phone = native("phone")
    await phone.register(password=f"{EMAIL}/localhost@phone:{PASSWORD}", caps=("batch", "message-tags"))
    await phone.expect("366")
    await jimmy.privmsg("#convos", "seen by the phone")
    seen = await phone.expect(lambda m: m.command == "PRIVMSG" and m.text == "seen by the phone")
    await phone.send("QUIT")
    await phone.closed()
    stored = json.loads((home / EMAIL / "user.json").read_text())
    assert stored["irc_clients"] == {"irc-localhost/phone": seen.tags["msgid"]}

    # While the phone is away.
    await jimmy.privmsg("#convos", "missed 1")
    await jimmy.privmsg("superman", "missed in private")
    await jimmy.privmsg("#convos", "missed 2")
    await convos.events.wait(is_message(conversation_id="#convos", message="missed 2"))

    back = native("phone again")
    await back.register(password=f"{EMAIL}/localhost@phone:{PASSWORD}", caps=("batch", "message-tags"))
    start, lines = await history(back, "")  # the first batch: the replay of #convos
    assert start.params[1:] == ("chathistory", "#convos")
    assert texts(lines) == ["missed 1", "missed 2"]
    start, lines = await history(back, "")
    assert start.params[1:] == ("chathistory", "jimmy")
    assert texts(lines) == ["missed in private"]

    # Another client name saw nothing yet: no replay; a client with chathistory asks itself.
    other = native("laptop")
    await other.register(password=f"{EMAIL}/localhost@laptop:{PASSWORD}", caps=("batch",))
    await other.send("PING :end")
    await other.expect(lambda m: m.command == "PONG")
    assert not [m for m in other.inbox.history if m.command == "BATCH"]
