"""Background tasks a service owns: started with a name, failures logged, all cancelled at its stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class OwnedTasks:
    """Never fire-and-forget: each task is kept until it ends; `cancel_all` ends the rest."""

    def __init__(self, owner: str, log: logging.Logger) -> None:
        self.owner = owner
        self.log = log
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("%s task %s failed", self.owner, task.get_name(), exc_info=task.exception())

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except BaseException:  # cancelled, or failed (logged by _done)
                pass

    def __len__(self) -> int:
        return len(self._tasks)
