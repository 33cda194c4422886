"""X-Matrix request authentication (spec: server-server "Request Authentication")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeserver.protocol.errors import SignatureError
from homeserver.protocol.signing import SigningKey, verify_json
from homeserver.protocol.x_matrix import (
    XMatrixAuth,
    XMatrixError,
    format_authorization,
    is_x_matrix,
    parse_authorization,
    request_json,
    sign_request,
    signed_request_json,
)

KEY = SigningKey.from_seed("origin.example", "k1", b"\x07" * 32)


def test_the_spec_example_header_parses() -> None:
    auth = parse_authorization(
        'X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",'
        'key="ed25519:key1",sig="ABCDEF..."'
    )
    assert auth == XMatrixAuth(
        "origin.hs.example.com", "destination.hs.example.com", "ed25519:key1", "ABCDEF..."
    )


@pytest.mark.parametrize(
    "header",
    [
        # names are case-insensitive, order does not matter, spaces and tabs around commas
        'x-matrix  Sig="s/+x" ,\tKEY="ed25519:a",  ORIGIN="o.org:8448" , destination="d.org"',
        # unquoted tokens, and colons unquoted for older servers
        "X-Matrix origin=o.org:8448,key=ed25519:a,sig=s/+x,destination=d.org",
        # unknown parameters are ignored
        'X-Matrix origin="o.org:8448",key="ed25519:a",sig="s/+x",destination="d.org",x="1"',
        # backslash escapes in quoted values
        r'X-Matrix origin="o.org:8448",key="ed25519:\a",sig="s/\+x",destination="d.org"',
    ],
)
def test_header_grammar(header: str) -> None:
    assert parse_authorization(header) == XMatrixAuth("o.org:8448", "d.org", "ed25519:a", "s/+x")


def test_destination_is_optional_for_older_senders() -> None:
    auth = parse_authorization('X-Matrix origin="o.org",key="ed25519:a",sig="x"')
    assert auth.destination is None


@pytest.mark.parametrize(
    "header",
    [
        'Bearer origin="o.org",key="ed25519:a",sig="x"',
        "X-Matrix",
        'X-Matrix key="ed25519:a",sig="x"',  # no origin
        'X-Matrix origin="o.org",sig="x"',  # no key
        'X-Matrix origin="o.org",key="ed25519:a",sig=""',  # empty sig
        'X-Matrix origin="o.org",key="ed25519:a",sig="x',  # unterminated quote
        'X-Matrix origin="o.org" key="ed25519:a",sig="x"',  # no comma
        'X-Matrix origin,key="ed25519:a",sig="x"',  # not name=value
        'X-Matrix origin="bad name",key="ed25519:a",sig="x"',
        'X-Matrix origin="o.org",destination="bad/name",key="ed25519:a",sig="x"',
        'X-Matrix origin="o.org",origin="p.org",key="ed25519:a",sig="x"',
    ],
)
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(XMatrixError):
        parse_authorization(header)


def test_sign_request_round_trips_and_verifies() -> None:
    content = {"pdus": [], "edus": [{"edu_type": "m.typing", "content": {"a": 1.5}}]}
    header = sign_request(KEY, "PUT", "/_matrix/federation/v1/send/1?x=%20", "d.org", content)
    assert header.startswith('X-Matrix origin="origin.example",destination="d.org",')
    assert is_x_matrix(header)
    auth = parse_authorization(header)
    assert (auth.origin, auth.destination, auth.key) == ("origin.example", "d.org", KEY.key_id)
    obj = signed_request_json(auth, "PUT", "/_matrix/federation/v1/send/1?x=%20", "d.org", content)
    verify_json(obj, "origin.example", KEY.key_id, KEY.verify_key_base64)


@pytest.mark.parametrize(
    ("method", "uri", "destination", "content"),
    [
        ("GET", "/_matrix/federation/v1/send/1?x=%20", "d.org", {"pdus": []}),
        ("PUT", "/_matrix/federation/v1/send/2?x=%20", "d.org", {"pdus": []}),
        ("PUT", "/_matrix/federation/v1/send/1?x=%20", "e.org", {"pdus": []}),
        ("PUT", "/_matrix/federation/v1/send/1?x=%20", "d.org", {"pdus": [1]}),
        ("PUT", "/_matrix/federation/v1/send/1?x=%20", "d.org", None),
    ],
)
def test_any_change_to_the_request_breaks_the_signature(
    method: str, uri: str, destination: str, content: object
) -> None:
    header = sign_request(KEY, "PUT", "/_matrix/federation/v1/send/1?x=%20", "d.org", {"pdus": []})
    obj = signed_request_json(parse_authorization(header), method, uri, destination, content)
    with pytest.raises(SignatureError):
        verify_json(obj, "origin.example", KEY.key_id, KEY.verify_key_base64)


def test_content_is_absent_without_a_body() -> None:
    assert "content" not in request_json("GET", "/x", "o", "d")
    assert request_json("POST", "/x", "o", "d", {})["content"] == {}


_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30
)


@given(key=_values, sig=_values)
def test_format_then_parse_is_identity(key: str, sig: str) -> None:
    auth = XMatrixAuth("o.org:1", "d.org", key, sig)
    assert parse_authorization(format_authorization(auth)) == auth
