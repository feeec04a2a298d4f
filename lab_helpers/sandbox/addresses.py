"""Which IP addresses the sandbox cloud may hand out, and which ones nobody can log into.

The sandbox's public network uses a range reserved for documentation (RFC 5737), never a
routable one: an address a learner copies into ``ssh`` then reaches no real machine of anyone
else. Project networks use private ranges (RFC 1918), as on Jetstream2. Membership is tested
against these lists explicitly: ``ipaddress``'s ``is_private`` counts the documentation ranges
as private in newer Pythons and not in older ones.
"""

from __future__ import annotations

import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",  # RFC 5737 (TEST-NET-1, -2, -3)
        "2001:db8::/32",  # RFC 3849
    )
)
PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",  # RFC 1918
        "fc00::/7",  # RFC 4193 unique local
    )
)
LOOPBACK = tuple(ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128"))
LINK_LOCAL = tuple(ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10"))  # metadata service, DHCP
ALLOWED = DOCUMENTATION + PRIVATE + LOOPBACK + LINK_LOCAL


def _addr(value: str | IPAddress) -> IPAddress | None:
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def is_documentation(value: str | IPAddress) -> bool:
    """True for an address in a documentation range: the sandbox's floating IPs."""
    ip = _addr(value)
    return ip is not None and any(ip in net for net in DOCUMENTATION if net.version == ip.version)


def is_allowed(value: str | IPAddress) -> bool:
    """True for an address the sandbox may show: documentation, private, loopback or link-local."""
    ip = _addr(value)
    return ip is not None and any(ip in net for net in ALLOWED if net.version == ip.version)


def network_allowed(net: IPNetwork) -> bool:
    """True when every address of ``net`` lies in one of the allowed ranges."""
    return any(net.version == ok.version and net.subnet_of(ok) for ok in ALLOWED)  # type: ignore[arg-type]
