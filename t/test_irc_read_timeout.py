"""The read loop of an IRC client (irc/client.py): the read timeout is one timer per socket,
not an `asyncio.wait_for` (a task and a timer) around every read.

Against the scripted IRC peer (t/irc_peer.py), through the `start` fixture of test_irc_protocol.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from events_helper import is_message, is_state
from test_irc_protocol import Start, registered
from test_irc_protocol import start as start  # the fixture

from convos.irc import client as client_module


async def test_a_flood_is_read_without_a_wait_for_per_read(start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    s = await registered(start)
    calls: list[str] = []
    real = asyncio.wait_for

    def counting(aw: Any, timeout: float | None) -> Any:
        if sys._getframe(1).f_code.co_filename == client_module.__file__:
            calls.append(sys._getframe(1).f_code.co_name)
        return real(aw, timeout)

    monkeypatch.setattr(asyncio, "wait_for", counting)
    for batch in range(10):
        await s.peer.send(*(f":alice!a@h PRIVMSG #convos :line {batch}.{i}" for i in range(50)))
    await s.wait(is_message(message="line 9.49"))
    assert calls == []


async def test_a_silent_server_times_out(start: Start) -> None:
    """No byte for read_timeout seconds: the socket is closed and a reconnect scheduled."""
    s = await registered(start)
    client = s.conn.client
    assert client is not None
    client.read_timeout = 0.3  # re-arms the watchdog (it was waiting for the default)
    down = await s.wait(is_state("connection", state="disconnected"))
    assert down["message"].startswith("Connection timeout! Reconnecting in ")
    await s.peer.expect_closed()
    assert s.conn.client is None
    again = await s.server.accept(5)  # and it comes back
    await again.register("superman")
    await s.wait(is_message(type="private", conversation_id=""))
    assert s.conn.client is not None and s.conn.client is not client


async def test_a_server_that_talks_does_not_time_out(start: Start) -> None:
    """Every read moves the deadline: lines coming more often than read_timeout keep it open."""
    s = await registered(start)
    client = s.conn.client
    assert client is not None
    client.read_timeout = 0.5
    loop = asyncio.get_running_loop()
    until = loop.time() + 1.5
    i = 0
    while loop.time() < until:  # three timeouts' worth of time, a line every 0.1 s
        await s.peer.send(f":alice!a@h PRIVMSG #convos :still here {i}")
        await s.wait(is_message(message=f"still here {i}"))
        await asyncio.sleep(0.1)  # the pace of the server, not a synchronisation
        i += 1
    assert s.conn.client is client and s.conn.state == "connected"
    down = await s.wait(is_state("connection", state="disconnected"))  # then it goes quiet
    assert down["message"].startswith("Connection timeout!")


async def test_a_flood_already_buffered_gives_the_loop_away_once_per_chunk() -> None:
    """Reads of buffered data do not suspend: the loop is given away after each READ_SIZE chunk,
    so other tasks (HTTP requests, websocket writes) run during a flood."""
    client = client_module.IrcClient("superman", username="superman", realname="Clark")
    reader = asyncio.StreamReader(limit=client_module.MAX_LINE)
    line = b":alice!a@h PRIVMSG #convos :" + b"x" * 100 + b"\r\n"
    count = 4 * client_module.READ_SIZE // len(line)
    reader.feed_data(line * count)
    reader.feed_eof()
    client._reader = reader
    handled = 0
    ticks: list[int] = []  # lines handled when the ticker ran

    async def handle_line(raw: bytes) -> None:
        nonlocal handled
        handled += 1

    def tick() -> None:
        ticks.append(handled)
        if handled < count:
            asyncio.get_running_loop().call_soon(tick)

    client._handle_line = handle_line  # type: ignore[method-assign]
    asyncio.get_running_loop().call_soon(tick)
    await client._read_loop()
    assert handled == count
    between = [n for n in ticks if 0 < n < count]
    assert len(between) >= 3, ticks  # four chunks: the ticker ran between them
    assert max(b - a for a, b in zip([0, *between], [*between, count], strict=True)) <= client_module.READ_SIZE // len(line) + 1
