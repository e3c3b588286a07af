"""The client's address, taking ``X-Forwarded-For`` only from configured proxies (``MYPAGE_TRUSTED_PROXIES``).

Per-address limits (login failures, registration matches, captcha) key on this address, so it must not
be something a client can choose. The rule, applied once per request by the portal middleware:

- the direct peer (the TCP connection's address) is the client, unless the peer is a trusted proxy;
- behind a trusted proxy, ``X-Forwarded-For`` is read from the right (the entry the nearest proxy
  appended) and the first address that is not itself a trusted proxy is the client;
- an entry that is not an IP address stops the walk: the last address known to be good (a trusted
  proxy) is used, so garbage or a header an attacker rotates never becomes a new address;
- if every entry is a trusted proxy, the leftmost one is the client.

With no trusted proxies (the default) the header is ignored entirely.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``"10.0.0.1"``, ``"10.0.0.0/8"``, ``"::1"`` … as networks; raises ``ValueError`` naming a bad entry."""
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or network: {entry!r}") from exc
    return tuple(networks)


def parse_address(value: str) -> Address | None:
    """An IP address from a header entry (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``, ``::1``), else None."""
    value = value.strip().strip('"')
    if not value:
        return None
    if value.startswith("["):  # [v6] or [v6]:port
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, entries: Iterable[str] = ()):
        self.networks = parse_networks(entries)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, peer: str, forwarded_for: Iterable[str] = ()) -> str:
        """The client's address from the direct ``peer`` and the ``X-Forwarded-For`` header values (in order)."""
        if not self.networks:
            return peer
        current = parse_address(peer)
        if not self.trusts(current):
            return peer
        entries = [item for value in forwarded_for for item in value.split(",")]
        for entry in reversed(entries):
            if not entry.strip():
                continue
            hop = parse_address(entry)
            if hop is None:
                break  # garbage: keep the nearest good address (a trusted proxy)
            current = hop
            if not self.trusts(hop):
                break
        return str(current)
