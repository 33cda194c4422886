"""Accounts made by the server admin (``concord register-user``), not through the API."""

from __future__ import annotations

from homeserver.clock import Clock
from homeserver.storage.accounts_store import AccountsStore, UserExistsError, UserRecord

from .errors import user_in_use
from .passwords import PasswordHasher, validate_new_password
from .registration import user_id_for


async def create_account(
    store: AccountsStore,
    hasher: PasswordHasher,
    clock: Clock,
    server_name: str,
    username: str,
    password: str,
    *,
    admin: bool = False,
) -> UserRecord:
    """Validate like ``/register`` does and create the account; ``MatrixError`` if not."""
    user_id = user_id_for(username, server_name)
    validate_new_password(password)
    if await store.user_exists(user_id):
        raise user_in_use()
    password_hash = await hasher.hash(password)
    try:
        return await store.create_user(user_id, password_hash, clock.time_ms(), is_admin=admin)
    except UserExistsError:
        raise user_in_use() from None
