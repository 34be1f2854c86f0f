"""The `*convos` service nick: text commands to list, add, connect, disconnect and delete the
user's connections, answered to the client that asked, never sent to a network nor logged."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import ConvosError, InvalidInput
from .auth import pick_connection
from .lines import format_line
from .netattrs import BouncerError, attributes, url_with

if TYPE_CHECKING:
    from ..core.connection import Connection
    from .session import ClientSession

NICK = "*convos"
SOURCE = f"{NICK}!convos@convos"
# A command line of the service is one IRC line (listen/limits.py MAX_LINE); its words are few.
MAX_WORDS = 8

HELP = (
    "Commands of *convos, for your Convos connections (as in the web app):",
    "help: this text",
    "network list: your connections, their names and states",
    "network add <url or host[:port]> [name]: add a connection, from a URL (irc://host:6667?tls=0&nick=me)"
    " or a host (TLS, port 6697 unless you give one)",
    "network connect <name>: connect it; it stays connected, also after a restart",
    "network disconnect <name>: disconnect it",
    "network delete <name>: delete it, with its conversations and logs",
    "A <name> is a connection's name or id (libera, irc-libera).",
)


def names(connections: Iterable[Connection]) -> str:
    return ", ".join(f"{c.name} ({c.connection_id})" for c in connections) or "none yet"


class Service:
    """The `*convos` commands of one client."""

    def __init__(self, session: ClientSession) -> None:
        self.s = session

    def say(self, *texts: str) -> None:
        self.s.send(*(format_line("PRIVMSG", self.s.view.nick, text, source=SOURCE) for text in texts))

    async def run(self, command: str, text: str) -> None:
        if "echo-message" in self.s.view.caps:
            self.s.send(format_line(command, NICK, text, source=self.s.view.nick))
        if command == "NOTICE":
            return  # never answered, as IRC wants of notices
        words = text.split(None, MAX_WORDS)
        try:
            await self._command([w.lower() for w in words[:2]], words[2:])
        except ConvosError as err:
            self.say(f"{' '.join(words[:2])}: {err.errors[0].message if err.errors else err}")
        except BouncerError as err:
            self.say(f"{' '.join(words[:2])}: {err.text} ({' '.join(err.context)})")

    async def _command(self, head: list[str], args: list[str]) -> None:
        user = self.s.user
        assert user is not None
        if head in ([], ["help"]):
            self.say(*HELP)
        elif len(head) < 2 or head[0] != "network":
            self.say(f"Unknown command {' '.join(head)!r}. Send \"help\" for the list.")
        elif head[1] == "list":
            conns = user.sorted_connections()
            if not conns:
                self.say("You have no connection yet: network add <url or host[:port]> [name]")
            for conn in conns:
                attrs = attributes(conn.api_dict())
                self.say(f"{conn.name} ({conn.connection_id}): {attrs['state']}, {attrs['host']}:{attrs['port']}"
                         f"{' with TLS' if attrs['tls'] == '1' else ''}"
                         f"{', wants to be disconnected' if conn.wanted_state == 'disconnected' else ''}")
        elif head[1] == "add":
            await self._add(args)
        elif head[1] in ("connect", "disconnect", "delete"):
            await self._switch(head[1], args)
        else:
            self.say(f"Unknown command {' '.join(head)!r}. Send \"help\" for the list.")

    async def _add(self, args: list[str]) -> None:
        assert self.s.user is not None
        if not args or len(args) > 2:
            self.say("Usage: network add <url or host[:port]> [name]")
            return
        conn = await self.s.core.connections.create_connection(self.s.user, self._url(args[0]),
                                                               name=args[1] if len(args) > 1 else None)
        self.say(f"Added {conn.name} ({conn.connection_id}); connecting.")

    async def _switch(self, verb: str, args: list[str]) -> None:
        """network connect, disconnect or delete <name>."""
        user = self.s.user
        assert user is not None
        conn = self._connection(args)
        if conn is None:
            return
        if verb == "delete":
            await self.s.core.connections.remove_connection(user, conn)
            self.say(f"Deleted {conn.name} ({conn.connection_id}).")
            return
        state = "connected" if verb == "connect" else "disconnected"
        await self.s.core.connections.update_connection(user, conn, wanted_state=state)
        self.say(f"{conn.name} ({conn.connection_id}): {verb}ing.")

    def _url(self, target: str) -> str:
        """A URL as it is; `host[:port]` as ADDNETWORK takes it (TLS, port 6697 by default)."""
        if "://" in target:
            return target
        try:
            parts = urlsplit("//" + target)
            port = parts.port
        except ValueError:
            raise InvalidInput("Invalid host or port.", "/url") from None
        attrs = {"host": parts.hostname or ""}
        if port:
            attrs["port"] = str(port)
        return url_with(attrs)

    def _connection(self, args: list[str]) -> Connection | None:
        user = self.s.user
        assert user is not None
        conn = pick_connection(user, args[0]) if len(args) == 1 else None
        if conn is None:
            self.say(f"No connection {args[0]!r}; yours: {names(user.sorted_connections())}" if args else
                     "Which connection? Give its name or id.")
        return conn
