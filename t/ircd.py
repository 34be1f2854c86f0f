"""A real ngircd per test, and a small external IRC client to talk to it."""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import signal
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from irc_peer import IrcLine, LineInbox, Matcher, decode_line, parse_line

# Numerics that end a JOIN attempt with an error.
JOIN_ERRORS = {"403", "405", "437", "471", "473", "474", "475", "476", "477", "479"}


def ngircd_binary() -> str | None:
    """$CONVOS_TEST_NGIRCD if set (None when that file does not exist), else ngircd on PATH or in /usr/sbin."""
    override = os.environ.get("CONVOS_TEST_NGIRCD")
    if override:
        return override if os.access(override, os.X_OK) else None
    # /usr/sbin is not on every user's PATH.
    return shutil.which("ngircd") or shutil.which("ngircd", path="/usr/sbin:/usr/local/sbin")


def require_ngircd() -> str:
    """The ngircd path; without it the test fails under CI (where it must be installed), else skips."""
    path = ngircd_binary()
    if path is None:
        msg = ("ngircd is not installed: run bin/convos-test as root, or apt-get install ngircd"
               + (f" (CONVOS_TEST_NGIRCD={os.environ['CONVOS_TEST_NGIRCD']})"
                  if os.environ.get("CONVOS_TEST_NGIRCD") else ""))
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI is set, so this is an error, not a skip")
        pytest.skip(msg)
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Ngircd:
    """ngircd --nodaemon with its own config in a temp dir, listening on host:port.

    Everything is configurable through `limits`/`options`/`global_` (extra `Key = value` lines
    per section). By default flood penalties are off (`MaxPenaltyTime = 0`), so a client can
    send hundreds of lines per second; pass `penalty=True` to get ngircd's real throttling.
    """

    READY = re.compile(r'Server ".*" \(on ".*"\) ready')

    def __init__(self, *, name: str = "irc.test.local", port: int | None = None, penalty: bool = False,
                 oper: tuple[str, str] = ("oper", "operpass"), motd: str = "Welcome to the convos test network",
                 global_: dict[str, str] | None = None, limits: dict[str, str] | None = None,
                 options: dict[str, str] | None = None, binary: str | None = None) -> None:
        self.binary = binary or require_ngircd()
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self._port_chosen = port is None  # free to pick another if someone took it meanwhile
        self.name = name
        self.network = "TestNet"
        self.oper_name, self.oper_password = oper
        self.motd = motd
        self.penalty = penalty
        self._extra = {"Global": global_ or {}, "Limits": limits or {}, "Options": options or {}}
        self.dir = Path(tempfile.mkdtemp(prefix="convos-ngircd-"))
        self.config_file = self.dir / "ngircd.conf"
        self.pid_file = self.dir / "ngircd.pid"
        self.output: list[str] = []  # every line ngircd logged, across restarts
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._listening = False

    @property
    def url(self) -> str:
        return f"irc://{self.host}:{self.port}"

    def config(self) -> str:
        sections: dict[str, dict[str, str]] = {
            "Global": {
                "Name": self.name,
                "Info": "convos test server",
                "Network": self.network,
                "AdminInfo1": "convos tests",
                "AdminInfo2": "localhost",
                "AdminEMail": "admin@example.com",
                "Listen": self.host,
                "Ports": str(self.port),
                "PidFile": str(self.pid_file),
                "MotdPhrase": self.motd,
            },
            "Limits": {
                "MaxConnections": "0",
                "MaxConnectionsIP": "0",
                "MaxJoins": "0",
                "MaxNickLength": "30",
                "MaxListSize": "1000",
                # 0 turns the per-command penalty off; -1 is ngircd's default (no cap).
                "MaxPenaltyTime": "-1" if self.penalty else "0",
                "PingTimeout": "120",
                "PongTimeout": "20",
            },
            "Options": {
                "PAM": "no",
                "Ident": "no",
                "DNS": "no",
                # Don't read the system's /etc/ngircd/ngircd.conf.d snippets.
                "IncludeDir": str(self.dir / "conf.d"),
                "OperCanUseMode": "yes",
            },
        }
        for section, extra in self._extra.items():
            sections[section].update(extra)
        out: list[str] = []
        for section, values in sections.items():
            out.append(f"[{section}]")
            out.extend(f"  {key} = {value}" for key, value in values.items())
            out.append("")
        out += ["[Operator]", f"  Name = {self.oper_name}", f"  Password = {self.oper_password}", ""]
        return "\n".join(out)

    def _write_config(self) -> None:
        (self.dir / "conf.d").mkdir(exist_ok=True)
        self.config_file.write_text(self.config())
        if os.geteuid() == 0:
            # As root, ngircd refuses to keep uid 0 and switches to "nobody" before it writes its
            # PID file, so that user must be able to enter and write the directory.
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            os.chmod(self.dir, 0o755)
            self.config_file.chmod(0o644)

    async def start(self, timeout: float = 10) -> Ngircd:
        """Start ngircd and return once it logged that it is listening and ready."""
        if self.proc is not None and self.proc.returncode is None:
            raise RuntimeError("ngircd is already running")
        for _attempt in range(3):
            await self._start(timeout)
            if self.proc is not None:
                return self
            # free_port() closes its probe socket, so another process may bind the port before
            # ngircd does; only a port we picked ourselves may be changed (restart() keeps it).
            if not (self._port_chosen and "Address already in use" in self.log()):
                break
            self.port = free_port(self.host)
        raise RuntimeError(f"ngircd did not start on {self.host}:{self.port}:\n{self.log()}")

    async def _start(self, timeout: float) -> None:
        self._write_config()
        self._ready = asyncio.Event()
        self._listening = False
        self.output.append(f"--- starting ngircd on {self.host}:{self.port}")
        self.proc = await asyncio.create_subprocess_exec(
            self.binary, "--nodaemon", "--config", str(self.config_file),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read(self.proc))
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            self.output.append(f"--- not ready after {timeout}s")
        if not self._listening:
            await self.stop()  # sets self.proc to None

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        listening = f"Now listening on [{self.host}]:{self.port} "
        seen_listen = False
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            # "Now listening on ..." comes after bind()+listen(), "... ready." after all set-up.
            seen_listen = seen_listen or listening in line
            if seen_listen and self.READY.search(line):
                self._listening = True
                self._ready.set()
        self._ready.set()  # exited: start() sees the return code

    def log(self) -> str:
        return "\n".join(self.output)

    async def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not go. Returns the exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout)
            self._reader = None
        return proc.returncode

    async def kill(self) -> None:
        """SIGKILL: the server vanishes without saying goodbye to its clients."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
        await self.stop()

    async def restart(self, timeout: float = 10) -> Ngircd:
        """Stop and start again on the same port (the listening socket uses SO_REUSEADDR)."""
        await self.stop()
        return await self.start(timeout)

    def cleanup(self) -> None:
        """Remove the temp dir (config, PID file); call after stop()."""
        shutil.rmtree(self.dir, ignore_errors=True)

    async def __aenter__(self) -> Ngircd:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        self.cleanup()


class IrcClient:
    """An external IRC client for tests: raw asyncio streams, CRLF, UTF-8, PINGs answered.

    `expect()` returns the first buffered server line that matches and keeps the others for
    later expects; `received` is the full history.
    """

    def __init__(self, host: str, port: int, nick: str, *, user: str | None = None,
                 realname: str = "convos test client", password: str | None = None) -> None:
        self.host = host
        self.port = port
        self.nick = nick
        self.user = user or re.sub(r"\W", "x", nick)[:10]
        self.realname = realname
        self.password = password
        self.server_name: str | None = None
        self.inbox = LineInbox(f"IrcClient {nick}")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def received(self) -> list[IrcLine]:
        return self.inbox.history

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self.inbox.closed

    async def connect(self, timeout: float = 5) -> IrcClient:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), timeout)
        self.inbox = LineInbox(f"IrcClient {self.nick}")
        self._task = asyncio.create_task(self._read_loop(self._reader))
        return self

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        try:
            async for data in reader:
                line = parse_line(decode_line(data))
                if not line.raw:
                    continue
                if line.command == "PING" and self._writer is not None:
                    await self.send(f"PONG :{line.text}")
                    self.inbox.put(line, keep=False)
                    continue
                self.inbox.put(line)
        except (ConnectionError, ValueError):
            pass
        finally:
            self.inbox.close()

    async def register(self, timeout: float = 5) -> IrcLine:
        """Connect if needed, send PASS/NICK/USER and wait for 001; returns the 001 line."""
        if self._writer is None:
            await self.connect(timeout)
        if self.password:
            await self.send(f"PASS {self.password}")
        await self.send(f"NICK {self.nick}", f"USER {self.user} 0 * :{self.realname}")
        welcome = await self.expect(lambda m: m.command in {"001", "432", "433", "436", "464", "ERROR"}, timeout)
        if welcome.command != "001":
            raise AssertionError(f"{self.nick} could not register: {welcome.raw}")
        self.nick = welcome.params[0]
        self.server_name = welcome.prefix
        return welcome

    async def send(self, *lines: str) -> None:
        """Write lines, each terminated with CRLF, UTF-8 encoded."""
        if self._writer is None:
            raise RuntimeError("not connected")
        for line in lines:
            self._writer.write(line.encode() + b"\r\n")
        await self._writer.drain()

    async def send_raw(self, data: bytes) -> None:
        """Write bytes exactly as given (no CRLF added)."""
        if self._writer is None:
            raise RuntimeError("not connected")
        self._writer.write(data)
        await self._writer.drain()

    async def expect(self, matcher: Matcher, timeout: float = 5) -> IrcLine:
        """The first not yet expected server line matching a str (prefix or regex search), a
        compiled regex or a predicate on IrcLine. AssertionError with the unmatched lines on
        timeout or when the connection closes."""
        return await self.inbox.expect(matcher, timeout)

    async def expect_many(self, matcher: Matcher, count: int, timeout: float = 5) -> list[IrcLine]:
        return await self.inbox.expect_many(matcher, count, timeout)

    async def join(self, channel: str, key: str | None = None, timeout: float = 5) -> list[str]:
        """JOIN and wait for the JOIN echo and 366; returns the names from 353 (e.g. "@alice")."""
        await self.send(f"JOIN {channel}" + (f" {key}" if key else ""))
        lc = channel.lower()

        def done(m: IrcLine) -> bool:
            return (m.command == "366" and len(m.params) > 1 and m.params[1].lower() == lc) or (
                m.command in JOIN_ERRORS and len(m.params) > 1 and m.params[1].lower() == lc)

        end = await self.expect(done, timeout)
        if end.command != "366":
            raise AssertionError(f"{self.nick} could not join {channel}: {end.raw}")
        await self.expect(lambda m: m.command == "JOIN" and m.nick == self.nick
                          and bool(m.params) and m.params[0].lower() == lc, timeout)
        names: list[str] = []
        while (m := self.inbox.take(lambda m: m.command == "353" and len(m.params) > 2
                                    and m.params[2].lower() == lc)) is not None:
            names.extend(m.text.split())
        return names

    async def privmsg(self, target: str, text: str) -> None:
        await self.send(f"PRIVMSG {target} :{text}")

    async def quit(self, message: str = "bye", timeout: float = 5) -> None:
        """QUIT and wait until the server closes the connection."""
        if self.connected:
            await self.send(f"QUIT :{message}")
            await self.wait_closed(timeout)
        await self.close()

    async def wait_closed(self, timeout: float = 5) -> None:
        """Wait for the server to close the connection (e.g. after ERROR or a server stop)."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.nick}: server did not close the connection in {timeout}s") from None

    async def close(self) -> None:
        """Drop the connection without QUIT."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
        if self._task is not None:
            task, self._task = self._task, None
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def ircd() -> AsyncIterator[Ngircd]:
    """A started ngircd on a free port of 127.0.0.1, stopped after the test.

    Fails (CI set) or skips (otherwise) when ngircd is not installed.
    """
    server = Ngircd()
    try:
        await server.start()
        yield server
    finally:
        await server.stop()
        server.cleanup()


@pytest.fixture
async def ircd_factory() -> AsyncIterator[Callable[..., Awaitable[Ngircd]]]:
    """Factory for more or differently configured servers: `await ircd_factory(penalty=True)`.

    Takes Ngircd's keyword arguments; every server is stopped and removed after the test.
    """
    servers: list[Ngircd] = []

    async def make(**kwargs: object) -> Ngircd:
        server = Ngircd(**kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return await server.start()

    yield make
    for server in servers:
        await server.stop()
        server.cleanup()


@pytest.fixture
async def irc_client(ircd: Ngircd) -> AsyncIterator[Callable[..., Awaitable[IrcClient]]]:
    """Factory: `await irc_client("alice")` -> an IrcClient registered on the `ircd` server.

    `server=` another Ngircd (e.g. from ircd_factory); `register=False` only connects; other
    keywords go to IrcClient (user, realname, password). All are closed after the test.
    """
    clients: list[IrcClient] = []

    async def make(nick: str, *, server: Ngircd | None = None, register: bool = True,
                   **kwargs: object) -> IrcClient:
        target = server or ircd
        client = IrcClient(target.host, target.port, nick, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        await (client.register() if register else client.connect())
        return client

    yield make
    for client in clients:
        await client.close()
