"""The import graph of convos/: no circles, and no import that goes the wrong way between layers.

Every `import` and `from ... import` of every module counts, at any depth: a function-local
import is still an edge (it only hides a circle until the function first runs). Only imports under
`if TYPE_CHECKING:` are left out of the circle check, since they never run; they still count for
the direction rules (a type from a layer above is a dependency on it all the same).

An edge goes to the module named: `from .x import y` is an edge to `x.y` when that is a module,
else to `x`. The parent packages Python imports on the way are not edges: a package's
`__init__` that re-exports its own modules would otherwise make every package a circle.
The layers and their directions are those of docs/architecture.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "convos"

# What a layer must never import: our own layers by dotted prefix, third-party packages by name.
# A prefix matches the module itself and everything under it (`convos.store.file`, not `convos.store`).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "convos.core": ("convos.listen", "convos.web", "convos.irc", "convos.bot", "convos.embed", "convos.push", "convos.cli",
                    "convos.store.file", "convos.store.memory", "convos.store.logs", "aiohttp", "aiohttp_session",
                    "pydle"),
    "convos.store": ("convos.listen", "convos.core", "convos.web", "convos.irc", "convos.bot", "convos.embed", "convos.push",
                     "convos.cli",
                     "aiohttp", "aiohttp_session", "pydle"),
    "convos.irc": ("convos.listen", "convos.web", "convos.store", "convos.bot", "convos.embed", "convos.push", "convos.cli",
                   "aiohttp", "aiohttp_session"),
    "convos.web": ("convos.listen", "convos.irc", "convos.bot", "convos.push", "convos.store.file", "convos.store.memory",
                   "convos.store.logs", "convos.cli", "pydle"),
    # The consumers beside the web layer: each talks to the core, never to another consumer.
    "convos.bot": ("convos.listen", "convos.web", "convos.irc", "convos.embed", "convos.push", "convos.store.file", "convos.store.memory",
                   "convos.cli",
                   "aiohttp", "aiohttp_session", "pydle"),
    # Sign-in: the providers use the core; the web layer uses them, and cli.py hands their password
    # check to the IRC listener.
    "convos.auth": ("convos.listen", "convos.web", "convos.irc", "convos.bot", "convos.embed", "convos.push", "convos.store.file",
                    "convos.store.memory", "convos.store.logs", "convos.cli",
                    "aiohttp_session", "pydle"),
    "convos.embed": ("convos.listen", "convos.web", "convos.irc", "convos.bot", "convos.push", "convos.store", "convos.cli",
                     "aiohttp_session", "pydle"),
    "convos.push": ("convos.listen", "convos.web", "convos.irc", "convos.bot", "convos.embed", "convos.store.file",
                    "convos.store.memory", "convos.store.logs", "convos.store.pushfile", "convos.cli",
                    "aiohttp_session", "pydle"),
    # Certificates in CONVOS_HOME: for the IRC core and the listener alike, so it needs none of them.
    "convos.certs": ("convos.core", "convos.store", "convos.listen", "convos.web", "convos.irc", "convos.bot",
                     "convos.embed", "convos.push", "convos.auth", "convos.cli", "aiohttp", "pydle"),
    "convos.listen": ("convos.auth", "convos.web", "convos.irc", "convos.bot", "convos.embed", "convos.push", "convos.store.file",
                      "convos.store.memory", "convos.store.pushfile", "convos.cli",
                      "aiohttp", "aiohttp_session", "pydle"),
}

# Circles that are known and not fixed yet, each as the sorted tuple of its modules. Empty: none.
KNOWN_CIRCLES: set[tuple[str, ...]] = set()


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for child in node.body:
                    inside.update(id(n) for n in ast.walk(child))
    return inside


def _absolute(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[Edge]:
    """Every import of the module, function-local ones included, as absolute dotted names."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    type_only = _type_checking_nodes(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(name, alias.name, node.lineno, id(node) in type_only)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Edge(name, sub if sub in known else base, node.lineno, id(node) in type_only)


def all_edges() -> list[Edge]:
    known = modules()
    return [edge for name, path in known.items() for edge in imports(name, path, known)]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def wrong_way(edges: list[Edge]) -> list[str]:
    found = []
    for edge in edges:
        for layer, banned in FORBIDDEN.items():
            if not _under(edge.source, layer):
                continue
            for prefix in banned:
                if _under(edge.target, prefix):
                    found.append(f"{edge.source}:{edge.line} imports {edge.target} ({layer} must not import {prefix})")
    return found


def circles(edges: list[Edge]) -> list[tuple[str, ...]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    names = set(modules())
    for edge in edges:
        if not edge.type_only and edge.target in names and edge.target != edge.source:
            graph.setdefault(edge.source, set()).add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for v in sorted(names):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Function-local and relative imports are edges; TYPE_CHECKING ones are marked, not dropped."""
    known = modules()
    edges = list(imports("convos.web.middlewares", PACKAGE / "web" / "middlewares.py", known))
    assert any(e.target == "convos.web.keys" for e in edges)
    fake = tmp_path / "m.py"
    fake.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..core import user\n"
                    "def f():\n    from ..web import app\n    import pydle\n")
    got = {(e.target, e.type_only) for e in imports("convos.bot.m", fake, known)}
    assert ("convos.core.user", True) in got
    assert ("convos.web.app", False) in got
    assert ("pydle", False) in got
    assert wrong_way([Edge("convos.core.x", "convos.web.app", 1, False)])
    assert wrong_way([Edge("convos.store.file", "convos.core.user", 1, True)])
    assert not wrong_way([Edge("convos.web.app", "convos.store.base", 1, False)])
    assert circles([]) == []


def test_no_import_goes_the_wrong_way() -> None:
    problems = wrong_way(all_edges())
    assert not problems, "\n".join(problems)


def test_only_create_app_imports_the_routes() -> None:
    """Route modules are leaves: the websocket, the other web modules and the other route modules
    share code through modules of their own (payloads.py...); only create_app (web/app.py)
    assembles the routes. The package itself (shared types) may be imported."""
    found = [f"{e.source}:{e.line} imports {e.target}" for e in all_edges()
             if _under(e.target, "convos.web.routes") and e.target != "convos.web.routes"
             and e.source != "convos.web.app"]
    assert not found, "\n".join(found)


def test_no_import_circles() -> None:
    found = [c for c in circles(all_edges()) if c not in KNOWN_CIRCLES]
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("circle", sorted(KNOWN_CIRCLES))
def test_known_circles_still_exist(circle: tuple[str, ...]) -> None:
    """A known circle that was fixed must leave KNOWN_CIRCLES, so it cannot come back unnoticed."""
    assert circle in circles(all_edges()), f"{' <-> '.join(circle)} is fixed: take it out of KNOWN_CIRCLES"
