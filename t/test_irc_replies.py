"""What the IRC server answers goes where the user looks: errors to a message in its
conversation, the app's own /whois leaves no noise, nick and topic changes say who, quit
reasons as the person wrote them, and a lost connection says when it tries again.

Against a real ngircd (t/ircd.py), through the websocket (t/events_helper.py).
"""

from __future__ import annotations

from typing import Any

from events_helper import Events, is_message, is_state
from test_irc_ngircd import convos  # noqa: F401 (the fixture)

from convos.irc.connection import MAX_RECONNECT_DELAY


async def send(events: Events, message: str, conversation_id: str = "#convos") -> dict[str, Any]:
    ident = f"{id(message)}-{message}"
    await events.send(method="send", id=ident, connection_id="irc-localhost", conversation_id=conversation_id,
                      message=message)
    return await events.wait(lambda f: f.get("event") == "sent" and f.get("id") == ident)


def server_tab_lines(events: Events) -> list[str]:
    return [f["message"] for f in events.seen if f.get("event") == "message" and f.get("conversation_id") == ""]


async def test_no_such_nick_goes_to_its_conversation(convos, irc_client):  # noqa: F811
    _client, events = convos
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))

    # /msg to a nick nobody has: the conversation is opened with the line, and the server's
    # answer follows it there as an error.
    assert "errors" not in await send(events, "/msg nosuchnick hi there")
    await events.wait(is_message(conversation_id="nosuchnick", message="hi there", type="private"))
    err = await events.wait(is_message(conversation_id="nosuchnick", type="error"))
    assert err["message"] == "No such nick or channel name"
    assert err["from"] == "irc.test.local"

    # A private conversation with someone who changed nick meanwhile.
    jimmy = await irc_client("jimmy")
    await jimmy.privmsg("superman", "psst")
    await events.wait(is_message(conversation_id="jimmy", message="psst"))
    await jimmy.send("NICK jimbo")
    jimmy.nick = "jimbo"
    await jimmy.join("#quiet")  # answered after the NICK
    assert "errors" not in await send(events, "are you still there?", conversation_id="jimmy")
    err = await events.wait(is_message(conversation_id="jimmy", type="error"))
    assert err["message"] == "No such nick or channel name"

    # A channel that does not let us speak: 404 in that channel.
    await jimmy.send("MODE #quiet +m")
    await jimmy.expect(lambda m: m.command == "MODE" and m.params[1] == "+m")
    assert "errors" not in await send(events, "/join #quiet")
    await events.wait(is_state("frozen", conversation_id="#quiet", frozen=""))
    assert "errors" not in await send(events, "hello?", conversation_id="#quiet")
    err = await events.wait(is_message(conversation_id="#quiet", type="error"))
    assert err["message"] == "Cannot send to channel #quiet."

    # Only what has no conversation of its own is left for the server tab.
    assert "errors" not in await send(events, "/quote PRIVMSG nobodyatall :hi")
    err = await events.wait(is_message(conversation_id="", type="error"))
    assert err["message"] == "nobodyatall No such nick or channel name"
    assert not [line for line in server_tab_lines(events) if "nosuchnick" in line or "jimmy" in line]


async def test_whois_of_a_missing_nick_leaves_no_noise(convos):  # noqa: F811
    _client, events = convos
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    await send(events, "/query gone")
    reply = await send(events, "/whois gone", conversation_id="gone")
    assert reply["errors"][0]["message"] == "No such nick or channel name"
    await events.wait(is_state("frozen", conversation_id="gone", frozen="No such nick or channel name"))
    # The next command's answer comes after the whois's last line: nothing of it reached the server tab.
    assert (await send(events, "/ison gone"))["online"] is False
    assert [line for line in server_tab_lines(events) if "WHOIS" in line] == []


async def test_own_nick_change_and_topic_author(convos, irc_client):  # noqa: F811
    _client, events = convos
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await events.wait(is_state("join", conversation_id="#convos", nick="jimmy"))

    await jimmy.send("TOPIC #convos :Daily Planet news")
    topic = await events.wait(is_state("frozen", conversation_id="#convos", topic="Daily Planet news"))
    assert topic["topic_by"] == "jimmy"

    assert (await send(events, "/nick superduper"))["nick"] == "superduper"
    change = await events.wait(is_state("nick_change", new_nick="superduper"))
    assert change["old_nick"] == "superman"
    info = [f for f in events.seen if f.get("type") == "info" and f["info"].get("nick") == "superduper"]
    assert info and events.seen.index(info[0]) < events.seen.index(change), "info comes first"
    # The server tab keeps it in its log.
    await events.wait(is_message(conversation_id="", message="You are now known as superduper."))


async def test_quit_reasons_as_written(convos, irc_client):  # noqa: F811
    client, events = convos
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await events.wait(is_state("join", conversation_id="#convos", nick="jimmy"))
    # ngircd puts quotes around a quit reason.
    await jimmy.send("QUIT :https://convos.chat")
    quit_ = await events.wait(is_state("quit", nick="jimmy"))
    assert quit_["message"] == "https://convos.chat"

    # Our own QUIT: the server's goodbye (ERROR) is no error to show.
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "disconnected"})
    assert res.status == 200
    await events.wait(is_state("connection", state="disconnected"))
    assert [f["message"] for f in events.seen if f.get("event") == "message" and f.get("type") == "error"] == []


async def test_reconnect_time_in_the_state_event(convos, ircd):  # noqa: F811
    client, events = convos
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    await ircd.stop()
    down = await events.wait(is_state("connection", state="disconnected"))
    assert "Reconnecting in" in down["message"]
    assert down["reconnect_in"] > 0
    listed = await (await client.get("/api/connections")).json()
    conn = listed["connections"][0]
    assert conn["state"] in ("disconnected", "queued", "connecting")
    if conn["state"] == "disconnected":
        # With a delay of 0.1 s, a loaded machine may answer after a later attempt failed too,
        # whose delay doubled: bounded by the longest delay, not by the first one.
        assert 0 < conn["reconnect_in"] <= MAX_RECONNECT_DELAY
    # Once it connects again (or is told to stop), there is nothing to wait for.
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "disconnected"})
    assert res.status == 200
    await events.wait(lambda f: f.get("type") == "connection" and f.get("state") == "disconnected"
                      and "reconnect_in" not in f)
    listed = await (await client.get("/api/connections")).json()
    assert "reconnect_in" not in listed["connections"][0]
