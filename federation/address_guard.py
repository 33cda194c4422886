"""The SSRF guard: outbound federation connections reach public addresses only.

A server name is chosen by whoever sends us an event or an invite, so without this guard
any peer could make us connect to the loopback interface or the private network we run
in. The check is on each resolved address, just before connecting (the HTTP client calls
it), so a name that resolves to a private address is refused too (DNS rebinding).
``federation.ip_range_whitelist`` lets chosen ranges through (tests on loopback, peers
on a private network).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public(ip: IpAddress) -> bool:
    """Whether ``ip`` is a globally routable unicast address.

    Refused: private, loopback, link-local, shared (CGNAT), documentation, unspecified,
    multicast and reserved ranges, and IPv6 addresses that embed such an IPv4 address.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public(embedded):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


class AddressGuard:
    """``guard(ip)`` is True when outbound federation traffic may go to ``ip``."""

    def __init__(self, whitelist: Iterable[IpNetwork] = ()) -> None:
        self.whitelist = tuple(whitelist)

    def __call__(self, ip: IpAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.whitelist):
            return True
        return is_public(ip)
