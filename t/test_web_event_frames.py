"""Each kind of core event as the websocket writes it (spec §5.3): the exact JSON text, key order too."""

from __future__ import annotations

import pytest

from convos.core import events as ev
from convos.web.events import EventTexts, browser_kinds

TS = 1711009500.123
WHEN = '"ts":"2024-03-21T08:25:00.123Z"'
CONN = {"email": "a@x", "connection_id": "irc-x", "ts": TS}

FRAMES = [
    (ev.Message(**CONN, conversation_id="#c", name="#C", from_="bob", highlight=True, message="hi",
                type="private", id="abcdefghijklmnop"),
     '{"event":"message","conversation_id":"#c","name":"#C","from":"bob","highlight":true,"message":"hi",'
     f'"type":"private",{WHEN},"id":"abcdefghijklmnop","connection_id":"irc-x"}}'),
    (ev.Message(**CONN, conversation_id="", name="x", from_="irc-x", highlight=False, message="m", type="notice"),
     '{"event":"message","conversation_id":"","name":"x","from":"irc-x","highlight":false,"message":"m",'
     f'"type":"notice",{WHEN},"connection_id":"irc-x"}}'),
    (ev.ConnectionState(**CONN, state="disconnected", message="Gone. Reconnecting in 4s...", reconnect_in=4),
     '{"event":"state","type":"connection","state":"disconnected","message":"Gone. Reconnecting in 4s...",'
     f'"reconnect_in":4,"connection_id":"irc-x",{WHEN}}}'),
    (ev.ConnectionState(**CONN, state="connected", message="Connected."),
     f'{{"event":"state","type":"connection","state":"connected","message":"Connected.","connection_id":"irc-x",{WHEN}}}'),
    (ev.ConnectionInfo(**CONN, info={"nick": "me"}),
     f'{{"event":"state","type":"info","info":{{"nick":"me"}},"connection_id":"irc-x",{WHEN}}}'),
    (ev.ConversationChanged(**CONN, conversation_id="#c", frozen="", info={}, name="#C", notifications=1,
                            topic="t", unread=2, first_unread_id="", topic_by="bob"),
     '{"event":"state","type":"frozen","connection_id":"irc-x","conversation_id":"#c","frozen":"","info":{},"muted":false,'
     f'"name":"#C","notifications":1,"topic":"t","unread":2,"first_unread_id":"","topic_by":"bob",{WHEN}}}'),
    (ev.Joined(**CONN, conversation_id="#c", nick="bob", user="b", host="h", account="acc", realname="Bob"),
     f'{{"event":"state","type":"join","conversation_id":"#c","nick":"bob","connection_id":"irc-x",{WHEN}}}'),
    (ev.Parted(**CONN, conversation_id="#c", kicker="op", nick="bob", message="bye"),
     '{"event":"state","type":"part","conversation_id":"#c","kicker":"op","nick":"bob","message":"bye",'
     f'"connection_id":"irc-x",{WHEN}}}'),
    (ev.Parted(**CONN, conversation_id="#c", nick="me"),
     f'{{"event":"state","type":"part","conversation_id":"#c","nick":"me","connection_id":"irc-x",{WHEN}}}'),
    (ev.Quit(**CONN, nick="bob", message="Quit: bye"),
     f'{{"event":"state","type":"quit","nick":"bob","message":"Quit: bye","connection_id":"irc-x",{WHEN}}}'),
    (ev.NickChanged(**CONN, old_nick="a", new_nick="b"),
     f'{{"event":"state","type":"nick_change","old_nick":"a","new_nick":"b","connection_id":"irc-x",{WHEN}}}'),
    (ev.ModeChanged(**CONN, conversation_id="#c", from_="op", mode="+o", nick="bob"),
     '{"event":"state","type":"mode","conversation_id":"#c","from":"op","mode":"+o","nick":"bob",'
     f'"connection_id":"irc-x",{WHEN}}}'),
    (ev.Read(**CONN, conversation_id="#c"),
     f'{{"event":"state","type":"read","conversation_id":"#c","connection_id":"irc-x",{WHEN}}}'),
    (ev.ConnectionAdded(**CONN, connection={"connection_id": "irc-x", "state": "queued"}),
     '{"event":"state","type":"connection_added","connection":{"connection_id":"irc-x","state":"queued"},'
     f'"connection_id":"irc-x",{WHEN}}}'),
    (ev.ConnectionChanged(**CONN, connection={"connection_id": "irc-x", "name": "x"}),
     '{"event":"state","type":"connection_changed","connection":{"connection_id":"irc-x","name":"x"},'
     f'"connection_id":"irc-x",{WHEN}}}'),
    (ev.ConnectionRemoved(**CONN),
     f'{{"event":"state","type":"connection_removed","connection_id":"irc-x",{WHEN}}}'),
    (ev.NotificationsRead(email="a@x", ts=TS), f'{{"event":"state","type":"notifications_read",{WHEN}}}'),
    (ev.UserCreated(email="a@x", roles=("admin",), ts=TS),
     f'{{"event":"user","type":"created","email":"a@x","roles":["admin"],{WHEN}}}'),
]


@pytest.mark.parametrize(("event", "text"), FRAMES, ids=[type(e).__name__ for e, _ in FRAMES])
def test_frame(event, text):
    assert EventTexts().text(event) == text


# What the network says about people: for native IRC clients (convos/listen), never for browsers.
NOT_FOR_BROWSERS = {ev.AwayChanged, ev.AccountChanged, ev.HostChanged, ev.RealnameChanged, ev.Invited}


def test_every_kind_has_a_frame():
    kinds = {cls for cls in vars(ev).values()
             if isinstance(cls, type) and issubclass(cls, ev.Event) and cls not in (ev.Event, ev.ConnectionEvent)}
    assert kinds - NOT_FOR_BROWSERS == {type(e) for e, _ in FRAMES}
    assert {type(e) for e, _ in FRAMES} == browser_kinds()


def test_the_text_of_an_event_is_made_once():
    texts = EventTexts(size=2)
    first = ev.Read(**CONN, conversation_id="#c")
    assert texts.text(first) is texts.text(first)
    texts.text(ev.Read(**CONN, conversation_id="#d"))
    texts.text(ev.Read(**CONN, conversation_id="#e"))  # the oldest goes
    assert first not in [item[0] for item in texts._items.values()]
