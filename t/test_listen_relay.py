"""The IRC listener end to end: a native client attaches to a connection on a real ngircd, through
the app as the daemon builds it, and the network, the browser and other clients see what it does."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import core_of
from events_helper import Events, is_message, is_state
from ircd import Ngircd

from convos.listen.limits import LINE_BURST, LINE_RATE
from convos.web.keys import IRC_LISTENER

EMAIL, PASSWORD = "superman@example.com", "longenough"


async def test_pass_signs_in_and_gets_the_networks_welcome(convos: Any, native: Any) -> None:
    me = native()
    welcome = await me.register("whatever", password=f"{EMAIL}/localhost:{PASSWORD}")
    assert welcome.command == "001", welcome.raw
    assert welcome.params[0] == "superman"  # the connection's nick, not the one the client asked for
    isupport = await me.expect("005")
    assert any(p.startswith("NETWORK=") for p in isupport.params)
    assert any(p.startswith("PREFIX=") for p in isupport.params)  # the network's own 005
    motd = await me.expect("372")
    assert "Welcome to the convos test network" in motd.text
    await me.expect("376")
    join = await me.expect(lambda m: m.command == "JOIN")
    assert (join.nick, join.params[0]) == ("superman", "#convos")
    names = await me.expect("353")
    assert "@superman" in names.text.split()
    await me.expect("366")


async def test_sasl_plain_with_the_connection_id_and_wrong_passwords(convos: Any, native: Any) -> None:
    ok = native()
    welcome = await ok.register(sasl=(f"{EMAIL}/irc-localhost", PASSWORD), caps=("server-time",))
    assert welcome.command == "001"
    await ok.expect(lambda m: m.command == "JOIN" and m.params[0] == "#convos")

    wrong = native()
    refused = await wrong.register(sasl=(f"{EMAIL}/irc-localhost", "not the password"))
    assert refused.command == "904"
    await wrong.close()

    wrong_pass = native()
    refused = await wrong_pass.register(password=f"{EMAIL}/localhost:nope")
    assert refused.command == "464"
    await wrong_pass.expect("ERROR")
    await wrong_pass.closed()

    nobody = native()
    refused = await nobody.register(password="no account here")
    assert refused.command == "464"

    unknown_net = native()
    refused = await unknown_net.register(password=f"{EMAIL}/efnet:{PASSWORD}")
    assert refused.command == "ERROR" and "Unknown network" in refused.text


async def test_relay_both_ways_with_echo_and_message_ids(convos: Any, native: Any, irc_client: Any) -> None:
    events: Events = convos.events
    tagged = native("tagged")
    await tagged.register(password=f"{EMAIL}/localhost:{PASSWORD}",
                          caps=("server-time", "message-tags", "echo-message"))
    plain = native("plain")
    await plain.register(password=f"{EMAIL}/localhost:{PASSWORD}")
    for n in (tagged, plain):
        await n.expect("366")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await tagged.expect(lambda m: m.command == "JOIN" and m.nick == "jimmy")

    # network -> every client (and the browser), with the logged line's id and time
    await jimmy.privmsg("#convos", "hello from ngircd æøå")
    seen = await events.wait(is_message(conversation_id="#convos", **{"from": "jimmy"}))
    got = await tagged.expect(lambda m: m.command == "PRIVMSG" and m.nick == "jimmy")
    assert got.params == ("#convos", "hello from ngircd æøå")
    assert got.tags["msgid"] == seen["id"]
    assert got.tags["time"].endswith("Z")
    got_plain = await plain.expect(lambda m: m.command == "PRIVMSG" and m.nick == "jimmy")
    assert got_plain.tags == {}  # it asked for no tags

    # client -> network, the log and the browser; echoed to the other client and to itself (echo-message)
    await tagged.send("PRIVMSG #convos :from my terminal")
    heard = await jimmy.expect(lambda m: m.command == "PRIVMSG" and m.text == "from my terminal")
    assert heard.nick == "superman"
    logged = await events.wait(is_message(conversation_id="#convos", message="from my terminal"))
    assert logged["from"] == "superman" and logged["id"]
    echo = await tagged.expect(lambda m: m.command == "PRIVMSG" and m.text == "from my terminal")
    assert echo.tags["msgid"] == logged["id"]
    other = await plain.expect(lambda m: m.command == "PRIVMSG" and m.text == "from my terminal")
    assert other.nick == "superman"

    # a client without echo-message does not get its own line back, the others do
    await plain.send("PRIVMSG #convos :\x01ACTION waves\x01", "PING :marker")
    await jimmy.expect(lambda m: m.command == "PRIVMSG" and m.text == "\x01ACTION waves\x01")
    await tagged.expect(lambda m: m.command == "PRIVMSG" and m.text == "\x01ACTION waves\x01")
    await events.wait(is_message(conversation_id="#convos", type="action", message="waves"))
    await plain.send("PING :after")
    await plain.expect(lambda m: m.command == "PONG" and m.text == "after")
    assert not [m for m in plain.inbox.history if m.command == "PRIVMSG" and "waves" in m.text]

    # a private message from the network, and the answer
    await jimmy.privmsg("superman", "psst")
    query = await plain.expect(lambda m: m.command == "PRIVMSG" and m.text == "psst")
    assert query.params[0] == "superman"
    await plain.send("PRIVMSG jimmy :hi back")
    await jimmy.expect(lambda m: m.command == "PRIVMSG" and m.text == "hi back")
    back = await tagged.expect(lambda m: m.command == "PRIVMSG" and m.text == "hi back")
    assert (back.nick, back.params[0]) == ("superman", "jimmy")


async def test_join_part_topic_from_a_client(convos: Any, native: Any, irc_client: Any) -> None:
    events: Events = convos.events
    a, b = native("a"), native("b")
    for n in (a, b):
        await n.register(password=f"{EMAIL}/localhost:{PASSWORD}")
        await n.expect("366")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#elsewhere")
    await a.send("JOIN #elsewhere")
    await jimmy.expect(lambda m: m.command == "JOIN" and m.nick == "superman")
    await events.wait(is_state("frozen", conversation_id="#elsewhere", frozen=""))
    for n in (a, b):  # both clients are now in the channel, with its names
        await n.expect(lambda m: m.command == "JOIN" and m.params[0] == "#elsewhere")
        names = await n.expect(lambda m: m.command == "353" and m.params[2] == "#elsewhere")
        assert "@jimmy" in names.text.split()
    await jimmy.send("TOPIC #elsewhere :set on the network")
    topic = await b.expect(lambda m: m.command == "TOPIC")
    assert (topic.nick, topic.text) == ("jimmy", "set on the network")
    await a.send("PART #elsewhere")
    await jimmy.expect(lambda m: m.command == "PART" and m.nick == "superman")
    part = await b.expect(lambda m: m.command == "PART")
    assert (part.nick, part.params[0]) == ("superman", "#elsewhere")


async def test_quit_detaches_only_that_client(convos: Any, native: Any, irc_client: Any) -> None:
    a, b = native("a"), native("b")
    for n in (a, b):
        await n.register(password=f"{EMAIL}/localhost:{PASSWORD}")
        await n.expect("366")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await a.send("QUIT :bye")
    await a.expect("ERROR")
    await a.closed()
    await jimmy.privmsg("#convos", "still there?")
    await b.expect(lambda m: m.command == "PRIVMSG" and m.text == "still there?")
    conn = core_of(convos).get_user(EMAIL).get_connection("irc-localhost")
    assert conn.state == "connected"
    assert not [m for m in jimmy.received if m.command == "QUIT"]


@pytest.fixture
async def other_ircd() -> AsyncIterator[Ngircd]:
    """A second ngircd, on 127.0.0.2: its connection gets an id of its own."""
    server = Ngircd(name="irc.other.local")
    server.host = "127.0.0.2"
    try:
        yield await server.start()
    finally:
        await server.stop()
        server.cleanup()


async def test_two_networks_each_client_sees_its_own(convos: Any, native: Any, other_ircd: Ngircd,
                                                       irc_client: Any) -> None:
    events: Events = convos.events
    other = other_ircd
    res = await convos.post("/api/connections", json={"url": f"irc://{other.host}:{other.port}/%23second?tls=0&nick=clark"})
    assert res.status == 200, await res.text()
    cid = (await res.json())["connection_id"]
    res = await convos.post(f"/api/connection/{cid}", json={"wanted_state": "connected"})  # CONVOS_SKIP_CONNECT
    assert res.status == 200, await res.text()
    await events.wait(is_state("frozen", connection_id=cid, conversation_id="#second", frozen=""), 20)
    first, second = native("first"), native("second")
    await first.register(password=f"{EMAIL}/localhost:{PASSWORD}")
    welcome = await second.register(password=f"{EMAIL}/{cid}:{PASSWORD}")
    assert welcome.params[0] == "clark"
    join = await second.expect(lambda m: m.command == "JOIN")
    assert join.params[0] == "#second"
    lois = await irc_client("lois", server=other)
    await lois.join("#second")
    await lois.privmsg("#second", "only on the second network")
    await second.expect(lambda m: m.command == "PRIVMSG" and m.text == "only on the second network")
    await first.send("PING :sync")
    await first.expect(lambda m: m.command == "PONG")
    assert not [m for m in first.inbox.history if "second network" in m.raw]


async def test_long_lines_are_refused_and_the_client_stays(convos: Any, native: Any) -> None:
    me = native()
    await me.register(password=f"{EMAIL}/localhost:{PASSWORD}")
    await me.send("PRIVMSG #convos :" + "x" * 10_000, "PING :still")
    await me.expect("417")
    pong = await me.expect(lambda m: m.command == "PONG")
    assert pong.text == "still"


async def test_a_slow_client_is_disconnected_and_the_others_go_on(convos: Any, native: Any,
                                                                  monkeypatch: Any) -> None:
    from convos.listen import limits

    monkeypatch.setattr(limits, "MAX_WRITE_BUFFER", 64 * 1024)
    slow, fast = native("slow"), native("fast")
    for n in (slow, fast):
        await n.register(password=f"{EMAIL}/localhost:{PASSWORD}")
        await n.expect("366")
    listener = convos.server.app[IRC_LISTENER]
    # Small socket buffers on both ends, so that what it does not read piles up in ours soon.
    slow_session = next(s for s in listener.clients(EMAIL, "irc-localhost") if s.address and s.writer.get_extra_info(
        "peername")[1] == slow.writer.get_extra_info("sockname")[1])
    slow_session.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    slow.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.reader._transport.pause_reading()  # it stops reading
    core = core_of(convos)
    user = core.get_user(EMAIL)
    conn = user.get_connection("irc-localhost")
    conv = conn.get_conversation("#convos")
    for i in range(3000):
        await core.chat.ingest(conn, conv, type="private", from_="flooder", message=f"line {i} " + "y" * 400)
    await fast.expect(lambda m: m.text.startswith("line 2999 "), 30)
    slow.reader._transport.resume_reading()
    await slow.closed(30)
    assert not [m for m in slow.inbox.history if m.text.startswith("line 2999 ")]
    assert len(listener.clients(EMAIL, "irc-localhost")) == 1


async def test_a_flood_is_throttled_and_never_slows_another_user(convos: Any, native: Any,
                                                                  irc_client: Any) -> None:
    core = core_of(convos)
    lois = await core.create_user("lois@example.com", PASSWORD)
    await core.connections.create_connection(lois, "irc://irc.example.com:6697/%23daily", start=False)
    flooder, other = native("flooder"), native("other")
    await flooder.register(password=f"{EMAIL}/localhost:{PASSWORD}")
    await flooder.expect("366")
    welcome = await other.register(password=f"lois@example.com:{PASSWORD}")
    assert welcome.command == "001"
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    count = LINE_BURST + 60
    await flooder.send(*(f"PRIVMSG #convos :flood {i}" for i in range(count)))
    await jimmy.expect(lambda m: m.text == f"flood {LINE_BURST - 1}", 20)  # the burst goes at once
    loop = asyncio.get_running_loop()
    started = loop.time()
    # Another user's client is answered at once while the flood is held back.
    await other.send("PING :other")
    await other.expect(lambda m: m.command == "PONG" and m.text == "other")
    assert not [m for m in jimmy.received if m.text == f"flood {count - 1}"]
    await jimmy.expect(lambda m: m.text == f"flood {count - 1}", 30)
    # 60 lines past the burst at LINE_RATE a second: not sooner than that (the first came with the burst).
    assert loop.time() - started >= (count - LINE_BURST - 1) / LINE_RATE * 0.9
    texts = [m.text for m in jimmy.received if m.command == "PRIVMSG" and m.text.startswith("flood ")]
    assert texts == [f"flood {i}" for i in range(count)]  # all of it, in order
