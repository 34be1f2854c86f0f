"""One native IRC client: registration and sign-in, then attached to one connection of its user."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..core.bucket import TokenBucket
from ..core.events import ConnectionEvent, ConnectionRemoved, ConversationChanged, Event, Message, Read
from ..errors import ConvosError, TooManyRequests
from . import limits, networks, replay
from .auth import Credentials, connection_names, from_pass, from_sasl_plain, pick_connection, split_account
from .bus import UserEvents
from .commands import SERVER_NAME, ClientCommands, markread_line
from .history import MAX_LIMIT
from .lines import Line, format_line, parse
from .networks import Networks
from .relay import ClientView, channel_lines, joined_now, state_lines, welcome

if TYPE_CHECKING:
    from ..core.connection import Connection, Conversation
    from ..core.user import User
    from .server import Listener

log = logging.getLogger(__name__)

READ_SIZE = 16 * 1024
CAPS = {"server-time": "", "message-tags": "", "echo-message": "", "batch": "", "sasl": "PLAIN",
        "cap-notify": "", "multi-prefix": "", "userhost-in-names": "", "extended-join": "", "away-notify": "",
        "account-notify": "", "chghost": "", "setname": "", "invite-notify": "",
        "draft/chathistory": "", "draft/read-marker": ""}
OWN_ISUPPORT = (f"CHATHISTORY={MAX_LIMIT}", "MSGREFTYPES=msgid,timestamp")
NAMES_TIMEOUT = 10.0
CAPS.update(networks.CAPS)  # soju.im/bouncer-networks (listen/networks.py)
# What a client may not send to the shared connection: answered here, or refused.
LOCAL_ONLY = {"USER", "PASS", "AUTHENTICATE", "WEBIRC", "SERVER", "SERVICE"}


class Closed(Exception):
    """The client is gone, or was sent away."""


class ClientSession:
    def __init__(self, listener: Listener, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.listener = listener
        self.core = listener.core
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.address = str(peer[0]) if peer else ""
        self.view = ClientView(nick="*", server=SERVER_NAME)
        self.closed = False
        self.user: User | None = None
        self.conn: Connection | None = None
        self.events: UserEvents | None = None
        self.commands = ClientCommands(self)
        self.networks = Networks(self)
        self.client_name = ""
        self.last_msgid = ""  # the newest logged line this client was sent
        self._replayed: set[str] = set()
        self._bucket = TokenBucket(limits.LINE_BURST, limits.LINE_RATE)
        self._buffer = bytearray()
        self._corked: list[str] | None = None  # lines held back to go out in one write
        self._skipping = False
        # Registration
        self._cap_negotiating = False
        self._nick = ""
        self._username = ""
        self._password = ""
        self._sasl_buffer = ""
        self._sasl_started = False
        self._sasl: tuple[Credentials, User] | None = None
        # What this client sent without echo-message: its own lines are not sent back to it.
        self.unechoed: deque[tuple[str, str, str]] = deque(maxlen=256)
        self._commands: asyncio.Queue[Line] = asyncio.Queue(limits.PENDING_COMMANDS)

    # --- output ---------------------------------------------------------------

    def send(self, *lines: str) -> None:
        """Queue lines for the client; a client that does not take what it is sent is dropped."""
        if self._corked is not None:
            self._corked.extend(lines)
            return
        if self.closed or not lines:
            return
        transport = self.writer.transport
        if transport.is_closing():
            self.closed = True
            return
        self.writer.write(("\r\n".join(lines) + "\r\n").encode("utf-8", "replace"))
        # Checked after the write: the lines of a whole batch of events go in one.
        if transport.get_write_buffer_size() > limits.MAX_WRITE_BUFFER:
            log.info("IRC listener: %s of %s is too slow; disconnecting it.", self.address, self.email)
            self.closed = True
            # Detached before the socket drops, so no one sees the client gone yet still listed.
            self.listener.detach(self)
            transport.abort()

    def _uncork(self) -> None:
        """Send what was held back for one write (see `_relay`)."""
        held, self._corked = self._corked, None
        if held:
            self.send(*held)

    def error(self, reason: str) -> None:
        """ERROR and close: the client is sent away."""
        self._uncork()
        self.send(format_line("ERROR", f"Closing link: {reason}"))
        self.closed = True
        self.writer.close()

    @property
    def email(self) -> str:
        return self.user.email if self.user else ""

    @property
    def connection_id(self) -> str:
        return self.conn.connection_id if self.conn else ""

    def numeric(self, code: str, *params: str) -> None:
        self.send(self.view.numeric(code, *params))

    def notice(self, text: str) -> None:
        self.send(format_line("NOTICE", self.view.nick, text, source=SERVER_NAME))

    # --- input ----------------------------------------------------------------

    async def lines(self) -> AsyncIterator[Line]:
        """The client's lines, each within MAX_LINE, at most LINE_RATE a second after a burst."""
        while not self.closed:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if len(self._buffer) > limits.MAX_LINE:
                    self._buffer.clear()
                    self._skipping = True
                    self.numeric("417", "Input line was too long")
                chunk = await self.reader.read(READ_SIZE)
                if not chunk:
                    return
                self._buffer += chunk
                continue
            raw = bytes(self._buffer[:newline])
            del self._buffer[:newline + 1]
            if self._skipping:
                self._skipping = False
                continue
            if len(raw) > limits.MAX_LINE:
                self.numeric("417", "Input line was too long")
                continue
            line = parse(raw.decode("utf-8", "replace"))
            if line is None:
                continue
            wait = self._bucket.wait()
            if wait:
                await asyncio.sleep(wait)  # throttling, not synchronisation: this client waits
            yield line

    async def run(self) -> None:
        try:
            try:
                attached = await asyncio.wait_for(self._register(), limits.REGISTRATION_TIMEOUT)
            except TimeoutError:
                self.error("Registration timed out")
                return
            if attached and self.conn is None:
                await self._control()
            elif attached:
                await self._attached()
        except (ConnectionError, OSError, Closed):
            pass
        except Exception:
            log.exception("IRC listener: the client of %s from %s failed", self.email or "nobody", self.address)
        finally:
            await self._cleanup()

    async def _cleanup(self) -> None:
        self.closed = True
        if self.events is not None:
            self.events.close()
        self.listener.detach(self)
        await self._remember()
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (ConnectionError, OSError, TimeoutError):
            pass

    # --- registration -----------------------------------------------------------

    async def _register(self) -> bool:
        async for line in self.lines():
            if await self._registration_line(line):
                return await self._sign_in()
            if self.closed:
                return False
        return False

    async def _registration_line(self, line: Line) -> bool:
        """Handle one line before registration; True once NICK, USER (and CAP END) came."""
        command = line.command
        if command == "CAP":
            self._cap(line)
        elif command == "AUTHENTICATE":
            await self._authenticate(line.param(0))
        elif command == "PASS":
            self._password = line.param(0)
        elif command == "NICK":
            self._nick = line.param(0)
        elif command == "USER":
            self._username = line.param(0)
        elif command == "BOUNCER":
            self.networks.before_registration(line, self._sasl[1] if self._sasl else None)
        elif command == "PING":
            self.send(format_line("PONG", SERVER_NAME, line.param(0), source=SERVER_NAME))
        elif command == "QUIT":
            self.error("Client quit")
        elif command != "PONG":
            self.numeric("451", "You have not registered")
        return bool(self._nick and self._username) and not self._cap_negotiating and not self.closed

    def _cap(self, line: Line) -> None:
        sub = line.param(0).upper()
        if sub == "LS":
            self._cap_negotiating = self.user is None
            v302 = line.param(1).isdigit() and int(line.param(1)) >= 302
            if v302:
                self.view.caps.add("cap-notify")
            caps = " ".join(f"{k}={v}" if v and v302 else k for k, v in CAPS.items())
            self.send(format_line("CAP", self.view.nick, "LS", caps, source=SERVER_NAME))
        elif sub == "REQ":
            self._cap_negotiating = self.user is None
            wanted = line.param(1).split()
            if all(name.lstrip("-") in CAPS for name in wanted):
                for name in wanted:
                    if name.startswith("-"):
                        self.view.caps.discard(name[1:])
                    else:
                        self.view.caps.add(name)
                self.send(format_line("CAP", self.view.nick, "ACK", line.param(1), source=SERVER_NAME))
            else:
                self.send(format_line("CAP", self.view.nick, "NAK", line.param(1), source=SERVER_NAME))
        elif sub == "LIST":
            self.send(format_line("CAP", self.view.nick, "LIST", " ".join(sorted(self.view.caps)), source=SERVER_NAME))
        elif sub == "END":
            self._cap_negotiating = False
        else:
            self.numeric("410", sub or "*", "Invalid CAP command")

    async def _authenticate(self, arg: str) -> None:
        if "sasl" not in self.view.caps or self._sasl is not None:
            self.numeric("907" if self._sasl else "904", "SASL authentication failed")
            return
        if not self._sasl_started:
            if arg.upper() == "PLAIN":
                self._sasl_started = True
                self._sasl_buffer = ""
                self.send("AUTHENTICATE +")
            else:
                self.numeric("908", "PLAIN", "are available SASL mechanisms")
                self.numeric("904", "SASL authentication failed")
            return
        if arg == "*":
            self._sasl_started = False
            self.numeric("906", "SASL authentication aborted")
            return
        if arg != "+":
            self._sasl_buffer += arg
            if len(self._sasl_buffer) > 4096:
                self._sasl_started = False
                self.numeric("905", "SASL message too long")
                return
            if len(arg) == 400:
                return  # more to come
        self._sasl_started = False
        creds = from_sasl_plain(self._sasl_buffer)
        if creds is None:
            self.numeric("904", "SASL authentication failed")
            return
        user = await self._check(creds)
        if user is None:
            self.numeric("904", "SASL authentication failed")
            return
        self._sasl = (creds, user)
        self.numeric("900", f"{self._nick or '*'}!{self._username or '*'}@{self.address}", user.email,
                      f"You are now logged in as {user.email}")
        self.numeric("903", "SASL authentication successful")

    async def _check(self, creds: Credentials) -> User | None:
        try:
            return await self.listener.sign_in.check(creds, self.address)
        except TooManyRequests as err:
            self.error(str(err))
            raise Closed() from None

    async def _sign_in(self) -> bool:
        if self._sasl is not None:
            creds, user = self._sasl
            network = creds.network or split_account(self._username)[1]
        else:
            creds_or_none = from_pass(self._password, self._username) if self._password else None
            if creds_or_none is None:
                self.numeric("464", "Password required: PASS email/network:password, or SASL")
                self.error("Password required")
                return False
            found = await self._check(creds_or_none)
            if found is None:
                self.numeric("464", "Password incorrect")
                self.error("Password incorrect")
                return False
            user, network = found, creds_or_none.network
        network, _, client = network.partition("@")
        self.client_name = replay.client_name(client)
        conn = self.networks.bound or (None if self.networks.wants_control(network) else pick_connection(user, network))
        if conn is None and network:
            self.view.nick = self._nick
            self.notice("Choose a connection with email/network as user name; yours are: "
                        + ", ".join(connection_names(user)))
            self.error("Unknown network" if network else "No network chosen")
            return False
        if not self.listener.attach(self, user, conn):
            self.error("Too many clients attached to this account")
            return False
        self.user, self.conn = user, conn
        return True

    # --- attached -------------------------------------------------------------

    async def _attached(self) -> None:
        user, conn = self.user, self.conn
        assert user is not None and conn is not None
        # Subscribed before the welcome is built: nothing that happens meanwhile is missed.
        self.events = UserEvents(self.core, user.email, limits.EVENT_QUEUE)
        facts = conn.network_facts()
        self.view.nick = str(conn.info.get("nick") or self._nick)
        self.view.people = conn.people
        self.view.server = facts.server or SERVER_NAME
        for token in facts.isupport:
            if token.startswith("PREFIX="):
                self.view.prefix = token[len("PREFIX="):]
        self.send(*welcome(self.view, facts, conn.name or conn.connection_id, (*OWN_ISUPPORT, *self.networks.isupport())))
        if conn.state != "connected":
            self.notice(f"{conn.name} is {conn.state}; convos keeps trying to connect.")
        channels = [c for c in conn.sorted_conversations() if not c.is_private and not c.frozen]
        names = await asyncio.gather(*(self.names(c.conversation_id) for c in channels))
        for conv, participants in zip(channels, names, strict=True):
            self._enter(conv.conversation_id, conv.name, conv.topic, participants)
        await self._replay()
        log.info("IRC listener: %s attached to %s from %s.", user.email, conn.connection_id, self.address)
        await self._serve()

    async def _control(self) -> None:
        """Signed in without a connection: the control connection (listen/networks.py), which only
        lists and manages the user's connections, as soju's is."""
        assert self.user is not None
        self.events = UserEvents(self.core, self.user.email, limits.EVENT_QUEUE)
        # Goguma's nick is the email it signs in with: what comes before "@" is a nick.
        self.view.nick = self._nick.partition("@")[0] or "convos"
        self.send(*self.networks.control_welcome())
        log.info("IRC listener: %s attached to the control connection from %s.", self.user.email, self.address)
        await self._serve()

    async def _serve(self) -> None:
        self.networks.attached()
        tasks = [asyncio.create_task(self._read_client()), asyncio.create_task(self._run_commands()),
                 asyncio.create_task(self._relay())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _remember(self) -> None:
        """Keep where this client got to (user.json), for the replay when it comes back."""
        user, conn = self.user, self.conn
        if user is None or conn is None or not self.last_msgid:
            return
        if replay.last_seen(user, conn.connection_id, self.client_name) == self.last_msgid:
            return
        replay.remember(user, conn.connection_id, self.client_name, self.last_msgid)
        try:
            await self.core.save_user(user)
        except OSError as err:
            log.warning("IRC listener: could not save where %s's client got to: %s", self.email, err)

    async def _replay(self) -> None:
        """The lines this client (by its name) missed, when it cannot ask for them itself."""
        assert self.user is not None and self.conn is not None
        if "draft/chathistory" in self.view.caps:
            return
        since = replay.last_seen(self.user, self.conn.connection_id, self.client_name)
        if not since:
            return
        for conv, messages in await replay.missed(self.core, self.user, self.conn, since):
            self.send(*self.commands.history_batch(conv.name, messages))
            ids = [str(m.get("id")) for m in messages if m.get("id")]
            self._replayed.update(ids)  # logged meanwhile, and queued as events too: sent once
            self.last_msgid = max([self.last_msgid, *ids], key=replay.order)

    def _enter(self, conv_id: str, name: str, topic: str, participants: list[dict[str, str]]) -> None:
        self.view.entered(conv_id, name, topic)
        self.send(*channel_lines(self.view, name, topic, participants))
        conv = self.conversation(conv_id)
        if conv is not None and "draft/read-marker" in self.view.caps:
            self.send(markread_line(conv))

    async def names(self, conv_id: str) -> list[dict[str, str]]:
        conn = self.conn
        assert conn is not None
        try:
            result = await asyncio.wait_for(conn.send(conv_id, f"/names {conv_id}"), NAMES_TIMEOUT)
        except (ConvosError, TimeoutError):
            return []
        participants = result.get("participants")
        return participants if isinstance(participants, list) else []

    async def _read_client(self) -> None:
        async for line in self.lines():
            command = line.command
            if command == "PING":
                self.send(format_line("PONG", SERVER_NAME, line.param(0), source=SERVER_NAME))
            elif command == "PONG":
                continue
            elif command == "QUIT":
                await self._remember()  # before it is told goodbye
                self.error("Client quit")  # only this client goes; the connection stays
                return
            elif command == "CAP":
                self._cap(line)
            elif command in LOCAL_ONLY:
                self.numeric("462", "You may not reregister")
            else:
                await self._commands.put(line)  # waits while full: the socket is read no further

    async def _run_commands(self) -> None:
        while True:
            line = await self._commands.get()
            try:
                if not await self.networks.run(line):
                    await self.commands.run(line)
            except ConvosError as err:
                self.notice(f"{line.command}: {err.errors[0].message if err.errors else err}")
            except Exception:
                log.exception("IRC listener: %s from %s failed", line.command, self.email)
                self.notice(f"{line.command}: internal error")

    def conversation(self, name: str) -> Conversation | None:
        return self.conn.get_conversation(name) if self.conn and name else None

    # --- relay ----------------------------------------------------------------

    async def _relay(self) -> None:
        """Relay the events of this client's connection. Every chat line queued when it wakes
        goes out in one write: the lines of one written log batch all come in one loop
        iteration, and one system call for each attached client is what the relay can afford."""
        assert self.events is not None
        while True:
            event = await self.events.get()
            events, ended = ([], True) if event is None else ([event], False)
            if event is not None:
                more, ended = self.events.drain()
                events.extend(more)
            try:
                for event in events:
                    self.networks.on_event(event)
                    if not isinstance(event, ConnectionEvent) or event.connection_id != self.connection_id:
                        continue
                    if not isinstance(event, Message):
                        self._uncork()  # in order, and not held while it waits (NAMES)
                    elif self._corked is None:
                        self._corked = []
                    await self.relay(event)
            finally:
                self._uncork()
            if ended:
                self.error("Too slow: events were missed" if self.events.overflowed else "Signed out")
                return

    async def relay(self, event: Event) -> None:
        if isinstance(event, Message):
            if event.id in self._replayed:
                self._replayed.discard(event.id)
                return
            if event.id:
                self.last_msgid = event.id
            if not self._own_unechoed(event):
                self.send(self.listener.lines.event_line(self.view, event))
        elif isinstance(event, ConnectionRemoved):
            self.error("The connection was removed")
        elif isinstance(event, Read):
            conv = self.conversation(event.conversation_id)
            if conv is not None and conv.conversation_id and "draft/read-marker" in self.view.caps:
                self.send(markread_line(conv, event.ts))
        elif isinstance(event, ConversationChanged) and (channel := joined_now(self.view, event)):
            self._enter(event.conversation_id, channel, event.topic, await self.names(event.conversation_id))
        else:
            self.send(*state_lines(self.view, event))

    def _own_unechoed(self, event: Message) -> bool:
        """Whether this is a line this client sent and did not ask to get back."""
        if not self.unechoed or event.from_.lower() != self.view.nick.lower():
            return False
        key = (event.conversation_id, event.type, event.message)
        try:
            self.unechoed.remove(key)
        except ValueError:
            return False
        return True
