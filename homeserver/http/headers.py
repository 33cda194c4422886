"""Case-insensitive header maps (RFC 9110 §5.1: field names are case-insensitive)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping


class Headers(MutableMapping[str, str]):
    """Header fields keyed case-insensitively, keeping the case they were set with.

    A field received more than once is one value joined with ``", "`` (RFC 9110 §5.3);
    ``getall`` still returns each of them.
    """

    __slots__ = ("_fields", "_repeated")

    def __init__(self, initial: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._fields: dict[str, tuple[str, str]] = {}
        self._repeated: dict[str, list[str]] | None = None
        pairs = initial.items() if isinstance(initial, Mapping) else initial
        for name, value in pairs:
            self._fields[name.lower()] = (name, value)

    @classmethod
    def received(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """The fields of a request, in the order they arrived."""
        headers = cls()
        fields = headers._fields
        for name, value in pairs:
            key = name.lower()
            found = fields.get(key)
            if found is None:
                fields[key] = (name, value)
                continue
            if headers._repeated is None:
                headers._repeated = {}
            headers._repeated.setdefault(key, [found[1]]).append(value)
            fields[key] = (found[0], found[1] + ", " + value)
        return headers

    def getall(self, name: str) -> list[str]:
        key = name.lower()
        if self._repeated is not None and key in self._repeated:
            return list(self._repeated[key])
        found = self._fields.get(key)
        return [] if found is None else [found[1]]

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        self._fields[name.lower()] = (name, value)

    def __delitem__(self, name: str) -> None:
        del self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._fields.values())

    def __len__(self) -> int:
        return len(self._fields)

    def fields(self) -> Iterator[tuple[str, str]]:
        """(name, value) pairs with the names as they were set."""
        return iter(self._fields.values())

    def __repr__(self) -> str:
        return f"Headers({dict(self._fields.values())!r})"
