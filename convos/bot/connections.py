"""What bot.yaml says about connections and conversations, made true for the bot account."""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ..core.connection import Connection, Conversation, connection_id_for, is_channel_name
from ..errors import ConvosError
from .config import ConnectionConfig, ConversationConfig

if TYPE_CHECKING:
    from .bot import Bot

log = logging.getLogger(__name__)


async def ensure_connection(bot: Bot, config: ConnectionConfig) -> None:
    """Create the connection when missing, follow its wanted_state, then its conversations."""
    user = bot.user
    assert user is not None
    cid = connection_id_for(config.url)
    if not cid:
        log.warning("Bot connection URL %s has no usable host.", config.url)
        return
    conn = user.get_connection(cid)
    if conn is None:
        conn = await bot.core.connections.create_connection(user, config.url, wanted_state=config.wanted_state)
        log.info("Bot created connection %s (wanted state %s).", cid, config.wanted_state)
    elif cid in bot.urls and bot.urls[cid] != config.url:
        # The URL in bot.yaml changed: the same as a user changing it (reconnects when needed).
        update = bot.core.connections.update_connection(user, conn, url=config.url, wanted_state=config.wanted_state)
        bot.spawn(quietly(update, f"update {cid}"), name=f"bot-update-{cid}")
    else:
        if conn.wanted_state != config.wanted_state:
            conn.wanted_state = config.wanted_state
            await bot.core.chat.save_connection(user, conn)
        if config.wanted_state == "connected" and conn.state == "disconnected":
            if not bot.config.skip_connect:
                bot.spawn(quietly(conn.start(), f"connect {cid}"), name=f"bot-connect-{cid}")
        elif config.wanted_state == "disconnected" and conn.state != "disconnected":
            bot.spawn(quietly(conn.disconnect(), f"disconnect {cid}"), name=f"bot-disconnect-{cid}")
    bot.urls[cid] = config.url
    for conv_config in config.conversations:
        await ensure_conversation(bot, conn, conv_config)


async def ensure_conversation(bot: Bot, conn: Connection, config: ConversationConfig) -> None:
    """Join (`state: join`) when missing or not active, or leave (`state: part`)."""
    name = config.name
    if not name or any(c.isspace() for c in name) or "," in name:
        log.warning("Bot conversation %r on %s is not a valid name.", name, conn.connection_id)
        return
    conv = conn.get_conversation(name)
    connected = conn.state == "connected"
    if config.state == "part":
        if conv is not None:
            # Not connected, the IRC core just forgets the conversation, so it is not joined again.
            bot.spawn(quietly(conn.send("", f"/part {conv.name}"), f"part {name}"), name=f"bot-part-{name}")
        return
    if conv is not None and not conv.frozen:
        return
    if connected and is_channel_name(name):
        command = f"/join {name} {config.password}".rstrip()
        log.info('Bot sends "/join %s" to %s', name, conn.connection_id)
        bot.spawn(quietly(conn.send("", command), f"join {name}"), name=f"bot-join-{name}")
        return
    user = bot.user
    assert user is not None
    if conv is None:
        # Joined by the protocol once connected, like every stored conversation.
        conv = Conversation(conn.connection_id, name.lower(), name, password=config.password,
                            frozen="" if connected else "Not connected.")
        conn.conversations[conv.conversation_id] = conv
        bot.core.chat.emit_conversation(conn, conv)
    elif config.password:
        conv.password = config.password
    await bot.core.chat.save_connection(user, conn)


async def quietly(coro: Coroutine[Any, Any, Any], what: str) -> None:
    """Run a connection call whose failure is only worth a line in the log."""
    try:
        await coro
    except ConvosError as err:
        log.warning("Bot could not %s: %s", what, err)
