"""The docs keep up with the code: every variable, operation and command is documented."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from convos.cli import make_parser
from convos.config import ENV_VARS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SPEC = ROOT / "share" / "convos-api.json"


def read_doc(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"missing {path}"
    return path.read_text("utf-8")


def mentions(text: str, name: str) -> bool:
    """`name` as a whole word: CONVOS_LOG must not count as documented by CONVOS_LOG_LEVEL."""
    return re.search(rf"(?<![\w<>-]){re.escape(name)}(?![\w<>-])", text) is not None


def operations() -> list[tuple[str, str, str]]:
    """(operationId, METHOD, path) for every operation in our OpenAPI document."""
    doc = json.loads(SPEC.read_text("utf-8"))
    ops = []
    for path, item in doc["paths"].items():
        for method, spec in item.items():
            if isinstance(spec, dict) and "operationId" in spec:
                ops.append((spec["operationId"], method.upper(), path))
    return ops


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = make_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_the_word_matcher_can_fail() -> None:
    assert mentions("set `CONVOS_LOG_LEVEL` here", "CONVOS_LOG_LEVEL")
    assert not mentions("set `CONVOS_LOG_LEVEL` here", "CONVOS_LOG")
    assert not mentions("`getUsers`", "getUser")
    assert mentions("| `CONVOS_WEBIRC_PASSWORD_<NAME>` |", "CONVOS_WEBIRC_PASSWORD_<NAME>")
    assert not mentions("`CONVOS_WEBIRC_PASSWORD_LIBERA`", "CONVOS_WEBIRC_PASSWORD_<NAME>")


def test_there_is_something_to_check() -> None:
    assert len(ENV_VARS) >= 30
    assert len(operations()) >= 33
    assert {"daemon", "recover", "version"} <= set(subcommands())


@pytest.mark.parametrize("name", ENV_VARS)
def test_every_environment_variable_is_documented(name: str) -> None:
    assert mentions(read_doc("configuration.md"), name), f"{name} is not in docs/configuration.md"


@pytest.mark.parametrize("op", operations(), ids=lambda op: op[0])
def test_every_operation_is_in_the_api_table(op: tuple[str, str, str]) -> None:
    operation_id, method, path = op
    text = read_doc("api.md")
    assert mentions(text, operation_id), f"{operation_id} is not in docs/api.md"
    rows = [line for line in text.splitlines() if line.startswith("|") and f"`{operation_id}`" in line]
    assert any(method in row and f"`/api{path}`" in row for row in rows), (
        f"docs/api.md has no table row for {operation_id} with {method} /api{path}"
    )


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_subcommand_is_documented(name: str) -> None:
    text = read_doc("getting-started.md") + "\n" + read_doc("configuration.md")
    assert f"convos {name}" in text, f"`convos {name}` is not in the docs"


@pytest.mark.parametrize(
    "flag",
    sorted(
        {opt for sub in subcommands().values() for a in sub._actions for opt in a.option_strings}
        - {"-h", "--help"}
    ),
)
def test_every_flag_is_documented(flag: str) -> None:
    assert mentions(read_doc("configuration.md"), flag), f"{flag} is not in docs/configuration.md"


def test_docs_link_to_files_that_exist() -> None:
    for doc in sorted(DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", doc.read_text("utf-8")):
            if target == "logs.md" and not (DOCS / target).exists():
                continue  # written alongside; may land later
            assert (doc.parent / target).is_file(), f"{doc.name} links to missing {target}"


# Words that describe work as unfinished. The README and docs say what is true: once a feature
# works, a sentence that says it answers 501 or is "not built yet" is a bug.
STALE = re.compile(
    r"answers? .{0,3}501|\b501\b.{0,40}not (?:built|implemented)|not (?:built|implemented) yet"
    r"|\bcomes? next\b|still being built",
    re.IGNORECASE,
)


def stale_claims(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if STALE.search(line)]


def test_the_stale_claim_matcher_can_fail() -> None:
    assert stale_claims("Files and pastes are not built yet: those operations answer `501`.")
    assert stale_claims("Search and settings in the app come next.")
    assert stale_claims("| `501` | The operation is in the document but not implemented yet. |")
    assert not stale_claims("Every operation works; uploads over the limit answer `413`.")


@pytest.mark.parametrize("name", ["README.md", *sorted(p.name for p in DOCS.glob("*.md"))])
def test_docs_do_not_call_built_features_unfinished(name: str) -> None:
    path = ROOT / name if name == "README.md" else DOCS / name
    assert stale_claims(path.read_text("utf-8")) == [], f"{name} describes built work as unfinished"


def test_the_readme_counts_the_operations_there_are() -> None:
    counts = re.findall(r"All (\d+) operations", (ROOT / "README.md").read_text())
    assert counts == [str(len(operations()))]
