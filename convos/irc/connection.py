"""IrcConnection: a core.Connection for irc:// and ircs:// — connect, register, reconnect, keep alive."""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import re
import socket
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from ..core.addresses import NotPublicAddress, vetted_addresses
from ..core.connection import Connection, Conversation, NetworkFacts, WhoReply, is_channel_name, with_query
from ..core.events import ConnectionInfo, ConnectionState
from ..errors import ConvosError, InvalidInput
from . import tls as tlsmod
from .handlers import ConvosClient
from .limits import TooManyConversations
from .waiters import Waiters

if TYPE_CHECKING:
    from .factory import IrcFactory

log = logging.getLogger(__name__)

MAX_RECONNECT_DELAY = 900.0
QUIT_MESSAGE = "https://convos.chat"


def plain_reason(err: OSError) -> str:
    """Why a connection failed, in words: asyncio says "Connect call failed ('10.0.0.1', 6667)"
    where the error number says "Connection refused" or "Network is unreachable"."""
    if err.errno and err.errno > 0 and not isinstance(err, socket.gaierror):
        return os.strerror(err.errno)
    return err.strerror or str(err)


def fmt_seconds(value: float) -> str:
    return f"{value:g}"


@dataclass(slots=True, eq=False)
class IrcConnection(Connection):
    # The factory whose state (host queue, /list cache, TLS contexts) this connection shares;
    # set on the class IrcFactory.connection_class() makes.
    factory: ClassVar[IrcFactory]
    client: ConvosClient | None = field(default=None, repr=False)
    reconnect_delay: float = 0.0
    waiters: Waiters = field(default_factory=Waiters, repr=False)
    warned_nicks: set[str] = field(default_factory=set, repr=False)
    # Channels the server joined us to that nobody asked for: forgotten again when the server parts us.
    unwanted: set[str] = field(default_factory=set, repr=False)
    _full_warned: bool = field(default=False, repr=False)
    _reconnect_handle: asyncio.TimerHandle | None = field(default=None, repr=False)
    _periodic: asyncio.Task[None] | None = field(default=None, repr=False)
    _connecting: asyncio.Task[None] | None = field(default=None, repr=False)
    # The last state event said "Reconnecting in ...": a disconnect on request must say it no longer is.
    _retry_announced: bool = field(default=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # One WHO at a time (irc/commands.py `who`).
    who_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    # --- URL -----------------------------------------------------------------

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        try:
            port = urlsplit(self.url).port
        except ValueError:
            port = None
        return port or 6667

    def uses_tls(self) -> bool:
        return urlsplit(self.url).scheme == "ircs" or self.query.get("tls", "0") not in ("0", "")

    def wanted_nick(self) -> str:
        nick = self.query.get("nick", "")
        if nick:
            return nick
        local = re.sub(r"\W", "_", self.email.split("@")[0]) if self.email else ""
        return local or "guest"

    @property
    def nick(self) -> str:
        return str(self.info.get("nick") or self.wanted_nick())

    def username(self) -> str:
        parts = urlsplit(self.url)
        user = unquote(parts.username or "") or self.nick
        if user and not user[0].isalnum():
            user = "x" + user[1:]
        return user

    def password(self) -> str:
        return unquote(urlsplit(self.url).password or "")

    def realname(self) -> str:
        name = self.query.get("realname", "")
        return f"{name} via https://convos.chat" if name else "https://convos.chat"

    def set_url_param(self, **params: str) -> None:
        self.url = with_query(self.url, **params)

    # --- conversations -------------------------------------------------------

    def get_or_create(self, name: str, *, frozen: str = "") -> tuple[Conversation, bool]:
        """The conversation, made when missing; TooManyConversations past CONVOS_MAX_CONVERSATIONS."""
        conv = self.get_conversation(name)
        if conv is not None and conv.conversation_id:
            return conv, False
        if len(self.conversations) >= self.hub.config.max_conversations:
            raise TooManyConversations()
        conv = Conversation(self.connection_id, name.lower(), name, frozen=frozen)
        self.conversations[conv.conversation_id] = conv
        # A command saves it at once; one a message opened is on disk within a second.
        self.hub.save_soon(self, soon=True)
        return conv, True

    def forget_conversation(self, name: str) -> Conversation | None:
        conv = self.conversations.pop(name.lower(), None)
        self.unwanted.discard(name.lower())
        if len(self.conversations) < self.hub.config.max_conversations:
            self._full_warned = False
        return conv

    async def warn_full(self) -> None:
        """Once (until there is room again): what the server opens past the limit goes to the server tab."""
        if not self._full_warned:
            self._full_warned = True
            await self.server_message(
                f"This connection has too many conversations ({self.hub.config.max_conversations}): "
                "messages that would open a new one are shown here.", type="error")

    def is_service(self, nick: str) -> bool:
        return nick.lower() in {a.lower() for a in self.service_accounts}

    async def chat(self, conv: Conversation, type: str, from_: str, message: str, *,
                   ts: float | None = None, own: bool = False) -> None:
        await self.hub.chat(self, conv, type=type, from_=from_, message=message, ts=ts, own=own)

    async def server_message(self, message: str, *, type: str = "notice", from_: str = "") -> None:
        await self.chat(self.server, type, from_ or self.connection_id, message, own=True)

    def emit_info(self) -> None:
        # A snapshot: the event may be serialised after info changed again.
        self.hub.emit(self, ConnectionInfo(email=self.email, connection_id=self.connection_id,
                                           info=copy.deepcopy(self.info)))

    def set_frozen(self, conv: Conversation, reason: str) -> None:
        if conv.frozen != reason:
            conv.frozen = reason
            self.hub.emit_conversation(self, conv)

    # --- state ---------------------------------------------------------------

    async def set_state(self, state: str, message: str, reconnect_in: float | None = None) -> None:
        self.state = state
        self._retry_announced = reconnect_in is not None
        self.hub.emit(self, ConnectionState(email=self.email, connection_id=self.connection_id, state=state,
                                            message=message, reconnect_in=reconnect_in))
        await self.server_message(message)

    def reconnect_in(self) -> float | None:
        """Seconds until the next attempt to connect, while one is scheduled."""
        handle = self._reconnect_handle
        if handle is None or handle.cancelled() or self.state != "disconnected":
            return None
        left = handle.when() - asyncio.get_running_loop().time()
        return round(left, 1) if left > 0 else None

    def api_dict(self) -> dict[str, Any]:
        data = Connection.api_dict(self)  # slots dataclass: no zero-argument super()
        left = self.reconnect_in()
        if left is not None:
            data["reconnect_in"] = left
        return data

    def network_facts(self) -> NetworkFacts:
        facts = Connection.network_facts(self)  # slots dataclass: no zero-argument super()
        client = self.client
        if client is None:
            return facts
        isupport = tuple(f"{k}={v}" if v else k for k, v in client.isupport.items())
        return NetworkFacts(server=facts.server, version=facts.version, user_modes=facts.user_modes,
                            channel_modes=facts.channel_modes, isupport=isupport, motd=client.motd)

    def reset_reconnect_delay(self) -> None:
        self.reconnect_delay = 0.0

    async def start(self) -> None:
        """Connect when wanted (at start-up, to reconnect, and when the connect queue says so)."""
        if self.wanted_state != "connected" or self.state not in ("disconnected", "queued"):
            self.hub.connect_done(self)
            return
        try:
            await self.connect()
        except ConvosError:
            pass  # the state message says why; a reconnect is scheduled when it makes sense

    async def stop(self) -> None:
        """Daemon shutdown: close the socket, keep wanted_state."""
        self._cancel_reconnect()
        self._leave_queue()
        await self._close(QUIT_MESSAGE)

    def _leave_queue(self) -> None:
        self.hub.unqueue_connect(self)
        self.hub.connect_done(self)

    async def connect(self) -> None:
        """Connect now; also when the connection waits in the connect queue (it leaves it)."""
        if self.state == "connected":
            return
        if self.state == "connecting":
            raise InvalidInput("Connecting.")
        if self.state == "disconnecting":
            raise InvalidInput("Disconnecting.")
        if self.wanted_state != "connected":
            raise InvalidInput("Does not want to be connected.")
        self._cancel_reconnect()
        self.hub.unqueue_connect(self)
        self._connecting = asyncio.current_task()
        try:
            await self._connect()
        finally:
            self._connecting = None

    async def _connect(self) -> None:
        for conv in self.sorted_conversations():
            if not conv.frozen:
                self.set_frozen(conv, "Not connected.")
        params = self.query
        if "tls" not in params and urlsplit(self.url).scheme != "ircs":
            self.set_url_param(tls="1")  # try TLS first, as the original does
            self.hub.save_soon(self, soon=True)
        if "nick" not in params:
            self.set_url_param(nick=self.wanted_nick())
            self.hub.save_soon(self, soon=True)
        profile = await self.hub.profile_for(self.url, self.email)
        config = self.hub.config
        host, port, use_tls = self.host, self.port, self.uses_tls()

        wait = 0.0 if profile.skip_queue else self.factory.hosts.reserve(f"{host}:{port}", config.connect_delay)
        self.state = "connecting"
        message = f"Connecting to {host}." if wait <= 0.05 else f"Connecting to {host} in about {fmt_seconds(round(wait, 1))}s."
        self.hub.emit(self, ConnectionState(email=self.email, connection_id=self.connection_id, state="connecting",
                                            message=message))
        await self.server_message(message)
        if wait > 0:
            self.hub.connect_done(self)  # the host's turn comes later: not a slot of the connect queue meanwhile
            await asyncio.sleep(wait)

        context = None
        fingerprint = ""
        if use_tls:
            cert, key = self.hub.client_cert_paths(self)
            if config.generate_cert:
                try:
                    await asyncio.to_thread(tlsmod.ensure_client_cert, cert, key, self.email)
                    fingerprint = await asyncio.to_thread(tlsmod.fingerprint, cert)
                except OSError as err:
                    log.warning("No client certificate for %s: %s", self.connection_id, err)
            verify = params.get("tls_verify", "1") not in ("0", "")
            # Built in a thread, and kept: a reconnect reuses it (irc/factory.py).
            context = await self.factory.tls.context(verify=verify, ca_file=config.tls_ca, cert=cert, key=key)
        local_address = params.get("local_address") or config.local_address
        self.info.update(
            authenticated=False, capabilities={}, nick=self.wanted_nick() if not self.info.get("nick") else self.info["nick"],
            real_host="", certificate={"fingerprint": fingerprint},
            socket={"address": host, "port": port, "timeout": config.connect_timeout, "tls": bool(use_tls),
                    "local_address": local_address or None},
        )
        self.info["nick"] = self.query.get("nick") or self.wanted_nick()
        self.emit_info()

        client = ConvosClient(self)
        try:
            # Checked after DNS, and connected to exactly the addresses checked (docs/security.md).
            addresses = await asyncio.wait_for(vetted_addresses(host, port, self.hub.address_check(self)),
                                               config.connect_timeout)
            await client.open(host, port, tls=context, timeout=config.connect_timeout, local_address=local_address,
                              addresses=addresses)
        except NotPublicAddress as err:
            text = f"Refusing to connect to {err}."
            await self._refused(text)
            raise InvalidInput(text) from None
        except ssl.SSLCertVerificationError as err:
            await self._failed(f"TLS certificate check failed: {err.verify_message or err}.")
            raise InvalidInput(f"TLS certificate check failed: {err.verify_message or err}.") from None
        except ssl.SSLError as err:
            text = str(err)
            if "tls" not in params and ("WRONG_VERSION_NUMBER" in text or "wrong version number" in text
                                        or "record layer failure" in text or "HELLO" in text):
                # The server does not speak TLS and the URL did not ask for it: plain text next time.
                self.set_url_param(tls="0")
                self.hub.save_soon(self, soon=True)
            await self._failed(text)
            raise InvalidInput(text) from None
        except (OSError, TimeoutError) as err:
            text = "Connection timeout!" if isinstance(err, TimeoutError) else plain_reason(err)
            await self._failed(text)
            raise InvalidInput(text) from None
        self.client = client
        client.on_lost = lambda reason: self._on_lost(client, reason)
        client.read_timeout = max(3 * config.periodic_interval, 30.0)
        await self.set_state("connected", f"Connected to {host}.")
        self._periodic = self.hub.track(self._periodic_loop(), name=f"irc-periodic-{self.connection_id}")
        # Saved once the channels are joined again (after_welcome), not here.
        if self.client is not client:
            return  # lost meanwhile; _on_lost scheduled the next try
        try:
            await client.register_connection(profile)
        except (OSError, TimeoutError) as err:
            # The read loop notices the dead socket too; make sure exactly one of us reports it.
            if self.client is client:
                self.client = None
                client.closing = True
                await client.close()
                await self._lost(str(err) or "Connection closed.")

    async def _failed(self, reason: str) -> None:
        self.factory.hosts.failed(f"{self.host}:{self.port}")
        await self._lost(reason)

    async def _refused(self, reason: str) -> None:
        """Not allowed to connect: say why, and do not try again on our own (nothing would change)."""
        self.hub.connect_done(self)
        self._stop_periodic()
        self._cancel_reconnect()
        for conv in self.sorted_conversations():
            self.set_frozen(conv, "Not connected.")
        await self.set_state("disconnected", reason)

    async def _on_lost(self, client: ConvosClient, reason: str) -> None:
        if self.client is not client:
            return  # an old socket; its loss was already handled
        self.client = None
        await self._lost(reason)

    async def _lost(self, reason: str) -> None:
        """The socket is gone without us asking: tell the user and schedule a reconnect."""
        self.hub.connect_done(self)
        self._stop_periodic()
        self.waiters.fail_all("Not connected.")
        self.people.clear()
        self.info["authenticated"] = False
        self.info["capabilities"] = {}
        message = reason
        reconnect_in: float | None = None
        if self.wanted_state == "connected":
            delay = min(self.reconnect_delay * 2 if self.reconnect_delay else self.hub.config.connect_delay,
                        MAX_RECONNECT_DELAY)
            self.reconnect_delay = delay
            if not message.endswith((".", "!", "?")):
                message += "."
            message += f" Reconnecting in {fmt_seconds(delay)}s..."
            loop = asyncio.get_running_loop()
            self._cancel_reconnect()
            # Through the connect queue: when a server goes away, its connections come back a few at a time.
            self._reconnect_handle = loop.call_later(delay, self.hub.queue_connect, self)
            reconnect_in = delay  # so a client can say when, and count down
        for conv in self.sorted_conversations():
            self.set_frozen(conv, "Not connected.")
        await self.set_state("disconnected", message, reconnect_in)

    def _cancel_reconnect(self) -> bool:
        """Cancel a scheduled reconnect; True when one was still waiting."""
        handle, self._reconnect_handle = self._reconnect_handle, None
        if handle is None:
            return False
        waiting = not handle.cancelled() and handle.when() > asyncio.get_running_loop().time()
        handle.cancel()
        return waiting

    async def disconnect(self) -> None:
        retrying = self._cancel_reconnect()
        self._leave_queue()
        if self._connecting is not None and self._connecting is not asyncio.current_task():
            self._connecting.cancel()
        if self.client is None:
            # Also when it was already disconnected, but waiting to reconnect (its timer may have
            # fired already, the attempt not begun yet): it no longer is.
            if self.state != "disconnected" or retrying or self._retry_announced:
                self.state = "disconnected"
                self._retry_announced = False
                self.hub.emit(self, ConnectionState(email=self.email, connection_id=self.connection_id,
                                                    state="disconnected", message="Disconnected."))
            return
        await self.set_state("disconnecting", "Quitting...")
        await self._close(QUIT_MESSAGE)
        await self.set_state("disconnected", "Disconnected.")

    async def _close(self, quit_message: str) -> None:
        self._stop_periodic()
        client, self.client = self.client, None
        self.waiters.fail_all("Not connected.")
        if client is not None:
            await client.close(quit_message)
        self.people.clear()
        self.info["authenticated"] = False
        self.info["capabilities"] = {}

    def _stop_periodic(self) -> None:
        task, self._periodic = self._periodic, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _periodic_loop(self) -> None:
        """Every CONVOS_IRC_PERIDOC_INTERVAL: reclaim the wanted nick, and PING (keep-alive).
        What changed is saved by the core's deferred saves (CONVOS_SAVE_INTERVAL)."""
        interval = self.hub.config.periodic_interval
        while True:
            await asyncio.sleep(interval)
            client = self.client
            if client is None or not client.connected:
                return
            try:
                wanted = self.query.get("nick", "")
                if wanted and wanted != self.info.get("nick"):
                    await client.write("NICK", wanted)
                await client.write("PING", str(self.info.get("real_host") or self.host))
            except (OSError, TimeoutError) as err:
                log.info("Keep-alive for %s failed: %s", self.connection_id, err)

    # --- sending -------------------------------------------------------------

    async def send(self, conversation_id: str, message: str) -> dict[str, Any]:
        from .commands import run_command

        return await run_command(self, conversation_id, message)

    async def who(self, *params: str) -> list[WhoReply]:
        from .commands import who

        return await who(self, params)

    def require_client(self) -> ConvosClient:
        if self.client is None or not self.client.connected or self.state != "connected":
            raise InvalidInput("Not connected.")
        return self.client

    def is_channel(self, name: str) -> bool:
        return is_channel_name(name)
