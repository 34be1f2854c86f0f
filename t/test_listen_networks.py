"""soju.im/bouncer-networks and the `*convos` service nick, end to end: native clients on the
listener of a real daemon, superman's connection on a real ngircd, the REST API and the browser's
websocket seeing what the clients change."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conftest import core_of
from events_helper import Events, is_state
from listen_client import EMAIL, PASSWORD, Native

BOUNCER_CAPS = ("batch", "soju.im/bouncer-networks", "soju.im/bouncer-networks-notify")


def attrs(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(";"):
        key, _, value = item.partition("=")
        out[key] = value.replace("\\s", " ")
    return out


def network(netid: str, **match: str) -> Any:
    """A BOUNCER NETWORK line of `netid` whose attributes include `match`."""
    def matcher(m: Any) -> bool:
        if m.command != "BOUNCER" or m.params[:2] != ("NETWORK", netid):
            return False
        got = attrs(m.params[2])
        return all(got.get(k) == v for k, v in match.items())
    return matcher


async def control(native: Any, name: str = "control", caps: tuple[str, ...] = BOUNCER_CAPS) -> Native:
    """A Goguma-like first connection: the email as nick and SASL user name, no network, the
    bouncer capabilities."""
    client = native(name)
    welcome = await client.register(EMAIL, sasl=(EMAIL, PASSWORD), caps=caps)
    assert welcome.command == "001", welcome.raw
    assert welcome.params[0] == EMAIL.partition("@")[0]  # a nick, without "@"
    return client


async def connections(convos: Any) -> dict[str, Any]:
    res = await convos.get("/api/connections")
    assert res.status == 200
    return {c["connection_id"]: c for c in (await res.json())["connections"]}


async def test_control_connection_lists_the_networks(convos: Any, native: Any) -> None:
    me = await control(native)
    isupport = await me.expect("005")
    assert "CHANTYPES=" in isupport.params
    assert not any(p.startswith("BOUNCER_NETID") for p in isupport.params)  # bound to no network
    start = await me.expect(lambda m: m.command == "BATCH" and m.params[0].startswith("+"))
    assert start.params[1] == "soju.im/bouncer-networks"
    listed = await me.expect(lambda m: m.command == "BOUNCER")
    assert listed.tags["batch"] == start.params[0][1:]
    assert listed.params[:2] == ("NETWORK", "irc-localhost")
    got = attrs(listed.params[2])
    assert got["name"] == "localhost" and got["state"] == "connected"
    assert got["host"] == "127.0.0.1" and got["tls"] == "0" and got["nickname"] == "superman"
    await me.expect(lambda m: m.command == "BATCH" and m.params[0] == "-" + start.params[0][1:])
    # no channel of the network on the control connection
    await me.send("PING :after")
    await me.expect(lambda m: m.command == "PONG")
    assert not [m for m in me.inbox.history if m.command == "JOIN"]

    await me.send("BOUNCER LISTNETWORKS")
    again = await me.expect(network("irc-localhost", state="connected"))
    assert "batch" in again.tags
    await me.send("PRIVMSG #convos :nowhere to go", "JOIN #convos")
    refused = await me.expect("400")
    assert refused.params[1] == "PRIVMSG"
    await me.expect(lambda m: m.command == "400" and m.params[1] == "JOIN")


async def test_bind_attaches_to_the_chosen_connection(convos: Any, native: Any) -> None:
    # The Goguma flow: the control connection lists, then one connection per network binds it.
    lister = await control(native)
    listed = await lister.expect(lambda m: m.command == "BOUNCER" and m.params[0] == "NETWORK")
    netid = listed.params[1]

    bound = native("bound")
    welcome = await bound.register(EMAIL, sasl=(EMAIL, PASSWORD), caps=BOUNCER_CAPS,
                                   before_end=(f"BOUNCER BIND {netid}",))
    assert welcome.command == "001" and welcome.params[0] == "superman"
    isupport = await bound.expect(lambda m: m.command == "005" and any(p.startswith("BOUNCER_NETID=")
                                                                       for p in m.params))
    assert f"BOUNCER_NETID={netid}" in isupport.params
    join = await bound.expect(lambda m: m.command == "JOIN")
    assert join.params[0] == "#convos"
    # too late to bind again
    await bound.send(f"BOUNCER BIND {netid}")
    late = await bound.expect(lambda m: m.command == "FAIL")
    assert late.params[:3] == ("BOUNCER", "REGISTRATION_IS_COMPLETED", "BIND")


async def test_bind_errors(convos: Any, native: Any) -> None:
    unknown = native("unknown")
    await unknown.register("g", sasl=(EMAIL, PASSWORD), caps=BOUNCER_CAPS,
                           before_end=("BOUNCER BIND irc-nowhere", "BOUNCER FROB"))
    fail = await unknown.expect(lambda m: m.command == "FAIL" and m.params[1] == "INVALID_NETID")
    assert fail.params[:4] == ("BOUNCER", "INVALID_NETID", "BIND", "irc-nowhere")
    fail = await unknown.expect(lambda m: m.command == "FAIL" and m.params[1] == "UNKNOWN_COMMAND")
    assert fail.params[2] == "FROB"

    # BIND before signing in: there is no account to bind a network of
    early = native("early")
    await early.connect()
    await early.send("CAP LS 302", "BOUNCER BIND irc-localhost")
    fail = await early.expect(lambda m: m.command == "FAIL")
    assert fail.params[:3] == ("BOUNCER", "ACCOUNT_REQUIRED", "BIND")


async def test_add_change_and_delete_networks(convos: Any, native: Any) -> None:
    events: Events = convos.events
    me = await control(native)
    await me.expect(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))
    other = native("other")  # a second client, bound to superman's connection, with notifications
    await other.register("x", sasl=(f"{EMAIL}/localhost", PASSWORD), caps=BOUNCER_CAPS)
    await other.expect(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))

    await me.send("BOUNCER ADDNETWORK name=My\\sNet;host=irc.example.com;nickname=clark;realname=Clark\\sKent")
    added = await me.expect(lambda m: m.command == "BOUNCER" and m.params[0] == "ADDNETWORK")
    netid = added.params[1]
    assert netid == "irc-example"
    heard = await other.expect(network(netid, name="My Net", host="irc.example.com", port="6697", tls="1",
                                       nickname="clark"))
    assert attrs(heard.params[2])["realname"] == "Clark Kent"
    frame = await events.wait(is_state("connection_added", connection_id=netid))
    assert frame["connection"]["name"] == "My Net"
    conn = (await connections(convos))[netid]
    assert conn["name"] == "My Net"
    assert conn["url"] == "irc://irc.example.com:6697?tls=1&nick=clark&realname=Clark+Kent"

    await me.send(f"BOUNCER CHANGENETWORK {netid} port=7000;nickname=;name=Daily\\sPlanet;pass=s3cret")
    await me.expect(lambda m: m.command == "BOUNCER" and m.params[:2] == ("CHANGENETWORK", netid))
    changed = await other.expect(network(netid, name="Daily Planet", port="7000"))
    assert "nickname" in changed.params[2].split(";")  # removed: a key without a value
    assert "pass" not in changed.params[2] and "s3cret" not in changed.raw  # never told
    frame = await events.wait(is_state("connection_changed", connection_id=netid))
    assert frame["connection"]["name"] == "Daily Planet"
    conn = (await connections(convos))[netid]
    url = urlsplit(conn["url"])
    assert (url.hostname, url.port, url.password) == ("irc.example.com", 7000, "s3cret")
    query = dict(parse_qsl(url.query))
    assert query["realname"] == "Clark Kent" and query.get("nick") != "clark"

    # Goguma's edit form sends every field; the ones it cannot know (name when it is empty, the
    # password that is never told) stay as they are.
    await me.send(f"BOUNCER CHANGENETWORK {netid} name=;host=irc.example.com;port=7000;tls=1;nickname=lois;"
                  "username=;realname=Lois;pass=")
    await me.expect(lambda m: m.command == "BOUNCER" and m.params[:2] == ("CHANGENETWORK", netid))
    await other.expect(network(netid, nickname="lois", realname="Lois"))
    conn = (await connections(convos))[netid]
    assert conn["name"] == "Daily Planet" and urlsplit(conn["url"]).password == "s3cret"

    await me.send(f"BOUNCER DELNETWORK {netid}")
    await me.expect(lambda m: m.command == "BOUNCER" and m.params[:2] == ("DELNETWORK", netid))
    await other.expect(lambda m: m.command == "BOUNCER" and m.params == ("NETWORK", netid, "*"))
    await events.wait(is_state("connection_removed", connection_id=netid))
    assert netid not in await connections(convos)

    # Goguma's add form: every field, the empty ones too (`port` without a value: the default)
    await me.send("BOUNCER ADDNETWORK name=;host=irc.oftc.net;port;tls=1;nickname=;username=;realname=;pass=")
    await me.expect(lambda m: m.command == "BOUNCER" and m.params[:2] == ("ADDNETWORK", "irc-oftc"))
    conn = (await connections(convos))["irc-oftc"]
    assert (conn["name"], conn["url"]) == ("oftc", "irc://irc.oftc.net:6697?tls=1")


async def test_add_and_change_errors(convos: Any, native: Any) -> None:
    me = await control(native)

    async def fail(line: str) -> tuple[str, ...]:
        await me.send(line)
        got = await me.expect(lambda m: m.command == "FAIL")
        return tuple(got.params)

    assert (await fail("BOUNCER ADDNETWORK name=x"))[:4] == ("BOUNCER", "NEED_ATTRIBUTE", "ADDNETWORK", "host")
    assert (await fail("BOUNCER ADDNETWORK host=a.example;port=99999"))[:5] == (
        "BOUNCER", "INVALID_ATTRIBUTE", "ADDNETWORK", "*", "port")
    assert (await fail("BOUNCER ADDNETWORK host=a.example;tls=yes"))[4] == "tls"
    assert (await fail("BOUNCER ADDNETWORK host=a.example;state=connected"))[:5] == (
        "BOUNCER", "READ_ONLY_ATTRIBUTE", "ADDNETWORK", "*", "state")
    assert (await fail("BOUNCER ADDNETWORK host=a.example;colour=blue"))[:5] == (
        "BOUNCER", "UNKNOWN_ATTRIBUTE", "ADDNETWORK", "*", "colour")
    # the core's rules, as the REST API has them
    exists = await fail("BOUNCER ADDNETWORK host=127.0.0.1;tls=0")
    assert exists[:5] == ("BOUNCER", "INVALID_ATTRIBUTE", "ADDNETWORK", "*", "host")
    assert exists[-1] == "Connection already exists."
    taken = await fail("BOUNCER ADDNETWORK host=b.example;name=localhost")
    assert taken[4] == "name" and taken[-1] == "Another connection has this name."
    too_long = await fail("BOUNCER ADDNETWORK host=b.example;realname=" + "r" * 2100)
    assert too_long[4] == "host" and "2048" in too_long[-1]
    assert (await fail("BOUNCER CHANGENETWORK irc-nowhere name=x"))[:4] == (
        "BOUNCER", "INVALID_NETID", "CHANGENETWORK", "irc-nowhere")
    assert (await fail("BOUNCER DELNETWORK irc-nowhere"))[1] == "INVALID_NETID"
    assert (await fail("BOUNCER CHANGENETWORK irc-localhost name=a/b"))[4] == "name"
    assert (await fail("BOUNCER FROB"))[:3] == ("BOUNCER", "UNKNOWN_COMMAND", "FROB")
    assert list(await connections(convos)) == ["irc-localhost"]  # nothing was made or changed
    assert (await connections(convos))["irc-localhost"]["name"] == "localhost"


async def test_state_changes_are_notified(convos: Any, native: Any) -> None:
    me = await control(native)
    await me.expect(network("irc-localhost", state="connected"))
    res = await convos.post("/api/connection/irc-localhost", json={"wanted_state": "disconnected"})
    assert res.status == 200
    await me.expect(lambda m: m.command == "BOUNCER" and m.params == ("NETWORK", "irc-localhost",
                                                                      "state=disconnected"))
    res = await convos.post("/api/connection/irc-localhost", json={"wanted_state": "connected"})
    assert res.status == 200
    await me.expect(network("irc-localhost", state="connected"))


async def test_without_the_capability_nothing_is_notified(convos: Any, native: Any) -> None:
    plain = native("plain")
    await plain.register(password=f"{EMAIL}/localhost:{PASSWORD}")
    await plain.expect("366")
    await plain.send("BOUNCER ADDNETWORK host=c.example")
    await plain.expect(lambda m: m.command == "BOUNCER" and m.params[0] == "ADDNETWORK")
    await plain.send("PING :after")
    await plain.expect(lambda m: m.command == "PONG")
    assert not [m for m in plain.inbox.history if m.command == "BOUNCER" and m.params[0] == "NETWORK"]


def from_service(m: Any) -> bool:
    return m.command == "PRIVMSG" and m.nick == "*convos"


async def service_says(client: Native, command: str, until: str) -> list[str]:
    """Send a command to *convos; its answer, up to the line that contains `until`."""
    await client.send(f"PRIVMSG *convos :{command}")
    texts = []
    while True:
        line = await client.expect(from_service)
        texts.append(line.text)
        if until in line.text:
            return texts


async def test_the_convos_service_nick(convos: Any, native: Any) -> None:
    events: Events = convos.events
    me, other = native("me"), native("other")
    await me.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=("echo-message",))
    await other.register(password=f"{EMAIL}/localhost:{PASSWORD}")
    for client in (me, other):
        await client.expect("366")

    help_text = await service_says(me, "help", "id (libera, irc-libera)")
    assert any(t.strip().startswith("network add <url or host[:port]> [name]") for t in help_text)
    echo = await me.expect(lambda m: m.command == "PRIVMSG" and m.params[0] == "*convos")
    assert echo.nick == "superman"  # its own line back: it asked for echo-message
    listed = await service_says(me, "network list", "irc-localhost")
    assert listed == ["localhost (irc-localhost): connected, 127.0.0.1:" + str(urlsplit(
        (await connections(convos))["irc-localhost"]["url"]).port)]

    await service_says(me, "network add irc.example.net planet", "Added")
    frame = await events.wait(is_state("connection_added", connection_id="irc-example"))
    assert frame["connection"]["name"] == "planet"
    assert (await connections(convos))["irc-example"]["url"] == "irc://irc.example.net:6697?tls=1"

    await service_says(me, "network disconnect localhost", "disconnecting")
    await events.wait(is_state("connection", connection_id="irc-localhost", state="disconnected"))
    assert (await connections(convos))["irc-localhost"]["wanted_state"] == "disconnected"
    await service_says(me, "network connect irc-localhost", "connecting")
    await events.wait(is_state("connection", connection_id="irc-localhost", state="connected"))
    assert (await connections(convos))["irc-localhost"]["wanted_state"] == "connected"

    await service_says(me, "network delete planet", "Deleted")
    await events.wait(is_state("connection_removed", connection_id="irc-example"))
    assert list(await connections(convos)) == ["irc-localhost"]

    # bad input: the core's messages, as the API gives them
    assert (await service_says(me, "network add", "Usage"))[0].startswith("Usage: network add")
    refused = await service_says(me, "network add https://web.example", "network add")
    assert refused == ["network add: Convos::Core::Connection::Https is not supported."]
    refused = await service_says(me, "network add irc.example.org bad/name", "network add")
    assert "/ @ : ," in refused[0]
    refused = await service_says(me, "network add irc.example.org:notaport", "network add")
    assert refused == ["network add: Invalid host or port."]
    assert (await service_says(me, "network connect nowhere", "No connection"))[0].endswith(
        "yours: localhost (irc-localhost)")
    assert "Unknown command" in (await service_says(me, "frobnicate now", "Unknown"))[0]
    assert list(await connections(convos)) == ["irc-localhost"]

    # answered to that client only, never sent to the network nor logged
    await me.send("PRIVMSG nosuchnick :marker")
    await events.wait(lambda f: "nosuchnick" in str(f) and "No such" in str(f))
    assert not [f for f in events.seen if "*convos" in str(f) or "frobnicate" in str(f)]
    await other.send("PING :after")
    await other.expect(lambda m: m.command == "PONG")
    assert not [m for m in other.inbox.history if "*convos" in m.raw]


async def test_the_control_connection_without_the_capability(convos: Any, native: Any) -> None:
    # A client that names no network on an account with two connections gets the control connection.
    await core_of(convos).connections.create_connection(core_of(convos).user(EMAIL), "irc://irc.example.net",
                                                        start=False)
    plain = native("plain")
    welcome = await plain.register("clark", password=f"{EMAIL}:{PASSWORD}")
    assert welcome.command == "001" and welcome.params[0] == "clark"
    hint = await plain.expect(lambda m: from_service(m) and "sign in as email/network" in m.text)
    assert "localhost (irc-localhost)" in hint.text and "example (irc-example)" in hint.text
    listed = await service_says(plain, "network list", "irc-localhost")
    assert any(t.startswith("example (irc-example): disconnected") for t in listed)


async def test_one_user_never_sees_or_touches_another_users_connections(convos: Any, native: Any,
                                                                        ircd: Any) -> None:
    core = core_of(convos)
    lois = await core.create_user("lois@example.com", PASSWORD)
    await core.connections.create_connection(lois, f"irc://127.0.0.1:{ircd.port}", start=False)  # irc-localhost too
    await core.connections.create_connection(lois, "irc://irc.dailyplanet.com", start=False)
    superman = await control(native, "superman")
    await superman.expect(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))

    theirs = native("lois")
    await theirs.register("lois", sasl=("lois@example.com", PASSWORD), caps=BOUNCER_CAPS)
    await theirs.expect(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))
    listed = [m.params[1] for m in theirs.inbox.history if m.command == "BOUNCER"]
    assert sorted(listed) == ["irc-dailyplanet", "irc-localhost"]
    assert [m for m in theirs.inbox.history if network("irc-localhost", state="disconnected")(m)]  # hers

    await theirs.send("BOUNCER CHANGENETWORK irc-localhost name=mine", "BOUNCER DELNETWORK irc-dailyplanet")
    await theirs.expect(lambda m: m.command == "BOUNCER" and m.params[0] == "DELNETWORK")
    await service_says(theirs, "network delete mine", "Deleted")
    assert lois.connections == {}
    assert (await connections(convos))["irc-localhost"]["name"] == "localhost"  # superman's, untouched
    assert core.user(EMAIL).get_connection("irc-localhost").state == "connected"
    await superman.send("PING :after")
    await superman.expect(lambda m: m.command == "PONG")
    assert not [m for m in superman.inbox.history if network("irc-localhost", name="mine")(m)
                or (m.command == "BOUNCER" and m.params[-1] == "*")]

    # her client binds her network only: an id of someone else's is not found
    await core.connections.create_connection(lois, "irc://irc.dailyplanet.com", start=False)
    bound = native("lois-bound")
    await bound.register("lois", sasl=("lois@example.com", PASSWORD), caps=BOUNCER_CAPS,
                         before_end=("BOUNCER BIND irc-localhost", "BOUNCER BIND irc-dailyplanet"))
    fail = await bound.expect(lambda m: m.command == "FAIL")
    assert fail.params[:4] == ("BOUNCER", "INVALID_NETID", "BIND", "irc-localhost")
    isupport = await bound.expect(lambda m: m.command == "005" and any(p.startswith("BOUNCER_NETID=")
                                                                       for p in m.params))
    assert "BOUNCER_NETID=irc-dailyplanet" in isupport.params
