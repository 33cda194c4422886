"""bcrypt hashing: round trip, long passwords, and equal work for unknown users."""

from __future__ import annotations

import bcrypt
import pytest

from homeserver.accounts.passwords import PasswordHasher


async def test_hash_and_check() -> None:
    hasher = PasswordHasher(4)
    stored = await hasher.hash("correct horse")
    assert stored.startswith("$2b$04$")
    assert await hasher.check("correct horse", stored)
    assert not await hasher.check("wrong", stored)
    assert not await hasher.check("x", "not a bcrypt hash")
    # bcrypt reads 72 bytes; longer passwords work (bcrypt 5 would raise on them).
    long = "é" * 100
    assert await hasher.check(long, await hasher.hash(long))


async def test_unknown_user_costs_a_real_check(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(4)
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    assert not await hasher.check("anything", None)
    assert len(calls) == 1
    assert calls[0].startswith(b"$2b$04$")  # same cost as real hashes
