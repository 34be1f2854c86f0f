"""The core's events of one connection as the IRC lines a native client gets, and the welcome burst."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.connection import NetworkFacts, WhoReply, is_channel_name
from ..core.events import (
    AccountChanged,
    AwayChanged,
    ConversationChanged,
    Event,
    HostChanged,
    Invited,
    Joined,
    Message,
    ModeChanged,
    NickChanged,
    Parted,
    Quit,
    RealnameChanged,
)
from ..core.people import People
from .lines import format_line, log_time, server_time

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
    people: People = field(default_factory=People)  # the connection's: who the network says people are

    def mask(self, nick: str) -> str:
        """`nick!user@host` as far as it is known, else the nick."""
        return self.people.mask(nick)

    def tags(self, ts: float | str | None = None, msgid: str = "") -> dict[str, str]:
        """`time` (with server-time) and `msgid` (with message-tags); `ts` is epoch seconds or a
        log timestamp (UTC, whole seconds)."""
        tags: dict[str, str] = {}
        if "server-time" in self.caps:
            tags["time"] = log_time(ts) if isinstance(ts, str) else server_time(time.time() if ts is None else ts)
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

    def who_flags(self, flags: str) -> str:
        """The flags of a WHO reply (`H*@+`): every prefix with multi-prefix, else the highest."""
        if "multi-prefix" in self.caps:
            return flags
        symbols = self.prefix.partition(")")[2]
        kept, seen = [], False
        for ch in flags:
            if ch in symbols:
                if seen:
                    continue
                seen = True
            kept.append(ch)
        return "".join(kept)

    def join_line(self, channel: str, nick: str, *, user: str = "", host: str = "", account: str = "",
                  realname: str = "", ts: float | None = None) -> str:
        """JOIN from `nick!user@host`; with extended-join its account (`*`: none) and realname."""
        source = f"{nick}!{user}@{host}" if user and host else self.mask(nick)
        if "extended-join" in self.caps:
            return format_line("JOIN", channel, account or "*", realname, source=source, tags=self.tags(ts))
        return format_line("JOIN", channel, source=source, tags=self.tags(ts))


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
    me = view.people.get(view.nick)
    lines = [view.join_line(name, view.nick, account=me.account if me else "", realname=me.realname if me else "")]
    if topic:
        lines.append(view.numeric("332", name, topic))
    nicks = [p["nick"] for p in participants if p.get("nick")]
    modes = [view.mode_symbols(p.get("mode", "")) for p in participants if p.get("nick")]
    if not any(n.lower() == view.nick.lower() for n in nicks):
        nicks.append(view.nick)
        modes.append("")
    if "userhost-in-names" in view.caps:
        nicks = [view.mask(n) for n in nicks]
    names = [mode + nick for mode, nick in zip(modes, nicks, strict=True)]
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


def message_line(view: ClientView, conversation_id: str, name: str, sender: str, text: str, kind: str,
                 ts: float | str | None, msgid: str) -> str:
    """A logged chat line (a Message event, or a line of the log) as PRIVMSG or NOTICE."""
    tags = view.tags(ts, msgid)
    if not conversation_id:
        # The connection's own tab: what the server and convos said to us.
        return format_line("NOTICE", view.nick, text, source=view.server, tags=tags)
    name = name or conversation_id
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


def event_line(view: ClientView, event: Message) -> str:
    return message_line(view, event.conversation_id, event.name, event.from_, event.message, event.type, event.ts,
                        event.id or "")


def state_lines(view: ClientView, event: Event) -> list[str]:
    """Joins, parts, quits, nick and mode changes and topics of others."""
    tags = view.tags(event.ts)
    if isinstance(event, Joined):
        channel = view.joined.get(event.conversation_id, "")
        return [view.join_line(channel, event.nick, user=event.user, host=event.host, account=event.account,
                               realname=event.realname, ts=event.ts)] if channel else []
    if isinstance(event, Parted):
        channel = view.joined.get(event.conversation_id, "")
        if not channel:
            return []
        if event.kicker:
            line = format_line("KICK", channel, event.nick, event.message or "", source=event.kicker, tags=tags)
        else:
            line = format_line("PART", channel, event.message or "", source=event.nick, tags=tags)
        if event.nick.lower() == view.nick.lower():
            view.left(event.conversation_id)
        return [line]
    if isinstance(event, Quit):
        return [format_line("QUIT", event.message, source=event.nick, tags=tags)]
    if isinstance(event, NickChanged):
        if not (event.old_nick and event.new_nick):
            return []
        line = format_line("NICK", event.new_nick, source=event.old_nick, tags=tags)
        if event.old_nick.lower() == view.nick.lower():
            view.nick = event.new_nick
        return [line]
    if isinstance(event, ModeChanged):
        channel = view.joined.get(event.conversation_id, "")
        return [format_line("MODE", channel, event.mode, event.nick, source=event.from_ or view.server,
                            tags=tags)] if channel else []
    if isinstance(event, ConversationChanged):
        channel = view.joined.get(event.conversation_id, "")
        if not channel or view.topics.get(event.conversation_id, "") == event.topic:
            return []
        view.topics[event.conversation_id] = event.topic
        if event.topic_by:
            return [format_line("TOPIC", channel, event.topic, source=event.topic_by, tags=tags)]
        return [view.numeric("332", channel, event.topic)]
    return people_lines(view, event, tags)


def people_lines(view: ClientView, event: Event, tags: dict[str, str]) -> list[str]:
    """What the network said about someone, to the clients that asked for it (IRCv3 away-notify,
    account-notify, chghost, setname, invite-notify). Without the capability a client gets
    nothing, as soju does (no QUIT and JOIN for a changed host); an invite of its own nick it
    always gets."""
    caps = view.caps
    if isinstance(event, AwayChanged) and "away-notify" in caps:
        params = (event.message or "Away",) if event.away else ()
        return [format_line("AWAY", *params, source=view.mask(event.nick), tags=tags)]
    if isinstance(event, AccountChanged) and "account-notify" in caps:
        return [format_line("ACCOUNT", event.account or "*", source=view.mask(event.nick), tags=tags)]
    if isinstance(event, HostChanged) and "chghost" in caps:
        old = f"{event.nick}!{event.old_user}@{event.old_host}" if event.old_user and event.old_host else event.nick
        return [format_line("CHGHOST", event.user, event.host, source=old, tags=tags)]
    if isinstance(event, RealnameChanged) and "setname" in caps:
        return [format_line("SETNAME", event.realname, source=view.mask(event.nick), tags=tags)]
    if isinstance(event, Invited) and ("invite-notify" in caps or event.target.lower() == view.nick.lower()):
        return [format_line("INVITE", event.target, event.channel, source=view.mask(event.nick), tags=tags)]
    return []


# WHOX fields in the order a 354 line gives them.
_WHOX_ORDER = "tcuihsnfdlaor"


def who_lines(view: ClientView, mask: str, replies: Iterable[WhoReply], whox: str = "") -> list[str]:
    """A WHO answer from the network, with the flags the client's multi-prefix asks for, and 315."""
    fields = whox.partition("%")[2].partition(",")[0]
    present = [f for f in _WHOX_ORDER if f in fields]
    flags_at = present.index("f") if "f" in present else -1
    lines = []
    for reply in replies:
        params = list(reply.params)
        at = 5 if reply.numeric == "352" else flags_at
        if 0 <= at < len(params):
            params[at] = view.who_flags(params[at])
        lines.append(view.numeric(reply.numeric, *params))
    lines.append(view.numeric("315", mask, "End of WHO list."))
    return lines


def joined_now(view: ClientView, event: ConversationChanged) -> str:
    """The channel name when this event says the connection is now in a channel this client
    does not see joined yet ('' otherwise)."""
    if event.frozen or not is_channel_name(event.name) or event.conversation_id in view.joined:
        return ""
    return event.name
