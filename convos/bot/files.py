"""Reading the bot's files (bot.yaml, spool messages): YAML with the safe loader. Blocking; run in a thread.

The bytes come from the store (store/base.py's BotFiles); the bot never builds a path itself.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is much faster, when PyYAML was built with libyaml
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader  # type: ignore[assignment]

Signature = tuple[int, int]
MAX_FILE_SIZE = 1_000_000


class BadFile(Exception):
    """A file that exists but cannot be read or parsed."""


def parse_yaml(raw: bytes, name: str) -> Any:
    """Parse YAML (or JSON: YAML is a superset) with the safe loader: no Python objects."""
    try:
        return yaml.load(raw, Loader=SafeLoader)
    except yaml.YAMLError as err:
        raise BadFile(f"{name}: {err}") from None
