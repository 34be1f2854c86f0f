"""The core's events of one connection as the IRC lines a native client gets, and the welcome burst."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.connection import NetworkFacts, is_channel_name
from .lines import format_line, parse_time, server_time

CONVOS_VERSION = "convos"
# 005 tokens per line, as servers send them.
TOKENS_PER_LINE = 12
DEFAULT_PREFIX = "(qaohv)~&@%+"


@dataclass(slots=True)
class ClientView:
    """What one attached client was told: its nick, its capabilities, the channels it sees joined."""

    nick: str
    server: str
    caps: set[str] = field(default_factory=set)
    joined: dict[str, str] = field(default_factory=dict)  # conversation id -> channel name
    topics: dict[str, str] = field(default_factory=dict)  # conversation id -> the topic it was told
    prefix: str = DEFAULT_PREFIX

    def tags(self, ts: float | str | None = None, msgid: str = "") -> dict[str, str]:
        """`time` (with server-time) and `msgid` (with message-tags); `ts` is epoch seconds or a
        log timestamp (UTC, whole seconds)."""
        tags: dict[str, str] = {}
        if "server-time" in self.caps:
            if isinstance(ts, str):
                ts = parse_time(ts)
            tags["time"] = server_time(time.time() if ts is None else ts)
        if msgid and "message-tags" in self.caps:
            tags["msgid"] = msgid
        return tags

    def numeric(self, code: str, *params: str) -> str:
        return format_line(code, self.nick, *params, source=self.server)

    def entered(self, conv_id: str, name: str, topic: str) -> None:
        self.joined[conv_id] = name
        self.topics[conv_id] = topic

    def left(self, conv_id: str) -> None:
        self.joined.pop(conv_id, None)
        self.topics.pop(conv_id, None)

    def mode_symbols(self, letters: str) -> str:
        """`ov` -> `@+` (all with multi-prefix, else the highest), by the network's PREFIX."""
        modes, _, symbols = self.prefix.partition(")")
        table = dict(zip(modes.lstrip("("), symbols, strict=False))
        found = [table[m] for m in modes.lstrip("(") if m in letters and m in table]
        return "".join(found) if "multi-prefix" in self.caps else "".join(found[:1])


def welcome(view: ClientView, facts: NetworkFacts, network: str, own_tokens: Iterable[str] = ()) -> list[str]:
    """001-005 and the MOTD, as the network said them (what convos knows of them), with the
    listener's own 005 tokens (`own_tokens`) added."""
    server = facts.server or view.server
    lines = [
        view.numeric("001", f"Welcome to the {network} network via Convos, {view.nick}"),
        view.numeric("002", f"Your host is {server}, running {facts.version or CONVOS_VERSION}"),
        view.numeric("003", "This server is an always-on Convos connection"),
        format_line("004", view.nick, server, facts.version or CONVOS_VERSION, facts.user_modes or "iow",
                    facts.channel_modes or "beIiklmnopstv", source=view.server),
    ]
    tokens = [t for t in facts.isupport if t.split("=", 1)[0] not in ("", "-")]
    if not any(t.startswith("NETWORK=") for t in tokens):
        tokens.append(f"NETWORK={network}")
    tokens.extend(own_tokens)
    for i in range(0, len(tokens), TOKENS_PER_LINE):
        lines.append(format_line("005", view.nick, *tokens[i:i + TOKENS_PER_LINE], "are supported by this server",
                                 source=view.server))
    if facts.motd:
        lines.append(view.numeric("375", f"- {server} Message of the day -"))
        lines.extend(view.numeric("372", f"- {text}") for text in facts.motd)
        lines.append(view.numeric("376", "End of /MOTD command."))
    else:
        lines.append(view.numeric("422", "MOTD File is missing"))
    return lines


