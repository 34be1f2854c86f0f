"""The Github action: GitHub and Gitea webhook events become one-line messages in configured channels."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.connection import Connection
from ..errors import ConvosError, InvalidInput
from .action import Action
from .webhook import Webhook

if TYPE_CHECKING:
    from .bot import Bot

log = logging.getLogger(__name__)

MAX_TITLE = 200
_BOTS = re.compile(r"\b(?:dependabot|renovate)\b", re.IGNORECASE)
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")

# What each event's message needs from the payload (a 400 names the first one missing).
Need = tuple[str, type | tuple[type, ...]]
_COMMON: list[Need] = [("/sender/login", str)]
REQUIRED: dict[str, list[Need]] = {
    "create": [("/ref", str), ("/ref_type", str), ("/repository/name", str), ("/repository/html_url", str)],
    "fork": [("/repository/name", str), ("/repository/html_url", str), ("/forkee/name", str),
             ("/forkee/html_url", str)],
    "issues": [("/action", str), ("/repository/name", str), ("/issue/number", (int, str)), ("/issue/title", str),
               ("/issue/html_url", str)],
    "milestone": [("/action", str), ("/repository/name", str), ("/milestone/number", (int, str)),
                  ("/milestone/title", str), ("/milestone/html_url", str)],
    "pull_request": [("/action", str), ("/repository/name", str), ("/pull_request/number", (int, str)),
                     ("/pull_request/title", str), ("/pull_request/html_url", str)],
    "star": [("/action", str), ("/repository/name", str), ("/sender/html_url", str)],
    "push": [("/ref", str), ("/repository/name", str), ("/commits", list)],
}


def pointer(data: Any, path: str) -> Any:
    for part in path.strip("/").split("/"):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def validate(event: str, payload: dict[str, Any], provider: str) -> None:
    """400 when a known event lacks what its message needs."""
    needs = REQUIRED.get(event)
    if needs is None:
        return
    if event == "push":
        needs = [*needs, ("/compare_url" if provider == "gitea" else "/compare", str)]
    for path, kind in [*_COMMON, *needs]:
        value = pointer(payload, path)
        if value is None:
            raise InvalidInput("Missing property.", "/body" + path)
        if not isinstance(value, kind) or isinstance(value, bool):
            names = "string" if kind is str else "array" if kind is list else "integer"
            raise InvalidInput(f"Expected {names} - got {_type_name(value)}.", "/body" + path)


def one_line(text: Any, limit: int = MAX_TITLE) -> str:
    """Titles can hold newlines and control characters; a chat line must not."""
    text = _SPACE.sub(" ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def repository_of(event: str, payload: dict[str, Any], provider: str) -> str:
    """The `owner/repo` that selects rules. Gitea's fork event has the original in `forkee`."""
    repo = pointer(payload, "/forkee/full_name" if provider == "gitea" and event == "fork" else "/repository/full_name")
    return repo if isinstance(repo, str) and repo else "default"


# --- messages -----------------------------------------------------------------------------------


def _create(p: dict[str, Any], provider: str) -> str | None:
    if p["ref_type"] != "tag":
        return None
    return (f"{p['sender']['login']} created tag {one_line(p['ref'])} in {p['repository']['name']} - "
            f"{p['repository']['html_url']}/tree/{p['ref']}")


def _fork(p: dict[str, Any], provider: str) -> str | None:
    # GitHub: `repository` was forked into `forkee`. Gitea: `forkee` was forked into `repository`.
    original, fork = (p["forkee"], p["repository"]) if provider == "gitea" else (p["repository"], p["forkee"])
    return f"{p['sender']['login']} forked {original['name']} - {fork['html_url']}"


def _numbered(kind: str, key: str, actions: tuple[str, ...]) -> Callable[[dict[str, Any], str], str | None]:
    def message(p: dict[str, Any], provider: str) -> str | None:
        if p["action"] not in actions:
            return None
        item = p[key]
        return (f"{p['sender']['login']} {p['action']} {kind} #{item['number']} in {p['repository']['name']}: "
                f"{one_line(item['title'])} - {item['html_url']}")

    return message


_issues = _numbered("issue", "issue", ("opened", "closed", "reopened"))
_milestone = _numbered("milestone", "milestone", ("created", "opened", "closed"))
_pull_request_message = _numbered("pull request", "pull_request", ("opened", "closed", "reopened"))


