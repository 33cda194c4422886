"""Glob patterns and dot-separated property paths, as push rule conditions use them.

spec: appendices "Glob-style matching" (``*`` matches zero or more characters, ``?``
exactly one) and "Dot-separated property paths" (a literal ``.`` or ``\\`` in a property
name is escaped with a backslash; other escapes stay as they are); client-server
"Conditions" (``event_match``: case-insensitive, the whole value; for ``content.body``
any substring that starts and ends at a word boundary).

Matching is done here rather than by translating the glob into a regular expression:
patterns come from users and run against other people's messages, and a backtracking
regex engine takes exponential (or high polynomial) time on patterns such as
``*a*a*a*b``. Splitting the pattern at ``*`` and placing each piece as early as possible
decides a match in O(len(value) * len(pattern)).

"Case-insensitive" (defined by the implementation, says the spec) is here: each
character of the value and of the pattern compared in its ``str.lower()`` form, one
character of the value against one of the pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A pattern position that matches any one character.
WILD: str | None = None

Segment = tuple[str | None, ...]  # characters of the pattern (lower-cased); None is ``?``


@dataclass(frozen=True, slots=True)
class Glob:
    """A pattern split at its ``*``: ``segments[0]*segments[1]*...``."""

    segments: tuple[Segment, ...]

    @property
    def starred(self) -> bool:
        return len(self.segments) > 1

    @property
    def min_length(self) -> int:
        return sum(len(segment) for segment in self.segments)


@functools.lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> Glob:
    """``pattern`` as a glob (``*`` and ``?`` are wildcards, everything else literal)."""
    return Glob(
        tuple(tuple(WILD if c == "?" else c.lower() for c in piece) for piece in pattern.split("*"))
    )


@functools.lru_cache(maxsize=1024)
def compile_literal(text: str) -> Glob:
    """``text`` matched literally (no wildcards), e.g. a display name."""
    return Glob((tuple(c.lower() for c in text),))


def _fold(value: str) -> Sequence[str]:
    """The value lower-cased character by character (index ``i`` is ``value[i]``)."""
    lowered = value.lower()
    if len(lowered) == len(value):
        return lowered
    return [c.lower() for c in value]  # a few characters lower-case to two


def _match_at(value: Sequence[str], segment: Segment, at: int) -> bool:
    if at < 0 or at + len(segment) > len(value):
        return False
    return all(p is None or value[at + k] == p for k, p in enumerate(segment))


def _find(value: Sequence[str], segment: Segment, start: int, end: int) -> int:
    """The first ``i >= start`` where ``segment`` matches with ``i + len <= end``, or -1."""
    if not segment:
        return start if start <= end else -1
    if isinstance(value, str) and all(c is not None and len(c) == 1 for c in segment):
        return value.find("".join(c for c in segment if c is not None), start, end)
    for i in range(start, end - len(segment) + 1):
        if _match_at(value, segment, i):
            return i
    return -1


def glob_matches(glob: Glob, value: str) -> bool:
    """Whether ``glob`` matches the whole of ``value`` (case-insensitively)."""
    folded = _fold(value)
    n = len(folded)
    segments = glob.segments
    if not glob.starred:
        return len(segments[0]) == n and _match_at(folded, segments[0], 0)
    if n < glob.min_length:
        return False
    first, last = segments[0], segments[-1]
    if not _match_at(folded, first, 0) or not _match_at(folded, last, n - len(last)):
        return False
    pos, end = len(first), n - len(last)
    for segment in segments[1:-1]:
        found = _find(folded, segment, pos, end)
        if found < 0:
            return False
        pos = found + len(segment)
    return True


def _is_word_char(c: str) -> bool:
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9")


def glob_matches_words(glob: Glob, value: str) -> bool:
    """Whether ``glob`` matches a substring of ``value`` that starts and ends at a word
    boundary: the start or end of the value, or a character not in ``[A-Za-z0-9_]``."""
    folded = _fold(value)
    n = len(folded)

    def starts_word(i: int) -> bool:
        return i == 0 or not _is_word_char(value[i - 1])

    def ends_word(j: int) -> bool:
        return j == n or not _is_word_char(value[j])

    segments = glob.segments
    first = segments[0]
    if not glob.starred:
        i = _find(folded, first, 0, n)
        while i >= 0:
            if starts_word(i) and ends_word(i + len(first)):
                return True
            i = _find(folded, first, i + 1, n)
        return False
    # The earliest start that can begin the match is the best one: every later
    # placement of the remaining pieces is also open to it.
    i = _find(folded, first, 0, n)
    while i >= 0 and not starts_word(i):
        i = _find(folded, first, i + 1, n)
    if i < 0:
        return False
    pos = i + len(first)
    for segment in segments[1:-1]:
        found = _find(folded, segment, pos, n)
        if found < 0:
            return False
        pos = found + len(segment)
    last = segments[-1]
    j = _find(folded, last, pos, n)
    while j >= 0:
        if ends_word(j + len(last)):
            return True
        j = _find(folded, last, j + 1, n)
    return False


# ---------------------------------------------------------------- property paths


@functools.lru_cache(maxsize=1024)
def split_path(key: str) -> tuple[str, ...]:
    """The property names of a dot-separated path: ``content.m\\.relates_to`` is
    ``("content", "m.relates_to")``; ``\\\\`` is one backslash, other escapes stay."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(key):
        c = key[i]
        if c == "\\" and i + 1 < len(key) and key[i + 1] in ".\\":
            current.append(key[i + 1])
            i += 2
            continue
        if c == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return tuple(parts)


def escape_name(name: str) -> str:
    """One property name as it is written in a dot-separated path."""
    return name.replace("\\", "\\\\").replace(".", "\\.")


def join_path(names: Sequence[str]) -> str:
    return ".".join(escape_name(name) for name in names)


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def lookup(obj: Mapping[str, Any], key: str) -> Any:
    """The value at the dot-separated ``key`` of ``obj``, or ``ABSENT``."""
    value: Any = obj
    for name in split_path(key):
        if not isinstance(value, Mapping) or name not in value:
            return ABSENT
        value = value[name]
    return value
