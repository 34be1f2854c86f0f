"""Two-factor codes (TOTP, RFC 6238): enrolment, login with a code, wrong and replayed codes,
recovery codes once each, the limit on wrong codes, required-for-all, the key file."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pyotp
import pytest
from conftest import core_of, register

from convos.web.keys import AUTH

PASSWORD = "longenough"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def clock_of(client: Any) -> Clock:
    clock = Clock()
    client.server.app[AUTH].two_factor.clock = clock
    return clock


def code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


async def enrol(client: Any, clock: Clock) -> tuple[str, list[str]]:
    res = await client.post("/api/user/two-factor")
    body = await res.json()
    assert res.status == 200, body
    secret = body["secret"]
    assert body["uri"].startswith("otpauth://totp/") and f"secret={secret}" in body["uri"]
    assert body["qr"].startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(body["qr"].split(",", 1)[1])
    res = await client.post("/api/user/two-factor/confirm", json={"code": code(secret, clock.now)})
    body = await res.json()
    assert res.status == 200, body
    assert body["enabled"] is True and body["recovery_codes_left"] == 10
    assert len(set(body["recovery_codes"])) == 10
    return secret, body["recovery_codes"]


async def login(client: Any, **extra: str) -> Any:
    client.session.cookie_jar.clear()
    return await client.post("/api/user/login", json={"email": "a@example.com", "password": PASSWORD, **extra})


async def test_enrol_and_log_in_with_a_code(client: Any, home: Path) -> None:
    await register(client, "a@example.com")
    clock = clock_of(client)
    res = await client.get("/api/user/two-factor")
    assert await res.json() == {"enabled": False, "required": False, "recovery_codes_left": 0}
    secret, recovery = await enrol(client, clock)

    # On disk: the secret encrypted, the recovery codes as digests, the key file 0600.
    saved = json.loads((home / "a@example.com" / "user.json").read_text())["two_factor"]
    assert secret not in json.dumps(saved)
    assert not any(r in json.dumps(saved) for r in recovery)
    key = home / "auth.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    res = await login(client)
    body = await res.json()
    assert res.status == 400
    assert body["errors"] == [{"message": "Two-factor code required.", "path": "/body/code"}]
    assert (await client.get("/api/user")).status == 401  # no session without the code

    res = await login(client, code="000000" if code(secret, clock.now + 30) != "000000" else "111111")
    assert res.status == 400
    assert (await res.json())["errors"][0]["message"] == "Invalid two-factor code."

    clock.now += 30
    res = await login(client, code=code(secret, clock.now))
    assert res.status == 200, await res.text()
    assert (await client.get("/api/user")).status == 200
    # The same code again (a replay within its 90 s) is refused.
    res = await login(client, code=code(secret, clock.now))
    assert res.status == 400


async def test_a_recovery_code_works_once(client: Any) -> None:
    await register(client, "a@example.com")
    clock = clock_of(client)
    _secret, recovery = await enrol(client, clock)
    res = await login(client, code=recovery[3].upper())
    assert res.status == 200, await res.text()
    res = await client.get("/api/user/two-factor")
    assert (await res.json())["recovery_codes_left"] == 9
    res = await login(client, code=recovery[3])
    assert res.status == 400
    res = await login(client, code=recovery[4])
    assert res.status == 200


async def test_wrong_codes_are_limited_per_account(make_client: Any) -> None:
    client = await make_client({"CONVOS_AUTH_TOTP_FAILURES": "3", "CONVOS_AUTH_TOTP_FAILURE_INTERVAL": "600"})
    await register(client, "a@example.com")
    clock = clock_of(client)
    secret, _ = await enrol(client, clock)
    wrong = "123456" if code(secret, clock.now + 30) != "123456" else "654321"
    statuses = [(await login(client, code=wrong)).status for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    clock.now += 30
    res = await login(client, code=code(secret, clock.now))
    assert res.status == 429  # even the right code waits: guessing must not go on


async def test_confirm_needs_a_right_code_and_turning_off_needs_the_password(client: Any) -> None:
    await register(client, "a@example.com")
    clock_of(client)
    res = await client.post("/api/user/two-factor/confirm", json={"code": "123456"})
    assert (await res.json())["errors"][0]["message"] == "Start setting up two-factor codes first."
    await client.post("/api/user/two-factor")
    res = await client.post("/api/user/two-factor/confirm", json={"code": "12345"})
    assert res.status == 400
    assert (await client.get("/api/user/two-factor")).status == 200
    assert (await (await client.get("/api/user/two-factor")).json())["enabled"] is False

    clock = clock_of(client)
    await enrol(client, clock)
    res = await client.delete("/api/user/two-factor", json={"password": "wrong-password"})
    assert res.status == 400
    res = await client.delete("/api/user/two-factor", json={"password": PASSWORD})
    assert res.status == 200 and (await res.json())["enabled"] is False
    assert "two_factor" not in core_of(client).get_user("a@example.com").extra
    res = await login(client)
    assert res.status == 200


async def test_required_for_everyone(make_client: Any) -> None:
    client = await make_client({"CONVOS_AUTH_TOTP_REQUIRED": "1"})
    await register(client, "a@example.com")
    clock = clock_of(client)
    res = await login(client)
    body = await res.json()
    assert res.status == 200 and body["two_factor_setup"] is True
    # Until the codes are set up, the session may set them up and nothing else.
    body = await (await client.get("/api/user?connections=true")).json()
    assert body["two_factor_setup"] is True and "connections" not in body
    res = await client.get("/api/connections")
    assert res.status == 403
    assert (await res.json())["errors"] == [{"message": "Set up two-factor codes first.", "path": "/two_factor"}]
    assert (await client.get("/api/user")).status == 200
    res = await client.delete("/api/user/two-factor", json={"password": PASSWORD})
    assert res.status == 403
    secret, _ = await enrol(client, clock)
    assert (await client.get("/api/connections")).status == 200
    clock.now += 30
    res = await login(client)
    assert res.status == 400
    res = await login(client, code=code(secret, clock.now))
    assert res.status == 200 and "two_factor_setup" not in await res.json()


async def test_a_concurrent_replay_is_refused_once(client: Any) -> None:
    import asyncio

    await register(client, "a@example.com")
    clock = clock_of(client)
    secret, _ = await enrol(client, clock)
    clock.now += 30
    two_factor = client.server.app[AUTH].two_factor
    user = core_of(client).get_user("a@example.com")
    results = await asyncio.gather(*(two_factor.verify(user, code(secret, clock.now)) for _ in range(3)))
    assert sorted(results) == [False, False, True]


@pytest.mark.parametrize("bad", ["", "abcdef", "1234567", "12 34 5"])
async def test_codes_of_the_wrong_shape_never_match(client: Any, bad: str) -> None:
    await register(client, "a@example.com")
    clock = clock_of(client)
    await enrol(client, clock)
    user = core_of(client).get_user("a@example.com")
    assert await client.server.app[AUTH].two_factor.verify(user, bad) is False


async def test_a_password_alone_is_refused_for_users_with_codes(make_client: Any) -> None:
    """Auth.check_password is the path for the IRC listener's SASL: no second step there."""
    client = await make_client()
    await register(client, "a@example.com")
    auth = client.server.app[AUTH]
    assert (await auth.check_password("a@example.com", PASSWORD)).email == "a@example.com"
    assert await auth.check_password("a@example.com", "wrong-password") is None
    await enrol(client, clock_of(client))
    assert await auth.check_password("a@example.com", PASSWORD) is None
    assert (await auth.check_first_factor("a@example.com", PASSWORD)).email == "a@example.com"