def _pull_request(p: dict[str, Any], provider: str) -> str | None:
    if _BOTS.search(p["sender"]["login"]):
        return None  # dependency bots open dozens of these
    return _pull_request_message(p, provider)


def _star(p: dict[str, Any], provider: str) -> str | None:
    if p["action"] != "created":
        return None
    return f"{p['sender']['login']} starred {p['repository']['name']} - {p['sender']['html_url']}"


def _push(p: dict[str, Any], provider: str) -> str | None:
    ref = p["ref"]
    if not ref.startswith("refs/heads/") or p.get("deleted") is True:
        return None  # tags come as `create`; a deleted branch has no commits to tell about
    total = p.get("total_commits")
    n = total if isinstance(total, int) and not isinstance(total, bool) else len(p["commits"])
    if n <= 0:
        return None
    compare = p["compare_url"] if provider == "gitea" else p["compare"]
    plural = "commit" if n == 1 else "commits"
    return (f"{p['sender']['login']} pushed {n} {plural} to {one_line(ref[len('refs/heads/'):])} in "
            f"{p['repository']['name']} - {compare}")


MESSAGES: dict[str, Callable[[dict[str, Any], str], str | None]] = {
    "create": _create, "fork": _fork, "issues": _issues, "milestone": _milestone,
    "pull_request": _pull_request, "star": _star, "push": _push,
}


def message_for(event: str, payload: dict[str, Any], provider: str = "github") -> str | None:
    make = MESSAGES.get(event)
    return make(payload, provider) if make else None


class GithubAction(Action):
    name = "Github"
    description = "Send messages based on GitHub and Gitea events."
    usage = "Configured in bot.yaml: repositories, events and where to send them."

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self._delivering = asyncio.Lock()

    def _rules(self, repo: str) -> list[dict[str, Any]]:
        repositories = self.config.get("repositories")
        rules = repositories.get(repo) if isinstance(repositories, dict) else None
        return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []

    def webhook_secrets(self, hook: Webhook) -> list[str]:
        """The action's `secret`, and the `secret` of each rule of the repository the payload names."""
        secrets = []
        if isinstance(self.config.get("secret"), str):
            secrets.append(self.config["secret"])
        try:
            event = hook.event
        except InvalidInput:
            event = ""
        for rule in self._rules(repository_of(event, hook.payload, hook.provider)):
            if isinstance(rule.get("secret"), str):
                secrets.append(rule["secret"])
        return secrets

    async def handle_webhook(self, hook: Webhook) -> dict[str, Any] | None:
        if hook.provider not in ("github", "gitea"):
            return None
        event = hook.event
        rules = self._rules(repository_of(event, hook.payload, hook.provider))
        if not rules:
            return None
        if any(isinstance(r.get("events"), list) and event in r["events"] for r in rules):
            validate(event, hook.payload, hook.provider)  # only what a message will be made of
        user = self.bot.user
        status: list[dict[str, str]] = []
        for rule in rules:
            connection_id, _, conversation_id = str(rule.get("to") or "").partition("/")
            if not connection_id or not conversation_id:
                continue
            item = {"connection_id": connection_id, "conversation_id": conversation_id, "error": ""}
            status.append(item)
            events = rule.get("events")
            if not isinstance(events, list) or event not in events:
                item["error"] = f"Unwanted event {event}."
                continue
            conn = user.get_connection(connection_id) if user is not None else None
            if conn is None or conn.state != "connected":
                item["error"] = "Not connected."
                continue
            message = message_for(event, hook.payload, hook.provider)
            if not message:
                item["error"] = "No message generated."
                continue
            # The answer does not wait for the IRC server: "" means on its way.
            self.bot.spawn(self._deliver(conn, conversation_id, message), name=f"bot-github-{connection_id}")
        return {"status": status}

    async def _deliver(self, conn: Connection, conversation_id: str, message: str) -> None:
        async with self._delivering:  # FIFO: lines go out in the order the webhooks came
            try:
                await conn.send(conversation_id, message)
            except ConvosError as err:
                log.warning('Bot could not send "%s" to %s/%s: %s', message, conn.connection_id, conversation_id,
                            err.errors[0].message if err.errors else err)
