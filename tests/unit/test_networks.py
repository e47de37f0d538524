"""Networks stay networks, and subnets keep their hosts, once masked.

``10.0.3.0/24`` masked as ``10.246.69.37/24`` reads as a typo: a model asked to write the subnet into
Terraform "corrects" it to ``10.246.69.0/24``, which restores to nothing, and the user's file gets a
network that is not theirs. The invariants, on networks drawn at random: the masked text holds a
network of the same length (every host bit zero), private stays private and public public, a host of
the network lands inside the pseudonym network, and everything restores.
"""

from __future__ import annotations

import ipaddress
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.engine.restore import restore_text
from tests.support.effort import examples
from tests.support.masker_support import masker, message_text, request

_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
_NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/3")]


def _public(value: int) -> bool:
    address = ipaddress.IPv4Address(value)
    return not any(address in n for n in _NOT_PUBLIC)


@st.composite
def networks(draw) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network whose address the engine masks: private or public IPv4, or global IPv6 (its first
    two groups written out, as AWS's own ranges are), longer than what pseudonyms keep as it is."""
    family = draw(st.sampled_from(["private", "public", "v6"]))
    if family == "private":
        base = draw(st.sampled_from(_PRIVATE))
        address = int(base.network_address) + draw(st.integers(0, base.num_addresses - 1))
        return ipaddress.ip_network((address, draw(st.integers(base.prefixlen + 1, 30))), strict=False)
    if family == "public":
        address = draw(st.integers(1 << 24, (224 << 24) - 1).filter(_public))
        return ipaddress.ip_network((address, draw(st.integers(9, 30))), strict=False)
    address = (0x2600 << 112) + (draw(st.integers(0x1000, 0xFFFF)) << 96) + draw(st.integers(0, 2 ** 96 - 1))
    return ipaddress.ip_network((address, draw(st.sampled_from([32, 40, 48, 52, 56, 60, 64]))), strict=False)


_SHOWN = re.compile(r"network (\S+) holds (\S+)")


@settings(max_examples=examples(300), deadline=None)
@given(networks(), st.integers(1, 2 ** 20), st.sampled_from(["text", "json", "json-escaped-slash"]))
def test_a_network_stays_a_network_that_holds_its_hosts(network, offset, form):
    host = (network.network_address + offset % network.num_addresses).compressed
    text = f"network {network.compressed} holds {host}"
    if form == "text":
        r = masker().mask_body(text.encode(), "text/plain")
        out = r.body.decode()
    else:
        body = request(text)
        if form == "json-escaped-slash":
            body = body.replace(b"/", b"\\/")
        r = masker().mask_body(body, "application/json")
        out = message_text(r.body)
    shown_network, shown_host = _SHOWN.fullmatch(out).groups()
    masked = ipaddress.ip_network(shown_network)     # strict: raises if a host bit is set
    assert masked.prefixlen == network.prefixlen
    # not a value kept by policy (1.0.0.1, a public resolver), nor a network that mapped onto itself
    # (172.31.0.0/16: 4 free bits, 1 in 16), whose retried pseudonym cannot hold its hosts
    itself = masker()._gen.network(f"ipv{network.version}", network.compressed, 0) == network.compressed
    if shown_host != host and not itself:
        assert ipaddress.ip_address(shown_host) in masked
    assert str(network) not in out
    if network.version == 4:
        assert any(masked.subnet_of(p) for p in _PRIVATE) == network.is_private
        assert network.is_private or _public(int(masked.network_address))
    assert restore_text(out, r.restore_map) == text
    # What a model writes back: the pseudonym network in a command of its own.
    assert restore_text(f"--cidr-block {masked}", r.restore_map) == f"--cidr-block {network}"


def test_a_vpc_and_its_first_subnet_share_an_address_but_not_a_pseudonym():
    text = "vpc 10.0.0.0/16 subnet 10.0.0.0/24 instance 10.0.0.12 default 172.31.0.0/16 172.31.16.0/20 172.31.20.9"
    r = masker().mask_body(text.encode(), "text/plain")
    vpc, subnet, host, default, default_subnet, default_host = (r.body.decode().split()[i] for i in (1, 3, 5, 7, 8, 9))
    vpc, subnet, host = (ipaddress.ip_network(vpc), ipaddress.ip_network(subnet), ipaddress.ip_address(host))
    assert subnet.subnet_of(vpc) and host in subnet and vpc.prefixlen == 16 and subnet.prefixlen == 24
    assert ipaddress.ip_address(default_host) in ipaddress.ip_network(default_subnet)
    assert ipaddress.ip_network(default_subnet).subnet_of(ipaddress.ip_network(default))
    assert restore_text(r.body.decode(), r.restore_map) == text


def test_an_interface_address_is_a_host():
    r = masker().mask_body(b"inet 10.0.3.7/24 brd 10.0.3.255 and 10.0.3.7", "text/plain")
    inet, brd, bare = re.fullmatch(r"inet (\S+)/24 brd (\S+) and (\S+)", r.body.decode()).groups()
    assert inet == bare != "10.0.3.7"
    assert ipaddress.ip_address(brd) in ipaddress.ip_network(f"{inet}/24", strict=False)


def test_the_private_ranges_themselves_are_nobodys_networks():
    text = "allow 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fd00::/8 and 2600::/16"
    r = masker().mask_body(text.encode(), "text/plain")
    assert r.body.decode() == text and r.restore_map == {}
