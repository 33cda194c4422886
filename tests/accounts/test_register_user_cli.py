"""``concord register-user`` as an admin runs it, on each database engine."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import pytest
import yaml

from homeserver.__main__ import main
from homeserver.accounts.passwords import PasswordHasher
from homeserver.config import load_config
from homeserver.storage.accounts_store import UserRecord
from homeserver.storage.open import open_database
from homeserver.storage.store import Store


@pytest.fixture
def config_path(db_engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    database: dict[str, str] = {"engine": "sqlite", "path": "concord.db"}
    if db_engine == "postgres":
        database = {"engine": "postgres", "dsn": request.getfixturevalue("postgres_dsn")}
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"server_name": "cli.test", "bcrypt_rounds": 4, "database": database})
    )
    return path


def stored_user(config_path: Path, user_id: str) -> UserRecord | None:
    async def read() -> UserRecord | None:
        store = Store(open_database(load_config(config_path).database))
        try:
            return await store.accounts.get_user(user_id)
        finally:
            await store.close()

    return asyncio.run(read())


def test_register_user(
    config_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["register-user", "--config", str(config_path)]
    assert main([*args, "Alice", "--password", "s3cret", "--admin"]) == 0
    assert capsys.readouterr().out.strip() == "Registered @alice:cli.test as an admin"
    alice = stored_user(config_path, "@alice:cli.test")
    assert alice is not None and alice.is_admin and not alice.deactivated
    assert asyncio.run(PasswordHasher(4).check("s3cret", alice.password_hash))

    assert main([*args, "alice", "--password", "x"]) == 1
    assert "already taken" in capsys.readouterr().err
    assert main([*args, "no spaces", "--password", "x"]) == 1
    assert "a-z" in capsys.readouterr().err

    # Without --password it asks twice, and the answers must agree.
    answers = iter(["one", "two"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    assert main([*args, "bob"]) == 1
    assert "do not match" in capsys.readouterr().err
    answers = iter(["same", "same"])
    assert main([*args, "bob"]) == 0
    bob = stored_user(config_path, "@bob:cli.test")
    assert bob is not None and not bob.is_admin
    assert asyncio.run(PasswordHasher(4).check("same", bob.password_hash))
