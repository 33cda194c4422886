"""Profile keys and values as the spec allows them (client-server "Profiles")."""

from __future__ import annotations

import pytest

from homeserver.protocol.profile_fields import (
    MAX_PROFILE_BYTES,
    ProfileFieldError,
    check_key,
    check_size,
    check_value,
    clears,
    is_mxc_uri,
    profile_size,
)


@pytest.mark.parametrize(
    "key",
    ["displayname", "avatar_url", "m.tz", "im.concord.description", "org.example.job_title",
     "a", "a-b_c.d9", "x" * 255],
)  # fmt: skip
def test_allowed_keys(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    ("key", "errcode"),
    [
        ("", "M_INVALID_PARAM"),
        ("Display", "M_INVALID_PARAM"),
        ("9lives", "M_INVALID_PARAM"),
        (".dot", "M_INVALID_PARAM"),
        ("has space", "M_INVALID_PARAM"),
        ("émoji", "M_INVALID_PARAM"),
        ("x" * 256, "M_KEY_TOO_LARGE"),
        ("é" * 128, "M_KEY_TOO_LARGE"),  # 256 bytes
    ],
)
def test_refused_keys(key: str, errcode: str) -> None:
    with pytest.raises(ProfileFieldError) as caught:
        check_key(key)
    assert caught.value.errcode == errcode


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("mxc://example.org/abc-DEF_123", True),
        ("mxc://127.0.0.1:8448/media", True),
        ("mxc://[::1]/media", True),
        ("mxc://example.org/", False),
        ("mxc://example.org", False),
        ("mxc:///media", False),
        ("mxc://example.org/a/b", False),
        ("mxc://example.org/a.b", False),
        ("https://example.org/a", False),
        ("MXC://example.org/a", False),
    ],
)
def test_mxc_uris(value: str, valid: bool) -> None:
    assert is_mxc_uri(value) is valid


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("displayname", 3),
        ("displayname", None),
        ("displayname", "x" * 257),
        ("avatar_url", "http://example.org/a.png"),
        ("avatar_url", ["mxc://a/b"]),
        ("avatar_url", "mxc://a/" + "b" * 1000),
        ("m.tz", 1),
    ],
)
def test_refused_values(key: str, value: object) -> None:
    with pytest.raises(ProfileFieldError) as caught:
        check_value(key, value)
    assert caught.value.errcode == "M_INVALID_PARAM"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("displayname", "Alice ✨"),
        ("displayname", ""),
        ("avatar_url", ""),
        ("avatar_url", "mxc://example.org/abc"),
        ("m.tz", "Europe/Paris"),
        ("im.concord.description", None),
        ("im.concord.description", {"nested": [1, 2.5, True, None]}),
    ],
)
def test_allowed_values(key: str, value: object) -> None:
    assert check_value(key, value) == value


def test_empty_name_or_avatar_clears_the_field() -> None:
    assert clears("displayname", "") and clears("avatar_url", "")
    assert not clears("displayname", "a") and not clears("org.example.x", "")


def test_the_profile_must_stay_under_64_kib() -> None:
    base = {"displayname": "a"}
    overhead = profile_size({**base, "k": ""})
    fits = {**base, "k": "x" * (MAX_PROFILE_BYTES - overhead - 1)}
    assert profile_size(fits) == MAX_PROFILE_BYTES - 1
    check_size(fits)
    too_big = {**base, "k": "x" * (MAX_PROFILE_BYTES - overhead)}
    with pytest.raises(ProfileFieldError) as caught:
        check_size(too_big)
    assert caught.value.errcode == "M_PROFILE_TOO_LARGE"
