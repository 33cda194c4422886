"""Byte ranges of a download (RFC 9110 §14: ``Range``, ``Content-Range``, ``If-Range``).

One range is served as a 206; a header this server does not understand, or that asks
for several ranges, is ignored (the whole content, 200: RFC 9110 §14.2 lets a server
ignore ``Range``); a set of ranges none of which is satisfiable is a 416.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"[0-9]+")
_HUGE = 10**18  # any number this long is past the end of any file we hold


class Unsatisfiable(Exception):
    """No range of the header overlaps the content (416, RFC 9110 §15.5.17)."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive, RFC 9110 §14.1.2

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def _number(text: str) -> int | None:
    if _NUMBER.fullmatch(text) is None:
        return None
    return _HUGE if len(text) > 18 else int(text)


def _one(spec: str, size: int) -> ByteRange | bool | None:
    """A satisfiable range, None when syntactically invalid, False when unsatisfiable."""
    first, dash, last = spec.partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if not first:  # suffix-range: the last N bytes
        suffix = _number(last)
        if suffix is None:
            return None
        if suffix == 0 or size == 0:
            return False
        return ByteRange(max(0, size - suffix), size - 1)
    start = _number(first)
    if start is None:
        return None
    end: int | None = None
    if last:
        end = _number(last)
        if end is None or end < start:
            return None
    if start >= size:
        return False
    return ByteRange(start, size - 1 if end is None or end >= size else end)


def parse_range(header: str, size: int) -> ByteRange | None:
    """The one range to serve of ``size`` bytes; None to serve them all.

    Raises ``Unsatisfiable`` when the header is valid and no range of it is satisfiable.
    """
    unit, eq, ranges = header.strip().partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None  # another unit, or no range at all: ignored
    found: list[ByteRange] = []
    # RFC 9110 §5.6.1: a list may hold empty elements, which are ignored.
    specs = [s.strip() for s in ranges.split(",") if s.strip()]
    if not specs:
        return None
    for spec in specs:
        result = _one(spec, size)
        if result is None:
            return None  # §14.1.1: an invalid byte-range-spec invalidates the header
        if isinstance(result, ByteRange):
            found.append(result)
    if not found:
        raise Unsatisfiable()
    return found[0] if len(specs) == 1 else None


def unsatisfied_range(size: int) -> str:
    """The ``Content-Range`` of a 416 (RFC 9110 §14.4)."""
    return f"bytes */{size}"
