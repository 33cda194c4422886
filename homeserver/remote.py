"""What the homeserver needs of federation, as interfaces it owns.

``homeserver`` may not import ``federation`` (DESIGN.md "Import direction"), yet some
client requests are answered by other servers: a remote user's profile, a remote
alias, remote users' keys, another server's room directory, a space child we do not
know. Handlers take a ``RemoteCaller`` (None: federation is off) and an ``EduSender``;
``homeserver/app.py`` hands them adapters over ``federation.client.FederationClient``
and ``federation.sender.FederationSender``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

JsonDict = dict[str, Any]
QueryArgs = Mapping[str, str | Sequence[str]]


class RemoteError(Exception):
    """A request to another server failed; ``status`` None: it could not be reached
    (no connection, timeout, an unreadable answer)."""

    def __init__(self, status: int | None, errcode: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode
        self.message = message

    def failure(self) -> JsonDict:
        """The entry of a ``failures`` map (``/keys/query``, ``/keys/claim``): Synapse's
        shape, which clients read as opaque."""
        return {"status": self.status or 503, "message": self.message}


class RemoteCaller(Protocol):
    """Signed federation requests (``federation.client.FederationClient``); errors are
    ``RemoteError``. ``path`` is already percent-encoded (see ``fed_path``)."""

    async def get_json(
        self, destination: str, path: str, query: QueryArgs | None = None, *, timeout: float = 60.0
    ) -> Any: ...

    async def post_json(
        self,
        destination: str,
        path: str,
        body: Any,
        query: QueryArgs | None = None,
        *,
        timeout: float = 60.0,
    ) -> Any: ...


class EduSender(Protocol):
    """``federation.sender.FederationSender.send_edu``: queue an EDU for a server; a
    later one with the same ``(edu_type, key)`` replaces a queued one."""

    def send_edu(
        self, destination: str, edu_type: str, content: JsonDict, *, key: Hashable | None = None
    ) -> None: ...


@runtime_checkable
class PersistentEduSender(Protocol):
    """``FederationSender.send_persistent_edus``: EDUs kept until delivered, across
    failures and restarts, as ``(destination, edu_type, id, content)``; an id already
    queued for the destination is not queued twice."""

    async def send_persistent_edus(
        self, items: Sequence[tuple[str, str, str, JsonDict]]
    ) -> None: ...


def fed_path(template: str, *args: str) -> str:
    """``template`` with each ``{}`` replaced by an argument, percent-encoded whole."""
    return template.format(*(quote(arg, safe="") for arg in args))
