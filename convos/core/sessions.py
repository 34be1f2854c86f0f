"""A user's sessions: a generation every cookie must carry, and the ids of sessions that logged out.

Stored in user.json under "sessions": {"generation": str, "revoked": {session_id: until}}.
A cookie names (generation, session id). It is good while the generation is the user's and the
id is not revoked. A new generation ends every session at once (password change, "log out
everywhere"); logout revokes one id until no copy of its cookie can still be valid (the cookie's
maximum age after the logout), so the list stays short. It never holds more than MAX_REVOKED ids:
one more starts a new generation instead of forgetting a revoked id.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

# Revoked session ids kept per user; more logouts within a cookie's lifetime end every session.
MAX_REVOKED = 100
_ID_BYTES = 12


def new_id() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


@dataclass(slots=True)
class SessionState:
    generation: str = ""
    revoked: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> SessionState:
        if not isinstance(data, dict):
            return cls()
        gen = data.get("generation")
        revoked = data.get("revoked")
        return cls(
            generation=gen if isinstance(gen, str) else "",
            revoked={str(k): int(v) for k, v in revoked.items()
                     if isinstance(v, int) and not isinstance(v, bool)} if isinstance(revoked, dict) else {},
        )

    def to_dict(self) -> dict[str, Any]:
        return {"generation": self.generation, "revoked": dict(self.revoked)}

    def valid(self, generation: object, session_id: object) -> bool:
        """Whether a cookie with this generation and id is still a session of the user."""
        return (bool(self.generation) and isinstance(generation, str) and isinstance(session_id, str)
                and secrets.compare_digest(generation, self.generation) and session_id not in self.revoked)

    def renew(self) -> None:
        """A new generation: every session so far has ended."""
        self.generation = new_id()
        self.revoked.clear()

    def prune(self, now: float) -> bool:
        """Forget revoked ids whose cookies have all expired; whether anything changed."""
        stale = [sid for sid, until in self.revoked.items() if until <= now]
        for sid in stale:
            del self.revoked[sid]
        return bool(stale)

    def revoke(self, session_id: str, until: int, now: float) -> None:
        self.prune(now)
        if len(self.revoked) >= MAX_REVOKED:
            self.renew()
            return
        self.revoked[session_id] = until
