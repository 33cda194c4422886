"""Application service registrations: parsing the YAML files and matching namespaces.

spec: application-service-api "Registration" (the file format every bridge writes) and
data/api/application-service/definitions/registration.yaml. Pure code apart from
``load_registrations``, which reads the files; every failure is one ``ConfigError``
naming the file and the key.

Namespace regexes are matched from the start of the identifier (``re.match``), as
bridges written against other homeservers expect: ``@_irc_.*`` covers
``@_irc_bob:example.org``, and ``^...$`` anchors both ends when a bridge wants that.
Unknown keys are ignored: bridges write vendor keys (``io.element.msc4190`` ...) that a
homeserver without the feature must accept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeserver.config import ConfigError, read_yaml_file
from homeserver.protocol.ids import is_valid_localpart

__all__ = ["Namespace", "Registration", "load_registrations", "parse_registration"]


@dataclass(frozen=True, slots=True)
class Namespace:
    regex: re.Pattern[str]
    exclusive: bool

    def matches(self, value: str) -> bool:
        return self.regex.match(value) is not None


@dataclass(frozen=True, slots=True)
class Registration:
    id: str
    url: str | None
    as_token: str
    hs_token: str
    sender_localpart: str
    server_name: str
    users: tuple[Namespace, ...] = ()
    aliases: tuple[Namespace, ...] = ()
    rooms: tuple[Namespace, ...] = ()
    # spec: "Whether requests from masqueraded users are rate-limited. The sender is
    # excluded."
    rate_limited: bool = True
    protocols: tuple[str, ...] = ()
    # spec "Pushing ephemeral data" (MSC2409's unstable key accepted too).
    receive_ephemeral: bool = False
    # MSC2409/MSC4203 to-device messages in transactions.
    push_to_device: bool = False
    # MSC3202 device lists and one-time key counts in transactions.
    device_lists: bool = False
    source: Path = Path("registration.yaml")

    @property
    def sender(self) -> str:
        return f"@{self.sender_localpart}:{self.server_name}"

    def interested_in_user(self, user_id: str) -> bool:
        """The sender, or a user in one of the users namespaces."""
        return user_id == self.sender or any(ns.matches(user_id) for ns in self.users)

    def interested_in_alias(self, alias: str) -> bool:
        return any(ns.matches(alias) for ns in self.aliases)

    def interested_in_room_id(self, room_id: str) -> bool:
        return any(ns.matches(room_id) for ns in self.rooms)

    def exclusive_user(self, user_id: str) -> bool:
        """``user_id`` is in one of this service's exclusive users namespaces (or is its
        sender, which no one else may register either)."""
        return user_id == self.sender or any(
            ns.exclusive and ns.matches(user_id) for ns in self.users
        )

    def exclusive_alias(self, alias: str) -> bool:
        return any(ns.exclusive and ns.matches(alias) for ns in self.aliases)


class _Fields:
    """Reads one registration mapping, failing with the file and the key."""

    def __init__(self, source: Path, data: dict[str, Any]) -> None:
        self.source = source
        self.data = data

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: `{key}` {message}")

    def string(self, key: str) -> str:
        value = self.data.get(key)
        if key not in self.data or value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty string")
        return value

    def boolean(self, keys: Sequence[str], default: bool) -> bool:
        """The first of ``keys`` present (a stable key and its unstable prefixes)."""
        for key in keys:
            if key in self.data:
                value = self.data[key]
                if not isinstance(value, bool):
                    raise self.fail(key, "must be true or false")
                return value
        return default


def parse_registration(data: object, *, source: Path, server_name: str) -> Registration:
    """Validate one parsed registration document."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    f = _Fields(source, data)
    reg_id = f.string("id")
    if "url" not in data:
        raise f.fail("url", "is required (null when the service takes no traffic)")
    url = data["url"]
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise f.fail("url", "must be null or a URL starting with http:// or https://")
        url = url.rstrip("/")
    sender_localpart = f.string("sender_localpart")
    if not is_valid_localpart(sender_localpart):
        raise f.fail("sender_localpart", "is not a valid user localpart")
    namespaces = data.get("namespaces")
    if "namespaces" not in data:
        raise f.fail("namespaces", "is required")
    if namespaces is None:
        namespaces = {}
    if not isinstance(namespaces, dict):
        raise f.fail("namespaces", "must be a mapping (users, aliases, rooms)")
    protocols = data.get("protocols")
    if protocols is None:
        protocols = []
    if not isinstance(protocols, list) or not all(isinstance(p, str) and p for p in protocols):
        raise f.fail("protocols", "must be a list of non-empty strings")
    return Registration(
        id=reg_id,
        url=url,
        as_token=f.string("as_token"),
        hs_token=f.string("hs_token"),
        sender_localpart=sender_localpart,
        server_name=server_name,
        users=_namespaces(f, namespaces, "users"),
        aliases=_namespaces(f, namespaces, "aliases"),
        rooms=_namespaces(f, namespaces, "rooms"),
        rate_limited=f.boolean(("rate_limited",), True),
        protocols=tuple(protocols),
        receive_ephemeral=f.boolean(
            ("receive_ephemeral", "de.sorunome.msc2409.push_ephemeral", "push_ephemeral"), False
        ),
        push_to_device=f.boolean(
            ("org.matrix.msc4203.to_device", "org.matrix.msc2409.to_device", "push_to_device"),
            False,
        ),
        device_lists=f.boolean(("org.matrix.msc3202", "device_lists"), False),
        source=source,
    )


def _namespaces(f: _Fields, namespaces: dict[str, Any], kind: str) -> tuple[Namespace, ...]:
    key = f"namespaces.{kind}"
    items = namespaces.get(kind)
    if items is None:
        return ()
    if not isinstance(items, list):
        raise f.fail(key, "must be a list of {regex, exclusive} entries")
    result = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise f.fail(where, "must be a mapping with `regex` and `exclusive`")
        regex = item.get("regex")
        if not isinstance(regex, str) or not regex:
            raise f.fail(f"{where}.regex", "must be a non-empty string")
        try:
            pattern = re.compile(regex)
        except re.error as exc:
            raise f.fail(f"{where}.regex", f"is not a valid regular expression: {exc}") from None
        exclusive = item.get("exclusive")
        if not isinstance(exclusive, bool):
            raise f.fail(f"{where}.exclusive", "must be true or false")
        result.append(Namespace(pattern, exclusive))
    return tuple(result)


def load_registrations(paths: Sequence[Path], server_name: str) -> tuple[Registration, ...]:
    """Read every registration file; ids, ``as_token``s and ``hs_token``s must be unique
    (spec: "each `as_token` and `id` MUST be unique per application service")."""
    registrations: list[Registration] = []
    for path in paths:
        data = read_yaml_file(path, "application service registration")
        reg = parse_registration(data, source=path, server_name=server_name)
        for other in registrations:
            for key in ("id", "as_token", "hs_token"):
                if getattr(reg, key) == getattr(other, key):
                    raise ConfigError(
                        f"{path}: `{key}` is the same as in {other.source};"
                        " each application service needs its own"
                    )
            if reg.sender == other.sender:
                raise ConfigError(f"{path}: `sender_localpart` is the same as in {other.source}")
        registrations.append(reg)
    return tuple(registrations)
