"""Canonical JSON and unpadded base64.

spec: appendices "Canonical JSON" (with its examples), "Unpadded Base64";
rooms/v6 "Canonical JSON" (strict enforcement).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import canonicaljson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeserver.protocol.canonical import (
    MAX_SAFE_INTEGER,
    MIN_SAFE_INTEGER,
    check_strict,
    decode_unpadded_base64,
    encode_canonical_json,
    unpadded_base64,
    unpadded_urlsafe_base64,
)
from homeserver.protocol.errors import CanonicalJsonError

VECTORS = Path(__file__).parent.parent / "fixtures" / "spec_vectors" / "canonical_json.json"


def parse_json_text(text: str) -> Any:
    """Parse JSON text the way the spec's examples read it.

    The examples treat ``1e10`` as the integer 10000000000 (JSON has one number type);
    Python's parser would make it a float, so integral numbers become ints here.
    """

    def number(literal: str) -> int | float:
        value = float(literal)
        return int(value) if value.is_integer() else value

    return json.loads(text, parse_float=number)


def _spec_cases() -> list[tuple[str, str]]:
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [(case["input"], case["canonical"]) for case in data["cases"]]


def test_all_spec_examples_were_extracted() -> None:
    # spec: appendices "Canonical JSON" > "Examples" has ten input/output pairs
    assert len(_spec_cases()) == 10


@pytest.mark.parametrize(("text", "expected"), _spec_cases())
def test_spec_examples_byte_for_byte(text: str, expected: str) -> None:
    value = parse_json_text(text)
    assert encode_canonical_json(value, strict=True) == expected.encode("utf-8")
    assert encode_canonical_json(value, strict=False) == expected.encode("utf-8")


def test_non_ascii_is_utf8_not_escaped() -> None:
    assert encode_canonical_json({"a": "\u65e5"}) == '{"a":"日"}'.encode()


@pytest.mark.parametrize(
    ("char", "escaped"),
    [
        ("\b", "\\b"),
        ("\t", "\\t"),
        ("\n", "\\n"),
        ("\f", "\\f"),
        ("\r", "\\r"),
        ('"', '\\"'),
        ("\\", "\\\\"),
        ("\x00", "\\u0000"),
        ("\x1f", "\\u001f"),  # spec grammar: u001X with lowercase hex digits
        ("\x0b", "\\u000b"),
        ("\x7f", "\x7f"),  # DEL is not an ASCII control character in the grammar
        ("/", "/"),  # no redundant escapes
        ("\u2028", "\u2028"),
    ],
)
def test_string_escapes_follow_the_grammar(char: str, escaped: str) -> None:
    assert encode_canonical_json(char) == f'"{escaped}"'.encode()


def test_lone_surrogate_is_a_typed_error() -> None:
    with pytest.raises(CanonicalJsonError):
        encode_canonical_json({"a": "\ud800"}, strict=False)


# -- strict mode ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER, MIN_SAFE_INTEGER, 0, -1])
def test_strict_accepts_the_safe_integer_range(value: int) -> None:
    assert encode_canonical_json({"n": value}) == f'{{"n":{value}}}'.encode()


@pytest.mark.parametrize(
    "value", [MAX_SAFE_INTEGER + 1, MIN_SAFE_INTEGER - 1, 2**63, 1.5, 1.0, float("inf")]
)
def test_strict_rejects_floats_and_out_of_range_integers(value: object) -> None:
    with pytest.raises(CanonicalJsonError):
        encode_canonical_json({"deep": [{"n": value}]}, strict=True)
    with pytest.raises(CanonicalJsonError):
        check_strict([value])


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER + 1, 2**63, 1.5, -0.25])
def test_non_strict_accepts_what_old_room_versions_carry(value: object) -> None:
    # spec: appendices "Canonical JSON" warning — v1-v5 events may break the range
    encoded = encode_canonical_json({"n": value}, strict=False)
    assert json.loads(encoded) == {"n": value}


@pytest.mark.parametrize("value", [float("nan"), object(), {1: "a", "b": 2}, b"bytes"])
def test_unencodable_values_are_typed_errors(value: object) -> None:
    with pytest.raises(CanonicalJsonError):
        encode_canonical_json({"v": value}, strict=False)
    with pytest.raises(CanonicalJsonError):
        encode_canonical_json({"v": value}, strict=True)


def test_strict_rejects_non_string_keys() -> None:
    with pytest.raises(CanonicalJsonError):
        encode_canonical_json({"v": {1: "a"}}, strict=True)


# -- properties ----------------------------------------------------------------------

safe_ints = st.integers(min_value=MIN_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(deadline=None)  # timing varies on a loaded machine
@given(json_values)
def test_encoding_is_stable_under_decode_and_reencode(value: Any) -> None:
    encoded = encode_canonical_json(value)
    assert encode_canonical_json(json.loads(encoded)) == encoded
    assert json.loads(encoded) == value


@settings(deadline=None)  # timing varies on a loaded machine
@given(st.dictionaries(st.text(), json_values, max_size=8), st.randoms())
def test_key_order_is_irrelevant(obj: dict[str, Any], rnd: Any) -> None:
    items = list(obj.items())
    rnd.shuffle(items)
    assert encode_canonical_json(dict(items)) == encode_canonical_json(obj)


@settings(deadline=None)  # timing varies on a loaded machine
@given(json_values)
def test_matches_the_reference_library(value: Any) -> None:
    assert encode_canonical_json(value) == canonicaljson.encode_canonical_json(value)


@settings(deadline=None)  # timing varies on a loaded machine
@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_keys_are_sorted_by_code_point(obj: dict[str, Any]) -> None:
    decoded_keys = list(json.loads(encode_canonical_json(obj)).keys())
    assert decoded_keys == sorted(obj.keys())


@settings(deadline=None)  # timing varies on a loaded machine
@given(st.integers(min_value=MAX_SAFE_INTEGER + 1) | st.integers(max_value=MIN_SAFE_INTEGER - 1))
def test_strict_rejects_every_out_of_range_integer(value: int) -> None:
    with pytest.raises(CanonicalJsonError):
        encode_canonical_json([value], strict=True)
    assert encode_canonical_json([value], strict=False) == f"[{value}]".encode()


@settings(deadline=None)  # timing varies on a loaded machine
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_strict_rejects_every_float_non_strict_keeps_it(value: float) -> None:
    with pytest.raises(CanonicalJsonError):
        encode_canonical_json({"f": value}, strict=True)
    assert json.loads(encode_canonical_json({"f": value}, strict=False)) == {"f": value}


# -- unpadded base64 -----------------------------------------------------------------


def test_unpadded_base64_spec_examples() -> None:
    # spec: appendices "Unpadded Base64" examples
    examples = {
        b"": "",
        b"f": "Zg",
        b"fo": "Zm8",
        b"foo": "Zm9v",
        b"foob": "Zm9vYg",
        b"fooba": "Zm9vYmE",
        b"foobar": "Zm9vYmFy",
    }
    for raw, text in examples.items():
        assert unpadded_base64(raw) == text
        assert decode_unpadded_base64(text) == raw


@settings(deadline=None)  # timing varies on a loaded machine
@given(st.binary(max_size=64))
def test_base64_roundtrips_in_both_alphabets(raw: bytes) -> None:
    assert decode_unpadded_base64(unpadded_base64(raw)) == raw
    assert decode_unpadded_base64(unpadded_urlsafe_base64(raw)) == raw
    assert "=" not in unpadded_base64(raw)


@pytest.mark.parametrize("text", ["!!!", "Zm9v$", "é"])
def test_invalid_base64_is_a_typed_error(text: str) -> None:
    with pytest.raises(CanonicalJsonError):
        decode_unpadded_base64(text)


# -- the fast encoder agrees with the reference library --------------------------------
# encode_canonical_json uses orjson for plain values; a signature made over different
# bytes would not verify anywhere, so equality with canonicaljson is tested widely.

loose_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8")),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(alphabet=st.characters(codec="utf-8")), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(loose_values)
def test_non_strict_encoding_is_byte_identical_to_canonicaljson(value: Any) -> None:
    assert encode_canonical_json(value, strict=False) == canonicaljson.encode_canonical_json(value)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.text(
            alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0x1F64F, codec="utf-8"),
            max_size=3,
        ),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
        max_size=12,
    )
)
def test_keys_around_the_surrogate_range_sort_by_code_point(obj: dict[str, str]) -> None:
    # U+E000..U+FFFF sort before astral characters by code point, but after them in
    # UTF-16 code units: the encoding must follow code points, like canonicaljson
    assert encode_canonical_json(obj) == canonicaljson.encode_canonical_json(obj)


@pytest.mark.parametrize("depth", [100, 200, 300])  # 2 levels each
def test_deep_nesting_beyond_orjson_limit_still_encodes(depth: int) -> None:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": [value]}
    assert encode_canonical_json(value) == canonicaljson.encode_canonical_json(value)


@settings(max_examples=200, deadline=None)
@given(loose_values)
def test_check_strict_rejects_exactly_floats_and_unsafe_integers(value: Any) -> None:
    def allowed(item: Any) -> bool:
        if isinstance(item, float):
            return False
        if isinstance(item, int) and not isinstance(item, bool):
            return MIN_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER
        if isinstance(item, dict):
            return all(allowed(v) for v in item.values())
        if isinstance(item, list | tuple):
            return all(allowed(v) for v in item)
        return True

    if allowed(value):
        check_strict(value)
        assert encode_canonical_json(value) == canonicaljson.encode_canonical_json(value)
    else:
        with pytest.raises(CanonicalJsonError):
            check_strict(value)
        with pytest.raises(CanonicalJsonError):
            encode_canonical_json(value, strict=True)
