"""Web Push end to end: lines from a real ngircd reach a local push service (t/push_stub.py),
or do not, as the user's settings and open tabs say."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from events_helper import Events, is_message, is_state
from push_stub import PushClient, PushStub, logged_in, subscribe

from convos.store.jsonfile import atomic_write, encode


@pytest.fixture
async def chat(push_client: PushClient, stub: PushStub, home: Path, ircd: Any, irc_client: Any
               ) -> AsyncIterator[tuple[Any, Events, Any]]:
    """superman with a phone, connected to the test's ngircd in #convos; jimmy there too."""
    atomic_write(home / "settings.json", encode({"default_connection": f"irc://127.0.0.1:{ircd.port}/%23convos?tls=0"}))
    client = await push_client({"CONVOS_CONNECT_DELAY": "0.1"}, coalesce_seconds=0.5)
    await logged_in(client, stub)
    await subscribe(client, stub, "phone")
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "connected"})
    assert res.status == 200
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await events.wait(is_state("join", conversation_id="#convos", nick="jimmy"))
    yield client, events, jimmy
    await events.ws.close()


async def test_a_mention_reaches_the_phone_within_a_second(chat: Any, stub: PushStub) -> None:
    _, events, jimmy = chat
    sent = time.monotonic()
    await jimmy.privmsg("#convos", "superman: \x02can\x02 you help me? æøå")
    [got] = await stub.wait(1)
    assert got.at - sent < 1.0, f"took {got.at - sent:.2f} s"
    msg = await events.wait(is_message(conversation_id="#convos", **{"from": "jimmy"}))
    assert got.payload["title"] == "jimmy in #convos"
    assert got.payload["body"] == "superman: can you help me? æøå"  # IRC formatting taken out
    assert got.payload["message_id"] == msg["id"]
    assert got.payload["path"] == f"/chat/irc-localhost/%23convos?around_id={msg['id']}"
    assert got.headers["Urgency"] == "high"
    assert got.headers["Topic"] and len(got.headers["Topic"]) <= 32
    assert stub.problems == []

    # A line that does not mention superman is not pushed by default; a private message is.
    await jimmy.privmsg("#convos", "just chatting")
    await jimmy.privmsg("superman", "a private word")
    got = (await stub.wait(2))[-1]
    assert (got.payload["title"], got.payload["body"]) == ("jimmy", "a private word")
    assert len(stub.received) == 2


async def test_nothing_arrives_when_the_policy_says_no(chat: Any, stub: PushStub) -> None:
    client, events, jimmy = chat
    res = await client.post("/api/push/settings", json={"conversations": [
        {"connection_id": "irc-localhost", "conversation_id": "#convos", "policy": "nothing"}]})
    assert res.status == 200
    await jimmy.privmsg("#convos", "superman: silenced")
    await jimmy.privmsg("superman", "sentinel 1")  # pushed after the line above was handled (one queue per user)
    [got] = await stub.wait(1)
    assert got.payload["body"] == "sentinel 1"

    # Turned off for the user: nothing at all.
    assert (await client.post("/api/push/settings", json={"enabled": False})).status == 200
    await jimmy.privmsg("superman", "while off")
    await events.wait(is_message(conversation_id="jimmy", message="while off"))
    assert (await client.post("/api/push/settings", json={"enabled": True, "content": False})).status == 200
    # No text: only the conversation.
    await jimmy.privmsg("superman", "secret text")
    got = (await stub.wait(2))[-1]
    assert (got.payload["title"], got.payload["body"]) == ("Convos", "New message in jimmy")
    assert "secret" not in str(got.payload)
    assert [r.payload["body"] for r in stub.received] == ["sentinel 1", "New message in jimmy"]

    # "all": every line of others in that conversation.
    await client.post("/api/push/settings", json={"content": True, "conversations": [
        {"connection_id": "irc-localhost", "conversation_id": "#convos", "policy": "all"}]})
    await jimmy.privmsg("#convos", "no mention at all")
    got = (await stub.wait(3))[-1]
    assert (got.payload["title"], got.payload["body"]) == ("jimmy in #convos", "no mention at all")
    assert got.headers["Urgency"] == "normal"


async def test_nothing_is_pushed_to_a_conversation_a_tab_looks_at(chat: Any, stub: PushStub) -> None:
    _, events, jimmy = chat
    await events.send(method="focus", id="f1", connection_id="irc-localhost", conversation_id="#convos")
    reply = await events.wait(lambda f: f.get("id") == "f1")
    assert reply == {"event": "focus", "id": "f1"}
    await jimmy.privmsg("#convos", "superman: you see this already")
    await jimmy.privmsg("superman", "but not this")
    [got] = await stub.wait(1)
    assert got.payload["body"] == "but not this"

    # The tab is hidden or blurred: it says so with no connection_id.
    await events.send(method="focus", id="f2", connection_id=None)
    await events.wait(lambda f: f.get("id") == "f2")
    await jimmy.privmsg("#convos", "superman: now you are away")
    got = (await stub.wait(2))[-1]
    assert got.payload["body"] == "superman: now you are away"

    await events.send(method="focus", id="f3", connection_id=["bad"])
    bad = await events.wait(lambda f: f.get("id") == "f3")
    assert bad["errors"] == [{"message": "Invalid input."}]


async def test_bursts_are_coalesced_with_a_count(chat: Any, stub: PushStub) -> None:
    _, events, jimmy = chat
    for n in range(4):
        await jimmy.privmsg("#convos", f"superman: ping {n}")
    await events.wait(is_message(conversation_id="#convos", message="superman: ping 3"))
    first, second = await stub.wait(2)
    assert (first.payload["count"], first.payload["body"]) == (1, "superman: ping 0")
    assert (second.payload["count"], second.payload["body"]) == (3, "superman: ping 3")
    assert second.payload["title"] == "#convos (3)"
    assert second.at - first.at >= 0.4  # the window (0.5 s here) held the rest back
    assert second.payload["tag"] == first.payload["tag"] == "irc-localhost/#convos"


async def test_an_invite_is_pushed(chat: Any, stub: PushStub, irc_client: Any) -> None:
    _, events, jimmy = chat
    await jimmy.join("#secret")
    await jimmy.send("INVITE superman #secret")
    [got] = await stub.wait(1)
    assert got.payload["kind"] == "invite"
    assert got.payload["body"] == "You are invited to #secret."
    # The browser learns of it too (it got no event when the invite made the conversation).
    conv = await events.wait(is_state("frozen", conversation_id="#secret"))
    assert conv["frozen"] == "You have a pending invitation."
