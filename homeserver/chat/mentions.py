"""``@role`` mentions: who a message's ``im.concord.role_mentions`` notifies.

The push evaluator treats each returned user as if listed in ``m.mentions.user_ids``, so
the ordinary ``.m.rule.is_user_mention`` rule highlights them (spec: client-server "User
and room mentions"). A role is mentioned only when it is ``mentionable`` or the sender
holds ``mention_roles``; otherwise ``@Everyone-ish`` roles could be used to spam.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import event_types as et
from .guild import Guild, permissions_of, role_members


def role_mention_targets(guild: Guild, sender: str, content: Mapping[str, Any]) -> frozenset[str]:
    """Users to notify for the role mentions in a message ``content`` (malformed: none)."""
    mentioned = content.get(et.ROLE_MENTIONS)
    if not isinstance(mentioned, list):
        return frozenset()
    may_mention_any = et.MENTION_ROLES in permissions_of(guild, sender)
    targets: set[str] = set()
    for role_id in mentioned:
        if not isinstance(role_id, str):
            continue
        role = guild.roles.get(role_id)
        if role is not None and (role.mentionable or may_mention_any):
            targets |= role_members(guild, role_id)
    return frozenset(targets)
