"""The event bus (core/events.py) without aiohttp: who gets what, bounded queues, dropping."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from convos.core.events import (
    ConnectionState,
    Event,
    EventBus,
    Joined,
    Message,
    NotificationsRead,
    UserCreated,
)


def message(email: str, text: str = "hi") -> Message:
    return Message(email=email, connection_id="irc-x", conversation_id="#c", name="#c", from_="bob",
                   highlight=False, message=text, type="private", id=None)


async def received(sub, n: int) -> list[Event]:
    async with asyncio.timeout(2):
        return [await sub.get() for _ in range(n)]


def queued(sub) -> list[Event]:
    events, _ended = sub.drain()
    return events


def test_events_are_frozen():
    event = message("a@x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.message = "changed"  # type: ignore[misc]
    assert event.ts > 0


async def test_one_user_every_user_and_kinds():
    bus = EventBus()
    alice = bus.subscribe(email="a@x")
    everyone = bus.subscribe()
    alice_joins = bus.subscribe(email="a@x", kinds={Joined})
    accounts = bus.subscribe(kinds={UserCreated})
    events = [
        message("a@x"),
        message("b@x"),
        Joined(email="a@x", connection_id="irc-x", conversation_id="#c", nick="bob"),
        UserCreated(email="c@x", roles=("admin",)),
        NotificationsRead(email="b@x"),
    ]
    for event in events:
        bus.publish(event)
    assert queued(alice) == [events[0], events[2]]
    assert queued(everyone) == events
    assert queued(alice_joins) == [events[2]]
    assert queued(accounts) == [events[3]]
    assert bus.subscribers("a@x") == 2 and bus.subscribers("b@x") == 0


async def test_kinds_are_exact_classes():
    """A subscriber of Message gets no ConnectionState, though both are ConnectionEvents."""
    bus = EventBus()
    sub = bus.subscribe(email="a@x", kinds={Message})
    bus.publish(ConnectionState(email="a@x", connection_id="irc-x", state="connected", message="ok"))
    bus.publish(message("a@x"))
    assert [type(e) for e in queued(sub)] == [Message]


async def test_iterating_ends_on_close():
    bus = EventBus()
    sub = bus.subscribe(email="a@x")
    bus.publish(message("a@x", "one"))
    bus.publish(message("a@x", "two"))
    sub.close()
    bus.publish(message("a@x", "three"))  # closed: never queued
    got = [e.message async for e in sub if isinstance(e, Message)]
    assert got == ["one", "two"]
    assert not sub.dropped and bus.subscribers("a@x") == 0


async def test_a_subscriber_that_falls_behind_is_dropped_and_told_so():
    bus = EventBus(maxsize=3)
    slow = bus.subscribe(email="a@x")
    fast = bus.subscribe(email="a@x", maxsize=100)
    everyone = bus.subscribe(maxsize=2)
    for n in range(5):
        bus.publish(message("a@x", str(n)))
        assert (await fast.get()) is not None
    assert slow.dropped and slow.closed and everyone.dropped
    assert not fast.dropped
    assert bus.subscribers("a@x") == 1
    # What it had queued, then None: it knows it missed events (dropped) and may subscribe again.
    events, ended = slow.drain()
    assert ended and len(events) < 5
    events, ended = everyone.drain()
    assert ended and len(events) < 5 and everyone.dropped
    # The bus goes on for the others.
    bus.publish(message("a@x", "after"))
    (event,) = await received(fast, 1)
    assert isinstance(event, Message) and event.message == "after"


async def test_close_user_ends_only_that_users_subscriptions():
    bus = EventBus()
    a1, a2 = bus.subscribe(email="a@x"), bus.subscribe(email="a@x")
    b = bus.subscribe(email="b@x")
    everyone = bus.subscribe()
    bus.close_user("a@x")
    assert await a1.get() is None and await a2.get() is None
    assert not a1.dropped
    bus.publish(message("b@x"))
    assert len(await received(b, 1)) == 1 and len(await received(everyone, 1)) == 1


async def test_a_waiting_reader_is_woken_by_an_event_or_the_close_and_a_cancelled_wait_loses_nothing():
    bus = EventBus()
    sub = bus.subscribe(email="a@x")
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0)  # one turn of the loop: the task runs until it waits
    assert sub._waiter is not None and not waiting.done()
    bus.publish(message("a@x", "one"))
    got = await asyncio.wait_for(waiting, 2)
    assert isinstance(got, Message) and got.message == "one"
    cancelled = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert sub._waiter is not None
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    bus.publish(message("a@x", "two"))  # offered after the cancelled wait: still there
    (event,) = await received(sub, 1)
    assert isinstance(event, Message) and event.message == "two"
    closing = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert sub._waiter is not None
    sub.close()
    assert await asyncio.wait_for(closing, 2) is None
