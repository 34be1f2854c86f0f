"""The pydle client: one socket, lines handled strictly in arrival order.

pydle 1.2 starts a task per incoming line and reconnects on its own (giving up after three
tries). Convos needs both done differently, so this subclass owns the read loop (one line
handled after the other) and reports a lost socket to its IrcConnection, which owns
reconnecting. Handlers for what the server says are feature mixins (handlers.py).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pydle
from pydle.protocol import ProtocolViolation

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024  # longer lines are dropped, not allowed to grow memory
READ_SIZE = 64 * 1024
SEND_TIMEOUT = 30


def clean(param: str) -> str:
    """A parameter can never smuggle in another line."""
    return param.replace("\r", "").replace("\n", " ").replace("\0", "")


_TAG_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


class Message:
    """What pydle's TaggedMessage.parse gives (same attributes), at a seventh of the cost.

    Parsing was the largest single cost of ingest (bench/bench_ingest.py), so lines are
    split here; pydle still does the dispatch to on_raw_* handlers and the feature plumbing.
    """

    __slots__ = ("_raw", "_valid", "command", "params", "source", "tags")

    def __init__(self, command: int | str, params: list[str], source: str | None, tags: dict[str, Any], raw: str) -> None:
        self.command = command
        self.params = params
        self.source = source
        self.tags = tags
        self._raw = raw
        self._valid = True


def _unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        out.append(_TAG_ESCAPES.get(next(chars, ""), "") if ch == "\\" else ch)
    return "".join(out)


def parse_message(line: bytes) -> Message:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("iso-8859-1")
    raw = text
    tags: dict[str, Any] = {}
    if text[:1] == "@":
        tag_text, _, text = text[1:].partition(" ")
        for item in tag_text.split(";"):
            key, _, value = item.partition("=")
            tags[key] = (_unescape(value) if "\\" in value else value) or True
        text = text.lstrip(" ")
    source = None
    if text[:1] == ":":
        source, _, text = text[1:].partition(" ")
        text = text.lstrip(" ")
    command, _, rest = text.partition(" ")
    if not command:
        raise ValueError("no command")
    if rest[:1] == ":":
        params = [rest[1:]]
    else:
        i = rest.find(" :")
        if i >= 0:
            params = rest[:i].split()
            params.append(rest[i + 2:])
        else:
            params = rest.split()
    return Message(int(command) if command.isdigit() else command.upper(), params, source, tags, raw)


class IrcClient(pydle.BasicClient):  # type: ignore[misc]
    RECONNECT_ON_ERROR = False

    def __init__(self, nickname: str, *, username: str, realname: str) -> None:
        super().__init__(nickname, username=username, realname=realname)
        self.encoding = "utf-8"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._lines: list[bytes] = []
        self.on_lost: Callable[[str], Awaitable[None]] | None = None
        self._read_timeout = 180.0
        # The read timeout, without a `wait_for` per read (a task and a timer for every line on
        # 3,000 sockets): reads note the time, one timer per socket checks it now and then.
        self._last_read = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._timed_out = False
        self.closing = False

    @property
    def read_timeout(self) -> float:
        """Seconds without a byte from the server before the connection counts as lost."""
        return self._read_timeout

    @read_timeout.setter
    def read_timeout(self, value: float) -> None:
        self._read_timeout = value
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watch()

    # --- transport -----------------------------------------------------------

    async def open(self, host: str, port: int, *, tls: ssl.SSLContext | None, timeout: float,
                   local_address: str = "", addresses: list[str] | None = None) -> None:
        """Connect to `addresses` (what `host` resolved to, already checked), one after the other
        until one answers, within `timeout` in all; TLS checks the certificate against `host`."""
        local = (local_address, 0) if local_address else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        error: BaseException = TimeoutError()
        streams = None
        for address in addresses or [host]:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                streams = await asyncio.wait_for(
                    asyncio.open_connection(address, port, ssl=tls, local_addr=local, limit=MAX_LINE,
                                            server_hostname=host if tls else None),
                    left,
                )
                break
            except ssl.SSLError:
                raise  # the server answered: another address of it would say the same
            except (OSError, TimeoutError) as err:
                error = err
        if streams is None:
            raise error
        self._reader, self._writer = streams
        self.closing = False
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop(), name=f"irc-read-{host}")

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    @property
    def socket_info(self) -> tuple[str, int] | None:
        if self._writer is None:
            return None
        sock = self._writer.get_extra_info("sockname")
        return (sock[0], sock[1]) if sock else None

    def peer_certificate(self) -> dict[str, Any] | None:
        return self._writer.get_extra_info("peercert") if self._writer else None

    def _watch(self) -> None:
        """Close the socket once nothing came for `read_timeout` seconds; else look again then."""
        loop = asyncio.get_running_loop()
        due = self._last_read + self._read_timeout
        if loop.time() >= due:
            self._watchdog = None
            self._timed_out = True
            if self._writer is not None:
                self._writer.transport.abort()  # the read sees the end of the stream
            return
        self._watchdog = loop.call_at(due, self._watch)

    async def _read_loop(self) -> None:
        reason = "Connection closed."
        buf = b""
        loop = asyncio.get_running_loop()
        self._last_read = loop.time()
        self._timed_out = False
        self._watch()
        try:
            assert self._reader is not None
            read = self._reader.read
            while True:
                data = await read(READ_SIZE)
                self._last_read = loop.time()
                if not data:
                    if self._timed_out:
                        reason = "Connection timeout!"
                    break
                buf += data
                *lines, buf = buf.split(b"\n")
                if len(buf) > MAX_LINE:
                    log.warning("Dropping an over-long line from the server (%d bytes).", len(buf))
                    buf = b""
                for raw in lines:
                    await self._handle_line(raw)
                # A read of what is already buffered does not give the loop away: give it away
                # here, once per chunk, so a flooding server never holds the loop for more than
                # one READ_SIZE of lines (the wait_for around each read did that before).
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except (OSError, ssl.SSLError) as err:
            reason = "Connection timeout!" if self._timed_out else str(err) or err.__class__.__name__
        finally:
            if self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None
            self._close_transport()
        if self.on_lost is not None and not self.closing:
            await self.on_lost(reason)

    async def _handle_line(self, raw: bytes) -> None:
        raw = raw.rstrip(b"\r")
        if not raw.strip() or len(raw) > MAX_LINE:
            return
        try:
            message = parse_message(raw)
        except (ProtocolViolation, ValueError, IndexError) as err:
            log.info("Ignoring a malformed line from the server: %r (%s)", raw[:200], err)
            return
        # One line at a time: the next line waits until this one is handled (and logged).
        await self.on_raw(message)

    def _close_transport(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:
                pass
        self._writer = None
        self._reader = None

    async def close(self, quit_message: str | None = None) -> None:
        """Close on purpose: no `on_lost` callback. Cancelled half way, the socket is still closed."""
        self.closing = True
        try:
            if quit_message is not None and self.connected:
                try:
                    await self.write("QUIT", quit_message)
                except (OSError, TimeoutError):
                    pass
            if self._writer is not None:
                try:
                    self._writer.close()
                    await asyncio.wait_for(self._writer.wait_closed(), 2)
                except (OSError, TimeoutError, ssl.SSLError):
                    pass
        finally:
            task, self._read_task = self._read_task, None
            if task is not None and task is not asyncio.current_task():
                task.cancel()
            self._close_transport()
        if task is not None and task is not asyncio.current_task():
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    async def write_raw(self, line: str) -> None:
        if self._writer is None:
            raise ConnectionError("Not connected.")
        data = clean(line).encode("utf-8") + b"\r\n"
        writer = self._writer
        writer.write(data)
        transport = writer.transport
        if transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]:
            await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)  # the server reads slowly: wait, for a while
        else:
            # Never waits (it raises when the socket is gone), and does not give the loop away:
            # a command sets up the wait for its reply right after writing, before any line is read.
            await writer.drain()

    async def write(self, command: str, *params: str, trailing: bool = False) -> None:
        """Write a command; the last parameter is sent as trailing when it needs to be (or `trailing`)."""
        parts = [command]
        params = tuple(clean(str(p)) for p in params)
        for i, param in enumerate(params):
            last = i == len(params) - 1
            if last and (trailing or not param or " " in param or param.startswith(":")):
                parts.append(":" + param)
            else:
                parts.append(param.replace(" ", ""))
        await self.write_raw(" ".join(parts))

    # --- pydle hooks that must not run --------------------------------------

    async def on_data(self, data: bytes) -> None:  # pragma: no cover - _read_loop replaces it
        raise RuntimeError("not used")

    async def on_disconnect(self, expected: bool) -> None:  # pragma: no cover
        """IrcConnection owns reconnecting; pydle's own policy is off."""
