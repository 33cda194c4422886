"""Canonical JSON and the hashing helpers built on it.

spec: appendices "Canonical JSON": keys sorted by code point, no insignificant
whitespace, UTF-8, shortest escapes, integers only in [-(2**53)+1, (2**53)-1] for
room versions with strict canonical JSON (v6 onwards).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import canonicaljson
import orjson

from .errors import CanonicalJsonError

MAX_SAFE_INTEGER = 2**53 - 1
MIN_SAFE_INTEGER = -(2**53) + 1

JsonDict = dict[str, Any]


def _plain_scalar(item: object) -> bool:
    kind = type(item)
    if kind is int:
        return MIN_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER  # type: ignore[operator]
    return kind is str or kind is bool or item is None


def _plainly_strict(value: object) -> bool:
    """Fast pass over plain ``dict``/``list``/``str``/``int`` JSON (what a parser gives).

    True means ``value`` is strict canonical JSON; False means "look closer" (a float,
    an integer out of range, or a type such as a tuple or a Mapping subclass), which
    ``check_strict`` then walks again to accept it or to say where it fails. Exact
    type tests keep this several times faster than ``isinstance`` against ABCs.
    """
    # Strings, the bulk of any event, are checked where they are found and never
    # pushed; only containers go on the stack.
    if type(value) is not dict and type(value) is not list:
        return _plain_scalar(value)
    stack: list[Any] = [value]
    pop, push = stack.pop, stack.append
    while stack:
        container = pop()
        if type(container) is dict:
            for key in container:
                if type(key) is not str:
                    return False
            children = container.values()
        else:
            children = container
        for item in children:
            kind = type(item)
            if kind is str:
                continue
            if kind is int:
                if not MIN_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    return False
            elif kind is dict or kind is list:
                push(item)
            elif kind is not bool and item is not None:
                return False
    return True


def check_strict(value: object, path: str = "") -> None:
    """Reject what strict canonical JSON forbids: floats and integers out of range.

    spec: room versions 6+ "Canonical JSON" — servers MUST strictly enforce it.
    """
    if _plainly_strict(value):
        return
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if isinstance(item, int):
            if not MIN_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise CanonicalJsonError(f"integer out of range at {where or '/'}: {item}")
        elif isinstance(item, float):
            raise CanonicalJsonError(f"floats are not allowed at {where or '/'}: {item!r}")
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise CanonicalJsonError(f"object keys must be strings at {where or '/'}")
                stack.append((sub, f"{where}/{key}"))
        elif isinstance(item, list | tuple):
            for index, sub in enumerate(item):
                stack.append((sub, f"{where}/{index}"))
        else:
            raise CanonicalJsonError(
                f"value of type {type(item).__name__} is not JSON at {where or '/'}"
            )


def encode_canonical_json(value: object, *, strict: bool = True) -> bytes:
    """Encode ``value`` as canonical JSON bytes.

    ``strict`` applies the integer range and float rejection of room versions 6+;
    older room versions hash whatever JSON they were given, floats included.

    Plain JSON with no floats and no integer out of the safe range (all a strict
    event can hold, and nearly every event in practice) is encoded by orjson with
    sorted keys, which is byte-identical to canonicaljson there and several times
    faster (tests/protocol/test_canonical.py compares them); anything else, or
    anything orjson refuses (nesting deeper than its limit), goes to canonicaljson.
    """
    if _plainly_strict(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # the reference encoder below decides, and raises if it must
    elif strict:
        check_strict(value)
    try:
        return canonicaljson.encode_canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise CanonicalJsonError(f"cannot encode as canonical JSON: {exc}") from exc
    except RecursionError as exc:
        raise CanonicalJsonError("JSON is nested too deeply to encode") from exc


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def unpadded_base64(data: bytes) -> str:
    """spec: appendices "Unpadded Base64" (standard alphabet)."""
    return base64.b64encode(data).rstrip(b"=").decode("ascii")


def unpadded_urlsafe_base64(data: bytes) -> str:
    """spec: appendices "Unpadded Base64", URL-safe alphabet (event ids v4+)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_unpadded_base64(text: str) -> bytes:
    """Decode standard or URL-safe unpadded base64; padded input is accepted too."""
    try:
        raw = text.encode("ascii")
    except (UnicodeEncodeError, AttributeError) as exc:
        raise CanonicalJsonError("base64 text must be ASCII") from exc
    raw = raw.rstrip(b"=")
    raw += b"=" * (-len(raw) % 4)
    try:
        if b"-" in raw or b"_" in raw:
            return base64.urlsafe_b64decode(raw)
        return base64.b64decode(raw, validate=True)
    except (ValueError, TypeError) as exc:
        raise CanonicalJsonError(f"invalid base64: {text!r}") from exc
