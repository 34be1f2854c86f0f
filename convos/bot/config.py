"""The bot's config file (`bot.yaml`), read into plain records; bad parts are skipped with a warning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..core.connection import connection_id_for

DEFAULT_REPLY_DELAY = 0.5
MAX_REPLY_DELAY = 60.0
# The original names actions by Perl class; we accept that, a bare name, or a dotted Python path
# (convos.bot.calc.Calc, or convos.core.bot.calc.Calc from before the bot left the core).
_PREFIX = re.compile(r"^(?:Convos::Plugin::Bot::Action::|convos\.(?:core\.)?bot\.\w+\.)", re.IGNORECASE)


def action_key(name: str) -> str:
    """`Convos::Plugin::Bot::Action::Github`, `Github` and `github` all name the action `github`."""
    return _PREFIX.sub("", name.strip()).lower()


@dataclass(slots=True)
class ActionConfig:
    cls: str
    key: str
    enabled: bool = True
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ConversationConfig:
    name: str
    state: str = "join"
    password: str = ""
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class ConnectionConfig:
    url: str
    wanted_state: str = "connected"
    conversations: list[ConversationConfig] = field(default_factory=list)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class BotConfig:
    password: str = ""
    reply_delay: float = DEFAULT_REPLY_DELAY
    # None: the file has no `actions` list, and only the Core action runs.
    actions: list[ActionConfig] | None = None
    connections: list[ConnectionConfig] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: Any) -> BotConfig:
        """Read a decoded bot.yaml. Unusable parts become warnings, never exceptions."""
        config = cls()
        if data is None:
            return config
        if not isinstance(data, dict):
            config.warnings.append("The bot config must be a mapping at the top level.")
            return config
        generic = data.get("generic")
        if isinstance(generic, dict):
            config._read_generic(generic)
        elif generic is not None:
            config.warnings.append("generic: must be a mapping.")
        actions = data.get("actions")
        if isinstance(actions, list):
            config.actions = [a for a in (config._read_action(i, item) for i, item in enumerate(actions)) if a]
        elif actions is not None:
            config.warnings.append("actions: must be a list.")
        connections = data.get("connections")
        if isinstance(connections, list):
            for i, item in enumerate(connections):
                conn = config._read_connection(i, item)
                if conn is not None:
                    config.connections.append(conn)
        elif connections is not None:
            config.warnings.append("connections: must be a list.")
        return config

    def _read_generic(self, generic: dict[str, Any]) -> None:
        password = generic.get("password")
        if password is not None and not isinstance(password, bool):
            self.password = str(password)
        delay = generic.get("reply_delay")
        if delay is not None:
            if isinstance(delay, (int, float)) and not isinstance(delay, bool) and delay >= 0:
                self.reply_delay = min(float(delay), MAX_REPLY_DELAY)
            else:
                self.warnings.append("generic.reply_delay: must be a number of seconds.")

    def _read_action(self, i: int, item: Any) -> ActionConfig | None:
        if not isinstance(item, dict) or not isinstance(item.get("class"), str) or not item["class"].strip():
            self.warnings.append(f"actions[{i}]: needs a class.")
            return None
        enabled = item.get("enabled", True)
        return ActionConfig(
            cls=item["class"].strip(),
            key=action_key(item["class"]),
            enabled=_truthy(enabled),
            data={k: v for k, v in item.items() if k not in ("class", "enabled")},
        )

    def _read_connection(self, i: int, item: Any) -> ConnectionConfig | None:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str) or not item["url"].strip():
            self.warnings.append(f"connections[{i}]: needs a url.")
            return None
        wanted = item.get("wanted_state") or "connected"
        if wanted not in ("connected", "disconnected"):
            self.warnings.append(f"connections[{i}].wanted_state: must be connected or disconnected.")
            wanted = "connected"
        conn = ConnectionConfig(url=item["url"].strip(), wanted_state=wanted, actions=_actions_map(item.get("actions")))
        conversations = item.get("conversations") or {}
        if not isinstance(conversations, dict):
            self.warnings.append(f"connections[{i}].conversations: must be a mapping.")
            return conn
        for name, conv in conversations.items():
            conv = conv if isinstance(conv, dict) else {}
            state = conv.get("state") or "join"
            if state not in ("join", "part"):
                self.warnings.append(f"connections[{i}].conversations.{name}.state: must be join or part.")
                state = "join"
            password = conv.get("password")
            conn.conversations.append(ConversationConfig(
                name=str(name).strip(), state=state, password="" if password is None else str(password),
                actions=_actions_map(conv.get("actions")),
            ))
        return conn

    def connection(self, connection_id: str) -> ConnectionConfig | None:
        for conn in self.connections:
            if connection_id_for(conn.url) == connection_id:
                return conn
        return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def _actions_map(value: Any) -> dict[str, dict[str, Any]]:
    """Per-connection or per-conversation action settings, keyed like `action_key`."""
    if not isinstance(value, dict):
        return {}
    return {action_key(str(k)): v for k, v in value.items() if isinstance(v, dict)}