async def test_header_sessions_are_not_asked_for_codes(make_client: Any) -> None:
    client = await make_client({"CONVOS_AUTH_TOTP_REQUIRED": "1", "CONVOS_AUTH_PROVIDERS": "header",
                                "CONVOS_ADMIN": "boss@example.com"})
    headers = {"X-Authenticated-User": "boss@example.com"}
    body = await (await client.get("/api/user", headers=headers)).json()
    assert "two_factor_setup" not in body
    assert (await client.get("/api/connections", headers=headers)).status == 200


async def test_an_admin_turns_off_someone_elses_codes(client: Any, home: Path) -> None:
    """For a user who lost both the app and the recovery codes: only an admin may, the user list
    says who has codes on, and afterwards the password alone signs the user in."""
    await register(client, "admin@example.com")
    core_of(client).settings.open_to_public = True
    client.session.cookie_jar.clear()
    await register(client, "a@example.com")
    clock = clock_of(client)
    await enrol(client, clock)
    # Not by the user with a session of their own (a lost phone is what this is for), nor anyone not admin.
    res = await client.delete("/api/user/a@example.com/two-factor")
    assert res.status == 403
    assert (await res.json())["errors"][0]["message"] == "Only admins can turn off someone else's two-factor codes."
    assert core_of(client).get_user("a@example.com").extra["two_factor"]["secret"]

    client.session.cookie_jar.clear()
    res = await client.post("/api/user/login", json={"email": "admin@example.com", "password": PASSWORD})
    assert res.status == 200
    listed = {u["email"]: u["two_factor"] for u in (await (await client.get("/api/users")).json())["users"]}
    assert listed == {"admin@example.com": False, "a@example.com": True}
    res = await client.delete("/api/user/nobody@example.com/two-factor")
    assert res.status == 404
    res = await client.delete("/api/user/A@example.com/two-factor")
    assert res.status == 200 and (await res.json())["enabled"] is False
    saved = json.loads((home / "a@example.com" / "user.json").read_text())
    assert "two_factor" not in saved
    res = await login(client)
    assert res.status == 200 and "two_factor_setup" not in await res.json()
