"""A scripted in-process IRC server for protocol edge cases a real ircd cannot produce."""

from __future__ import annotations

import asyncio
import base64
import re
import textwrap
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

# ---------------------------------------------------------------------------------------------
# Parsed lines and matching, shared with t/ircd.py's IrcClient.

_TAG_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


@dataclass(frozen=True, slots=True)
class IrcLine:
    """One IRC line: `@tags :prefix COMMAND params... :trailing`, parsed."""

    raw: str
    command: str
    params: tuple[str, ...] = ()
    prefix: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def nick(self) -> str | None:
        """The nick (or server name) part of the prefix."""
        return self.prefix.split("!", 1)[0] if self.prefix else None

    @property
    def text(self) -> str:
        """The last parameter, usually the message text."""
        return self.params[-1] if self.params else ""

    def __str__(self) -> str:
        return self.raw


def _unescape_tag(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_TAG_UNESCAPES.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def parse_line(raw: str) -> IrcLine:
    """Parse one line (without CRLF). Liberal: never raises, whatever the input."""
    rest = raw
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        tag_text, _, rest = rest[1:].partition(" ")
        for item in filter(None, tag_text.split(";")):
            key, _, value = item.partition("=")
            tags[key] = _unescape_tag(value)
        rest = rest.lstrip(" ")
    prefix = None
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    middle, sep, trailing = rest.partition(" :")
    if not sep and middle.startswith(":"):  # "CMD" never starts with ':', but be safe
        middle, trailing, sep = "", middle[1:], " :"
    words = middle.split()
    command = words[0].upper() if words else ""
    params = [*words[1:], trailing] if sep else words[1:]
    return IrcLine(raw=raw, command=command, params=tuple(params), prefix=prefix, tags=tags)


def decode_line(data: bytes) -> str:
    """Bytes of one line, CRLF stripped, as text; invalid UTF-8 is replaced, never an error."""
    return data.rstrip(b"\r\n").decode("utf-8", errors="replace")


Matcher = str | re.Pattern[str] | Callable[[IrcLine], bool]


def matches(matcher: Matcher, line: IrcLine) -> bool:
    """A str matches a line starting with it or, as a regex, found in it (re.search)."""
    if isinstance(matcher, str):
        if line.raw.startswith(matcher):
            return True
        try:
            return re.search(matcher, line.raw) is not None
        except re.error:
            return False
    if isinstance(matcher, re.Pattern):
        return matcher.search(line.raw) is not None
    return bool(matcher(line))


def describe(matcher: Matcher) -> str:
    if isinstance(matcher, re.Pattern):
        return f"/{matcher.pattern}/"
    if isinstance(matcher, str):
        return repr(matcher)
    return getattr(matcher, "__name__", repr(matcher))


class LineInbox:
    """Lines received on one socket: `expect` takes the first match, the rest stay for later."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.history: list[IrcLine] = []  # every line received, in order
        self.pending: deque[IrcLine] = deque()  # not yet taken by expect()
        self.closed = False
        self._changed = asyncio.Event()

    def put(self, line: IrcLine, *, keep: bool = True) -> None:
        self.history.append(line)
        if keep:
            self.pending.append(line)
        self._changed.set()

    def close(self) -> None:
        self.closed = True
        self._changed.set()

    def take(self, matcher: Matcher) -> IrcLine | None:
        for i, line in enumerate(self.pending):
            if matches(matcher, line):
                del self.pending[i]
                return line
        return None

    async def expect(self, matcher: Matcher, timeout: float) -> IrcLine:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            line = self.take(matcher)
            if line is not None:
                return line
            remaining = deadline - loop.time()
            if self.closed or remaining <= 0:
                raise AssertionError(self._failure(matcher, timeout))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def expect_many(self, matcher: Matcher, count: int, timeout: float) -> list[IrcLine]:
        """`count` matching lines, in arrival order, within one overall timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: list[IrcLine] = []
        while True:
            kept: deque[IrcLine] = deque()
            while self.pending and len(found) < count:
                line = self.pending.popleft()
                (found if matches(matcher, line) else kept).append(line)
            kept.extend(self.pending)
            self.pending = kept
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if self.closed or remaining <= 0:
                self.pending.extendleft(reversed(found))
                raise AssertionError(f"got {len(found)} of {count} lines. " + self._failure(matcher, timeout))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def _failure(self, matcher: Matcher, timeout: float) -> str:
        why = "connection closed" if self.closed else f"timeout after {timeout}s"
        tail = list(self.pending)[-25:]
        shown = "\n  ".join(line.raw for line in tail) or "(none)"
        return (f"{self.who}: no line matching {describe(matcher)} ({why}); "
                f"{len(self.history)} received, {len(self.pending)} unmatched, last unmatched:\n  {shown}")


def server_time(when: datetime | None = None) -> str:
    """An IRCv3 `@time=` tag value, e.g. 2024-03-21T08:25:00.000Z."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------------
# Canned server lines for PeerConnection.transcript(); {nick} and {server} are filled in.

TRANSCRIPTS: dict[str, str] = {
    "start": """
        :{server} NOTICE AUTH :*** Looking up your hostname...
        :{server} NOTICE AUTH :*** Checking Ident
        :{server} NOTICE AUTH :*** Found your hostname
        :{server} NOTICE AUTH :*** No Ident response
    """,
    "welcome": """
        :{server} 001 {nick} :Welcome to the TestNet Internet Relay Chat Network {nick}
        :{server} 002 {nick} :Your host is {server}, running version scripted-1.0
        :{server} 003 {nick} :This server was created Thu Mar 21 2024 at 08:25:00 UTC
        :{server} 004 {nick} {server} scripted-1.0 aiorswx biklmnopstv
        :{server} 005 {nick} NETWORK=TestNet CHANTYPES=# PREFIX=(qaohv)~&@%+ CHANMODES=beI,k,l,imnst CASEMAPPING=rfc1459 NICKLEN=30 :are supported by this server
        :{server} 375 {nick} :- {server} Message of the Day -
        :{server} 372 {nick} :- Hello from the scripted peer
        :{server} 376 {nick} :End of /MOTD command.
    """,
    "join-convos": """
        :{nick}!{nick}@127.0.0.1 JOIN :#convos
        :{server} 332 {nick} #convos :some cool topic
        :{server} 333 {nick} #convos superman!superman@i.love.debian.org 1432932059
        :{server} 353 {nick} = #convos :{nick} @batman
        :{server} 366 {nick} #convos :End of /NAMES list.
    """,
}


# ---------------------------------------------------------------------------------------------
# The server side.


@dataclass(slots=True)
class Registration:
    """What a client did while `PeerConnection.register` played the server."""

    nick: str = ""
    user: IrcLine | None = None
    password: str | None = None
    cap_version: int | None = None  # 302 for `CAP LS 302`, 0 for plain `CAP LS`, None if no CAP
    caps_requested: list[str] = field(default_factory=list)
    caps_acked: list[str] = field(default_factory=list)
    sasl_mechanism: str | None = None
    sasl_payload: bytes | None = None  # the decoded AUTHENTICATE data
    sasl_raw: str | None = None  # the AUTHENTICATE parameter as sent (base64, "+" or "*")
    lines: list[IrcLine] = field(default_factory=list)  # every client line consumed, in order

    @property
    def sasl_plain(self) -> tuple[str, str, str] | None:
        """(authzid, authcid, password) of a PLAIN payload."""
        if self.sasl_payload is None or self.sasl_mechanism != "PLAIN":
            return None
        parts = [*self.sasl_payload.decode("utf-8", errors="replace").split("\0"), "", "", ""]
        return parts[0], parts[1], parts[2]


class PeerConnection:
    """The server end of one client connection to a ScriptedIrcPeer."""

    def __init__(self, peer: ScriptedIrcPeer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peer = peer
        self.server_name = peer.name
        self._reader = reader
        self._writer = writer
        host, port = writer.get_extra_info("peername")[:2]
        self.client_address = (str(host), int(port))
        self.inbox = LineInbox(f"peer connection from {host}:{port}")
        self.sent_lines: list[bytes] = []  # everything written to the client, one entry per send
        self.auto_pong = True  # answer PING from the client with PONG (the PING is still kept)
        self.nick = "*"
        self.closed = asyncio.Event()

    @property
    def received(self) -> list[IrcLine]:
        """Every line the client sent, in order (including those taken by expect)."""
        return self.inbox.history

    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    data = await self._reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as e:
                    data = e.partial
                    if data.strip():
                        self.inbox.put(parse_line(decode_line(data)))
                    break
                line = parse_line(decode_line(data))
                if not line.raw:
                    continue
                if line.command == "NICK" and line.params:
                    self.nick = line.params[0]
                self.inbox.put(line)
                if line.command == "PING" and self.auto_pong:
                    await self.send(f":{self.server_name} PONG {self.server_name} :{line.text}")
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.inbox.close()
            self._writer.close()
            self.closed.set()

    async def expect(self, matcher: Matcher, timeout: float = 5) -> IrcLine:
        """The first not yet expected line the client sent that matches; other lines stay buffered.

        A str matches a line starting with it, or found in it as a regex; also a compiled regex
        or a predicate on IrcLine. Raises AssertionError listing what arrived on timeout or close.
        """
        return await self.inbox.expect(matcher, timeout)

    async def expect_many(self, matcher: Matcher, count: int, timeout: float = 5) -> list[IrcLine]:
        return await self.inbox.expect_many(matcher, count, timeout)

    async def expect_closed(self, timeout: float = 5) -> None:
        """Wait until the client closes the connection."""
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"client still connected after {timeout}s") from None

    async def send(self, *lines: str | bytes) -> PeerConnection:
        """Write lines to the client: str gets CRLF appended; bytes go out exactly as given."""
        for line in lines:
            data = line if isinstance(line, bytes) else line.encode() + b"\r\n"
            self.sent_lines.append(data)
            self._writer.write(data)
        try:
            await self._writer.drain()
        except ConnectionError:
            pass
        return self

    async def transcript(self, name_or_text: str, **values: str) -> list[IrcLine]:
        """Play a canned script: a TRANSCRIPTS name or literal text, one line per line.

        Lines starting with `C:` are expected from the client (in order), `S:` or anything else
        is sent by the server. {nick} and {server} (and other **values) are filled in.
        Returns the client lines that matched the `C:` steps.
        """
        text = TRANSCRIPTS.get(name_or_text, name_or_text)
        got: list[IrcLine] = []
        outgoing: list[str] = []
        for raw in textwrap.dedent(text).splitlines():
            line = raw.strip()
            if not line:
                continue
            if "{" in line:  # filled in now: a `C: NICK x` step before may have set the nick
                line = line.format(**{"nick": self.nick, "server": self.server_name, **values})
            if line.startswith("C:"):
                if outgoing:
                    await self.send(*outgoing)
                    outgoing = []
                got.append(await self.expect(line[2:].strip()))
            else:
                outgoing.append(line[2:].strip() if line.startswith("S:") else line)
        if outgoing:
            await self.send(*outgoing)
        return got

    async def welcome(self, nick: str | None = None, *, isupport: Sequence[str] | None = None,
                      motd: Sequence[str] | None = None) -> PeerConnection:
        """Send 001-005 and an MOTD (375/372/376) as a server does after registration."""
        nick = nick or self.nick
        s = self.server_name
        tokens = " ".join(isupport or ["NETWORK=TestNet", "CHANTYPES=#", "PREFIX=(qaohv)~&@%+",
                                        "CHANMODES=beI,k,l,imnst", "CASEMAPPING=rfc1459", "NICKLEN=30"])
        await self.send(
            f":{s} 001 {nick} :Welcome to the TestNet Internet Relay Chat Network {nick}",
            f":{s} 002 {nick} :Your host is {s}, running version scripted-1.0",
            f":{s} 003 {nick} :This server was created Thu Mar 21 2024 at 08:25:00 UTC",
            f":{s} 004 {nick} {s} scripted-1.0 aiorswx biklmnopstv",
            f":{s} 005 {nick} {tokens} :are supported by this server",
            f":{s} 375 {nick} :- {s} Message of the Day -",
            *(f":{s} 372 {nick} :- {text}" for text in (motd or ["Hello from the scripted peer"])),
            f":{s} 376 {nick} :End of /MOTD command.",
        )
        return self

    async def register(self, nick: str | None = None, *, caps: Iterable[str] = (), sasl: str | None = None,
                       sasl_ok: bool = True, ls_line_size: int = 0, welcome: bool = True,
                       timeout: float = 5) -> Registration:
        """Play the server side of registration, answering whatever the client asks.

        `caps` are offered in CAP LS (values allowed: "sasl=PLAIN,EXTERNAL"); `sasl` ("PLAIN" or
        "EXTERNAL") adds `sasl` to them and is the one mechanism accepted. A CAP REQ for offered
        caps is ACKed, anything else NAKed. `ls_line_size` > 0 splits the LS reply into
        `CAP * LS * :...` continuation lines of at most that many caps (CAP LS 302 only).
        With `nick` given, the client must send that NICK. Ends with 001-005 + MOTD unless
        `welcome=False`. Returns what the client sent and asked for.
        """
        offered = list(caps)
        if sasl and not any(c.split("=", 1)[0] == "sasl" for c in offered):
            offered.append(f"sasl={sasl.upper()}")
        offered_names = {c.split("=", 1)[0] for c in offered}
        reg = Registration()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        in_cap = False
        awaiting_sasl_data = False

        while True:
            try:
                line = await self.expect(lambda _line: True, max(0.0, deadline - loop.time()))
            except AssertionError as e:
                raise AssertionError(f"registration did not finish: {reg}\n{e}") from None
            reg.lines.append(line)
            me = reg.nick or "*"
            s = self.server_name
            cmd, params = line.command, line.params
            if cmd == "CAP" and params:
                sub = params[0].upper()
                if sub == "LS":
                    in_cap = True
                    reg.cap_version = int(params[1]) if len(params) > 1 and params[1].isdigit() else 0
                    names = offered if reg.cap_version >= 302 else [c.split("=", 1)[0] for c in offered]
                    chunks = ([names[i:i + ls_line_size] for i in range(0, len(names), ls_line_size)]
                              if ls_line_size > 0 and reg.cap_version >= 302 else [names])
                    chunks = chunks or [[]]
                    for i, chunk in enumerate(chunks):
                        more = "* " if i < len(chunks) - 1 else ""
                        await self.send(f":{s} CAP {me} LS {more}:{' '.join(chunk)}")
                elif sub == "REQ":
                    in_cap = True
                    wanted = " ".join(params[1:]).split()
                    reg.caps_requested.extend(wanted)
                    if all(w.lstrip("-") in offered_names for w in wanted):
                        reg.caps_acked.extend(w for w in wanted if not w.startswith("-"))
                        await self.send(f":{s} CAP {me} ACK :{' '.join(wanted)}")
                    else:
                        await self.send(f":{s} CAP {me} NAK :{' '.join(wanted)}")
                elif sub == "LIST":
                    await self.send(f":{s} CAP {me} LIST :{' '.join(reg.caps_acked)}")
                elif sub == "END":
                    in_cap = False
            elif cmd == "AUTHENTICATE" and params:
                if awaiting_sasl_data:
                    awaiting_sasl_data = False
                    data = params[0]
                    if data == "*":
                        await self.send(f":{s} 906 {me} :SASL authentication aborted")
                        continue
                    reg.sasl_raw = data
                    try:
                        reg.sasl_payload = b"" if data == "+" else base64.b64decode(data, validate=True)
                    except ValueError:
                        reg.sasl_payload = None
                    if sasl_ok:
                        await self.send(
                            f":{s} 900 {me} {me}!{me}@127.0.0.1 {me} :You are now logged in as {me}",
                            f":{s} 903 {me} :SASL authentication successful")
                    else:
                        await self.send(f":{s} 904 {me} :SASL authentication failed")
                else:
                    reg.sasl_mechanism = params[0].upper()
                    if sasl and reg.sasl_mechanism == sasl.upper() and "sasl" in reg.caps_acked:
                        awaiting_sasl_data = True
                        await self.send("AUTHENTICATE +")
                    else:
                        await self.send(f":{s} 908 {me} {(sasl or '').upper()} :are available SASL mechanisms",
                                        f":{s} 904 {me} :SASL authentication failed")
            elif cmd == "NICK" and params:
                if nick is not None and params[0] != nick:
                    raise AssertionError(f"client sent NICK {params[0]!r}, expected {nick!r}")
                reg.nick = params[0]
            elif cmd == "USER":
                reg.user = line
            elif cmd == "PASS" and params:
                reg.password = params[0]
            elif cmd == "PING":
                pass  # answered by the read loop
            if reg.nick and reg.user is not None and not in_cap:
                break

        if welcome:
            await self.welcome(reg.nick)
        return reg

    async def close(self) -> None:
        """Close the connection from the server side and wait for the reader to finish."""
        self._writer.close()
        try:
            await asyncio.wait_for(self.closed.wait(), 5)
        except TimeoutError:
            self._writer.transport.abort()
            await self.closed.wait()


class ScriptedIrcPeer:
    """A listening socket on 127.0.0.1; each accepted client becomes a PeerConnection."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, name: str = "irc.example.com") -> None:
        self.host = host
        self.port = port
        self.name = name
        self.connections: list[PeerConnection] = []
        self._new: asyncio.Queue[PeerConnection] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @classmethod
    async def start(cls, host: str = "127.0.0.1", port: int = 0, *, name: str = "irc.example.com") -> ScriptedIrcPeer:
        """Listen on host:port (0 = a free port); use `port=old.port` to come back on the same port."""
        peer = cls(host, port, name=name)
        await peer.listen()
        return peer

    @property
    def url(self) -> str:
        return f"irc://{self.host}:{self.port}"

    async def listen(self) -> None:
        # A 1 MiB line limit, so a client writing a 10 KB line is still read and seen by tests.
        self._server = await asyncio.start_server(self._on_client, self.host, self.port, limit=1 << 20)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Runs as the task asyncio.Server creates per client; tracked so stop() can wait for it.
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            conn = PeerConnection(self, reader, writer)
            self.connections.append(conn)
            self._new.put_nowait(conn)
            await conn._read_loop()
        finally:
            self._handlers.discard(task)

    async def accept(self, timeout: float = 5) -> PeerConnection:
        """The next client that connected (in order), waiting up to `timeout` for one."""
        try:
            return await asyncio.wait_for(self._new.get(), timeout)
        except TimeoutError:
            raise AssertionError(f"no client connected to {self.url} within {timeout}s "
                                 f"({len(self.connections)} accepted before)") from None

    def stop_listening(self) -> None:
        """Refuse new connections (the port is released); open ones stay. `listen()` reopens it."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for conn in self.connections:
            await conn.close()
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=5)
        if server is not None:
            await server.wait_closed()


@pytest.fixture
async def irc_peer() -> AsyncIterator[ScriptedIrcPeer]:
    """A ScriptedIrcPeer on a free port on 127.0.0.1, stopped after the test."""
    peer = await ScriptedIrcPeer.start()
    try:
        yield peer
    finally:
        await peer.stop()
