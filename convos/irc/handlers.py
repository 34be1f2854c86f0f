"""What the server says, handled as pydle `on_raw_*` features: CAP/SASL, chat, channels, numerics."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core.bucket import TokenBucket
from ..core.events import (
    AccountChanged,
    AwayChanged,
    HostChanged,
    Invited,
    Joined,
    ModeChanged,
    NickChanged,
    Parted,
    Quit,
    RealnameChanged,
)
from .client import IrcClient, Message
from .commands import run_command
from .limits import CTCP_BURST, CTCP_INTERVAL, TooManyConversations
from .prefixes import MODE_PREFIXES, note_names, split_prefix

if TYPE_CHECKING:
    from ..core.people import Person
    from ..core.profiles import Profile
    from .connection import IrcConnection

log = logging.getLogger(__name__)

WANTED_CAPS = ("server-time", "message-tags", "echo-message", "away-notify", "account-notify", "extended-join",
               "multi-prefix", "cap-notify", "chghost", "setname", "invite-notify", "batch", "userhost-in-names")
VERSION = "Convos (Python)"
MAX_MOTD_LINES = 200
def server_time(tags: dict[str, Any] | None) -> float | None:
    """The IRCv3 `time` tag as epoch seconds (None without one, or when it does not parse)."""
    value = (tags or {}).get("time")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def ctcp_quote(text: str) -> str:
    return (text.replace("\x10", "\x10\x10").replace("\n", "\x10n").replace("\r", "\x10r")
            .replace("\0", "\x100").replace("\x01", "\\a"))


def quit_reason(text: str) -> str:
    """A QUIT reason as its author wrote it: ngircd puts it in double quotes."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


