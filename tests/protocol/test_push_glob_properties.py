"""Glob matching and property paths, checked against a regular-expression reference.

spec: appendices "Glob-style matching", "Dot-separated property paths"; client-server
"Conditions" (``event_match``: case-insensitive, whole value; ``content.body``: a
substring between word boundaries).
"""

from __future__ import annotations

import re
import time
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from homeserver.protocol.push_glob import (
    ABSENT,
    compile_glob,
    compile_literal,
    glob_matches,
    glob_matches_words,
    join_path,
    lookup,
    split_path,
)

# Letters in both cases, word and non-word characters, and the wildcards themselves;
# or few letters, so that pieces of a pattern overlap and repeat in the value.
PATTERNS = st.one_of(
    st.text(alphabet="aAbB_1 -.*?é", max_size=8),
    st.lists(st.text(alphabet="ab?", max_size=2), min_size=1, max_size=4).map("*".join),
)
VALUES = st.one_of(
    st.text(alphabet="aAbB_1 -.*?éÉ\n", max_size=14), st.text(alphabet="ab -", max_size=7)
)


def _regex(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())


def reference_whole(pattern: str, value: str) -> bool:
    return re.fullmatch(_regex(pattern), value.lower(), re.DOTALL) is not None


def reference_words(pattern: str, value: str) -> bool:
    boundary = "(?<![A-Za-z0-9_])(?:" + _regex(pattern) + ")(?![A-Za-z0-9_])"
    return re.search(boundary, value.lower(), re.DOTALL) is not None


@settings(max_examples=1000)
@given(PATTERNS, VALUES)
@example("*ab*ba*", "abaxx")  # pieces may not overlap
@example("a*b*b", "aab")  # a middle piece may not overlap the last one
def test_whole_value_matching_is_the_regex_reference(pattern: str, value: str) -> None:
    assert glob_matches(compile_glob(pattern), value) is reference_whole(pattern, value)


@settings(max_examples=1000)
@given(PATTERNS, VALUES)
@example("*ab*ba*", "abaxx")
@example("ab*a", "x ab-a ab")
def test_word_boundary_matching_is_the_regex_reference(pattern: str, value: str) -> None:
    assert glob_matches_words(compile_glob(pattern), value) is reference_words(pattern, value)


@given(VALUES)
def test_a_value_matches_itself_whatever_its_case(value: str) -> None:
    literal = value.replace("*", "").replace("?", "")
    assert glob_matches(compile_glob(literal), literal.upper())
    assert glob_matches(compile_literal(value), value.swapcase())
    assert glob_matches(compile_glob("*"), value)


@given(st.text(max_size=6), VALUES, st.text(max_size=6))
def test_literal_matches_between_non_word_characters(before: str, word: str, after: str) -> None:
    value = f"{before} {word} {after}"
    assert glob_matches_words(compile_literal(word), value)


def test_case_insensitivity_with_characters_that_lower_case_to_two() -> None:
    # "İ".lower() is two characters: the value is compared character by character.
    assert glob_matches(compile_glob("?x"), "İX")
    assert glob_matches(compile_glob("İ*"), "İstanbul")
    assert glob_matches_words(compile_glob("bar"), "İ bar")


def test_pathological_patterns_take_linear_time() -> None:
    """A backtracking regex takes exponential time on these; a pushed rule must not stall
    the server on someone else's message."""
    body = "a" * 20_000
    pattern = compile_glob("*a*a*a*a*a*a*a*a*a*a*b")
    started = time.perf_counter()
    assert not glob_matches(pattern, body)
    assert not glob_matches_words(pattern, body)
    assert not glob_matches_words(compile_glob("a*a*a*a*b"), " ".join(["a" * 50] * 200))
    assert time.perf_counter() - started < 2.0


# -- dot-separated property paths ---------------------------------------------------------

NAMES = st.lists(st.text(alphabet="ab.\\x", max_size=5), min_size=1, max_size=4)


@given(NAMES)
def test_paths_round_trip(names: list[str]) -> None:
    assert split_path(join_path(names)) == tuple(names)


@given(NAMES, st.integers())
def test_lookup_follows_escaped_names(names: list[str], leaf: int) -> None:
    obj: Any = leaf
    for name in reversed(names):
        obj = {name: obj}
    assert lookup(obj, join_path(names)) == leaf


def test_spec_examples_of_paths() -> None:
    assert split_path("content.body") == ("content", "body")
    assert split_path("content.m\\.relates_to") == ("content", "m.relates_to")
    assert split_path("content.m\\\\foo") == ("content", "m\\foo")
    # Other escapes are left as they are: a backslash and the character.
    assert split_path("content.m\\xfoo") == ("content", "m\\xfoo")
    assert split_path("trailing\\") == ("trailing\\",)
    event = {"content": {"m.relates_to": {"rel_type": "m.replace"}, "list": [1]}}
    assert lookup(event, "content.m\\.relates_to.rel_type") == "m.replace"
    assert lookup(event, "content.m.relates_to") is ABSENT
    assert lookup(event, "content.list.0") is ABSENT  # arrays are not indexed
