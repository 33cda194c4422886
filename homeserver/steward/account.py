"""The steward's account: a local system user, created on first start, that nobody can
log in as (it has no password and no device)."""

from __future__ import annotations

import logging

from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.storage.accounts_store import AccountsStore, UserExistsError

log = logging.getLogger(__name__)


class StewardAccountTaken(RuntimeError):
    """The steward's user id belongs to an account someone can log in to."""


async def ensure_steward_account(store: AccountsStore, user_id: str, clock: Clock) -> None:
    """Create the account if missing. An existing account with a password was
    registered by a person before the steward claimed the name: acting as the steward
    under it would hand them every guild, so the server refuses to start."""
    existing = await store.get_user(user_id)
    if existing is None:
        try:
            await store.create_user(user_id, None, clock.time_ms())
            log.info("steward account created", extra=fields(user_id=user_id))
        except UserExistsError:  # another worker made it meanwhile
            pass
        existing = await store.get_user(user_id)
    if existing is None or existing.password_hash is not None or existing.deactivated:
        raise StewardAccountTaken(
            f"{user_id} is an ordinary account; choose another concord.steward_localpart"
        )
