"""Argon2id password hashes in PHC form; legacy bcrypt hashes verify and get upgraded."""

from __future__ import annotations

import asyncio
import weakref

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# The original's parameters: 64 MiB, 3 passes, 1 lane -> $argon2id$v=19$m=65536,t=3,p=1$...
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1, hash_len=32, salt_len=16)


# Checked instead when there is no hash to check (an unknown email, an account without a password),
# so a refused login costs the same whether the account exists or not. Same parameters as
# _hasher; the password behind it was random and is not kept anywhere.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=1$/hVzn7eGXDPIPQQUQOvQ9A$MFb9TJ/7YahVDPA5vdwAiAkHorqOM9Pp5g3pea9b/gI"


def hash_password(plain: str) -> str:
    return _hasher.hash(plain)


def verify_password(stored: str, plain: str) -> tuple[bool, bool]:
    """Return (valid, needs_rehash). An empty stored hash never verifies."""
    if not stored:
        return False, False
    if stored.startswith(("$2a$", "$2b$", "$2y$")):
        try:
            ok = bcrypt.checkpw(plain.encode("utf-8"), stored.replace("$2y$", "$2b$", 1).encode("ascii"))
        except ValueError:
            return False, False
        return ok, ok
    try:
        _hasher.verify(stored, plain)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(stored)


# Each Argon2 run takes 64 MiB for tens of milliseconds. A burst of logins waits its turn
# instead of adding 64 MiB each to the daemon's memory.
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _SLOTS:
        _SLOTS[loop] = asyncio.Semaphore(2)
    return _SLOTS[loop]


async def hash_password_async(plain: str) -> str:
    # Off the event loop, in a thread.
    async with _slots():
        return await asyncio.to_thread(hash_password, plain)


async def verify_password_async(stored: str, plain: str) -> tuple[bool, bool]:
    """Like verify_password, and as slow without a stored hash as with one (DUMMY_HASH)."""
    async with _slots():
        if not stored:
            await asyncio.to_thread(verify_password, DUMMY_HASH, plain)
            return False, False
        return await asyncio.to_thread(verify_password, stored, plain)
