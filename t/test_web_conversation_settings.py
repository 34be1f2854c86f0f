"""Muting a conversation (updateConversation) and "Mark all as read" (markAllAsRead) over HTTP and the websocket."""

from __future__ import annotations

from conftest import core_of
from events_helper import Events, is_state

from convos.store.jsonfile import decode

LOGIN = {"email": "superman@example.com", "password": "supersecret1"}
JIMMY = "/api/connection/irc-localhost/conversation/jimmy"


def stored_conversations(home):
    data = decode((home / "superman@example.com" / "irc-localhost" / "connection.json").read_bytes())
    return {c["conversation_id"]: c for c in data["conversations"]}


async def test_mute_is_kept_with_the_conversation_and_reaches_other_tabs(make_client, perl_home):
    client = await make_client(home_dir=perl_home)
    assert (await client.post("/api/user/login", json=LOGIN)).status == 200
    other_tab = Events(await client.ws_connect("/events"))
    await other_tab.ready()
    # Unmuted conversations are stored as 8.07 wrote them: no `muted` key.
    assert "muted" not in stored_conversations(perl_home)["jimmy"]
    res = await client.post(JIMMY, json={"muted": True})
    assert res.status == 200
    body = await res.json()
    assert (body["conversation_id"], body["muted"], body["unread"]) == ("jimmy", True, 2)
    event = await other_tab.wait(is_state("frozen", conversation_id="jimmy"))
    assert event["muted"] is True
    assert stored_conversations(perl_home)["jimmy"]["muted"] is True
    convs = (await (await client.get("/api/conversations")).json())["conversations"]
    assert {c["conversation_id"]: c["muted"] for c in convs} == {"#convos": False, "#with/slash": False, "jimmy": True}
    # Kept across a restart.
    again = await make_client(home_dir=perl_home)
    assert core_of(again).get_user("superman@example.com").get_connection("irc-localhost").get_conversation("jimmy").muted
    res = await client.post(JIMMY, json={"muted": False})
    assert (await res.json())["muted"] is False
    assert "muted" not in stored_conversations(perl_home)["jimmy"]
    await other_tab.ws.close()


async def test_update_conversation_refuses_bad_input(make_client, perl_home, anon):
    client = await make_client(home_dir=perl_home)
    http = await anon(client)
    assert (await http.post(JIMMY, json={"muted": True})).status == 401
    await http.post("/api/user/login", json=LOGIN)
    res = await http.post(JIMMY, json={"muted": "yes"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/body/muted"
    res = await http.post(JIMMY, json={"muted": True, "topic": "x"})
    assert res.status == 400
    res = await http.post("/api/connection/irc-localhost/conversation/nobody", json={"muted": True})
    assert (res.status, (await res.json())["errors"][0]["message"]) == (404, "Conversation not found.")
    res = await http.post("/api/connection/irc-nowhere/conversation/jimmy", json={"muted": True})
    assert res.status == 404
    assert "muted" not in stored_conversations(perl_home)["jimmy"]


async def test_mark_all_as_read(make_client, perl_home):
    client = await make_client(home_dir=perl_home)
    assert (await client.post("/api/user/login", json=LOGIN)).status == 200
    core = core_of(client)
    conn = core.get_user("superman@example.com").get_connection("irc-localhost")
    conn.server.unread = 4
    conn.get_conversation("#convos").notifications = 3
    other_tab = Events(await client.ws_connect("/events"))
    await other_tab.ready()
    res = await client.post("/api/conversations/read")
    assert (res.status, await res.json()) == (200, {})
    for conv_id in ("jimmy", "#with/slash", ""):
        await other_tab.wait(is_state("read", conversation_id=conv_id))
    await other_tab.wait(is_state("notifications_read"))
    assert all(c.unread == 0 and c.notifications == 0 and not c.first_unread_id for c in conn.all_conversations())
    assert {k: (c["unread"], c["notifications"]) for k, c in stored_conversations(perl_home).items()} == {
        "#convos": (0, 0), "#with/slash": (0, 0), "jimmy": (0, 0)}
    await other_tab.ws.close()
