"""What an attached client sends: chat lines, channel commands, CHATHISTORY and MARKREAD, done
through the core (Connection.send, Core.mark_read) so that browsers and other clients see it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..core.connection import WhoReply, is_channel_name
from ..errors import ConvosError
from ..store.logs.id import parse_message_id
from .history import History, HistoryError, batch_lines
from .lines import Line, format_line, parse_time, server_time
from .relay import channel_lines, message_line, who_lines

if TYPE_CHECKING:
    from ..core.connection import Conversation
    from .session import ClientSession

SERVER_NAME = "convos"


def read_epoch(conv: Conversation) -> float | None:
    """Epoch seconds up to which the conversation is read; None when it is not known (unread
    lines counted by an old file, without the id of the first)."""
    if not conv.unread:
        return time.time()
    pos = parse_message_id(conv.first_unread_id)
    return pos.epoch - 0.001 if pos is not None else None


def read_position(conv: Conversation, ts: float | None = None) -> str:
    epoch = ts if ts is not None and not conv.unread else read_epoch(conv)
    return "*" if epoch is None else f"timestamp={server_time(epoch)}"


def markread_line(conv: Conversation, ts: float | None = None) -> str:
    """MARKREAD with the conversation's read position: Convos keeps one per conversation,
    "read up to its first unread line" (or up to now when nothing is unread)."""
    return format_line("MARKREAD", conv.name, read_position(conv, ts), source=SERVER_NAME)


class ClientCommands:
    """The commands of one attached client, run one after the other."""

    def __init__(self, session: ClientSession) -> None:
        self.s = session

    async def _markread(self, params: list[str]) -> None:
        """MARKREAD target [timestamp=...]: tell the position, or move it (for the browsers too)."""
        conv = self.s.conversation(params[0]) if params else None
        if conv is None or not conv.conversation_id:
            self.s.send(format_line("FAIL", "MARKREAD", "INVALID_PARAMS", params[0] if params else "*",
                                  "Unknown conversation", source=SERVER_NAME))
            return
        if len(params) < 2:
            self.s.send(markread_line(conv))
            return
        wanted = parse_time(params[1]) if params[1].startswith("timestamp=") else None
        if wanted is None:
            self.s.send(format_line("FAIL", "MARKREAD", "INVALID_PARAMS", params[1], "Invalid timestamp",
                                  source=SERVER_NAME))
            return
        position = read_epoch(conv)
        if conv.unread and (position is None or wanted > position):
            assert self.s.user is not None and self.s.conn is not None
            # Everything read: the core's `read` event tells every client and browser.
            await self.s.core.chat.mark_read(self.s.user, self.s.conn, conv)
        else:
            self.s.send(markread_line(conv))

    async def run(self, line: Line) -> None:
        conn = self.s.conn
        assert conn is not None
        command, p = line.command, line.params
        if command in ("PRIVMSG", "NOTICE"):
            for target in line.param(0).split(","):
                if target and len(p) > 1:
                    await self._say(command, target, p[1])
        elif command == "JOIN":
            keys = line.param(1).split(",")
            for i, channel in enumerate(line.param(0).split(",")):
                if channel:
                    key = keys[i] if i < len(keys) else ""
                    await conn.send("", f"/join {channel} {key}".rstrip())
        elif command == "PART":
            for channel in line.param(0).split(","):
                if channel:
                    await conn.send("", f"/part {channel}")
        elif command == "TOPIC" and len(p) > 1:
            await conn.send(p[0].lower(), f"/topic {p[1]}")
        elif command == "TOPIC":
            self._topic_reply(p[0] if p else "")
        elif command == "NICK" and p:
            await conn.send("", f"/nick {p[0]}")
        elif command == "NAMES" and p:
            participants = await self.s.names(p[0].lower())
            self.s.send(*channel_lines(self.s.view, p[0], "", participants)[1:] if participants else [
                self.s.view.numeric("366", p[0], "End of /NAMES list.")])
        elif command == "MODE" and len(p) == 1 and is_channel_name(p[0]):
            self.s.numeric("324", p[0], "+")
        elif command == "MARKREAD":
            await self._markread(p)
        elif command == "CHATHISTORY":
            await self._chathistory(p)
        elif command == "WHO":
            await self._who(p[:2])
        else:
            # Anything else goes to the network as it is; its answers show in the server tab.
            await conn.send("", "/quote " + format_line(command, *p))

    async def _say(self, command: str, target: str, text: str) -> None:
        conn = self.s.conn
        assert conn is not None
        conv_id = target.lower()
        if command == "NOTICE" or (text.startswith("\x01") and not text.startswith("\x01ACTION ")):
            # Not logged (as from the browser): the other clients are told here.
            await conn.send("", "/quote " + format_line(command, target, text))
            self.s.listener.echo(self.s, format_line(command, target, text, source=self.s.view.nick))
            return
        if text.startswith("\x01ACTION "):
            body = text[len("\x01ACTION "):].rstrip("\x01")
            if "echo-message" not in self.s.view.caps:
                self.s.unechoed.append((conv_id, "action", body))
            await conn.send(conv_id, f"/me {body}")
            return
        if "echo-message" not in self.s.view.caps:
            self.s.unechoed.append((conv_id, "private", text))
        await conn.send(conv_id, f"/say {text}")

    async def _chathistory(self, params: list[str]) -> None:
        assert self.s.user is not None and self.s.conn is not None
        found = History(self.s.core, self.s.user, self.s.conn)
        try:
            if params and params[0].upper() == "TARGETS":
                targets = await found.targets(params)
                body = [format_line("CHATHISTORY", "TARGETS", name, server_time(ts)) for name, ts in targets]
                self.s.send(*batch_lines("draft/chathistory-targets", [], body, tagged="batch" in self.s.view.caps))
                return
            target, messages = await found.query(params)
        except HistoryError as err:
            self.s.send(format_line("FAIL", "CHATHISTORY", err.code, err.context, err.text, source=SERVER_NAME))
            return
        self.s.send(*self.history_batch(target, messages))

    def history_batch(self, target: str, messages: list[dict[str, Any]]) -> list[str]:
        """Logged lines of one conversation, in a `chathistory` batch when the client has batch."""
        body = [message_line(self.s.view, target.lower(), target, str(message.get("from") or ""),
                             str(message.get("message") or ""), str(message.get("type") or ""),
                             str(message.get("ts") or ""), str(message.get("id") or "")) for message in messages]
        return batch_lines("chathistory", [target], body, tagged="batch" in self.s.view.caps)

    async def _who(self, params: list[str]) -> None:
        """WHO through the network (its answer, flags as the client's multi-prefix wants them)."""
        conn = self.s.conn
        assert conn is not None
        mask = params[0] if params else "*"
        try:
            replies: list[WhoReply] = await conn.who(*params) if params else []
        except ConvosError:
            replies = []  # not connected: an empty answer
        self.s.send(*who_lines(self.s.view, mask, replies, params[1] if len(params) > 1 else ""))

    def _topic_reply(self, channel: str) -> None:
        conv = self.s.conversation(channel)
        if conv is None or not conv.topic:
            self.s.numeric("331", channel or "*", "No topic is set")
        else:
            self.s.numeric("332", conv.name, conv.topic)
