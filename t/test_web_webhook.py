"""POST /api/webhook/{provider}: who may call it, what a payload must hold, and delivery to IRC."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import bot_of, register

from convos.store.jsonfile import atomic_write, encode

BOT = "bot@example.com"
REPO = "convos-chat/convos"

BOT_YAML = """\
generic:
  reply_delay: 0.01
actions:
- class: Convos::Plugin::Bot::Action::Core
- class: Convos::Plugin::Bot::Action::Github
  secret: "{secret}"
  repositories:
    'convos-chat/convos':
    - events: [create, fork, issues, milestone, pull_request, star, push]
      to: 'irc-localhost/#convos'
    'other/repo':
    - events: [issues]
      to: 'irc-localhost/#other'
      secret: repo-secret
{connections}
"""


def issue_payload(repo: str = REPO, **issue: Any) -> dict[str, Any]:
    return {
        "action": "opened",
        "issue": {"number": 42, "title": "Cannot connect", "html_url": f"https://github.com/{repo}/issues/42",
                  **issue},
        "repository": {"full_name": repo, "name": repo.split("/")[1], "html_url": f"https://github.com/{repo}"},
        "sender": {"login": "jhthorsen", "html_url": "https://github.com/jhthorsen"},
    }


def write_bot_yaml(home: Path, *, secret: str = "s3cret", connections: str = "") -> None:
    path = home / BOT / "bot.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BOT_YAML.format(secret=secret, connections=connections))


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def start(make_client, home):
    """An app with the bot enabled (standalone, so no human is needed) and its config loaded."""

    async def make(env: dict[str, str] | None = None, **yaml: Any) -> Any:
        write_bot_yaml(home, **yaml)
        client = await make_client({"CONVOS_BOT_EMAIL": BOT, "CONVOS_BOT_ALLOW_STANDALONE": "1", **(env or {})})
        await bot_of(client).wait_for(lambda b: b.loads >= 1)
        return client

    return make


async def post(client: Any, provider: str, payload: Any, event: str = "issues", *,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    hdrs = {"Content-Type": "application/json", "X-GitHub-Event": event, **(headers or {})}
    res = await client.post(f"/api/webhook/{provider}", data=raw, headers=hdrs)
    return res.status, await res.json()


ALLOWED = {"CONVOS_WEBHOOK_NETWORKS": "127.0.0.0/8"}


async def test_bot_disabled_is_503(client):
    status, body = await post(client, "github", issue_payload())
    assert status == 503
    assert body == {"errors": [{"message": "Unable to accept webhook request.", "path": "/"}]}


async def test_source_outside_networks_is_403(start):
    client = await start()  # default networks: GitHub's
    status, body = await post(client, "github", issue_payload())
    assert status == 403
    assert body == {"errors": [{"message": "Invalid source IP 127.0.0.1.", "path": "/"}]}


async def test_allowed_network_and_rule_statuses(start):
    client = await start(ALLOWED)
    # Configured repository and event, but the bot has no connection: fact 93's shape with an error.
    status, body = await post(client, "github", issue_payload())
    assert status == 200
    assert body == {"status": [{"connection_id": "irc-localhost", "conversation_id": "#convos",
                                "error": "Not connected."}]}
    status, body = await post(client, "github", issue_payload("other/repo"), event="fork")
    assert body == {"status": [{"connection_id": "irc-localhost", "conversation_id": "#other",
                                "error": "Unwanted event fork."}]}
    status, body = await post(client, "github", {"repository": {"full_name": "nobody/else"}})
    assert status == 200
    assert body == {"errors": [{"message": "Unable to deliver the message.", "path": "/"}]}


async def test_reverse_proxy_address_only_when_trusted(start):
    proxied = await start({"CONVOS_REVERSE_PROXY": "1"})
    status, body = await post(proxied, "github", issue_payload(), headers={"X-Forwarded-For": "140.82.112.7"})
    assert status == 200, body
    assert body["status"][0]["error"] == "Not connected."
    status, body = await post(proxied, "github", issue_payload(), headers={"X-Forwarded-For": "10.1.2.3"})
    assert (status, body["errors"][0]["message"]) == (403, "Invalid source IP 10.1.2.3.")


async def test_forwarded_for_ignored_without_reverse_proxy(start):
    client = await start()
    status, body = await post(client, "github", issue_payload(), headers={"X-Forwarded-For": "140.82.112.7"})
    assert (status, body["errors"][0]["message"]) == (403, "Invalid source IP 127.0.0.1.")


async def test_unknown_provider_is_404(start):
    client = await start(ALLOWED)
    status, body = await post(client, "gitlab", issue_payload())
    assert status == 404
    assert body["errors"][0]["path"] == "/provider_name"


@pytest.mark.parametrize(("payload", "event", "path"), [
    (b"[1,2]", "issues", "/body"),
    (b"{not json", "issues", "/body"),
    (b"", "issues", "/body"),
    ({**issue_payload(), "issue": {"number": 1, "html_url": "x"}}, "issues", "/body/issue/title"),
    ({**issue_payload(), "sender": {}}, "issues", "/body/sender/login"),
    ({**issue_payload(), "issue": {"number": [], "title": "x", "html_url": "y"}}, "issues", "/body/issue/number"),
    ({"ref": "refs/heads/main", "commits": [], "repository": {"full_name": REPO, "name": "convos"},
      "sender": {"login": "a"}}, "push", "/body/compare"),
])
async def test_malformed_payload_is_400(start, payload, event, path):
    client = await start(ALLOWED)
    status, body = await post(client, "github", payload, event=event)
    assert status == 400, body
    assert body["errors"][0]["path"] == path


async def test_missing_event_header_is_400(start):
    client = await start(ALLOWED)
    res = await client.post("/api/webhook/github", json=issue_payload())
    assert res.status == 400
    assert (await res.json())["errors"][0] == {"message": "Missing X-GitHub-Event header.", "path": "/X-GitHub-Event"}


async def test_github_signature(start):
    client = await start()  # 127.0.0.1 is not in the allowed networks: only a signature lets it in
    raw = json.dumps(issue_payload(), indent=2).encode()
    ok = {"X-Hub-Signature-256": "sha256=" + sign(raw, "s3cret")}
    status, body = await post(client, "github", raw, headers=ok)
    assert status == 200, body
    assert body["status"][0]["error"] == "Not connected."
    # Upper-case hex is the same digest.
    status, _ = await post(client, "github", raw, headers={"X-Hub-Signature-256": "sha256=" + sign(raw, "s3cret").upper()})
    assert status == 200

    for bad in ("sha256=" + sign(raw, "wrong"), sign(raw, "s3cret"), "sha1=" + sign(raw, "s3cret"), "sha256=", "✓"):
        status, body = await post(client, "github", raw, headers={"X-Hub-Signature-256": bad})
        assert (status, body["errors"][0]["message"]) == (403, "Invalid source IP 127.0.0.1."), bad
    # The same JSON with other whitespace is other bytes: the signature no longer matches.
    compact = json.dumps(issue_payload(), separators=(",", ":")).encode()
    assert json.loads(compact) == json.loads(raw)
    status, _ = await post(client, "github", compact, headers=ok)
    assert status == 403


async def test_gitea_signature_and_event_header(start):
    client = await start()
    raw = json.dumps(issue_payload()).encode()
    headers = {"X-Gitea-Event": "issues", "X-Gitea-Signature": sign(raw, "s3cret")}
    res = await client.post("/api/webhook/gitea", data=raw, headers={"Content-Type": "application/json", **headers})
    body = await res.json()
    assert res.status == 200, body
    assert body["status"] == [{"connection_id": "irc-localhost", "conversation_id": "#convos", "error": "Not connected."}]
    headers["X-Gitea-Signature"] = sign(raw, "not-it")
    res = await client.post("/api/webhook/gitea", data=raw, headers={"Content-Type": "application/json", **headers})
    assert res.status == 403
    # A Gitea signature of the right secret does not open the github provider to other bytes either.
    status, _ = await post(client, "github", raw + b" ", headers={"X-Gitea-Signature": sign(raw, "s3cret")})
    assert status == 403


async def test_repository_secret_only_for_that_repository(start):
    client = await start()
    other = json.dumps(issue_payload("other/repo")).encode()
    status, body = await post(client, "github", other, headers={"X-Hub-Signature-256": "sha256=" + sign(other, "repo-secret")})
    assert status == 200, body
    assert body["status"][0]["conversation_id"] == "#other"
    mine = json.dumps(issue_payload()).encode()
    status, _ = await post(client, "github", mine, headers={"X-Hub-Signature-256": "sha256=" + sign(mine, "repo-secret")})
    assert status == 403


async def test_issue_reaches_irc(make_client, home, ircd, irc_client):
    """Fact 93 end to end: the bot joins #convos on ngircd and says what happened."""
    atomic_write(home / "settings.json", encode({"default_connection": f"irc://127.0.0.1:{ircd.port}/%23lobby?tls=0"}))
    write_bot_yaml(home, connections=f"""
connections:
- url: 'irc://127.0.0.1:{ircd.port}?tls=0'
  conversations:
    '#convos': {{state: join}}
""")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    client = await make_client({"CONVOS_BOT_EMAIL": BOT, "CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1",
                                **ALLOWED})
    await register(client, "superman@example.com")  # the bot registers once a human exists
    await jimmy.expect(lambda m: m.command == "JOIN" and m.nick == "bot" and m.params[0] == "#convos", timeout=15)

    status, body = await post(client, "github", issue_payload())
    assert status == 200
    assert body == {"status": [{"connection_id": "irc-localhost", "conversation_id": "#convos", "error": ""}]}
    line = await jimmy.expect(lambda m: m.command == "PRIVMSG" and m.nick == "bot")
    assert line.params == ("#convos", "jhthorsen opened issue #42 in convos: Cannot connect - "
                                      "https://github.com/convos-chat/convos/issues/42")

    push = {"ref": "refs/heads/main", "commits": [{}, {}], "compare": "https://github.com/c/c/compare/a...b",
            "repository": {"full_name": REPO, "name": "convos"}, "sender": {"login": "batman"}}
    status, body = await post(client, "github", push, event="push")
    assert body["status"][0]["error"] == ""
    line = await jimmy.expect(lambda m: m.command == "PRIVMSG" and m.nick == "bot")
    assert line.params[1] == "batman pushed 2 commits to main in convos - https://github.com/c/c/compare/a...b"

    # An action the rule wants but no message for: nothing reaches IRC, and the status says so.
    status, body = await post(client, "github", {**issue_payload(), "action": "labeled"})
    assert body["status"][0]["error"] == "No message generated."
