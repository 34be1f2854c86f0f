"""The Spool action: message files dropped in a directory are sent by the bot, then deleted."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..errors import ConvosError
from ..store.base import StoreError
from . import files
from .action import Action

log = logging.getLogger(__name__)

PER_TICK = 50  # so a full spool never keeps the bot busy for long


class SpoolAction(Action):
    name = "Spool"
    description = "Send messages from spool directory on server."
    usage = "Drop YAML or JSON files with connection_id, conversation_id and message in the spool directory."

    def __init__(self, bot: Any) -> None:
        super().__init__(bot)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = self.bot.spawn(self._loop(), name="bot-spool")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        interval = self.bot.config.bot_spool_interval
        interval = interval if interval > 0 else 1.0
        where = await self.bot.store.open_spool(self.bot.email)
        log.info("Bot spool directory is %s.", where)
        while True:
            try:
                await self.check()
            except (OSError, StoreError) as err:
                log.warning("Bot spool %s: %s", where, err)
            await asyncio.sleep(interval)

    async def check(self) -> int:
        """Send what is in the spool now; returns how many files were sent."""
        store, email = self.bot.store, self.bot.email
        sent = 0
        for name in await store.list_spool(email, PER_TICK):
            where = store.bot_file_location(email, name)
            try:
                raw = await store.load_spool_file(email, name, files.MAX_FILE_SIZE)
                data = await asyncio.to_thread(files.parse_yaml, raw, where)
            except (StoreError, files.BadFile) as err:
                log.warning("Bot spool: %s", err)
                await store.set_aside_spool_file(email, name)
                continue
            fields = data if isinstance(data, dict) else {}
            cid, conv_id, message = (fields.get(k) for k in ("connection_id", "conversation_id", "message"))
            if not (isinstance(cid, str) and isinstance(conv_id, str) and isinstance(message, str)
                    and cid and conv_id and message):
                log.warning("Bot spool: %s needs connection_id, conversation_id and message.", where)
                await store.set_aside_spool_file(email, name)
                continue
            user = self.bot.user
            conn = user.get_connection(cid) if user is not None else None
            if conn is None or conn.state != "connected":
                continue  # kept for a later try
            try:
                await conn.send(conv_id, message)
            except ConvosError as err:
                log.warning('Bot send "%s" to "%s/%s": %s', message, cid, conv_id, err)
            await store.delete_spool_file(email, name)
            sent += 1
        return sent
