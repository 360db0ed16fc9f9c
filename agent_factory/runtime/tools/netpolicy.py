"""Which network addresses a tool may connect to (SSRF protection).

A host is resolved once; every address it resolves to must be public, or covered by the
allow-list. Addresses are judged by `ipaddress` after resolution, so spellings such as
`2130706433` or `0x7f.1` (both 127.0.0.1 to the resolver) and IPv6 forms that embed an
IPv4 address (`::ffff:127.0.0.1`, 6to4, Teredo, NAT64) are judged by what they reach.
The caller then connects to the returned address, so a second DNS answer cannot swap it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from agent_factory.compiler.diagnostics import article

from .model import ToolError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_HINT = "add the host or its network to [tools.http] allow_hosts to allow it"

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(ToolError):
    """A connection the network policy does not permit."""


@dataclass(frozen=True)
class AllowList:
    """Host `names` and IP `networks` that may be reached although they are not public, each
    with the one port it is allowed on, or None for any port."""

    names: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[tuple[IPNetwork, int | None], ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Entries are IP addresses, CIDR networks (`10.0.0.0/8`, `::1/128`) or host names, each
        optionally with a port (`127.0.0.1:8080`, `[::1]:8080`, `intranet.example:443`)."""
        names: set[tuple[str, int | None]] = set()
        networks: list[tuple[IPNetwork, int | None]] = []
        for entry in entries:
            host, port = _split_port(entry)
            try:
                networks.append((ipaddress.ip_network(host, strict=False), port))
            except ValueError:
                names.add((_normal_host(host), port))
        return cls(frozenset(names), tuple(networks))

    def permits(self, host: str, address: IPAddress, port: int | None = None) -> bool:
        """Whether `address` on `port`, reached through `host`, is explicitly allowed."""
        name = _normal_host(host)
        if (name, None) in self.names or (name, port) in self.names:
            return True
        return any(address in network and allowed in (None, port) for network, allowed in self.networks)


def _split_port(entry: str) -> tuple[str, int | None]:
    """An allow_hosts entry as (host or network, port or None); `ValueError` names a bad entry."""
    text = entry.strip()
    if not text:
        raise ValueError("allow_hosts entries must not be empty")
    if text.startswith("["):  # [IPv6] or [IPv6]:port
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError(f"allow_hosts entry {entry!r} is not '[address]' or '[address]:port'")
        return host, _port(rest[1:], entry) if rest else None
    if text.count(":") == 1:  # name:port or IPv4:port; more colons are a bare IPv6 address
        host, _, port = text.partition(":")
        return host, _port(port, entry)
    return text, None


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"allow_hosts entry {entry!r} has an invalid port {text!r} (expected 1-65535)")
    return int(text)


def _normal_host(host: str) -> str:
    """Host names compare case-insensitively and without a trailing dot."""
    return host.lower().rstrip(".")


def forbidden_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public destination ("a loopback address"), or None when it is."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        kind, inner = embedded
        reason = forbidden_reason(inner)
        return f"{reason} ({kind} {inner})" if reason else None
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((f"{article(label)} {label} address" for label, hit in checks if hit), None)


def _embedded_ipv4(address: IPAddress) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries to, with the mechanism's name."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address.teredo is not None:
        return "Teredo", address.teredo[1]
    if address in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def system_resolve(host: str, port: int) -> list[str]:
    """Resolve with the system resolver, without blocking the event loop."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolError(f"cannot resolve host '{host}': {exc.strerror}") from None
    return [info[4][0] for info in infos]


async def pin_address(host: str, port: int, allow: AllowList, resolver=None) -> IPAddress:
    """Resolve `host` once and return the address to connect to.

    Refuses when any address the host resolves to is not public and not allowed: a name
    that answers with both a public and a private address is not trusted either way."""
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        answers = await (resolver or system_resolve)(host, port)
        addresses = sorted({_parse_answer(host, answer) for answer in answers}, key=_address_order)
        if not addresses:
            raise ToolError(f"cannot resolve host '{host}': no addresses")
    for address in addresses:
        reason = forbidden_reason(address)
        if reason and not allow.permits(host, address, port):
            shown = display(address)
            subject = f"{shown} is" if literal is not None else f"{host} resolves to {shown},"
            raise Refused(f"{subject} {reason}")
    return addresses[0]


def display(address: IPAddress) -> str:
    """An address as people write it: IPv4-mapped IPv6 keeps its dotted tail on every Python."""
    if address.version == 6 and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def _ip_literal(host: str) -> IPAddress | None:
    """The address when `host` is written as a canonical IP literal (`[::1]` included)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _parse_answer(host: str, answer: str) -> IPAddress:
    """A resolver answer as an address; IPv6 scope ids (`fe80::1%eth0`) are dropped."""
    try:
        return ipaddress.ip_address(answer.split("%", 1)[0])
    except ValueError:
        raise ToolError(f"cannot resolve host '{host}': resolver returned {answer!r}") from None


def _address_order(address: IPAddress) -> tuple[int, int]:
    """IPv4 first, then numeric order: the same host gives the same pinned address and message."""
    return address.version, int(address)
