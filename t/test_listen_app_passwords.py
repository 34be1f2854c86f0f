"""App passwords: made and revoked through the API, kept hashed, and good for signing in to the IRC
listener (SASL and PASS) until revoked (fixtures `convos` and `native`: t/listen_client.py)."""

from __future__ import annotations

import json
from typing import Any

import pyotp
from listen_client import EMAIL, PASSWORD


async def test_app_passwords_sign_in_until_revoked(convos: Any, native: Any, home: Any) -> None:
    res = await convos.post("/api/user/app-passwords", json={"name": "phone"})
    assert res.status == 200, await res.text()
    made = await res.json()
    assert made["name"] == "phone" and made["password"].startswith("ap-") and made["created"]
    stored = json.loads((home / EMAIL / "user.json").read_text())
    [entry] = stored["app_passwords"]
    assert entry["hash"].startswith("$argon2id$") and made["password"] not in json.dumps(stored)

    res = await convos.get("/api/user/app-passwords")
    listed = (await res.json())["app_passwords"]
    assert listed == [{"id": made["id"], "name": "phone", "created": made["created"]}]  # never the password

    sasl = native("sasl")
    assert (await sasl.register(sasl=(f"{EMAIL}/localhost", made["password"]))).command == "001"
    by_pass = native("pass")
    assert (await by_pass.register(password=f"{EMAIL}/localhost:{made['password']}")).command == "001"
    # Not someone else's: the same password does not sign in another account, a changed one nothing.
    other = native("other")
    assert (await other.register(password=f"lois@example.com:{made['password']}")).command == "464"
    wrong = native("wrong")
    assert (await wrong.register(password=f"{EMAIL}/localhost:{made['password'][:-2]}xx")).command == "464"

    res = await convos.delete(f"/api/user/app-passwords/{made['id']}")
    assert res.status == 200
    revoked = native("revoked")
    assert (await revoked.register(password=f"{EMAIL}/localhost:{made['password']}")).command == "464"
    main = native("main")  # the main password still works
    assert (await main.register(password=f"{EMAIL}/localhost:{PASSWORD}")).command == "001"

    res = await convos.delete(f"/api/user/app-passwords/{made['id']}")
    assert res.status == 404
    res = await convos.post("/api/user/app-passwords", json={"name": ""})
    assert res.status == 400
    body = await res.json()
    assert body["errors"][0]["path"] == "/body/name"


async def test_two_factor_users_sign_in_to_irc_with_an_app_password_only(convos: Any, native: Any) -> None:
    """A password alone must not get around the second factor: with codes on, SASL and PASS with the
    main password are refused, and an app password (made behind the web login's code) still works."""
    before = native("before")
    assert (await before.register(sasl=(f"{EMAIL}/localhost", PASSWORD))).command == "001"
    res = await convos.post("/api/user/two-factor")
    assert res.status == 200
    secret = (await res.json())["secret"]
    res = await convos.post("/api/user/two-factor/confirm", json={"code": pyotp.TOTP(secret).now()})
    assert res.status == 200, await res.text()

    sasl = native("sasl")
    assert (await sasl.register(sasl=(f"{EMAIL}/localhost", PASSWORD))).command == "904"
    by_pass = native("pass")
    assert (await by_pass.register(password=f"{EMAIL}/localhost:{PASSWORD}")).command == "464"
    res = await convos.post("/api/user/app-passwords", json={"name": "laptop"})
    made = await res.json()
    app = native("app")
    assert (await app.register(sasl=(f"{EMAIL}/localhost", made["password"]))).command == "001"
