"""Slash commands (spec §6.7) and message splitting (§6.8): what `send` does with a line."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..core.connection import WhoReply
from ..core.events import Parted
from ..errors import InvalidInput
from .client import Message
from .prefixes import MODE_PREFIXES, note_names, note_who, split_names, split_prefix
from .waiters import Step, keep, reject, resolve

if TYPE_CHECKING:
    from .connection import IrcConnection

Command = Callable[["IrcConnection", str, str], Awaitable[dict[str, Any]]]
COMMANDS: dict[str, Command] = {}
NAMES_TIMEOUT = 30.0
# WHO (for native IRC clients, convos/listen): lines of one answer kept at most (a WHO of a whole
# big network is cut there; its 315 still ends it), and how long the answer may take.
MAX_WHO_REPLIES = 2000
WHO_TIMEOUT = 30.0
# /list answers come from a cache per IRC host, shared by every user on it (the factory's
# ListCache, irc/factory.py: bounded, and a finished list expires).
# /list waits this long for the whole list (323) before it answers with what has come so far.
LIST_WAIT = 1.0
# A list that got no line for this long is not coming any more (the connection dropped): ask again.
LIST_STALE = 60.0


def command(*names: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register


def preprocess(message: str) -> str:
    message = re.sub(r"[\x00-\x09\x0b-\x1f]", "", message)
    message = re.sub(r"^\s+(?=/)", "", message)
    return message.rstrip("\r\n")


def check_target(target: str) -> str:
    if not target or not target.strip():
        raise InvalidInput("Cannot send without target.")
    if " " in target or "," in target:
        raise InvalidInput("Cannot send message to target with spaces or comma.")
    return target


def split_message(message: str, max_length: int, max_lines: int) -> tuple[list[str], bool]:
    """(lines, too_long): 1-2 short lines go out as they are; more, or very long ones, become a paste."""
    if len(message) < max_length:
        lines = re.split(r"\n\r?", message)
        while lines and lines[-1] == "":
            lines.pop()
    else:
        lines = []
        for line in re.split(r"\n\r?", message.lstrip("\r\n")):
            if len(lines) >= max_lines:
                break
            if len(line) < max_length:
                lines.append(line)
            else:
                lines.extend(_split_long(line, max_length))
    too_long = len(lines) >= max_lines or bool(lines and len(lines[0]) > max_length)
    return lines, too_long


def _split_long(line: str, max_length: int) -> list[str]:
    out: list[str] = []
    current = ""
    for word in line.split():
        if len(word) > max_length:
            if current:
                out.append(current)
            pieces = [word[i:i + max_length - 1] for i in range(0, len(word), max_length - 1)]
            out.extend(pieces[:-1])
            current = pieces[-1]
        elif not current:
            current = word
        elif len(current) + 1 + len(word) <= max_length:
            current += " " + word
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out


async def run_command(conn: IrcConnection, target: str, message: str) -> dict[str, Any]:
    message = preprocess(message)
    m = re.match(r"^/([A-Za-z]+)\b\s?(.*)$", message, re.S)
    if m is None:
        for account in conn.service_accounts:
            if message.startswith(f"{account}: "):
                return await send_message(conn, account, message[len(account) + 2:])
        return await send_message(conn, target, message)
    handler = COMMANDS.get(m.group(1).upper())
    if handler is None:
        raise InvalidInput("Unknown command.")
    return await handler(conn, target, m.group(2))


async def send_message(conn: IrcConnection, target: str, message: str, *, action: bool = False) -> dict[str, Any]:
    check_target(target)
    client = conn.require_client()
    if not client.registered:
        # Before the welcome the server would refuse the line (451) and it would be lost.
        raise InvalidInput("Not connected.")
    profile = await conn.hub.profile_for(conn.url, conn.email)
    lines, too_long = split_message(message, profile.max_message_length, profile.max_bulk_message_size)
    if not lines:
        raise InvalidInput("Cannot send empty message.")
    if too_long and not action:
        url = await conn.hub.create_paste(conn, message)
        lines = [url]
    conn.unwanted.discard(target.lower())  # written to: wanted after all
    echo = "echo-message" in client.caps_enabled
    # Without an echo from the server our own line is logged and shown now, in a conversation
    # made before anything is sent: a full connection refuses before the line goes out.
    conv, created = (None, False) if echo else conn.get_or_create(target)
    for line in lines:
        text = f"\x01ACTION {line}\x01" if action else line
        await client.write("PRIVMSG", target, text)
        if conv is not None:
            if created:
                created = False
                conn.hub.emit_conversation(conn, conv)
            await conn.chat(conv, "action" if action else "private", conn.nick, line, own=True)
    return {}


def _param(message: Message, index: int) -> str:
    params = message.params
    return params[index] if len(params) > index else ""


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


# --- chat -------------------------------------------------------------------------


@command("ME")
async def cmd_me(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    return await send_message(conn, target, args, action=True)


@command("SAY")
async def cmd_say(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    return await send_message(conn, target, args)


@command("MSG")
async def cmd_msg(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    nick, _, text = args.strip().partition(" ")
    return await send_message(conn, check_target(nick), text)


@command("QUERY")
async def cmd_query(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    name = check_target(args.strip().split(" ")[0] if args.strip() else "")
    conv, created = conn.get_or_create(name, frozen="Not active in this room." if conn.is_channel(name) else "")
    conn.unwanted.discard(conv.conversation_id)
    if created:
        conn.hub.emit_conversation(conn, conv)
        await conn.hub.save_connection_of(conn)
    return conv.api_dict()


@command("QUOTE")
async def cmd_quote(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    await conn.require_client().write_raw(args)
    return {}


# --- channels ---------------------------------------------------------------------


@command("JOIN")
async def cmd_join(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    args = args.strip()
    name, _, key = args.partition(" ")
    key = key.strip()
    if not name:
        raise InvalidInput("Cannot send without target.")
    if "," in name:
        await conn.require_client().write_raw(f"JOIN {args}")
        return {}
    is_channel = conn.is_channel(name)
    conv, created = conn.get_or_create(name, frozen="Not active in this room." if is_channel else "")
    conn.unwanted.discard(conv.conversation_id)
    changed = created
    if key and key != conv.password:
        conv.password = key
        changed = True
    if created:
        conn.hub.emit_conversation(conn, conv)
    if changed:  # a new conversation or key is saved before anything else; a rejoin saves nothing here
        await conn.hub.save_connection_of(conn)
    if not is_channel or (not created and not conv.frozen):
        return conv.api_dict()
    return await _join(conn, name, key)


async def _join(conn: IrcConnection, name: str, key: str, depth: int = 0) -> dict[str, Any]:
    client = conn.require_client()
    conv, _ = conn.get_or_create(name)
    result: dict[str, Any] = {"conversation_id": name.lower(), "topic": "", "topic_by": "", "users": {}}
    forward: list[str] = []

    def match(msg: Message) -> Step | None:
        cmd = msg.command
        if cmd == 333 and _same(_param(msg, 1), name):
            result["topic_by"] = split_prefix(_param(msg, 2))[0]
        elif cmd == 332 and _same(_param(msg, 1), name):
            result["topic"] = _param(msg, 2)
        elif cmd == 366 and _same(_param(msg, 1), name):
            return resolve(result)
        elif cmd == 470 and _same(_param(msg, 1), name):
            forward.append(_param(msg, 2))
            return resolve(None)
        elif cmd == 475 and _same(_param(msg, 1), name):
            conn.set_frozen(conv, "Invalid password.")
            return reject(msg.params[-1])
        elif cmd == 473 and _same(_param(msg, 1), name):
            conn.set_frozen(conv, "This channel requires an invitation.")
            return reject(msg.params[-1])
        elif cmd in (403, 405, 471, 474, 476, 477, 479, 437, 489) and _same(_param(msg, 1), name):
            return reject(msg.params[-1])
        return None

    if key:
        await client.write("JOIN", name, key)
    else:
        await client.write("JOIN", name)
    value = await conn.waiters.wait(match)
    if forward and depth < 3:
        new = forward[0]
        await conn.server_message(f"Forwarding {name} to {new}.")
        old = conn.forget_conversation(name)
        if old is not None:
            conn.hub.emit(conn, Parted(email=conn.email, connection_id=conn.connection_id,
                                       conversation_id=old.conversation_id, nick=conn.nick))
        return await _join(conn, new, key, depth + 1)
    conn.set_frozen(conv, "")
    if value and value.get("topic") and conv.topic != value["topic"]:
        conv.topic = value["topic"]
        conn.hub.emit_conversation(conn, conv)
    conn.hub.save_soon(conn)  # the topic, and that it is joined: not the user's own change
    return value or result


@command("PART", "CLOSE")
async def cmd_part(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    name = args.strip().split(" ")[0] if args.strip() else target
    check_target(name)
    conv = conn.get_conversation(name)
    connected = conn.client is not None and conn.state == "connected"
    if conv is not None and (conv.is_private or conv.frozen or not connected):
        await _remove(conn, name)
        return {}
    client = conn.require_client()
    conn.unwanted.discard(name.lower())  # parted on request: this command removes it

    def match(msg: Message) -> Step | None:
        if msg.command == "PART" and _same(_param(msg, 0), name) and _same(split_prefix(msg.source)[0], conn.nick):
            return resolve({})
        if msg.command in (403, 442, 479) and _same(_param(msg, 1), name):
            return reject(msg.params[-1])
        return None

    await client.write("PART", name)
    try:
        return await conn.waiters.wait(match)  # type: ignore[no-any-return]
    finally:
        await _remove(conn, name)


async def _remove(conn: IrcConnection, name: str) -> None:
    conv = conn.forget_conversation(name)
    conn.hub.emit(conn, Parted(email=conn.email, connection_id=conn.connection_id, conversation_id=name.lower(),
                               nick=conn.nick))
    if conv is not None:
        await conn.hub.save_connection_of(conn)


@command("TOPIC")
async def cmd_topic(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    channel = check_target(target)
    client = conn.require_client()
    text = args.strip()

    def match(msg: Message) -> Step | None:
        if msg.command == 332 and _same(_param(msg, 1), channel):
            return resolve({"conversation_id": channel.lower(), "topic": _param(msg, 2)})
        if msg.command == 331 and _same(_param(msg, 1), channel):
            return resolve({"conversation_id": channel.lower(), "topic": ""})
        if msg.command == "TOPIC" and _same(_param(msg, 0), channel):
            return resolve({"conversation_id": channel.lower(), "topic": _param(msg, 1)})
        if msg.command in (403, 442, 482, 477) and _same(_param(msg, 1), channel):
            return reject(msg.params[-1])
        return None

    if text:
        await client.write("TOPIC", channel, text)
    else:
        await client.write("TOPIC", channel)
    return await conn.waiters.wait(match)  # type: ignore[no-any-return]


@command("NAMES")
async def cmd_names(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    channel = check_target(args.strip() or target)
    client = conn.require_client()
    participants: list[dict[str, str]] = []

    def match(msg: Message) -> Step | None:
        if msg.command == 353 and _same(_param(msg, 2), channel):
            note_names(conn.people, msg.params[-1])
            participants.extend({"nick": nick, "mode": mode} for mode, nick, _, _ in split_names(msg.params[-1]))
            return keep(consume=True)
        if msg.command == 366 and _same(_param(msg, 1), channel):
            return resolve({"conversation_id": channel.lower(), "participants": participants}, consume=True)
        if msg.command in (403, 401) and _same(_param(msg, 1), channel):
            return reject(msg.params[-1])
        return None

    await client.write("NAMES", channel)
    return await conn.waiters.wait(match, NAMES_TIMEOUT)  # type: ignore[no-any-return]


@command("KICK")
async def cmd_kick(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    channel = check_target(target)
    nick, _, reason = args.strip().partition(" ")
    check_target(nick)
    client = conn.require_client()

    def match(msg: Message) -> Step | None:
        if msg.command == "KICK" and _same(_param(msg, 0), channel) and _same(_param(msg, 1), nick):
            return resolve({})
        if msg.command in (401, 403, 441, 442, 482) and (_same(_param(msg, 1), channel) or _same(_param(msg, 1), nick)):
            return reject(msg.params[-1])
        return None

    if reason.strip():
        await client.write("KICK", channel, nick, reason.strip())
    else:
        await client.write("KICK", channel, nick)
    return await conn.waiters.wait(match)  # type: ignore[no-any-return]


@command("INVITE")
async def cmd_invite(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    nick, _, channel = args.strip().partition(" ")
    channel = channel.strip() or target
    check_target(nick)
    check_target(channel)
    client = conn.require_client()

    def match(msg: Message) -> Step | None:
        if msg.command == 341 and _same(_param(msg, 1), nick):
            return resolve({"conversation_id": channel.lower(), "invited": nick})
        if msg.command in (401, 403, 442, 443, 482) and (_same(_param(msg, 1), nick) or _same(_param(msg, 1), channel)):
            return reject(msg.params[-1])
        return None

    await client.write("INVITE", nick, channel)
    result = await conn.waiters.wait(match)
    await conn.server_message(f"Invitation sent to {nick}.")
    return result  # type: ignore[no-any-return]


@command("MODE")
async def cmd_mode(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    words = args.split()
    if words and (conn.is_channel(words[0]) or _same(words[0], conn.nick)):
        target = words.pop(0)
    check_target(target)
    client = conn.require_client()
    modes = words[0] if words else ""
    lists = {"b": (367, 368, "banlist"), "e": (348, 349, "exceptlist"), "I": (346, 347, "invitelist")}
    letter = modes.lstrip("+")
    if letter in lists and len(words) == 1:
        item, end, key = lists[letter]
        found: list[dict[str, Any]] = []

        def list_match(msg: Message) -> Step | None:
            if msg.command == item and _same(_param(msg, 1), target):
                ts = _param(msg, 4)
                found.append({"by": _param(msg, 3), "mask": _param(msg, 2), "ts": int(ts) if ts.isdigit() else 0})
                return keep(consume=True)
            if msg.command == end and _same(_param(msg, 1), target):
                return resolve({key: found}, consume=True)
            if msg.command in (403, 442, 482) and _same(_param(msg, 1), target):
                return reject(msg.params[-1])
            return None

        await client.write("MODE", target, modes)
        return await conn.waiters.wait(list_match)  # type: ignore[no-any-return]

    def match(msg: Message) -> Step | None:
        if not modes and msg.command == 324 and _same(_param(msg, 1), target):
            return resolve({"target": target, "mode": " ".join(msg.params[2:])})
        if not modes and msg.command == 221:
            return resolve({"target": target, "mode": _param(msg, 1)})
        if modes and msg.command == "MODE" and _same(_param(msg, 0), target):
            result = {"from": split_prefix(msg.source)[0], "mode": _param(msg, 1), "mode_changed": 1, "target": target}
            if len(msg.params) > 2 and re.fullmatch(r"[+-][qaohv]+", _param(msg, 1)):
                result["nick"] = _param(msg, 2)  # only user modes take a nick; never show a key or a mask
            return resolve(result)
        if msg.command in (401, 403, 441, 442, 461, 467, 472, 482, 501, 502, 697) and len(msg.params) > 1:
            return reject(msg.params[-1])
        return None

    await client.write("MODE", target, *words)
    return await conn.waiters.wait(match)  # type: ignore[no-any-return]


# --- people -----------------------------------------------------------------------


@command("NICK")
async def cmd_nick(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    nick = args.strip()
    if not nick or " " in nick:
        raise InvalidInput("Missing or invalid nick.")
    if nick == conn.info.get("nick"):
        conn.set_url_param(nick=nick)
        return {"nick": nick}
    if conn.client is None or conn.state != "connected":
        conn.set_url_param(nick=nick)
        conn.info["nick"] = nick
        await conn.hub.save_connection_of(conn)
        return {"nick": nick}
    client = conn.require_client()
    old = conn.nick

    def match(msg: Message) -> Step | None:
        if msg.command == "NICK" and _same(split_prefix(msg.source)[0], old) and _same(_param(msg, 0), nick):
            return resolve({"nick": nick})
        if msg.command in (432, 433, 436, 437) and _same(_param(msg, 1), nick):
            return reject(f"{msg.params[-1]}: {nick}", consume=True)
        return None

    await client.write("NICK", nick)
    result = await conn.waiters.wait(match)
    conn.set_url_param(nick=nick)
    conn.warned_nicks.clear()
    await conn.hub.save_connection_of(conn)
    return result  # type: ignore[no-any-return]


# Other WHOIS replies (registered, account, actual host, secure connection...): part of the
# answer, so they are not shown as server messages as well.
WHOIS_EXTRA = (307, 310, 313, 320, 330, 335, 338, 378, 379, 671)


@command("WHOIS")
async def cmd_whois(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    nick = check_target(args.strip() or target)
    client = conn.require_client()
    info: dict[str, Any] = {"nick": nick, "away": False, "channels": {}, "fingerprint": "", "idle_for": 0,
                            "name": "", "server": "", "server_info": "", "user": "", "host": ""}

    def match(msg: Message) -> Step | None:
        if not (len(msg.params) > 1 and _same(_param(msg, 1), nick)):
            return None
        cmd = msg.command
        if cmd == 311:
            info.update(nick=_param(msg, 1), user=_param(msg, 2), host=_param(msg, 3), name=msg.params[-1])
        elif cmd == 312:
            info.update(server=_param(msg, 2), server_info=msg.params[-1])
        elif cmd == 317:
            info["idle_for"] = int(_param(msg, 2)) if _param(msg, 2).isdigit() else 0
        elif cmd == 319:
            for item in msg.params[-1].split():
                mode = ""
                while item and item[0] in MODE_PREFIXES:
                    mode += MODE_PREFIXES[item[0]]
                    item = item[1:]
                info["channels"][item] = {"mode": mode}
        elif cmd == 301:
            info["away"] = msg.params[-1] or True
        elif cmd == 276:
            m = re.search(r"fingerprint (\S+)", msg.params[-1])
            info["fingerprint"] = m.group(1) if m else ""
        elif cmd == 318:
            return resolve(info, consume=True)
        elif cmd in (401, 402, 406):
            # Most servers still end with 318 (End of WHOIS list): ours too, not noise for the
            # server tab. Not waited for, since some do not send it.
            conn.waiters.ignore_once(lambda m: m.command == 318 and _same(_param(m, 1), nick))
            return reject(msg.params[-1], consume=True)
        elif cmd not in WHOIS_EXTRA:
            return None
        return keep(consume=True)

    await client.write("WHOIS", nick)
    conv = conn.get_conversation(nick)
    try:
        result = await conn.waiters.wait(match)
    except InvalidInput as err:
        if conv is not None and conv.conversation_id:
            conn.set_frozen(conv, err.errors[0].message)
        raise
    result["ts"] = time.time()
    if conv is not None and conv.conversation_id:
        conv.info = dict(result)
        conn.set_frozen(conv, "")
    return result  # type: ignore[no-any-return]


@command("ISON")
async def cmd_ison(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    nick = check_target(args.strip() or target)
    client = conn.require_client()

    def match(msg: Message) -> Step | None:
        if msg.command == 303:
            online = {n.lower() for n in msg.params[-1].split()}
            return resolve({"nick": nick, "online": nick.lower() in online})
        return None

    await client.write("ISON", nick)
    result = await conn.waiters.wait(match)
    conv = conn.get_conversation(nick)
    if conv is not None and conv.conversation_id and result["online"]:
        conn.set_frozen(conv, "")
    return result  # type: ignore[no-any-return]


async def who(conn: IrcConnection, params: tuple[str, ...]) -> list[WhoReply]:
    """WHO on the network, one at a time per connection (its 352 lines do not say which WHO
    they answer): the replies, up to 315 (what came, after WHO_TIMEOUT)."""
    replies: list[WhoReply] = []

    def match(msg: Message) -> Step | None:
        if msg.command in (352, 354):
            if len(replies) < MAX_WHO_REPLIES:
                replies.append(WhoReply(str(msg.command), tuple(msg.params[1:])))
                if msg.command == 352:
                    note_who(conn.people, msg.params)
            return keep(consume=True)
        if msg.command == 315:
            return resolve(replies, consume=True)
        return None

    async with conn.who_lock:
        await conn.require_client().write("WHO", *params)
        try:
            await conn.waiters.wait(match, WHO_TIMEOUT)
        except InvalidInput:
            pass  # timed out, or the connection went: what came
    return replies


@command("AWAY")
async def cmd_away(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    client = conn.require_client()

    def match(msg: Message) -> Step | None:
        if msg.command in (305, 306):
            return resolve({"away": msg.command == 306, "reason": msg.params[-1]})
        return None

    if args.strip():
        await client.write("AWAY", args.strip())
    else:
        await client.write("AWAY")
    return await conn.waiters.wait(match)  # type: ignore[no-any-return]


@command("OPER")
async def cmd_oper(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    words = args.split()
    if len(words) != 2:
        raise InvalidInput("Usage: /oper <name> <password>")
    client = conn.require_client()

    def match(msg: Message) -> Step | None:
        if msg.command == 381:
            return resolve(None)
        if msg.command in (461, 464, 491):
            return reject(msg.params[-1])
        return None

    await client.write("OPER", *words)
    await conn.waiters.wait(match)
    conn.info["server_op"] = True
    conn.emit_info()
    return dict(conn.info)


@command("LIST")
async def cmd_list(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    client = conn.require_client()
    key = f"{conn.host}:{conn.port}"
    lists = conn.factory.lists
    cache = lists.get(key)
    if cache is None or "refresh" in args.split() or (not cache.done and lists.idle(cache) > LIST_STALE):
        cache = lists.start(key)
        await client.write("LIST")
    if not cache.done:
        # Most servers send the whole list at once: answer with it, not with "0 channels" first.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LIST_WAIT):
                await cache.arrived.wait()
    items = list(cache.conversations.values())
    m = re.search(r"/(\W?[\w-]+)/(\w*)", args)
    if m:
        # The filter is a literal word (no user-supplied regular expressions): case-insensitive.
        word, flags = m.group(1).lower(), m.group(2) or "nt"
        by_name = sorted((c for c in items if "n" in flags and word in c["name"].lower()), key=lambda c: c["name"])
        by_topic = sorted((c for c in items if "t" in flags and word in c["topic"].lower() and c not in by_name),
                          key=lambda c: c["name"])
        items = by_name + by_topic
    else:
        items.sort(key=lambda c: -c["n_users"])
    return {"n_conversations": len(cache.conversations), "conversations": items[:200], "done": cache.done}


# --- the connection itself ----------------------------------------------------------


@command("CLEAR")
async def cmd_clear(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    words = args.split()
    if len(words) != 2 or words[0] != "history":
        raise InvalidInput("WARNING! /clear history [name] will delete all messages in the backend!")
    conv = conn.get_conversation(words[1])
    if conv is None or not conv.conversation_id:
        raise InvalidInput("Unknown target.")
    await conn.hub.clear_history(conn, conv)
    return conv.api_dict()


@command("CONNECT")
async def cmd_connect(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    conn.wanted_state = "connected"
    await conn.connect()
    return {}


@command("DISCONNECT")
async def cmd_disconnect(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    conn.wanted_state = "disconnected"
    await conn.disconnect()
    return {}


@command("RECONNECT")
async def cmd_reconnect(conn: IrcConnection, target: str, args: str) -> dict[str, Any]:
    conn.wanted_state = "connected"
    await conn.disconnect()
    await conn.connect()
    return {}
