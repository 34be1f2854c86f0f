"""soju.im/bouncer-networks: a client lists the user's connections (its "networks"), binds to one
before registration, adds, changes and removes them through the core's connections service, and
hears of every change; a client that chose none gets the control connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.connection import Connection, NetworkFacts
from ..core.events import ConnectionAdded, ConnectionChanged, ConnectionRemoved, ConnectionState, Event
from ..errors import ConvosError
from . import service
from .history import batch_lines
from .lines import Line, format_line
from .netattrs import (
    READ_ONLY,
    SERVER_NAME,
    BouncerError,
    attributes,
    fail_from,
    format_attributes,
    parse_attributes,
    state_of,
    url_with,
)
from .relay import welcome

if TYPE_CHECKING:
    from ..core.user import User
    from .session import ClientSession

CAP = "soju.im/bouncer-networks"
NOTIFY_CAP = "soju.im/bouncer-networks-notify"
CAPS = {CAP: "", NOTIFY_CAP: ""}
BATCH = "soju.im/bouncer-networks"


# --- one client -------------------------------------------------------------------------------


class Networks:
    """The BOUNCER command, the `*convos` service and the network notifications of one client."""

    def __init__(self, session: ClientSession) -> None:
        self.s = session
        self.bound: Connection | None = None  # chosen with BOUNCER BIND before registration
        self.told: dict[str, dict[str, str]] = {}  # what the client was told of each network
        self.service = service.Service(session)

    @property
    def notify(self) -> bool:
        return NOTIFY_CAP in self.s.view.caps

    def wants_control(self, network: str) -> bool:
        """Whether a client that named no network gets the control connection: with this
        capability always, as soju does (Goguma then binds one connection per network)."""
        return not network and self.bound is None and CAP in self.s.view.caps

    def isupport(self) -> tuple[str, ...]:
        return (f"BOUNCER_NETID={self.s.connection_id}",) if self.s.connection_id else ()

    def before_registration(self, line: Line, user: User | None) -> None:
        """BOUNCER before CAP END: BIND (after SASL), or a FAIL."""
        sub = line.param(0).upper()
        if sub != "BIND":
            self.s.send(BouncerError("UNKNOWN_COMMAND" if sub else "INVALID_PARAMS", sub or "*",
                                     text="Unknown subcommand" if sub else "Missing subcommand").line())
            return
        if user is None:
            self.s.send(BouncerError("ACCOUNT_REQUIRED", "BIND", text="Authentication required").line())
            return
        conn = user.get_connection(line.param(1))
        if conn is None:
            self.s.send(BouncerError("INVALID_NETID", "BIND", line.param(1) or "*", text="Network not found").line())
            return
        self.bound = conn

    def control_welcome(self) -> list[str]:
        """001-005 of the control connection: no channels (`CHANTYPES=`), no BOUNCER_NETID; a client
        that does not speak bouncer-networks is told how to go on."""
        user = self.s.user
        assert user is not None
        lines = welcome(self.s.view, NetworkFacts(isupport=("CASEMAPPING=ascii", "CHANTYPES=")), "Convos")
        if CAP not in self.s.view.caps:
            lines.extend(format_line("PRIVMSG", self.s.view.nick, text, source=service.SOURCE) for text in (
                "This connection has no network: it manages your Convos connections. Send me \"help\".",
                "To chat, sign in as email/network with one of yours: " + service.names(user.sorted_connections()),
            ))
        return lines

    def attached(self) -> None:
        """After the welcome: the list of networks, for a client that wants to hear of them."""
        if self.notify:
            self.s.send(*self.listing())

    def listing(self) -> list[str]:
        assert self.s.user is not None
        body = []
        for conn in self.s.user.sorted_connections():
            attrs = attributes(conn.api_dict())
            self.told[conn.connection_id] = attrs
            body.append(format_line("BOUNCER", "NETWORK", conn.connection_id, format_attributes(attrs),
                                    source=SERVER_NAME))
        return batch_lines(BATCH, [], body, tagged="batch" in self.s.view.caps)

    def on_event(self, event: Event) -> None:
        """`BOUNCER NETWORK` when one of the user's connections is added, changed or removed, or
        its state changes: only what changed since the client was told."""
        if not self.notify:
            return
        if isinstance(event, ConnectionRemoved):
            if self.told.pop(event.connection_id, None) is not None:
                self.s.send(format_line("BOUNCER", "NETWORK", event.connection_id, "*", source=SERVER_NAME))
            return
        if isinstance(event, ConnectionAdded | ConnectionChanged):
            now = attributes(event.connection)
            if isinstance(event, ConnectionChanged):
                now.pop("state")  # the state comes with its own event, in order
        elif isinstance(event, ConnectionState):
            now = {"state": state_of(event.state)}
        else:
            return
        known = self.told.setdefault(event.connection_id, {})
        changed = {k: v for k, v in now.items() if known.get(k) != v}
        if isinstance(event, ConnectionChanged):
            changed.update({k: "" for k in known if k not in now and k not in READ_ONLY and known[k]})
        if changed:
            known.update(changed)
            self.s.send(format_line("BOUNCER", "NETWORK", event.connection_id, format_attributes(changed),
                                    source=SERVER_NAME))

    async def run(self, line: Line) -> bool:
        """Handle a line that is this module's (BOUNCER, and lines to `*convos`); on the control
        connection every line. True when it was handled here."""
        command = line.command
        if command == "BOUNCER":
            try:
                await self._bouncer(line)
            except BouncerError as err:
                self.s.send(err.line())
            return True
        if command in ("PRIVMSG", "NOTICE") and line.param(0).lower() == service.NICK.lower():
            await self.service.run(command, line.param(1))
            return True
        if self.s.conn is None:
            if command in ("PRIVMSG", "NOTICE", "JOIN", "PART", "TOPIC", "NAMES", "WHO", "MODE", "CHATHISTORY",
                           "MARKREAD", "NICK"):
                self.s.numeric("400", command, "This is the Convos control connection: it has no channels. "
                                               f"Message {service.NICK} or bind a network to chat.")
            else:
                self.s.numeric("421", command, "Unknown command")
            return True
        return False

    async def _bouncer(self, line: Line) -> None:
        user = self.s.user
        assert user is not None
        sub, netid = line.param(0).upper(), line.param(1)
        if sub == "LISTNETWORKS":
            self.s.send(*self.listing())
        elif sub == "BIND":
            raise BouncerError("REGISTRATION_IS_COMPLETED", "BIND", text="Cannot bind to a network after registration")
        elif sub == "ADDNETWORK":
            await self._add(user, line.param(1))
        elif sub in ("CHANGENETWORK", "DELNETWORK"):
            await self._change(user, sub, netid, line.param(2))
        else:
            raise BouncerError("UNKNOWN_COMMAND", sub or "*", text="Unknown subcommand")

    async def _add(self, user: User, text: str) -> None:
        attrs = parse_attributes(text)
        name = attrs.pop("name", None) or None
        url = url_with(attrs)
        try:
            conn = await self.s.core.connections.create_connection(user, url, name=name)
        except ConvosError as err:
            raise fail_from(err, "ADDNETWORK", "*") from None
        self.s.send(format_line("BOUNCER", "ADDNETWORK", conn.connection_id, source=SERVER_NAME))

    async def _change(self, user: User, sub: str, netid: str, text: str) -> None:
        conn = user.get_connection(netid)
        if conn is None:
            raise BouncerError("INVALID_NETID", sub, netid or "*", text="Network not found")
        connections = self.s.core.connections
        if sub == "DELNETWORK":
            await connections.remove_connection(user, conn)
        else:
            attrs = parse_attributes(text)
            if not attrs:
                raise BouncerError("NEED_ATTRIBUTE", sub, netid, "*", text="No attribute to change")
            name = attrs.pop("name", None) or None  # empty: as it is (Goguma sends every field)
            url = url_with(attrs, conn.url, subcommand=sub, netid=netid) if attrs else None
            try:
                await connections.update_connection(user, conn, url=url, name=name)
            except ConvosError as err:
                raise fail_from(err, sub, netid) from None
        self.s.send(format_line("BOUNCER", sub, netid, source=SERVER_NAME))
