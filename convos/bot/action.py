"""What a bot action is, the message it sees, and the Core action (help, about, actions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .config import ActionConfig

if TYPE_CHECKING:
    from .bot import Bot
    from .webhook import Webhook


@dataclass(slots=True, frozen=True)
class BotMessage:
    """A chat line the bot received. `command` is the message without a leading `<my_nick>:`."""

    connection_id: str
    conversation_id: str
    from_: str
    message: str
    type: str
    highlight: bool
    is_private: bool
    my_nick: str

    @property
    def command(self) -> str:
        if self.my_nick:
            m = re.match(rf"^\s*{re.escape(self.my_nick)}\s*[:,]\s*", self.message, re.IGNORECASE)
            if m:
                return self.message[m.end():]
        return self.message


class Action:
    """Base class. Subclasses set `name`, `description` and `usage`, and override what they need."""

    name: ClassVar[str] = "Action"
    description: ClassVar[str] = "No description."
    usage: ClassVar[str] = "Not specified."

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.enabled = True
        self.config: dict[str, Any] = {}

    @property
    def moniker(self) -> str:
        return self.name.lower()

    def configure(self, config: ActionConfig) -> None:
        self.config = config.data
        self.enabled = config.enabled

    def start(self) -> None:
        """Called when the action is (re-)enabled: start background work here."""

    async def stop(self) -> None:
        """Called when the action is disabled or removed from the config, and on shutdown."""

    def reply(self, msg: BotMessage) -> str | None:
        """A reply to a chat line, or None."""
        return None

    def webhook_secrets(self, hook: Webhook) -> list[str]:
        """Secrets that may sign this webhook request."""
        return []

    async def handle_webhook(self, hook: Webhook) -> dict[str, Any] | None:
        """The answer to a webhook request this action handles, or None."""
        return None

    def event_config(self, msg: BotMessage, key: str) -> Any:
        """A setting for this message: the conversation's, else the connection's, else the action's."""
        conn = self.bot.settings.connection(msg.connection_id)
        sections: list[dict[str, Any]] = []
        if conn is not None:
            for conv in conn.conversations:
                if conv.name.lower() == msg.conversation_id.lower():
                    sections.append(conv.actions.get(self.moniker, {}))
            sections.append(conn.actions.get(self.moniker, {}))
        sections.append(self.config)
        for section in sections:
            if section.get(key) is not None:
                return section[key]
        return None


class CoreAction(Action):
    name = "Core"
    description = "Core bot functionality."
    usage = "Commands: actions, about <action>, help <action>."

    def reply(self, msg: BotMessage) -> str | None:
        if not msg.is_private:
            return None
        command = msg.command
        if re.match(r"^\s*help\W*$", command, re.IGNORECASE):
            return self.usage
        if re.match(r"^\s*about\s*$", command, re.IGNORECASE):
            return self.description
        m = re.match(r"^\s*about\s+(\S+?)\W*$", command, re.IGNORECASE)
        if m:
            action = self.bot.action(m.group(1))
            return action.description if action else f'Couldn\'t find action "{m.group(1)}".'
        if re.match(r"^\s*actions\W*$", command, re.IGNORECASE):
            names = [a.moniker for a in self.bot.enabled_actions() if not isinstance(a, CoreAction)]
            return f"Available actions: {', '.join(names)}." if names else "Only core action enabled."
        m = re.match(r"^\s*help\s+(\S+?)\W*$", command, re.IGNORECASE)
        if m:
            action = self.bot.action(m.group(1))
            return action.usage if action else f'Couldn\'t find action "{m.group(1)}".'
        return None
