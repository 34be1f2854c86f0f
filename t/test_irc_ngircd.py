"""End to end against a real ngircd: connect, join, chat both ways, reconnect, restart."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import core_of
from events_helper import Events, is_message, is_state

from convos.store.jsonfile import atomic_write, decode, encode


@pytest.fixture
async def convos(make_client, home, ircd):
    """A daemon app whose default connection is the test's ngircd, with superman registered."""
    atomic_write(home / "settings.json", encode({"default_connection": f"irc://127.0.0.1:{ircd.port}/%23convos?tls=0"}))
    # Not connected at start-up: the connection starts once the websocket listens, so no event is missed.
    client = await make_client({"CONVOS_SKIP_CONNECT": "1", "CONVOS_CONNECT_DELAY": "0.1"})
    res = await client.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "connected"})
    assert res.status == 200, await res.text()
    yield client, events
    await events.ws.close()


async def test_chat_both_ways(convos, irc_client, home):
    client, events = convos
    conv = await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    assert conv["connection_id"] == "irc-localhost"
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await events.wait(is_state("join", conversation_id="#convos", nick="jimmy"))

    await jimmy.privmsg("#convos", "superman: can you help me? æøå")
    msg = await events.wait(is_message(conversation_id="#convos", **{"from": "jimmy"}))
    assert msg["message"] == "superman: can you help me? æøå"
    assert msg["highlight"] is True
    assert msg["type"] == "private"
    assert msg["ts"].endswith("Z")
    first_id = msg["id"]  # the line is on disk when the event goes out, with its id

    await events.send(method="send", id="42", connection_id="irc-localhost", conversation_id="#convos",
                      message="Sure, jimmy!")
    line = await jimmy.expect(lambda x: x.command == "PRIVMSG" and x.params[-1] == "Sure, jimmy!")
    assert line.nick == "superman"
    sent = await events.wait(lambda f: f.get("event") == "sent" and f.get("id") == "42")
    assert "errors" not in sent

    await events.send(method="send", id="43", connection_id="irc-localhost", conversation_id="#convos",
                      message="/me waves")
    line = await jimmy.expect(lambda x: x.command == "PRIVMSG" and x.params[-1] == "\x01ACTION waves\x01")

    await jimmy.privmsg("superman", "a private word")
    msg = await events.wait(is_message(conversation_id="jimmy"))
    assert msg["message"] == "a private word"

    await core_of(client).store.flush_logs()
    body = await (await client.get("/api/connection/irc-localhost/conversation/%23convos/messages")).json()
    assert [(m["from"], m["message"], m["type"]) for m in body["messages"]] == [
        ("jimmy", "superman: can you help me? æøå", "private"),
        ("superman", "Sure, jimmy!", "private"),
        ("superman", "waves", "action"),
    ]
    assert body["messages"][0]["highlight"] is True
    assert body["messages"][0]["id"] == first_id
    notes = await (await client.get("/api/notifications")).json()
    assert [n["message"] for n in notes["messages"]] == ["superman: can you help me? æøå"]
    assert notes["messages"][0]["id"] == first_id
    convs = await (await client.get("/api/conversations")).json()
    by_id = {c["conversation_id"]: c for c in convs["conversations"]}
    assert by_id["#convos"]["unread"] == 1 and by_id["#convos"]["notifications"] == 1
    assert by_id["jimmy"]["unread"] == 1


async def test_commands_against_ngircd(convos, irc_client):
    client, events = convos
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")

    async def send(message: str, conversation_id: str = "#convos") -> dict[str, Any]:
        ident = str(id(message)) + message
        await events.send(method="send", id=ident, connection_id="irc-localhost", conversation_id=conversation_id,
                          message=message)
        return await events.wait(lambda f: f.get("id") == ident)

    names = await send("/names")
    assert {p["nick"]: p["mode"] for p in names["participants"]} == {"superman": "o", "jimmy": ""}
    topic = await send("/topic The new topic")
    assert topic["topic"] == "The new topic"
    assert (await send("/topic"))["topic"] == "The new topic"
    whois = await send("/whois jimmy")
    assert whois["nick"] == "jimmy" and "#convos" in whois["channels"]
    ison = await send("/ison jimmy")
    assert ison["online"] is True
    assert (await send("/ison nobodyhere"))["online"] is False
    mode = await send("/mode")
    assert mode["target"] == "#convos" and mode["mode"].startswith("+")
    joined = await send("/join #other")
    assert joined["conversation_id"] == "#other"
    await events.wait(is_state("frozen", conversation_id="#other", frozen=""))
    parted = await send("/part #other")
    assert "errors" not in parted
    await events.wait(is_state("part", conversation_id="#other", nick="superman"))
    err = await send("/kick nobodyhere")
    assert err["errors"][0]["message"]
    assert (await send("/foo"))["errors"][0]["message"] == "Unknown command."
    assert (await send("/msg"))["errors"][0]["message"] == "Cannot send without target."
    assert (await send("hello", conversation_id=""))["errors"][0]["message"] == "Cannot send without target."
    nick = await send("/nick superduper")
    assert nick["nick"] == "superduper"
    await jimmy.expect(lambda x: x.command == "NICK" and x.params[0] == "superduper")
    assert "nick=superduper" in core_of(client).get_user("superman@example.com").get_connection("irc-localhost").url
    kicked = await send("/kick jimmy bye now")
    assert "errors" not in kicked
    await jimmy.expect(lambda x: x.command == "KICK" and x.params[1] == "jimmy")
    away = await send("/away gone fishing")
    assert away["away"] is True
    assert (await send("/away"))["away"] is False
    lst = await send("/list")
    assert "n_conversations" in lst
    assert (await send("/clear #convos"))["errors"][0]["message"].startswith("WARNING!")
    assert (await send("/clear history #nope"))["errors"][0]["message"] == "Unknown target."


async def test_reconnects_after_ircd_restart(convos, ircd, home):
    client, events = convos
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    await ircd.restart()
    down = await events.wait(is_state("connection", state="disconnected"))
    assert "Reconnecting in" in down["message"]
    await events.wait(is_state("connection", state="connected"), timeout=15)
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""), timeout=15)
    convs = (await (await client.get("/api/conversations")).json())["conversations"]
    assert [c["conversation_id"] for c in convs] == ["#convos"]


async def test_state_survives_daemon_restart(make_client, home, ircd, irc_client):
    atomic_write(home / "settings.json", encode({"default_connection": f"irc://127.0.0.1:{ircd.port}/%23convos?tls=0"}))
    env = {"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1"}
    client = await make_client({**env, "CONVOS_SKIP_CONNECT": "1"})  # connected below, once events are followed
    res = await client.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "connected"})
    assert res.status == 200, await res.text()
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    await events.send(method="send", id="1", connection_id="irc-localhost", conversation_id="#convos",
                      message="/join #second")
    await events.wait(lambda f: f.get("id") == "1")
    await events.ws.close()
    await client.close()  # stops the app: QUIT, saves, flushes logs
    stored = decode((home / "superman@example.com" / "irc-localhost" / "connection.json").read_bytes())
    assert [c["conversation_id"] for c in stored["conversations"]] == ["#convos", "#second"]
    assert stored["wanted_state"] == "connected"

    jimmy = await irc_client("jimmy")
    await jimmy.join("#second")
    again = await make_client(env)
    res = await again.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    # Back on IRC and in both channels, by itself.
    await jimmy.expect(lambda x: x.command == "JOIN" and x.nick == "superman" and x.params[0] == "#second", timeout=15)