class ConvosClient(IrcClient):
    """pydle client whose handlers report to an IrcConnection (and through it, the core)."""

    def __init__(self, conn: IrcConnection) -> None:
        super().__init__(conn.nick, username=conn.username(), realname=conn.realname())
        self.conn = conn
        self.caps_offered: dict[str, str] = {}
        self.caps_enabled: set[str] = set()
        self._caps_requested: set[str] = set()
        self._cap_done = False
        self._sasl = ""
        self.registered = False
        self.isupport: dict[str, str] = {}
        # The last MOTD in full (native clients attaching through convos/listen are shown it).
        self.motd: tuple[str, ...] = ()
        self._motd_lines: list[str] = []
        self._ctcp_replies = TokenBucket(CTCP_BURST, 1 / CTCP_INTERVAL)

    # --- dispatch --------------------------------------------------------------

    async def on_raw(self, message: Message) -> None:
        if self.conn.waiters.offer(message):
            return
        if not self.conn.info.get("real_host") and message.source and "!" not in message.source:
            self.conn.info["real_host"] = message.source
        # pydle's own on_raw logs every odd line in full at WARNING; dispatch the same way, quietly.
        command = message.command
        name = "on_raw_" + (str(command).zfill(3) if isinstance(command, int) else str(command)).lower()
        self._handler_top_level = True
        handler = getattr(self, name)
        self._handler_top_level = False
        try:
            await handler(message)
        except Exception:
            log.exception("%s: handling %s failed", self.conn.connection_id, str(command)[:32])

    async def on_unknown(self, message: Message) -> None:
        await self.generic(message)

    async def generic(self, message: Message) -> None:
        """Anything without a handler: a server message, params joined, my nick dropped."""
        params = list(message.params)
        if params and params[0] == self.conn.nick:
            params = params[1:]
        command = str(message.command)
        is_error = (command.isdigit() and 400 <= int(command) < 600) or "ERR" in command.upper()
        await self.conn.server_message(" ".join(params), type="error" if is_error else "notice")

    def my_nick(self) -> str:
        return self.conn.nick

    def is_me(self, nick: str) -> bool:
        return nick.lower() == self.my_nick().lower()

    # --- registration ----------------------------------------------------------

    async def register_connection(self, profile: Profile) -> None:
        conn = self.conn
        sasl = conn.query.get("sasl", "").lower()
        self._sasl = sasl if sasl in ("plain", "external") else ""
        if profile.webirc_password:
            ip = conn.query.get("remote_address") or self.conn.hub.remote_address_of(conn) or "127.0.0.1"
            hostname = await self.conn.hub.reverse_dns(ip)
            await self.write("WEBIRC", profile.webirc_password, "convos", hostname, ip)
        await self.write_raw("CAP LS 302")
        if conn.password() and not self._sasl:
            await self.write("PASS", conn.password())
        await self.write("NICK", conn.nick)
        await self.write("USER", conn.username(), conn.query.get("mode", "0"), "*", conn.realname(), trailing=True)

    async def _cap_end(self) -> None:
        if not self._cap_done:
            self._cap_done = True
            await self.write_raw("CAP END")

    async def on_raw_cap(self, message: Message) -> None:
        params = list(message.params)
        if len(params) < 3:
            return
        sub = params[1].upper()
        more = len(params) > 3 and params[2] == "*"
        caps_text = params[-1]
        caps = {}
        for item in caps_text.split():
            name, _, value = item.partition("=")
            caps[name] = value
        if sub in ("LS", "LIST") or sub == "NEW":
            if sub != "LIST":
                self.caps_offered.update(caps)
            self.conn.info.setdefault("capabilities", {}).update({k: True for k in caps})
            if sub == "LS" and more:
                return  # wait for the last line of a multi-line LS
            wanted = [c for c in WANTED_CAPS if c in self.caps_offered and c not in self.caps_enabled]
            if self._sasl and "sasl" in self.caps_offered and "sasl" not in self.caps_enabled and not self._cap_done:
                wanted.append("sasl")
            wanted = [c for c in wanted if c not in self._caps_requested]
            if wanted:
                self._caps_requested.update(wanted)
                await self.write("CAP", "REQ", " ".join(wanted))
            elif sub == "LS":
                await self._cap_end()
        elif sub == "ACK":
            for name in caps:
                if name.startswith("-"):
                    self.caps_enabled.discard(name[1:])
                else:
                    self.caps_enabled.add(name)
                self._caps_requested.discard(name.lstrip("-"))
            if "sasl" in caps and self._sasl:
                await self.write("AUTHENTICATE", self._sasl.upper())
            elif not self._caps_requested:
                await self._cap_end()
        elif sub == "NAK":
            for name in caps:
                self._caps_requested.discard(name)
            if not self._caps_requested:
                await self._cap_end()
        elif sub == "DEL":
            for name in caps:
                self.caps_offered.pop(name, None)
                self.caps_enabled.discard(name)
                self.conn.info.get("capabilities", {}).pop(name, None)

    async def on_raw_authenticate(self, message: Message) -> None:
        if not message.params or message.params[0] != "+":
            return
        conn = self.conn
        username = conn.username()
        if self._sasl == "external":
            await self.write("AUTHENTICATE", base64.b64encode(username.encode()).decode())
            return
        authcid = conn.query.get("authname") or username
        password = conn.password()
        if not (authcid and username and password):
            await self.write("AUTHENTICATE", "*")
            return
        payload = base64.b64encode(f"{authcid}\0{username}\0{password}".encode()).decode()
        for i in range(0, len(payload), 400):
            await self.write("AUTHENTICATE", payload[i:i + 400])
        if len(payload) % 400 == 0:
            await self.write("AUTHENTICATE", "+")

    async def _sasl_result(self, message: Message) -> None:
        code = int(message.command)
        text = message.params[-1] if message.params else ""
        self.conn.info["authenticated"] = code in (900, 903)
        if code == 900 and len(message.params) >= 3:  # logged in: `nick nick!user@host account :text`
            nick, user, host = split_prefix(message.params[1])
            self.conn.people.seen(nick, user, host).note(account=message.params[2])
        await self.conn.server_message(text, type="error" if code in (901, 902, 904, 905, 906, 907) else "notice")
        self.conn.emit_info()
        if code != 900:
            await self._cap_end()

    on_raw_900 = on_raw_901 = on_raw_902 = on_raw_903 = on_raw_904 = _sasl_result
    on_raw_905 = on_raw_906 = on_raw_907 = _sasl_result

    async def on_raw_908(self, message: Message) -> None:
        return None

    # --- welcome ---------------------------------------------------------------

    async def on_raw_001(self, message: Message) -> None:
        conn = self.conn
        self.registered = True
        self._cap_done = True
        conn.info["real_host"] = message.source or conn.info.get("real_host", "")
        if message.params:
            conn.info["nick"] = message.params[0]
            conn.people.seen(message.params[0]).note(realname=conn.realname())  # as USER said it
        await conn.chat(conn.server, "private", message.source or conn.host, message.params[-1] if message.params else "",
                        own=True)
        conn.emit_info()
        conn.reset_reconnect_delay()
        conn.hub.connect_done(conn)  # registered: the next connection in the connect queue may start
        conn.hub.track(self.after_welcome(), name=f"irc-welcome-{conn.connection_id}")

    async def after_welcome(self) -> None:
        """On-connect commands, then rejoin channels and look up private conversations, in order."""
        conn = self.conn
        for i, command in enumerate(conn.on_connect_commands, 1):
            command = command.strip()
            if not command:
                continue
            m = re.match(r"^/sleep\s+(\d+(?:\.\d+)?)", command, re.IGNORECASE)
            try:
                if m:
                    await asyncio.sleep(min(float(m.group(1)), 60))
                else:
                    await run_command(conn, "", command)
            except Exception as err:
                msg = err.errors[0].message if hasattr(err, "errors") and err.errors else str(err)
                await conn.server_message(f"On-connect command #{i} failed: {msg}", type="error")
        for conv in conn.sorted_conversations():
            if conn.client is not self:
                return
            try:
                if conv.is_private:
                    await run_command(conn, conv.conversation_id, f"/whois {conv.name}")
                else:
                    await run_command(conn, conv.conversation_id, f"/join {conv.name} {conv.password}".rstrip())
            except Exception as err:
                log.info("%s: rejoining %s failed: %s", conn.connection_id, conv.name, err)
        # Once, after all of them (topics, the nick the server gave us, the URL's tls and nick).
        conn.hub.save_soon(conn)

    async def on_raw_004(self, message: Message) -> None:
        p = list(message.params)
        info = self.conn.info
        if len(p) >= 5:
            info.update(nick=p[0], real_host=p[1], version=p[2], available_user_modes=p[3],
                        available_channel_modes=p[4])
            self.conn.emit_info()
        await self.generic(message)

    async def on_raw_005(self, message: Message) -> None:
        for token in message.params[1:-1]:
            key, _, value = token.partition("=")
            self.isupport[key.upper()] = value
        await self.generic(message)

    async def on_raw_ping(self, message: Message) -> None:
        await self.write("PONG", *message.params[:1])

    async def on_raw_pong(self, message: Message) -> None:
        return None

    async def on_raw_error(self, message: Message) -> None:
        if self.closing:
            return  # the server's goodbye after our QUIT ("Closing connection"): we say "Disconnected."
        await self.conn.server_message(" ".join(message.params), type="error")

    # --- chat ------------------------------------------------------------------

    async def on_raw_privmsg(self, message: Message) -> None:
        await self.chat_line(message, "private")

    async def on_raw_notice(self, message: Message) -> None:
        await self.chat_line(message, "notice")

    async def chat_line(self, message: Message, kind: str) -> None:
        conn = self.conn
        if len(message.params) < 2:
            return
        target = message.params[0]
        text = " ".join(message.params[1:])
        nick, user, _host = split_prefix(message.source)
        ts = server_time(message.tags)
        if text.startswith("\x01"):
            inner = text.strip("\x01")
            command, _, arg = inner.partition(" ")
            if command.upper() == "ACTION":
                kind, text = "action", arg
            elif kind == "private":
                await self.ctcp_request(nick, command.upper(), arg)
                return
            else:
                text = f"CTCP {command} reply: {arg}".rstrip()
        if kind == "notice" and not user:
            m = re.search(r"Ident broken.*QUOTE PASS (\S+)", text)
            if m:
                await self.write("PASS", m.group(1))
        own = bool(nick) and self.is_me(nick)
        target_name = target.lstrip("".join(MODE_PREFIXES)) if target[:1] in MODE_PREFIXES else target
        if nick and (conn.is_service(nick) or conn.is_service(target_name)):
            name = nick if self.is_me(target_name) else target_name
            found = conn.get_conversation(name)
            conv = found if found is not None and found.conversation_id else conn.server
            from_ = nick
        elif user:
            name = nick if self.is_me(target_name) and not own else target_name
            try:
                conv, created = conn.get_or_create(name)
            except TooManyConversations:
                conv, created = conn.server, False
                await conn.warn_full()
            if created:
                conn.hub.emit_conversation(conn, conv)
            from_ = nick
        else:
            conv, from_ = conn.server, conn.connection_id
        await conn.chat(conv, kind, from_, text, ts=ts, own=own)

    async def ctcp_request(self, nick: str, command: str, arg: str) -> None:
        if command not in ("VERSION", "PING", "TIME") or not self._ctcp_replies.take():
            return  # unknown, or more than CTCP_BURST replies lately: a flood gets no echo
        if command == "VERSION":
            reply = f"VERSION {VERSION}"
        elif command == "PING":
            reply = f"PING {arg}".rstrip()
        elif command == "TIME":
            reply = "TIME " + time.strftime("%a %b %d %H:%M:%S %Y")
        else:
            return
        await self.write("NOTICE", nick, f"\x01{ctcp_quote(reply)}\x01")

    # --- channels and people ---------------------------------------------------

    async def on_raw_join(self, message: Message) -> None:
        conn = self.conn
        nick, user, host = split_prefix(message.source)
        channel = message.params[0] if message.params else ""
        if not channel:
            return
        person = conn.people.seen(nick, user, host)
        if len(message.params) >= 3:  # extended-join: the account ("*": none) and the realname
            account = message.params[1]
            person.note(account="" if account == "*" else account, realname=message.params[2])
        if self.is_me(nick):
            try:
                conv, created = conn.get_or_create(channel)
            except TooManyConversations:
                await conn.warn_full()
                return
            if created:
                conn.unwanted.add(conv.conversation_id)  # joined by the server: nobody asked for it
            conv.name = channel
            conn.set_frozen(conv, "")
            conn.hub.emit_conversation(conn, conv)
            await self.write("TOPIC", channel)  # not every server sends the topic with the JOIN
        elif conn.get_conversation(channel) is not None:
            conn.hub.emit(conn, Joined(email=conn.email, connection_id=conn.connection_id,
                                       conversation_id=channel.lower(), nick=nick, user=person.user,
                                       host=person.host, account=person.account, realname=person.realname))

    async def on_raw_part(self, message: Message) -> None:
        conn = self.conn
        nick, _, _ = split_prefix(message.source)
        channel = message.params[0] if message.params else ""
        if not self.is_me(nick) and conn.get_conversation(channel) is not None:
            conn.hub.emit(conn, Parted(email=conn.email, connection_id=conn.connection_id,
                                       conversation_id=channel.lower(), nick=nick,
                                       message=message.params[1] if len(message.params) > 1 else ""))
        elif self.is_me(nick) and channel.lower() in conn.unwanted and conn.forget_conversation(channel):
            # The server joined us and parted us again, and nobody wrote there: forget it.
            conn.hub.emit(conn, Parted(email=conn.email, connection_id=conn.connection_id,
                                       conversation_id=channel.lower(), nick=nick))
            conn.hub.save_soon(conn, soon=True)

    async def on_raw_kick(self, message: Message) -> None:
        conn = self.conn
        kicker, _, _ = split_prefix(message.source)
        if len(message.params) < 2:
            return
        channel, nick = message.params[0], message.params[1]
        reason = message.params[2] if len(message.params) > 2 else ""
        try:
            conv, _ = conn.get_or_create(channel)
        except TooManyConversations:
            return
        conn.hub.emit(conn, Parted(email=conn.email, connection_id=conn.connection_id,
                                   conversation_id=conv.conversation_id, kicker=kicker, nick=nick, message=reason))
        if self.is_me(nick):
            conn.set_frozen(conv, f"Kicked by {kicker}.")

    async def on_raw_quit(self, message: Message) -> None:
        nick, _, _ = split_prefix(message.source)
        conn = self.conn
        conn.people.forget(nick)
        conn.hub.emit(conn, Quit(email=conn.email, connection_id=conn.connection_id, nick=nick,
                                 message=quit_reason(message.params[0] if message.params else "")))

    async def on_raw_nick(self, message: Message) -> None:
        conn = self.conn
        old, _, _ = split_prefix(message.source)
        new = message.params[0] if message.params else ""
        if not new:
            return
        conn.people.rename(old, new)
        if self.is_me(old):
            conn.info["nick"] = new
            if new == conn.query.get("nick"):
                conn.warned_nicks.clear()
            else:
                # Confirmed by the server (a /nick, services, a collision): the nick to reclaim from now on.
                conn.set_url_param(nick=new)
                conn.hub.save_soon(conn, soon=True)
            conn.emit_info()
        # Also for our own nick (8.07 only sends `info`): the browser shows it and keeps our old
        # lines styled as ours. `info` comes first, so the new nick is known by then.
        conn.hub.emit(conn, NickChanged(email=conn.email, connection_id=conn.connection_id, old_nick=old, new_nick=new))
        if self.is_me(new):
            await conn.server_message(f"You are now known as {new}.")  # kept in the server tab's log

    async def on_raw_mode(self, message: Message) -> None:
        conn = self.conn
        nick, _, _ = split_prefix(message.source)
        if len(message.params) < 2:
            return
        target, modes, args = message.params[0], message.params[1], list(message.params[2:])
        if conn.is_channel(target) and re.fullmatch(r"[+-][ov]+(?:[+-][ov]+)*", modes) and args:
            sign = "+"
            for letter in modes:
                if letter in "+-":
                    sign = letter
                    continue
                if not args:
                    break
                conn.hub.emit(conn, ModeChanged(email=conn.email, connection_id=conn.connection_id,
                                                conversation_id=target.lower(), from_=nick, mode=sign + letter,
                                                nick=args.pop(0)))
            return
        shown = ["*" * len(a) if "k" in modes else a for a in args]
        await conn.server_message(" ".join([f"{target} changed mode {modes}", *shown]))

    async def on_raw_invite(self, message: Message) -> None:
        conn = self.conn
        if len(message.params) < 2:
            return
        inviter, user, host = split_prefix(message.source)
        conn.people.seen(inviter, user, host)
        conn.hub.emit(conn, Invited(email=conn.email, connection_id=conn.connection_id, nick=inviter,
                                    target=message.params[0], channel=message.params[1]))
        if not self.is_me(message.params[0]):
            return  # invite-notify: someone else was invited to a channel we are in
        try:
            conv, created = conn.get_or_create(message.params[1], frozen="You have a pending invitation.")
        except TooManyConversations:
            await conn.warn_full()
            return
        if created:
            # New with its frozen text already: set_frozen would see no change and say nothing.
            conn.hub.emit_conversation(conn, conv)
        else:
            conn.set_frozen(conv, "You have a pending invitation.")

    async def _set_topic(self, channel: str, topic: str, by: str = "") -> None:
        conn = self.conn
        conv = conn.get_conversation(channel)
        if conv is not None and conv.conversation_id and conv.topic != topic:
            conv.topic = topic
            # A live change: the event says who made it (not kept, so only this event has it).
            conn.hub.emit_conversation(conn, conv, topic_by=by or None)

    async def on_raw_topic(self, message: Message) -> None:
        if message.params:
            await self._set_topic(message.params[0], message.params[1] if len(message.params) > 1 else "",
                                  split_prefix(message.source)[0])

    async def on_raw_332(self, message: Message) -> None:
        if len(message.params) >= 3:
            await self._set_topic(message.params[1], message.params[2])

    async def on_raw_331(self, message: Message) -> None:
        if len(message.params) >= 2:
            await self._set_topic(message.params[1], "")

    async def on_raw_324(self, message: Message) -> None:
        if len(message.params) >= 3:
            await self.conn.server_message(f"{message.params[1]} has mode {' '.join(message.params[2:])}.")

    async def on_raw_221(self, message: Message) -> None:
        p = message.params
        if len(p) >= 2:
            who = f"You ({p[0]})" if self.is_me(p[0]) else p[0]
            await self.conn.server_message(f"{who} have mode {p[1]}." if who.startswith("You") else f"{who} has mode {p[1]}.")

    async def on_raw_375(self, message: Message) -> None:
        self._motd_lines = []

    async def on_raw_376(self, message: Message) -> None:
        self.motd, self._motd_lines = tuple(self._motd_lines), []

    async def on_raw_372(self, message: Message) -> None:
        text = message.params[-1] if message.params else ""
        if text.startswith("- "):
            text = text[2:]
        if len(self._motd_lines) < MAX_MOTD_LINES:
            self._motd_lines.append(text)
        await self.conn.chat(self.conn.server, "preformat", message.source or self.conn.host, text, own=True)

    async def _ignore(self, message: Message) -> None:
        return None

    on_raw_329 = on_raw_333 = on_raw_366 = _ignore
    on_raw_batch = on_raw_tagmsg = _ignore

    async def on_raw_353(self, message: Message) -> None:
        """The names of a channel we joined: with userhost-in-names, who they are."""
        if message.params:
            note_names(self.conn.people, message.params[-1])

    # --- what the network says about people (IRCv3 away-notify, account-notify, chghost, setname)

    def _person(self, message: Message, params: int) -> Person | None:
        """Who said `message` (now known by its mask), when it has `params` parameters."""
        nick, user, host = split_prefix(message.source)
        if not nick or len(message.params) < params:
            return None
        return self.conn.people.seen(nick, user, host)

    async def on_raw_away(self, message: Message) -> None:
        person = self._person(message, 0)
        if person is not None:
            conn = self.conn
            person.note(away=bool(message.params))
            conn.hub.emit(conn, AwayChanged(email=conn.email, connection_id=conn.connection_id, nick=person.nick,
                                            away=person.away, message=message.params[0] if message.params else ""))

    async def on_raw_account(self, message: Message) -> None:
        person = self._person(message, 1)
        if person is not None:
            conn = self.conn
            person.note(account="" if message.params[0] == "*" else message.params[0])
            conn.hub.emit(conn, AccountChanged(email=conn.email, connection_id=conn.connection_id, nick=person.nick,
                                               account=person.account))

    async def on_raw_chghost(self, message: Message) -> None:
        nick, old_user, old_host = split_prefix(message.source)
        person = self._person(message, 2)
        if person is not None:
            conn = self.conn
            person.note(user=message.params[0], host=message.params[1])
            conn.hub.emit(conn, HostChanged(email=conn.email, connection_id=conn.connection_id, nick=nick,
                                            old_user=old_user, old_host=old_host, user=person.user, host=person.host))

    async def on_raw_setname(self, message: Message) -> None:
        person = self._person(message, 1)
        if person is not None:
            conn = self.conn
            person.note(realname=message.params[-1])
            conn.hub.emit(conn, RealnameChanged(email=conn.email, connection_id=conn.connection_id, nick=person.nick,
                                                realname=person.realname))

    async def _not_delivered(self, message: Message) -> None:
        """A message that did not reach its target (no such nick, cannot send to channel...): an
        error in the target's conversation, next to the line; without one, in the server tab."""
        conn = self.conn
        target = message.params[1] if len(message.params) > 2 else ""
        text = message.params[-1] if message.params else ""
        if message.command == 404:
            text = f"Cannot send to channel {target}."
        conv = conn.get_conversation(target) if target else None
        if conv is None or not conv.conversation_id:
            if message.command == 404:
                await conn.server_message(text, type="error", from_=message.source or "")
            else:
                await self.generic(message)
            return
        await conn.chat(conv, "error", message.source or conn.host, text, own=True)

    # 401 no such nick/channel, 404 cannot send to channel, 407 too many targets, 486 only
    # registered users may message, 531 cannot send to user. (Commands waiting for a 401, such
    # as /whois and /kick, see it first.)
    on_raw_401 = on_raw_404 = on_raw_407 = on_raw_486 = on_raw_531 = _not_delivered

    async def on_raw_421(self, message: Message) -> None:
        cmd = message.params[1] if len(message.params) > 1 else ""
        await self.conn.server_message(f"Unknown command: {cmd}", type="error", from_=message.source or "")

    async def on_raw_432(self, message: Message) -> None:
        nick = message.params[1] if len(message.params) > 1 else ""
        await self.conn.server_message(f"Invalid nickname {nick}.", type="error", from_=message.source or "")

    async def on_raw_433(self, message: Message) -> None:
        conn = self.conn
        nick = message.params[1] if len(message.params) > 1 else conn.nick
        if nick not in conn.warned_nicks:
            conn.warned_nicks.add(nick)
            await conn.server_message(f"Nickname {nick} is already in use.", type="error", from_=message.source or "")
        if self.registered:
            return  # reclaiming the wanted nick failed; we keep the one we have
        fallback = nick + "_"
        conn.info["nick"] = fallback
        conn.emit_info()
        conn.hub.track(self._nick_later(fallback), name=f"irc-nick-{conn.connection_id}")

    async def _nick_later(self, nick: str) -> None:
        await asyncio.sleep(0.2)  # as the original: give the server a moment before the next try
        if self.connected and not self.registered:
            await self.write("NICK", nick)

    on_raw_436 = on_raw_433

    async def _list_reply(self, message: Message) -> None:
        conn = self.conn
        conn.factory.lists.feed(f"{conn.host}:{conn.port}", message.command, list(message.params))

    on_raw_321 = on_raw_322 = on_raw_323 = _list_reply
