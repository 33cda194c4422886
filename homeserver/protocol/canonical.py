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

from .errors import CanonicalJsonError

MAX_SAFE_INTEGER = 2**53 - 1
MIN_SAFE_INTEGER = -(2**53) + 1

JsonDict = dict[str, Any]


def check_strict(value: object, path: str = "") -> None:
    """Reject what strict canonical JSON forbids: floats and integers out of range.

    spec: room versions 6+ "Canonical JSON" — servers MUST strictly enforce it.
    """
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
    """
    if strict:
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