def channel_lines(view: ClientView, name: str, topic: str, participants: Iterable[dict[str, str]]) -> list[str]:
    """JOIN, topic and NAMES of a channel the connection is in."""
    lines = [format_line("JOIN", name, source=view.nick, tags=view.tags())]
    if topic:
        lines.append(view.numeric("332", name, topic))
    names = [view.mode_symbols(p.get("mode", "")) + p["nick"] for p in participants if p.get("nick")]
    if not any(n.lstrip("~&@%+") == view.nick for n in names):
        names.append(view.nick)
    chunk: list[str] = []
    for item in names:
        chunk.append(item)
        if sum(len(n) + 1 for n in chunk) > 400:
            lines.append(view.numeric("353", "=", name, " ".join(chunk)))
            chunk = []
    if chunk:
        lines.append(view.numeric("353", "=", name, " ".join(chunk)))
    lines.append(view.numeric("366", name, "End of /NAMES list."))
    return lines


def message_line(view: ClientView, event: dict[str, Any]) -> str | None:
    """A logged chat line (a `message` event) as PRIVMSG or NOTICE."""
    text = str(event.get("message") or "")
    kind = event.get("type")
    sender = str(event.get("from") or "")
    conv_id = str(event.get("conversation_id") or "")
    tags = view.tags(event.get("ts"), str(event.get("id") or ""))
    if not conv_id:
        # The connection's own tab: what the server and convos said to us.
        return format_line("NOTICE", view.nick, text, source=view.server, tags=tags)
    name = str(event.get("name") or conv_id)
    own = sender.lower() == view.nick.lower()
    target = name if is_channel_name(name) or own else view.nick
    if kind == "action":
        return format_line("PRIVMSG", target, f"\x01ACTION {text}\x01", source=sender, tags=tags)
    if kind == "private":
        return format_line("PRIVMSG", target, text, source=sender, tags=tags)
    if kind == "notice":
        return format_line("NOTICE", target, text, source=sender, tags=tags)
    # error, preformat...: said by the server about this conversation.
    return format_line("NOTICE", target, text, source=view.server, tags=tags)


def state_lines(view: ClientView, event: dict[str, Any]) -> list[str]:
    """Joins, parts, quits, nick and mode changes and topics of others (a `state` event)."""
    kind = event.get("type")
    conv_id = str(event.get("conversation_id") or "")
    tags = view.tags(event.get("ts"))
    nick = str(event.get("nick") or "")
    channel = view.joined.get(conv_id, "")
    if kind == "join" and channel:
        return [format_line("JOIN", channel, source=nick, tags=tags)]
    if kind == "part" and channel:
        if event.get("kicker"):
            line = format_line("KICK", channel, nick, str(event.get("message") or ""),
                               source=str(event["kicker"]), tags=tags)
        else:
            line = format_line("PART", channel, str(event.get("message") or ""), source=nick, tags=tags)
        if nick.lower() == view.nick.lower():
            view.left(conv_id)
        return [line]
    if kind == "quit":
        return [format_line("QUIT", str(event.get("message") or ""), source=nick, tags=tags)]
    if kind == "nick_change":
        old, new = str(event.get("old_nick") or ""), str(event.get("new_nick") or "")
        if not (old and new):
            return []
        line = format_line("NICK", new, source=old, tags=tags)
        if old.lower() == view.nick.lower():
            view.nick = new
        return [line]
    if kind == "mode" and channel:
        return [format_line("MODE", channel, str(event.get("mode") or ""), nick,
                            source=str(event.get("from") or view.server), tags=tags)]
    if kind == "frozen" and channel:
        topic = str(event.get("topic") or "")
        if view.topics.get(conv_id, "") == topic:
            return []
        view.topics[conv_id] = topic
        if event.get("topic_by"):
            return [format_line("TOPIC", channel, topic, source=str(event["topic_by"]), tags=tags)]
        return [view.numeric("332", channel, topic)]
    return []


def joined_now(view: ClientView, event: dict[str, Any]) -> str:
    """The channel name when this event says the connection is now in a channel this client
    does not see joined yet ('' otherwise)."""
    if event.get("event") != "state" or event.get("type") != "frozen" or event.get("frozen"):
        return ""
    name = str(event.get("name") or "")
    conv_id = str(event.get("conversation_id") or "")
    if not is_channel_name(name) or conv_id in view.joined:
        return ""
    return name
