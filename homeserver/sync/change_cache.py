"""A stream change cache: for each key (room, user), the last stream position at
which it changed, plus a bounded log in position order.

It answers "which of these keys changed after position N" from memory, touching
only the keys that did change (or, when that would be more work, only the keys
asked about), as long as N is not older than what the cache remembers. DESIGN.md
"Read path": a sync must work from what changed since its token.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Set as AbstractSet


class StreamChangeCache:
    def __init__(self, earliest: int, max_size: int = 100_000) -> None:
        # Every change after ``earliest`` is known; older questions get "unknown".
        self.earliest = earliest
        self.latest = earliest
        self.max_size = max_size
        # key -> last position, kept in position order (oldest first).
        self._log: OrderedDict[str, int] = OrderedDict()

    def record(self, key: str, position: int) -> None:
        # Positions are published in commit order; should one arrive late, file it at
        # the newest position seen: that can only make a key look changed, never hide it.
        position = max(position, self.latest)
        self.latest = position
        self._log.pop(key, None)
        self._log[key] = position
        while len(self._log) > self.max_size:
            _, evicted = self._log.popitem(last=False)
            self.earliest = max(self.earliest, evicted)

    def knows_since(self, since: int) -> bool:
        return since >= self.earliest

    def last_change(self, key: str) -> int | None:
        return self._log.get(key)

    def has_changed(self, key: str, since: int) -> bool:
        if since < self.earliest:
            return True  # unknown: assume it did
        position = self._log.get(key)
        return position is not None and position > since

    def changed_among(self, keys: AbstractSet[str], since: int) -> set[str] | None:
        """The keys of ``keys`` that changed after ``since``; None when unknown.

        Walks the log backwards from the newest change, stopping at ``since``; if
        there are more changes than keys asked about, looks the keys up instead.
        """
        if since < self.earliest:
            return None
        changed: set[str] = set()
        budget = len(keys)
        for key in reversed(self._log):
            if self._log[key] <= since:
                return changed
            if key in keys:
                changed.add(key)
            budget -= 1
            if budget < 0:
                break
        return {key for key in keys if self.has_changed(key, since)}

    def changed_since(self, since: int) -> list[str] | None:
        """Every key that changed after ``since`` (newest first); None when unknown."""
        if since < self.earliest:
            return None
        out: list[str] = []
        for key in reversed(self._log):
            if self._log[key] <= since:
                break
            out.append(key)
        return out
