"""The listener's relay to many clients: chat lines formatted once for the clients that get the
same text, and the events queued at once sent in one write (bench/bench_listen.py times it)."""

from __future__ import annotations

from typing import Any

from conftest import core_of

from convos.core.events import Message
from convos.listen import fanout
from convos.listen.relay import ClientView
from convos.web.keys import IRC_LISTENER

EMAIL, PASSWORD = "superman@example.com", "longenough"


def message(n: int, **kw: Any) -> Message:
    fields = {"email": EMAIL, "connection_id": "irc-localhost", "conversation_id": "#convos", "name": "#convos",
              "from_": "jimmy", "highlight": False, "message": f"line {n}", "type": "private",
              "id": f"id{n}", "ts": 1_700_000_000.0 + n}
    fields.update(kw)
    return Message(**fields)


def test_a_line_is_formatted_once_for_the_clients_that_get_the_same_text(monkeypatch: Any) -> None:
    calls: list[tuple[str, str]] = []
    real = fanout.event_line

    def counted(view: ClientView, event: Message) -> str:
        calls.append((view.nick, event.message))
        return real(view, event)

    monkeypatch.setattr(fanout, "event_line", counted)
    cache = fanout.LineCache()
    event = message(1)
    tagged = [ClientView("superman", "convos", caps={"server-time", "message-tags"}) for _ in range(3)]
    plain = ClientView("superman", "convos")
    lines = {cache.event_line(view, event) for view in tagged}
    assert lines == {"@time=2023-11-14T22:13:21.000Z;msgid=id1 :jimmy PRIVMSG #convos :line 1"}
    assert cache.event_line(plain, event) == ":jimmy PRIVMSG #convos :line 1"
    assert len(calls) == 2  # once for the three tagged clients, once for the plain one
    # Another nick is another text (a private message names the client's nick as its target).
    private = message(2, conversation_id="jimmy", name="jimmy")
    assert cache.event_line(ClientView("superman", "convos"), private) == ":jimmy PRIVMSG superman :line 2"
    assert cache.event_line(ClientView("clark", "convos"), private) == ":jimmy PRIVMSG clark :line 2"
    # An equal event that is another object (another line) is formatted anew.
    again = message(1)
    assert cache.event_line(plain, again) == ":jimmy PRIVMSG #convos :line 1"
    assert len(calls) == 5


def test_the_cache_stays_bounded() -> None:
    cache = fanout.LineCache()
    view = ClientView("superman", "convos")
    events = [message(n) for n in range(fanout.CACHE_SIZE + 10)]
    for event in events:
        cache.event_line(view, event)
    assert len(cache._lines) <= fanout.CACHE_SIZE
    assert cache.event_line(view, events[-1]) == f":jimmy PRIVMSG #convos :line {len(events) - 1}"


async def test_events_queued_at_once_go_out_in_one_write_and_in_order(convos: Any, native: Any) -> None:
    me = native("me")
    await me.register(password=f"{EMAIL}/localhost:{PASSWORD}", caps=("message-tags",))
    await me.expect("366")
    await me.send("PING :attached")
    await me.expect(lambda m: m.command == "PONG" and m.text == "attached")
    listener = convos.server.app[IRC_LISTENER]
    (session,) = listener.clients(EMAIL, "irc-localhost")
    writes: list[bytes] = []
    real_write = session.writer.write

    def write(data: bytes) -> None:
        writes.append(data)
        real_write(data)

    session.writer.write = write
    core = core_of(convos)
    for n in range(50):  # published in one go, as one written log batch is
        core.events.publish(message(n))
    for n in range(50):
        got = await me.expect(lambda m: m.command == "PRIVMSG" and m.text.startswith("line "))
        assert (got.text, got.tags.get("msgid")) == (f"line {n}", f"id{n}")
    assert len(writes) == 1, [len(w) for w in writes]
    assert writes[0].count(b"\r\n") == 50
