"""The listening sockets, and the clients attached to each user's connections."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core.addresses import is_loopback_host
from . import limits, tls
from .auth import AttemptLimits, PasswordCheck, SignIn
from .fanout import LineCache
from .session import ClientSession

if TYPE_CHECKING:
    from ..config import Config
    from ..core.connection import Connection
    from ..core.core import Core
    from ..core.user import User

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ListenAddress:
    url: str
    host: str | None  # None: every interface
    port: int
    tls: bool


def parse_address(url: str, insecure: bool = False) -> ListenAddress:
    """`ircs://*:6697`, `ircs://[::1]:6697`, `irc://127.0.0.1:6667`; ValueError when it is not one,
    or when it is plain text on anything but loopback and `insecure` is not set."""
    parts = urlsplit(url.replace("://*", "://0.0.0.0", 1))
    if parts.scheme not in ("irc", "ircs"):
        raise ValueError(f"CONVOS_IRC_LISTEN: {url!r} is not irc://HOST:PORT or ircs://HOST:PORT")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or not parts.hostname:
        raise ValueError(f"CONVOS_IRC_LISTEN: {url!r} needs a host and a port")
    host = None if "://*" in url else parts.hostname
    use_tls = parts.scheme == "ircs"
    if not use_tls and not insecure and not is_loopback_host(host):
        raise ValueError(f"CONVOS_IRC_LISTEN: {url!r} would take passwords in plain text; use ircs://, "
                         "a loopback address, or set CONVOS_IRC_LISTEN_INSECURE=1")
    return ListenAddress(url, host, port, use_tls)


class Listener:
    """Accepts native IRC clients on CONVOS_IRC_LISTEN; `start` and `stop` with the application."""

    def __init__(self, core: Core, config: Config, limits_: AttemptLimits,
                 check_password: PasswordCheck | None = None) -> None:
        self.core = core
        self.config = config
        self.sign_in = SignIn(core, limits_, check_password or core.authenticate)
        self.addresses = [parse_address(url, config.irc_listen_insecure) for url in config.irc_listen]
        own = config.home / "listen"
        self.cert = Path(config.irc_listen_cert) if config.irc_listen_cert else own / "server-cert.pem"
        self.key = Path(config.irc_listen_key) if config.irc_listen_key else own / "server-key.pem"
        self.fingerprint = ""
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._sessions: set[ClientSession] = set()
        self._attached: dict[tuple[str, str], set[ClientSession]] = {}
        self._pending: Counter[str] = Counter()
        self.lines = LineCache()  # chat lines formatted once for the clients they all go to

    async def start(self) -> None:
        context = None
        if any(a.tls for a in self.addresses):
            if not self.config.irc_listen_cert:
                await asyncio.to_thread(tls.ensure_self_signed, self.cert, self.key)
            self.fingerprint = await asyncio.to_thread(tls.fingerprint, self.cert)
            context = await asyncio.to_thread(tls.server_context, self.cert, self.key)
        for address in self.addresses:
            server = await asyncio.start_server(self._accept, address.host, address.port,
                                                ssl=context if address.tls else None, reuse_address=True)
            self._servers.append(server)
            log.info("IRC listener on %s%s", address.url,
                     f" (certificate SHA-256 {self.fingerprint})" if address.tls else "")

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for session in list(self._sessions):
            session.error("Convos is shutting down")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    def describe(self) -> dict[str, Any]:
        """For the admin settings: where clients attach, and the certificate they should pin."""
        return {"addresses": [a.url for a in self.addresses], "fingerprint": self.fingerprint,
                "certificate": "configured" if self.config.irc_listen_cert else "self-signed"}

    # --- clients ----------------------------------------------------------------

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = ClientSession(self, reader, writer)
        if self._pending[session.address] >= limits.PENDING_PER_ADDRESS:
            writer.close()
            return
        self._pending[session.address] += 1
        self._sessions.add(session)
        task = asyncio.get_running_loop().create_task(session.run(), name=f"irc-listen-{session.address}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def attach(self, session: ClientSession, user: User, conn: Connection | None) -> bool:
        """Count a signed-in client as attached (to `conn`, or to the control connection: None);
        False past CLIENTS_PER_USER."""
        if sum(len(s) for (email, _), s in self._attached.items() if email == user.email) >= limits.CLIENTS_PER_USER:
            return False
        self._release_pending(session)
        self._attached.setdefault((user.email, conn.connection_id if conn else ""), set()).add(session)
        return True

    def detach(self, session: ClientSession) -> None:
        self._release_pending(session)
        self._sessions.discard(session)
        key = (session.email, session.connection_id)
        attached = self._attached.get(key)
        if attached is not None:
            attached.discard(session)
            if not attached:
                del self._attached[key]

    def _release_pending(self, session: ClientSession) -> None:
        if session in self._sessions and not session.email:
            self._pending[session.address] -= 1
            if self._pending[session.address] <= 0:
                del self._pending[session.address]

    def clients(self, email: str, connection_id: str) -> list[ClientSession]:
        return list(self._attached.get((email, connection_id), ()))

    def echo(self, sender: ClientSession, line: str) -> None:
        """A line a client sent that the core does not log (a NOTICE, a CTCP): to the other
        clients of the connection, and to the sender when it asked for echo-message."""
        for session in self.clients(sender.email, sender.connection_id):
            if session is not sender or "echo-message" in session.view.caps:
                session.send(line)
