"""What a daemon loads: libraries of sign-in methods that are off stay out of its memory.

ldap3 (with pyasn1) and joserfc are ~220 modules and ~8 MiB of RSS; segno draws the QR code of
a two-factor enrolment. docs/performance.md (issue 12, before and after) measured the daemon
10 MiB larger once they were imported by every daemon. Each test builds the application in a
fresh interpreter, as `convos daemon` does, and lists the top-level packages it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, json, sys
from convos.cli import build_app, build_core
from convos.config import Config

async def main():
    env = {"CONVOS_HOME": sys.argv[1], "CONVOS_SKIP_CONNECT": "1", **json.loads(sys.argv[2])}
    config = Config.from_env(env)
    core = build_core(config)
    await core.load_settings()
    build_app(core, config)
    print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))

asyncio.run(main())
"""

OPTIONAL = {"ldap3", "pyasn1", "joserfc", "segno"}


def packages(home: Path, env: dict[str, str]) -> set[str]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(home), json.dumps(env)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_a_daemon_without_ldap_or_oidc_does_not_load_their_libraries(tmp_path: Path) -> None:
    loaded = packages(tmp_path, {})
    assert "aiohttp" in loaded and "convos" in loaded  # the application was built
    assert not loaded & OPTIONAL, f"loaded though no sign-in method needs them: {sorted(loaded & OPTIONAL)}"


def test_a_daemon_with_ldap_and_oidc_loads_them_at_start(tmp_path: Path) -> None:
    """At start-up, not on the loop during the first sign-in (joserfc takes 0.1-0.4 s to import)."""
    loaded = packages(tmp_path, {
        "CONVOS_AUTH_PROVIDERS": "ldap,oidc",
        "CONVOS_AUTH_LDAP_URL": "ldap://127.0.0.1:389",
        "CONVOS_AUTH_OIDC_ISSUER": "https://id.example.com",
        "CONVOS_AUTH_OIDC_CLIENT_ID": "convos",
    })
    assert {"ldap3", "joserfc"} <= loaded
