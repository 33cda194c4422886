"""Stream tokens (``/sync`` ``since`` / ``next_batch``) and pagination tokens.

A sync token is an opaque string of one position per stream (DESIGN.md "Read
path"); a topological token ``t<depth>_<stream>`` names a point in a room's DAG
order for ``/messages``. Both kinds are accepted wherever the spec allows either.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from homeserver.errors import MatrixError

STREAMS = (
    "room_events",
    "account_data",
    "typing",
    "receipts",
    "presence",
    "to_device",
    "device_lists",
)

_STREAM_TOKEN = re.compile(r"^s(\d+(?:_\d+)*)$")
_TOPO_TOKEN = re.compile(r"^t(-?\d+)_(-?\d+)$")


@dataclass(frozen=True, slots=True)
class StreamToken:
    room_events: int = 0
    account_data: int = 0
    typing: int = 0
    receipts: int = 0
    presence: int = 0
    to_device: int = 0
    device_lists: int = 0

    def encode(self) -> str:
        return "s" + "_".join(str(getattr(self, name)) for name in STREAMS)

    def advance(self, **positions: int) -> StreamToken:
        return dataclasses.replace(self, **positions)

    @classmethod
    def parse(cls, text: str) -> StreamToken:
        """Parse a token we issued; older tokens with fewer streams read as zeros."""
        match = _STREAM_TOKEN.match(text)
        if match is None:
            raise MatrixError(400, "M_INVALID_PARAM", f"Invalid stream token: {text!r}")
        parts = [int(p) for p in match.group(1).split("_")]
        if len(parts) > len(STREAMS):
            raise MatrixError(400, "M_INVALID_PARAM", f"Invalid stream token: {text!r}")
        return cls(*parts)


@dataclass(frozen=True, slots=True, order=True)
class TopoToken:
    """A position between events in (depth, stream_ordering) order."""

    depth: int
    stream: int

    def encode(self) -> str:
        return f"t{self.depth}_{self.stream}"

    @classmethod
    def parse(cls, text: str) -> TopoToken:
        match = _TOPO_TOKEN.match(text)
        if match is None:
            raise MatrixError(400, "M_INVALID_PARAM", f"Invalid pagination token: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))


def is_stream_token(text: str) -> bool:
    return _STREAM_TOKEN.match(text) is not None
