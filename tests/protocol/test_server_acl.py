"""Server ACL rules (spec: m.room.server_acl): a table of cases and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeserver.protocol.server_acl import (
    AclRules,
    host_without_port,
    is_ip_literal,
    server_allowed,
)

EVIL_DENIED: dict[str, Any] = {"allow": ["*"], "deny": ["evil.com", "*.evil.com"]}

CASES: list[tuple[dict[str, Any] | None, str, bool]] = [
    # 1. no ACL in the room: everyone
    (None, "anything.example", True),
    # 5. an ACL without `allow` denies everyone, the sender too
    ({}, "example.org", False),
    ({"deny": []}, "example.org", False),
    ({"allow": ["*"]}, "example.org", True),
    # the port is not considered
    (EVIL_DENIED, "evil.com", False),
    (EVIL_DENIED, "evil.com:8448", False),
    (EVIL_DENIED, "evil.com:1234", False),
    (EVIL_DENIED, "sub.evil.com:8448", False),
    (EVIL_DENIED, "notevil.com", True),
    (EVIL_DENIED, "evil.com.example", True),
    # case-insensitive, both ways
    (EVIL_DENIED, "EVIL.Com", False),
    ({"allow": ["*.EXAMPLE.org"]}, "chat.example.ORG", True),
    # `?` is exactly one character
    ({"allow": ["hs?.example"]}, "hs1.example", True),
    ({"allow": ["hs?.example"]}, "hs.example", False),
    ({"allow": ["hs?.example"]}, "hs12.example", False),
    # deny wins over allow
    ({"allow": ["good.example"], "deny": ["good.example"]}, "good.example", False),
    ({"allow": ["*"], "deny": ["*"]}, "good.example", False),
    # IP literals: allowed unless `allow_ip_literals` is false
    ({"allow": ["*"]}, "1.2.3.4", True),
    ({"allow": ["*"]}, "[::1]:8448", True),
    ({"allow": ["*"], "allow_ip_literals": False}, "1.2.3.4", False),
    ({"allow": ["*"], "allow_ip_literals": False}, "1.2.3.4:8448", False),
    ({"allow": ["*"], "allow_ip_literals": False}, "[2001:db8::1]:8448", False),
    ({"allow": ["*"], "allow_ip_literals": False}, "localhost:8448", True),
    ({"allow": ["*"], "allow_ip_literals": False}, "1.2.3.4.example", True),
    # a non-boolean `allow_ip_literals` is the default, true
    ({"allow": ["*"], "allow_ip_literals": "no"}, "1.2.3.4", True),
    # patterns match IP literals as written (without the port)
    ({"allow": ["1.2.3.*"]}, "1.2.3.4:80", True),
    ({"allow": ["[::1]"]}, "[::1]:8448", True),
    # malformed lists and entries are skipped
    ({"allow": "*"}, "example.org", False),
    ({"allow": [1, None, "example.org"]}, "example.org", True),
    ({"allow": ["*"], "deny": "example.org"}, "example.org", True),
    ({"allow": ["*"], "deny": [{"x": 1}, "example.org"]}, "example.org", False),
]


@pytest.mark.parametrize(("content", "server", "allowed"), CASES)
def test_acl_table(content: dict[str, Any] | None, server: str, allowed: bool) -> None:
    assert server_allowed(content, server) is allowed


def test_host_without_port() -> None:
    assert host_without_port("example.org") == "example.org"
    assert host_without_port("example.org:8448") == "example.org"
    assert host_without_port("[::1]:8448") == "[::1]"
    assert host_without_port("[::1]") == "[::1]"
    assert host_without_port("1.2.3.4:1") == "1.2.3.4"


def test_is_ip_literal() -> None:
    assert is_ip_literal("127.0.0.1")
    assert is_ip_literal("[::1]")
    assert not is_ip_literal("localhost")
    assert not is_ip_literal("1.2.3")
    assert not is_ip_literal("999.1.1.1")


hosts = st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,3}", fullmatch=True)
ports = st.one_of(st.none(), st.integers(1, 65535))
patterns = st.lists(st.from_regex(r"[a-z0-9.*?]{0,10}", fullmatch=True), max_size=4)


def _name(host: str, port: int | None) -> str:
    return host if port is None else f"{host}:{port}"


@given(hosts, ports, ports, patterns, patterns, st.booleans())
def test_port_never_matters(
    host: str, port_a: int | None, port_b: int | None, allow: list[str], deny: list[str], ip: bool
) -> None:
    rules = AclRules.from_content({"allow": allow, "deny": deny, "allow_ip_literals": ip})
    assert rules.allows(_name(host, port_a)) == rules.allows(_name(host, port_b))


@given(hosts, patterns, patterns)
def test_case_never_matters(host: str, allow: list[str], deny: list[str]) -> None:
    lower = AclRules.from_content({"allow": allow, "deny": deny})
    upper = AclRules.from_content({"allow": [p.upper() for p in allow], "deny": deny})
    assert lower.allows(host) == lower.allows(host.upper()) == upper.allows(host)


@given(hosts, patterns, patterns)
def test_deny_wins_and_allow_is_needed(host: str, allow: list[str], deny: list[str]) -> None:
    rules = AclRules.from_content({"allow": allow, "deny": deny})
    # A server named in `deny` is out whatever `allow` says.
    assert not AclRules.from_content({"allow": allow, "deny": [*deny, host]}).allows(host)
    # A server is in exactly when some allow pattern matches and no deny pattern does.
    if rules.allows(host):
        assert AclRules.from_content({"allow": allow, "deny": []}).allows(host)
    assert not AclRules.from_content({"allow": [], "deny": deny}).allows(host)
    # Adding the name itself to `allow` lets it in unless `deny` keeps it out.
    widened = AclRules.from_content({"allow": [*allow, host], "deny": deny})
    assert widened.allows(host) == AclRules.from_content({"allow": ["*"], "deny": deny}).allows(
        host
    )


@given(hosts, patterns, patterns)
def test_star_allows_unless_denied(host: str, allow: list[str], deny: list[str]) -> None:
    rules = AclRules.from_content({"allow": ["*", *allow], "deny": deny})
    denied = AclRules.from_content({"allow": ["*"], "deny": deny})
    assert rules.allows(host) == denied.allows(host)
