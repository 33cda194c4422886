"""Server ACLs: whether a server may take part in a room, from ``m.room.server_acl``.

spec: client-server "Server Access Control Lists (ACLs) for rooms" and the
``m.room.server_acl`` event schema: ``allow`` and ``deny`` are lists of case-insensitive
glob patterns (appendices "Glob-style matching") matched against the server name
without its port; ``allow_ip_literals`` (default true) may shut out IP literal names.
The order of the checks is the schema's:

1. no ``m.room.server_acl`` in the room state: allow;
2. an IP literal name while ``allow_ip_literals`` is ``false``: deny;
3. a name matching a ``deny`` entry: deny;
4. a name matching an ``allow`` entry: allow;
5. otherwise deny (a missing ``allow`` is an empty list).

Malformed content is read leniently, as the schema says for defaults: a non-list
``allow``/``deny`` is an empty list, non-string entries are skipped, a non-boolean
``allow_ip_literals`` is ``true``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .push_glob import Glob, compile_glob, glob_matches


def host_without_port(server_name: str) -> str:
    """The host part of a server name: ``[::1]:8448`` -> ``[::1]``, ``a.b:80`` -> ``a.b``.

    spec: m.room.server_acl — "the suspect server's port number must not be considered".
    Lenient on malformed names (they simply fail to match most patterns).
    """
    if server_name.startswith("["):
        end = server_name.find("]")
        return server_name if end < 0 else server_name[: end + 1]
    return server_name.partition(":")[0]


def is_ip_literal(host: str) -> bool:
    """Whether ``host`` (without port) is an IPv4 literal or a bracketed IPv6 literal."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _globs(value: object) -> tuple[Glob, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(compile_glob(item) for item in value if isinstance(item, str))


@dataclass(frozen=True, slots=True)
class AclRules:
    """The compiled content of one ``m.room.server_acl`` event."""

    allow: tuple[Glob, ...]
    deny: tuple[Glob, ...]
    allow_ip_literals: bool

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> AclRules:
        ip_literals = content.get("allow_ip_literals", True)
        return cls(
            allow=_globs(content.get("allow")),
            deny=_globs(content.get("deny")),
            allow_ip_literals=ip_literals if isinstance(ip_literals, bool) else True,
        )

    def allows(self, server_name: str) -> bool:
        host = host_without_port(server_name)
        if not self.allow_ip_literals and is_ip_literal(host):
            return False
        if any(glob_matches(glob, host) for glob in self.deny):
            return False
        return any(glob_matches(glob, host) for glob in self.allow)


def server_allowed(acl_content: Mapping[str, Any] | None, server_name: str) -> bool:
    """Whether ``server_name`` may take part in a room whose ``m.room.server_acl``
    content is ``acl_content`` (None: the room has no ACL, everyone is allowed)."""
    if acl_content is None:
        return True
    return AclRules.from_content(acl_content).allows(server_name)
