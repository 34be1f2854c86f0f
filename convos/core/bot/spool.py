"""The Spool action: message files dropped in a directory are sent by the bot, then deleted."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ...errors import ConvosError
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

    @property
    def directory(self) -> Path:
        config = self.bot.core.config
        if config.bot_spool_dir:
            return Path(config.bot_spool_dir).expanduser()
        return self.bot.home / "spool"

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
        interval = self.bot.core.config.bot_spool_interval
        interval = interval if interval > 0 else 1.0
        await asyncio.to_thread(files.make_dir, self.directory)
        log.info("Bot spool directory is %s.", self.directory)
        while True:
            try:
                await self.check()
            except OSError as err:
                log.warning("Bot spool %s: %s", self.directory, err)
            await asyncio.sleep(interval)

    async def check(self) -> int:
        """Send what is in the spool now; returns how many files were sent."""
        sent = 0
        for path in await asyncio.to_thread(files.spool_files, self.directory, PER_TICK):
            try:
                data = await asyncio.to_thread(files.load_yaml, path)
            except files.BadFile as err:
                log.warning("Bot spool: %s", err)
                await asyncio.to_thread(files.set_aside, path)
                continue
            fields = data if isinstance(data, dict) else {}
            cid, conv_id, message = (fields.get(k) for k in ("connection_id", "conversation_id", "message"))
            if not (isinstance(cid, str) and isinstance(conv_id, str) and isinstance(message, str)
                    and cid and conv_id and message):
                log.warning("Bot spool: %s needs connection_id, conversation_id and message.", path)
                await asyncio.to_thread(files.set_aside, path)
                continue
            user = self.bot.user
            conn = user.get_connection(cid) if user is not None else None
            if conn is None or conn.state != "connected":
                continue  # kept for a later try
            try:
                await conn.send(conv_id, message)
            except ConvosError as err:
                log.warning('Bot send "%s" to "%s/%s": %s', message, cid, conv_id, err)
            await asyncio.to_thread(files.remove, path)
            sent += 1
        return sent
