"""IRCv3 capabilities about people, towards native clients: away-notify, account-notify,
extended-join, multi-prefix, userhost-in-names, chghost, setname and invite-notify. A client that
asked for one gets what the spec says; one that did not gets the plain line, or nothing (as soju).

What ngircd says (user@host in JOIN, prefixes, WHO, INVITE) is tested against it; what it cannot
say (ACCOUNT, AWAY, CHGHOST, SETNAME, extended-join, INVITE of others) against the scripted peer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import core_of, free_port, register
from events_helper import Events, is_message, is_state
from irc_peer import IrcLine, PeerConnection, ScriptedIrcPeer
from listen_client import EMAIL, PASSWORD, Native

from convos.store.jsonfile import atomic_write, encode

PEOPLE_CAPS = ("away-notify", "account-notify", "extended-join", "multi-prefix", "userhost-in-names", "chghost",
               "setname", "invite-notify")
T = 10


def names_of(lines: list[IrcLine]) -> list[str]:
    return [name for line in lines for name in line.text.split()]


async def names(client: Native, channel: str) -> list[str]:
    """NAMES of `channel`: every name of the 353 lines up to 366."""
    await client.send(f"NAMES {channel}")
    found: list[IrcLine] = []
    while True:
        line = await client.expect(lambda m: m.command in ("353", "366"), T)
        if line.command == "366":
            return names_of(found)
        found.append(line)


async def who(client: Native, *params: str) -> list[IrcLine]:
    """The 352/354 lines of a WHO, up to its 315."""
    await client.send(" ".join(("WHO", *params)))
    found: list[IrcLine] = []
    while True:
        line = await client.expect(lambda m: m.command in ("352", "354", "315"), T)
        if line.command == "315":
            assert line.params[1] == params[0]
            return found
        found.append(line)


async def test_names_and_who_through_ngircd(convos: Any, native: Any, irc_client: Any) -> None:
    full, plain = native("full"), native("plain")
    await full.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=PEOPLE_CAPS)
    ack = next(m for m in full.inbox.history if m.command == "CAP" and m.params[1] == "ACK")
    assert set(ack.text.split()) == set(PEOPLE_CAPS)
    await plain.register(password=f"{EMAIL}/localhost:{PASSWORD}")
    for n in (full, plain):
        await n.expect("366")
    jimmy = await irc_client("jimmy", realname="Jimmy Olsen")
    await jimmy.join("#convos")

    # extended-join: account `*` (ngircd has no accounts); without it, the plain JOIN
    joined = await full.expect(lambda m: m.command == "JOIN" and m.nick == "jimmy", T)
    assert joined.prefix == "jimmy!~jimmy@127.0.0.1"
    assert joined.params[:2] == ("#convos", "*")
    joined = await plain.expect(lambda m: m.command == "JOIN" and m.nick == "jimmy", T)
    assert (joined.prefix, joined.params) == ("jimmy!~jimmy@127.0.0.1", ("#convos",))

    await full.send("MODE #convos +ov jimmy jimmy")
    for n in (full, plain):
        await n.expect(lambda m: m.command == "MODE" and m.params[1:] == ("+v", "jimmy"), T)

    # multi-prefix and userhost-in-names in NAMES
    assert "@+jimmy!~jimmy@127.0.0.1" in await names(full, "#convos")
    assert "@superman!~superman@127.0.0.1" in await names(full, "#convos")
    plain_names = await names(plain, "#convos")
    assert "@jimmy" in plain_names and "@superman" in plain_names

    # WHO goes to the network: every prefix with multi-prefix, the highest without
    (line,) = [m for m in await who(full, "#convos") if m.params[5] == "jimmy"]
    assert line.params[1:6] == ("#convos", "~jimmy", "127.0.0.1", "irc.test.local", "jimmy")
    assert (line.params[6], line.text) == ("H@+", "0 Jimmy Olsen")
    by_nick = {m.params[5]: m.params[6] for m in await who(plain, "#convos")}
    assert by_nick == {"jimmy": "H@", "superman": "H@"}
    await jimmy.send("AWAY :lunch")
    await jimmy.expect("306")
    (line,) = [m for m in await who(plain, "#convos") if m.params[5] == "jimmy"]
    assert line.params[6] == "G@"
    # A WHO of nobody is just its end.
    assert await who(plain, "nobody-here") == []

    # Once WHO said it, a later JOIN of that nick carries the realname (extended-join).
    await jimmy.send("PART #convos")
    await full.expect(lambda m: m.command == "PART" and m.nick == "jimmy", T)
    await jimmy.join("#convos")
    joined = await full.expect(lambda m: m.command == "JOIN" and m.nick == "jimmy", T)
    assert joined.params == ("#convos", "*", "Jimmy Olsen")

    # An invitation of our own nick: every client gets it
    await jimmy.join("#secret")
    await jimmy.send("INVITE superman #secret")
    for n in (full, plain):
        invite = await n.expect(lambda m: m.command == "INVITE", T)
        assert (invite.prefix, invite.params) == ("jimmy!~jimmy@127.0.0.1", ("superman", "#secret"))
    await convos.events.wait(is_state("frozen", conversation_id="#secret", frozen="You have a pending invitation."))


# --- the scripted network ------------------------------------------------------------------------


@pytest.fixture
async def network(make_client: Any, home: Any, irc_peer: ScriptedIrcPeer) -> AsyncIterator[Any]:
    """The app with the listener; superman is in #convos on the scripted peer, which offers every
    capability of people (`app.peer` plays the network)."""
    url = f"irc://superman:secret@127.0.0.1:{irc_peer.port}/%23convos?tls=0&nick=superman&sasl=plain"
    atomic_write(home / "settings.json", encode({"default_connection": url}))
    port = free_port()
    app = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1", "CONVOS_GENERATE_CERT": "0",
                             "CONVOS_IRC_LISTEN": f"irc://127.0.0.1:{port}"})
    app.listen_port = port
    await register(app, EMAIL, PASSWORD)
    events = Events(await app.ws_connect("/events"))
    await events.ready()
    peer = await irc_peer.accept(T)
    await peer.register("superman", caps=["server-time", *PEOPLE_CAPS], sasl="PLAIN")
    await peer.expect("^JOIN #convos", T)
    await peer.send(":superman!superman@127.0.0.1 JOIN :#convos",
                    f":{peer.server_name} 353 superman = #convos :superman!superman@127.0.0.1 @batman!bat@cave.example",
                    f":{peer.server_name} 366 superman #convos :End of /NAMES list.")
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    app.events, app.peer = events, peer
    yield app
    await events.ws.close()


async def attach(app: Any, name: str, caps: tuple[str, ...]) -> Native:
    """A native client attached to the scripted network (the network answers its NAMES)."""
    peer: PeerConnection = app.peer
    client = Native(app.listen_port, name=name)
    await client.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=caps)
    await peer.expect("^NAMES #convos", T)
    await peer.send(f":{peer.server_name} 353 superman = #convos :superman!superman@127.0.0.1 @batman!bat@cave.example",
                    f":{peer.server_name} 366 superman #convos :End of /NAMES list.")
    await client.expect("366", T)
    return client


async def test_what_the_network_says_about_people(network: Any) -> None:
    peer: PeerConnection = network.peer
    full = await attach(network, "full", PEOPLE_CAPS)
    plain = await attach(network, "plain", ())
    # Our own JOIN: the mask the network gave it, the account SASL logged in to, our USER's realname.
    own = await full.expect(lambda m: m.command == "JOIN", T)
    assert (own.prefix, own.params) == ("superman!superman@127.0.0.1", ("#convos", "superman", "https://convos.chat"))
    own = await plain.expect(lambda m: m.command == "JOIN", T)
    assert (own.prefix, own.params) == ("superman!superman@127.0.0.1", ("#convos",))
    try:
        await each_capability(network, peer, full, plain)
    finally:
        await full.close()
        await plain.close()


async def each_capability(app: Any, peer: PeerConnection, full: Native, plain: Native) -> None:
    events: Events = app.events
    robin = "robin!r@nest.example"
    await peer.send(f":{robin} JOIN #convos robin-account :Robin Wonder")
    joined = await full.expect(lambda m: m.command == "JOIN" and m.nick == "robin", T)
    assert (joined.prefix, joined.params) == (robin, ("#convos", "robin-account", "Robin Wonder"))
    joined = await plain.expect(lambda m: m.command == "JOIN" and m.nick == "robin", T)
    assert (joined.prefix, joined.params) == (robin, ("#convos",))
    await events.wait(is_state("join", conversation_id="#convos", nick="robin"))

    await peer.send(f":{robin} AWAY :out for lunch", f":{robin} AWAY")
    away = await full.expect(lambda m: m.command == "AWAY", T)
    assert (away.prefix, away.params) == (robin, ("out for lunch",))
    back = await full.expect(lambda m: m.command == "AWAY", T)
    assert (back.prefix, back.params) == (robin, ())

    await peer.send(f":{robin} ACCOUNT *", f":{robin} ACCOUNT robin2")
    out = await full.expect(lambda m: m.command == "ACCOUNT", T)
    assert (out.prefix, out.params) == (robin, ("*",))
    logged_in = await full.expect(lambda m: m.command == "ACCOUNT", T)
    assert logged_in.params == ("robin2",)

    await peer.send(f":{robin} CHGHOST rr new.example")
    changed = await full.expect(lambda m: m.command == "CHGHOST", T)
    assert (changed.prefix, changed.params) == (robin, ("rr", "new.example"))

    await peer.send(":robin!rr@new.example SETNAME :Robin W. Wonder")
    renamed = await full.expect(lambda m: m.command == "SETNAME", T)
    assert (renamed.prefix, renamed.params) == ("robin!rr@new.example", ("Robin W. Wonder",))

    # invite-notify: someone else invited to a channel we are in; only clients that asked get it,
    # and it is not our invitation (no pending invitation for #convos)
    await peer.send(":batman!bat@cave.example INVITE robin #convos")
    invited = await full.expect(lambda m: m.command == "INVITE", T)
    assert (invited.prefix, invited.params) == ("batman!bat@cave.example", ("robin", "#convos"))
    # our own invitation: every client
    await peer.send(":batman!bat@cave.example INVITE superman #cave")
    for n in (full, plain):
        mine = await n.expect(lambda m: m.command == "INVITE" and m.params[0] == "superman", T)
        assert mine.params == ("superman", "#cave")
    await events.wait(is_state("frozen", conversation_id="#cave", frozen="You have a pending invitation."))
    conn = core_of(app).get_user(EMAIL).get_connection("irc-localhost")
    assert conn.get_conversation("#convos").frozen == ""

    # userhost-in-names from the network, multi-prefix, and what the nick table learnt (CHGHOST)
    await peer.send(":batman!bat@cave.example MODE #convos +v batman")
    await full.send("NAMES #convos")
    await peer.expect("^NAMES #convos", T)
    await peer.send(f":{peer.server_name} 353 superman = #convos :superman!superman@127.0.0.1 @+batman!bat@cave.example robin",
                    f":{peer.server_name} 366 superman #convos :End of /NAMES list.")
    got = names_of([await full.expect(lambda m: m.command == "353" and "robin" in m.text, T)])
    assert got == ["superman!superman@127.0.0.1", "@+batman!bat@cave.example", "robin!rr@new.example"]

    # WHOX: the flags field found by the fields asked for
    await plain.send("WHO #convos %tnf,42")
    await peer.expect("^WHO #convos %tnf,42", T)
    await peer.send(f":{peer.server_name} 354 superman 42 batman H@+", f":{peer.server_name} 354 superman 42 robin G",
                    f":{peer.server_name} 315 superman #convos :End of WHO list.")
    whox = await plain.expect("354", T)
    assert whox.params[1:] == ("42", "batman", "H@")
    await plain.expect("315", T)

    # The plain client got none of it; the browser none of the new kinds, and its socket is fine.
    await peer.send(":batman!bat@cave.example PRIVMSG #convos :marker")
    await plain.expect(lambda m: m.command == "PRIVMSG" and m.text == "marker", T)
    await events.wait(is_message(conversation_id="#convos", message="marker"))
    told = {m.command for m in plain.inbox.history if m.nick in ("robin", "batman")}
    assert told == {"JOIN", "INVITE", "MODE", "PRIVMSG"}, told
    assert not [m for m in plain.inbox.history if m.command == "INVITE" and m.params[0] == "robin"]
    assert not [f for f in events.seen if f.get("type") not in (None, "join", "frozen", "mode", "info", "connection")
                and f.get("event") == "state"]
