"""The ``X-Matrix`` authorization of server-server requests.

spec: server-server "Request Authentication" — the sender signs the JSON object
``{method, uri, origin, destination, content}`` (``content`` only when the request has
a body) with the JSON signing algorithm and sends the signature in an
``Authorization: X-Matrix origin=...,destination=...,key=...,sig=...`` header. The header
follows RFC 9110 §11.4: parameter names are case-insensitive, values are tokens or
quoted strings with backslash escapes, unknown parameters are ignored, and (for older
servers) a colon is allowed in an unquoted value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .canonical import JsonDict, encode_canonical_json
from .errors import InvalidIdentifier, ProtocolError
from .ids import parse_server_name
from .signing_keys import SigningKey

SCHEME = "X-Matrix"


class XMatrixError(ProtocolError):
    """An ``Authorization`` header that is not a well-formed ``X-Matrix`` one."""


@dataclass(frozen=True, slots=True)
class XMatrixAuth:
    origin: str
    destination: str | None  # optional for older senders; always sent by us
    key: str  # key id, e.g. "ed25519:abc"
    sig: str  # unpadded base64 signature


def request_json(
    method: str, uri: str, origin: str, destination: str, content: Any | None = None
) -> JsonDict:
    """The object whose signature authenticates a request (step 1 of the spec)."""
    obj: JsonDict = {
        "method": method,
        "uri": uri,
        "origin": origin,
        "destination": destination,
    }
    if content is not None:
        obj["content"] = content
    return obj


def sign_request(
    key: SigningKey, method: str, uri: str, destination: str, content: Any | None = None
) -> str:
    """The ``Authorization`` header value for a request we send as ``key.server_name``.

    Written the way the spec asks senders to for older servers: one space after the
    scheme, lower-case names, quoted values, no spaces around the commas.
    """
    obj = request_json(method, uri, key.server_name, destination, content)
    sig = key.sign_bytes(encode_canonical_json(obj, strict=False))
    return format_authorization(XMatrixAuth(key.server_name, destination, key.key_id, sig))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_authorization(auth: XMatrixAuth) -> str:
    params = [("origin", auth.origin)]
    if auth.destination is not None:
        params.append(("destination", auth.destination))
    params += [("key", auth.key), ("sig", auth.sig)]
    return SCHEME + " " + ",".join(f"{name}={_quote(value)}" for name, value in params)


_WS = " \t"


def _parse_params(text: str) -> dict[str, str]:
    """``name=value`` pairs separated by commas (RFC 9110 §11.4 ``#auth-param``)."""
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while True:
        while i < n and (text[i] in _WS or text[i] == ","):
            i += 1
        if i >= n:
            return params
        start = i
        while i < n and text[i] not in "=," and text[i] not in _WS:
            i += 1
        name = text[start:i].lower()
        while i < n and text[i] in _WS:
            i += 1
        if not name or i >= n or text[i] != "=":
            raise XMatrixError("X-Matrix parameters must be name=value pairs")
        i += 1
        while i < n and text[i] in _WS:
            i += 1
        if i < n and text[i] == '"':
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise XMatrixError(f"unterminated quoted value for {name!r}")
                c = text[i]
                if c == "\\":
                    if i + 1 >= n:
                        raise XMatrixError(f"unterminated quoted value for {name!r}")
                    chars.append(text[i + 1])
                    i += 2
                elif c == '"':
                    i += 1
                    break
                else:
                    chars.append(c)
                    i += 1
            value = "".join(chars)
        else:
            start = i
            # A token, leniently: anything up to the next comma or space (colons from
            # older servers, the '/' and '+' of base64).
            while i < n and text[i] != "," and text[i] not in _WS and text[i] != '"':
                i += 1
            value = text[start:i]
        while i < n and text[i] in _WS:
            i += 1
        if i < n and text[i] != ",":
            raise XMatrixError(f"expected a comma after the value of {name!r}")
        if name in params:
            raise XMatrixError(f"X-Matrix parameter {name!r} is given twice")
        params[name] = value


def parse_authorization(header: str) -> XMatrixAuth:
    """Parse one ``Authorization`` header value; raises ``XMatrixError``."""
    scheme, _, rest = header.strip(_WS).partition(" ")
    if scheme.lower() != SCHEME.lower():
        raise XMatrixError("the Authorization header does not use the X-Matrix scheme")
    params = _parse_params(rest)
    missing = [name for name in ("origin", "key", "sig") if not params.get(name)]
    if missing:
        raise XMatrixError(f"X-Matrix authorization is missing {', '.join(missing)}")
    origin = params["origin"]
    destination = params.get("destination")
    for what, name in (("origin", origin), ("destination", destination)):
        if name is None:
            continue
        try:
            parse_server_name(name)
        except InvalidIdentifier as exc:
            raise XMatrixError(f"X-Matrix {what} is not a server name: {exc}") from exc
    return XMatrixAuth(origin, destination, params["key"], params["sig"])


def is_x_matrix(header: str) -> bool:
    """Whether an ``Authorization`` value uses the X-Matrix scheme (any case)."""
    return header.strip(_WS).partition(" ")[0].lower() == SCHEME.lower()


def signed_request_json(
    auth: XMatrixAuth, method: str, uri: str, destination: str, content: Any | None
) -> JsonDict:
    """The request object with the header's signature in it, for ``verify_json``.

    ``destination`` is the receiving server's own name (what the sender must have
    signed), whether or not the header named it.
    """
    obj = request_json(method, uri, auth.origin, destination, content)
    signatures: Mapping[str, Mapping[str, str]] = {auth.origin: {auth.key: auth.sig}}
    obj["signatures"] = signatures
    return obj
