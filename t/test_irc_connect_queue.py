"""The connect queue (core/connectqueue.py): at start-up, and when a server comes back, only
CONVOS_MAX_CONNECTING connections register at once; the others wait as "queued", and the web
answers meanwhile.

Against the scripted IRC peer (t/irc_peer.py), on a home written in the on-disk format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from conftest import core_of
from irc_peer import PeerConnection, ScriptedIrcPeer

from convos.core import passwords
from convos.core.passwords import hash_password
from convos.store.jsonfile import atomic_write, encode

T = 5
CID = "irc-localhost"


def write_home(home: Path, peer: ScriptedIrcPeer, users: int) -> list[str]:
    """`users` users, each with one connection to the peer and one channel; the peer's profile
    skips the per-host spacing (CONVOS_CONNECT_DELAY), so only the connect queue paces them."""
    emails = [f"user{i}@example.com" for i in range(users)]
    password = hash_password("longenough")
    for i, email in enumerate(emails):
        atomic_write(home / email / "user.json", encode({
            "email": email, "password": password, "registered": f"2020-01-01T00:00:{i:02d}Z",
            "roles": ["admin"] if i == 0 else [], "uid": str(i + 1)}))
        atomic_write(home / email / CID / "connection.json", encode({
            "connection_id": CID, "name": "localhost", "wanted_state": "connected",
            "url": f"irc://127.0.0.1:{peer.port}?tls=0&nick=user{i}",
            "conversations": [{"conversation_id": "#convos", "name": "#convos"}]}))
    atomic_write(home / "settings" / "connections" / f"{CID}.json", encode({
        "id": CID, "url": f"irc://127.0.0.1:{peer.port}", "skip_queue": True}))
    return emails


def states(core: Any) -> list[str]:
    return sorted(conn.state for user in core.users for conn in user.connections.values())


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


async def registering(peer: ScriptedIrcPeer) -> PeerConnection:
    """The next client, once it has sent its NICK and USER (it is between connecting and registered)."""
    client = await peer.accept(T)
    client.nick = (await client.expect("^NICK ", T)).params[0]
    await client.expect("^USER ", T)
    return client


async def welcome(client: PeerConnection) -> None:
    """001 and the rest: registered."""
    await client.welcome(client.nick)


async def test_connections_start_a_few_at_a_time(make_client: Any, home: Path, irc_peer: ScriptedIrcPeer) -> None:
    write_home(home, irc_peer, 5)
    client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_MAX_CONNECTING": "2"})
    core = core_of(client)
    first = [await registering(irc_peer) for _ in range(2)]
    assert states(core) == ["connected", "connected", "queued", "queued", "queued"]  # connected: not registered yet
    assert irc_peer.connections == first  # nobody else came
    # The web answers while they wait, and says so.
    res = await client.post("/api/user/login", json={"email": "user4@example.com", "password": "longenough"})
    assert res.status == 200, await res.text()
    res = await client.get("/api/connections")
    assert [c["state"] for c in (await res.json())["connections"]] == ["queued"]

    # One registered (001): the next one starts; one failed: the one after it.
    await welcome(first[0])
    third = await registering(irc_peer)
    await first[1].close()
    fourth = await registering(irc_peer)
    assert states(core).count("queued") == 1
    assert irc_peer.connections == [*first, third, fourth]
    await welcome(third)
    await registering(irc_peer)
    assert "queued" not in states(core)


async def test_a_user_connects_without_waiting_in_the_queue(make_client: Any, home: Path,
                                                             irc_peer: ScriptedIrcPeer) -> None:
    """What the user asks for does not wait behind everyone else's start-up."""
    write_home(home, irc_peer, 3)
    client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_MAX_CONNECTING": "1"})
    core = core_of(client)
    await registering(irc_peer)
    res = await client.post("/api/user/login", json={"email": "user2@example.com", "password": "longenough"})
    assert res.status == 200
    assert core.get_user("user2@example.com").connections[CID].state == "queued"
    res = await client.post(f"/api/connection/{CID}", json={"wanted_state": "connected"})
    assert res.status == 200, await res.text()
    mine = await registering(irc_peer)
    assert mine.nick == "user2"
    assert states(core).count("queued") == 1  # user1's still waits for the one slot
    # Asked to disconnect while queued: it leaves the queue and stays away.
    res = await client.post("/api/user/login", json={"email": "user1@example.com", "password": "longenough"})
    assert res.status == 200
    res = await client.post(f"/api/connection/{CID}", json={"wanted_state": "disconnected"})
    assert res.status == 200
    await core.connections.state_settled(core.get_user("user1@example.com").connections[CID])
    assert core.get_user("user1@example.com").connections[CID].state == "disconnected"
    assert core.connect_queue.waiting == 0


async def test_reconnects_go_through_the_queue(make_client: Any, home: Path, irc_peer: ScriptedIrcPeer) -> None:
    """A server that goes away and comes back gets its connections back a few at a time."""
    write_home(home, irc_peer, 3)
    client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_MAX_CONNECTING": "1",
                                "CONVOS_CONNECT_DELAY": "0.1"})
    core = core_of(client)
    for _ in range(3):
        await welcome(await registering(irc_peer))
    lost = list(irc_peer.connections)
    for peer_conn in lost:
        await peer_conn.close()
    back = await registering(irc_peer)
    # The other two came due too (0.1 s), but wait while this one registers.
    assert states(core).count("queued") + states(core).count("disconnected") == 2
    await welcome(back)
    await welcome(await registering(irc_peer))
    await welcome(await registering(irc_peer))
    assert len(irc_peer.connections) == 6
