"""Server discovery (spec: server-server "Resolving server names") and the SSRF guard.

``.well-known`` answers come from a fake HTTP client and SRV records from a fake look-up:
the network is the edge of the machine."""

from __future__ import annotations

import ipaddress
from typing import Any

import orjson
import pytest

from federation.address_guard import AddressGuard, is_public
from federation.discovery import Discovery, Target
from homeserver.http.client import ConnectFailed, HttpResponse
from homeserver.http.headers import Headers
from homeserver.protocol.errors import InvalidIdentifier

from ..conftest import FakeClock

HOUR_MS = 3600 * 1000


class FakeWeb:
    """Answers https://<host>/<path> from a table: (status, body, headers)."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, Any, dict[str, str]]] = {}
        self.requests: list[tuple[str, int, str, str | None, str | None]] = []

    async def request(
        self,
        method: str,
        host: str,
        port: int,
        target: str,
        *,
        host_header: str | None = None,
        server_hostname: str | None = None,
        **_: Any,
    ) -> HttpResponse:
        self.requests.append((host, port, target, host_header, server_hostname))
        page = self.pages.get(f"{host}{target}")
        if page is None:
            raise ConnectFailed(f"cannot connect to {host}:{port}")
        status, body, headers = page
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return HttpResponse(status, Headers(headers), raw)


class FakeDns:
    def __init__(self) -> None:
        self.records: dict[str, list[tuple[str, int]]] = {}
        self.lookups: list[str] = []

    async def __call__(self, name: str) -> list[tuple[str, int]]:
        self.lookups.append(name)
        return self.records.get(name, [])


WK = "/.well-known/matrix/server"


@pytest.fixture
def web() -> FakeWeb:
    return FakeWeb()


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns()


@pytest.fixture
def discovery(web: FakeWeb, dns: FakeDns, clock: FakeClock) -> Discovery:
    return Discovery(web, clock, srv_lookup=dns)  # type: ignore[arg-type]


async def test_ip_literals_and_explicit_ports_need_no_lookup(
    discovery: Discovery, web: FakeWeb, dns: FakeDns
) -> None:
    assert await discovery.resolve("1.2.3.4") == [Target("1.2.3.4", 8448, "1.2.3.4", "1.2.3.4")]
    assert await discovery.resolve("[2001:db8::1]:8000") == [
        Target("2001:db8::1", 8000, "[2001:db8::1]:8000", "2001:db8::1")
    ]
    assert await discovery.resolve("a.example:8000") == [
        Target("a.example", 8000, "a.example:8000", "a.example")
    ]
    assert web.requests == [] and dns.lookups == []


async def test_overrides_win(web: FakeWeb, dns: FakeDns, clock: FakeClock) -> None:
    found = Discovery(web, clock, overrides={"a.example": ("127.0.0.1", 9000)}, srv_lookup=dns)  # type: ignore[arg-type]
    assert await found.resolve("a.example") == [Target("127.0.0.1", 9000, "a.example", "a.example")]
    assert web.requests == [] and dns.lookups == []


async def test_well_known_delegation(discovery: Discovery, web: FakeWeb, dns: FakeDns) -> None:
    web.pages["a.example" + WK] = (200, {"m.server": "matrix.a.example:443"}, {})
    web.pages["b.example" + WK] = (200, {"m.server": "5.6.7.8"}, {})
    web.pages["c.example" + WK] = (200, {"m.server": "srv.c.example"}, {})
    web.pages["d.example" + WK] = (200, {"m.server": "plain.d.example"}, {})
    dns.records["_matrix-fed._tcp.srv.c.example"] = [
        ("fed1.c.example", 8443),
        ("fed2.c.example", 8444),
    ]
    assert await discovery.resolve("a.example") == [
        Target("matrix.a.example", 443, "matrix.a.example:443", "matrix.a.example")
    ]
    assert await discovery.resolve("b.example") == [Target("5.6.7.8", 8448, "5.6.7.8", "5.6.7.8")]
    assert await discovery.resolve("c.example") == [
        Target("fed1.c.example", 8443, "srv.c.example", "srv.c.example"),
        Target("fed2.c.example", 8444, "srv.c.example", "srv.c.example"),
    ]
    assert await discovery.resolve("d.example") == [
        Target("plain.d.example", 8448, "plain.d.example", "plain.d.example")
    ]
    # The well-known request itself: port 443, Host and SNI the hostname.
    assert web.requests[0] == ("a.example", 443, WK, "a.example", "a.example")


async def test_without_well_known_srv_then_deprecated_srv_then_8448(
    discovery: Discovery, dns: FakeDns
) -> None:
    dns.records["_matrix-fed._tcp.a.example"] = [("fed.a.example", 1000)]
    dns.records["_matrix._tcp.a.example"] = [("old.a.example", 2000)]
    dns.records["_matrix._tcp.b.example"] = [("old.b.example", 3000)]
    assert await discovery.resolve("a.example") == [
        Target("fed.a.example", 1000, "a.example", "a.example")
    ]
    assert await discovery.resolve("b.example") == [
        Target("old.b.example", 3000, "b.example", "b.example")
    ]
    assert await discovery.resolve("c.example") == [
        Target("c.example", 8448, "c.example", "c.example")
    ]
    assert dns.lookups == [
        "_matrix-fed._tcp.a.example",
        "_matrix-fed._tcp.b.example",
        "_matrix._tcp.b.example",
        "_matrix-fed._tcp.c.example",
        "_matrix._tcp.c.example",
    ]


@pytest.mark.parametrize(
    "page",
    [
        (404, {"errcode": "M_NOT_FOUND"}, {}),
        (200, b"not json", {}),
        (200, {"m.server": 5}, {}),
        (200, {"m.server": "bad name!"}, {}),
        (200, ["m.server"], {}),
        (302, b"", {"Location": "http://a.example/insecure"}),
    ],
)
async def test_invalid_well_known_falls_through(
    discovery: Discovery, web: FakeWeb, page: tuple[int, Any, dict[str, str]]
) -> None:
    web.pages["a.example" + WK] = page
    assert await discovery.resolve("a.example") == [
        Target("a.example", 8448, "a.example", "a.example")
    ]


async def test_redirects_are_followed_but_not_in_loops(discovery: Discovery, web: FakeWeb) -> None:
    web.pages["a.example" + WK] = (301, b"", {"Location": "https://www.a.example/wk"})
    web.pages["www.a.example/wk"] = (200, {"m.server": "m.a.example:1"}, {})
    assert (await discovery.resolve("a.example"))[0].host == "m.a.example"
    web.pages["b.example" + WK] = (302, b"", {"Location": "/again"})
    web.pages["b.example/again"] = (302, b"", {"Location": WK})
    assert (await discovery.resolve("b.example"))[0] == Target(
        "b.example", 8448, "b.example", "b.example"
    )


async def test_well_known_caching(discovery: Discovery, web: FakeWeb, clock: FakeClock) -> None:
    web.pages["a.example" + WK] = (200, {"m.server": "one.example:1"}, {})
    web.pages["b.example" + WK] = (
        200,
        {"m.server": "one.example:1"},
        {"Cache-Control": "max-age=600"},
    )
    web.pages["c.example" + WK] = (
        200,
        {"m.server": "one.example:1"},
        {"Cache-Control": "max-age=9999999"},
    )
    for name in ("a.example", "b.example", "c.example"):
        await discovery.resolve(name)
    for name in ("a.example", "b.example", "c.example"):
        web.pages[name + WK] = (200, {"m.server": "two.example:2"}, {})

    async def host(name: str) -> str:
        return (await discovery.resolve(name))[0].host

    clock.advance(11 * 60 * 1000)  # past b's max-age
    assert [await host(n) for n in ("a.example", "b.example", "c.example")] == [
        "one.example", "two.example", "one.example"
    ]  # fmt: skip
    clock.advance(24 * HOUR_MS)  # past the default of one day
    assert await host("a.example") == "two.example"
    assert await host("c.example") == "one.example"
    clock.advance(24 * HOUR_MS)  # past the 48 h ceiling
    assert await host("c.example") == "two.example"


async def test_errors_are_cached_with_backoff(
    discovery: Discovery, web: FakeWeb, clock: FakeClock
) -> None:
    def count() -> int:
        return sum(1 for r in web.requests if r[0] == "a.example")

    await discovery.resolve("a.example")  # no answer at all
    await discovery.resolve("a.example")
    assert count() == 1
    clock.advance(5 * 60 * 1000 + 1)  # first error: five minutes
    await discovery.resolve("a.example")
    assert count() == 2
    clock.advance(5 * 60 * 1000 + 1)  # second: ten
    await discovery.resolve("a.example")
    assert count() == 2
    clock.advance(5 * 60 * 1000)
    web.pages["a.example" + WK] = (200, {"m.server": "up.example:1"}, {})
    assert (await discovery.resolve("a.example"))[0].host == "up.example"


async def test_bad_server_names_are_refused(discovery: Discovery) -> None:
    with pytest.raises(InvalidIdentifier):
        await discovery.resolve("not a name")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
        "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "2002:7f00:1::", "2001:db8::1",
    ],
)  # fmt: skip
def test_the_guard_refuses_non_public_addresses(address: str) -> None:
    assert not AddressGuard()(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_the_guard_lets_public_addresses_through(address: str) -> None:
    assert AddressGuard()(ipaddress.ip_address(address))
    assert is_public(ipaddress.ip_address(address))


def test_the_whitelist_opens_ranges() -> None:
    guard = AddressGuard([ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")])
    assert guard(ipaddress.ip_address("127.0.0.2"))
    assert guard(ipaddress.ip_address("::1"))
    assert guard(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not guard(ipaddress.ip_address("10.0.0.1"))
