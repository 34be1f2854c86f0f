"""The seam to the protocol side (core/hub.py): CoreHub lists exactly what IRC calls on the core."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from convos.core.connection import Connection
from convos.core.hub import CoreHub, Hub

IRC = Path(__file__).resolve().parent.parent / "convos" / "irc"


def members(cls: type) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_")}


def hub_calls() -> set[str]:
    """Every `<x>.hub.<name>` in convos/irc."""
    names = set()
    for path in IRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "hub":
                names.add(node.attr)
    return names


def test_the_protocol_side_calls_exactly_what_corehub_lists():
    assert hub_calls() == members(CoreHub)


def test_hub_implements_corehub_with_the_same_signatures():
    assert members(Hub) == members(CoreHub)
    for name in members(CoreHub):
        declared, implemented = getattr(CoreHub, name), getattr(Hub, name)
        if isinstance(declared, property):
            assert isinstance(implemented, property), name
            continue
        assert inspect.signature(implemented) == inspect.signature(declared), name


def test_a_connection_without_a_core_says_so():
    conn = Connection(connection_id="irc-x", url="irc://x")
    with pytest.raises(RuntimeError, match="without a core cannot call save_soon"):
        conn.hub.save_soon(conn)
