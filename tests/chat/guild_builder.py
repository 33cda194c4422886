"""Build a guild space's state mapping the way the steward's events would leave it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeserver.chat import event_types as et

STEWARD = "@concord:example.org"
OWNER = "@owner:example.org"
SPACE = "!space:example.org"

State = dict[tuple[str, str], dict[str, Any]]


def admin_role() -> dict[str, Any]:
    return {"name": "Admin", "position": et.ADMIN_ROLE_POSITION, "permissions": ["administrator"]}


def space_state(
    *,
    roles: dict[str, dict[str, Any]] | None = None,
    member_roles: dict[str, Iterable[str]] | None = None,
    members: Iterable[str] = (),
    owner: str | None = OWNER,
) -> State:
    """A space with the steward (its creator) and ``owner`` joined, plus ``members``."""
    create: dict[str, Any] = {"type": "m.space", "room_version": "12"}
    if owner is not None:
        create[et.OWNER_FIELD] = owner
    state: State = {(et.CREATE, ""): create}
    for user in (STEWARD, *([owner] if owner else []), *members):
        state[(et.MEMBER, user)] = {"membership": "join"}
    for role_id, content in {et.ADMIN_ROLE_ID: admin_role(), **(roles or {})}.items():
        state[(et.ROLE, role_id)] = content
    for user, held in (member_roles or {}).items():
        state[(et.MEMBER_ROLES, et.member_roles_key(user))] = {"roles": list(held)}
    return state
