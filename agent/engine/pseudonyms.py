"""Keyed, deterministic, format-preserving pseudonyms: ``pseudonym = f(key, kind, original)``.

Every generator draws its randomness from HMAC-SHA256(key, kind, original, tweak), so the same
original always gets the same pseudonym on every agent process that holds the same key. ``tweak`` is
0 except when a request needs a collision resolved (see :mod:`agent.engine.assignment`).

Formats (the ``format`` of a kind in the packs):
- ``digits``: same length, digits only, first digit never 0 (an account ID stays a valid JSON number).
- ``hexid``: keep everything up to the last ``-`` (``i-``, ``tgw-attach-``), hex body of the same
  length and case.
- ``charclass``: keep ``keep_prefix`` characters, then digit->digit, upper->upper, lower->lower,
  anything else kept (access keys, zone IDs, names). An all-hex body stays hex.
- ``ipv4`` / ``ipv6``: prefix-preserving (a subnet still contains its hosts), private stays private.
  A network written with its prefix length (``10.0.3.0/24``, one original) stays a network
  (``network``): a model shown ``10.246.69.37/24`` "corrects" it to a network that restores to nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import string

from agent.engine.memo import Memo

_DIGITS = string.digits
_LOWER = string.ascii_lowercase
_UPPER = string.ascii_uppercase
_HEX_LOWER = "0123456789abcdef"
_HEX_UPPER = "0123456789ABCDEF"

# (network, bits kept as they are): private and shared ranges stay inside their range.
_IPV4_KEEP = [
    (ipaddress.IPv4Network("10.0.0.0/8"), 8),
    (ipaddress.IPv4Network("172.16.0.0/12"), 12),
    (ipaddress.IPv4Network("192.168.0.0/16"), 16),
    (ipaddress.IPv4Network("100.64.0.0/10"), 10),
]
_IPV4_SPECIAL = [ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/3")]


CACHE_SIZE = 100_000
OCTET_TABLES_SIZE = 200_000


def kept_bits(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    """The leading bits of ``address`` its pseudonym keeps: its private range's, or IPv6's first group."""
    if address.version == 4:
        return next((bits for net, bits in _IPV4_KEEP if address in net), 0)
    return 8 if address in _IPV6_UNIQUE_LOCAL else 16


_IPV6_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")


class KeyError_(ValueError):
    """The pseudonym key file is missing or unusable."""


def load_key(path) -> bytes:
    """Read the secret key file (any bytes, at least 16 after stripping whitespace)."""
    with open(path, "rb") as f:
        key = f.read().strip()
    if len(key) < 16:
        raise KeyError_(f"pseudonym key file {path} is too short ({len(key)} bytes, need at least 16)")
    return key


class Generator:
    """Stateless pseudonym generators over one secret key."""

    def __init__(self, key: bytes):
        self._key = key
        # Remembered across requests under keys that are not the originals (agent/engine/memo.py).
        self._octet_tables: Memo[bytes] = Memo(OCTET_TABLES_SIZE)
        self._pseudonyms: Memo[str] = Memo(CACHE_SIZE)

    def _stream(self, kind: str, original: str, tweak: int, n: int) -> bytes:
        out = b""
        block = 0
        msg = f"{kind}\x00{original}\x00{tweak}".encode()
        while len(out) < n:
            out += hmac.digest(self._key, msg + block.to_bytes(2, "big"), "sha256")
            block += 1
        return out[:n]

    def make(self, fmt: str, kind: str, original: str, tweak: int, keep_prefix: int = 0) -> str:
        """Pseudonym of ``original`` (remembered, as conversations repeat their identifiers)."""
        key, found = self._pseudonyms.get((kind, original, tweak))
        return found if found is not None else self._pseudonyms.put(
            key, self._make(fmt, kind, original, tweak, keep_prefix))

    def _make(self, fmt: str, kind: str, original: str, tweak: int, keep_prefix: int) -> str:
        if fmt == "digits":
            return self.digits(kind, original, tweak)
        if fmt == "hexid":
            return self.hexid(kind, original, tweak)
        if fmt == "charclass":
            return self.charclass(kind, original, tweak, keep_prefix)
        if fmt in ("ipv4", "ipv6") and "/" in original:
            return self.network(fmt, original, tweak)
        if fmt == "ipv4":
            return self.ipv4(original, tweak)
        if fmt == "ipv6":
            return self.ipv6(original, tweak)
        raise ValueError(f"unknown pseudonym format {fmt!r}")

    def digits(self, kind: str, original: str, tweak: int) -> str:
        raw = self._stream(kind, original, tweak, len(original) + 8)
        first = "123456789"[raw[0] % 9]
        return first + "".join(_DIGITS[b % 10] for b in raw[1:len(original)])

    def hexid(self, kind: str, original: str, tweak: int) -> str:
        cut = original.rfind("-") + 1
        prefix, body = original[:cut], original[cut:]
        alphabet = _HEX_UPPER if any(c in "ABCDEF" for c in body) else _HEX_LOWER
        raw = self._stream(kind, original, tweak, len(body))
        return prefix + "".join(alphabet[b & 15] for b in raw)

    def charclass(self, kind: str, original: str, tweak: int, keep_prefix: int = 0) -> str:
        prefix, body = original[:keep_prefix], original[keep_prefix:]
        raw = self._stream(kind, original, tweak, len(body))
        pairs = zip(body, raw, strict=True)
        for alphabet in (_HEX_LOWER, _HEX_UPPER):
            if len(body) >= 4 and all(c in alphabet or c == "-" for c in body):
                return prefix + "".join(c if c == "-" else alphabet[b & 15] for c, b in pairs)
        return prefix + "".join(_map_char(c, b) for c, b in pairs)

    def tail(self, kind: str, original: str, tweak: int) -> str:
        """Four characters, digit first, then digits and lowercase letters (a short name's suffix)."""
        raw = self._stream(kind + "\x00tail", original, tweak, 4)
        return _DIGITS[raw[0] % 10] + "".join((_DIGITS + _LOWER)[b % 36] for b in raw[1:])

    # --- IP addresses: per-octet keyed tables give a bit-level prefix-preserving permutation ----
    def _octet_table(self, family: str, prefix: bytes, tweak: int) -> bytes:
        msg = f"{family}\x00{tweak}\x00".encode() + prefix
        key, table = self._octet_tables.get((msg,))
        return table if table is not None else self._octet_tables.put(key, hmac.digest(self._key, msg, "sha256"))

    def _permute(self, family: str, data: bytes, keep_bits: int, tweak: int) -> bytes:
        out = bytearray()
        for k, octet in enumerate(data):
            table = self._octet_table(family, data[:k], tweak)
            new = 0
            for j in range(8):
                bit = (octet >> (7 - j)) & 1
                if k * 8 + j >= keep_bits:
                    idx = (1 << j) - 1 + (octet >> (8 - j) if j else 0)
                    bit ^= (table[idx >> 3] >> (idx & 7)) & 1
                new = (new << 1) | bit
            out.append(new)
        return bytes(out)

    def ipv4(self, original: str, tweak: int) -> str:
        addr = ipaddress.IPv4Address(original)
        keep = kept_bits(addr)
        for t in range(tweak, tweak + 64):
            new = ipaddress.IPv4Address(self._permute("ipv4", addr.packed, keep, t))
            if keep or not any(new in net for net in _IPV4_SPECIAL):
                return str(new)
        return str(new)

    def ipv6(self, original: str, tweak: int) -> str:
        addr = ipaddress.IPv6Address(original)
        keep = kept_bits(addr)
        new = ipaddress.IPv6Address(self._permute("ipv6", addr.packed, keep, tweak))
        return new.compressed

    def network(self, fmt: str, original: str, tweak: int) -> str:
        """A network written with its prefix length (``10.0.3.0/24``): the first bits of its address's own
        pseudonym (they depend on the address's first bits alone: prefix-preserving), then zeros, so it
        stays a network and holds the pseudonyms of its hosts (their first bits are the same). A network
        that maps onto itself (its few free bits did: 172.31.0.0/16, 1 in 16) is retried like any
        pseudonym equal to an original, and then holds its hosts no more; one no longer than
        ``kept_bits`` (10.0.0.0/8) is no identifier (``splitters``)."""
        address, _, bits = original.partition("/")
        full = self.ipv4(address, tweak) if fmt == "ipv4" else self.ipv6(address, tweak)
        return f"{ipaddress.ip_network(f'{full}/{bits}', strict=False).network_address}/{bits}"


def _map_char(c: str, b: int) -> str:
    if "0" <= c <= "9":
        return _DIGITS[b % 10]
    if "a" <= c <= "z":
        return _LOWER[b % 26]
    if "A" <= c <= "Z":
        return _UPPER[b % 26]
    return c
