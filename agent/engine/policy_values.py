"""Values whose masking is a policy choice, not a detection question (see README "Policies").

Each set is switched in ``config.yaml`` (``agent/engine/settings.py``):

- ``documentation_examples`` (default ``mask``): the values AWS documentation uses as examples.
  Masking them is safe (they identify nobody) and keeps the model consistent: an example account in
  a pasted doc and a real one in the same request are treated alike, so the model never learns that
  some account-shaped values pass. ``keep`` leaves them readable.
- ``documentation_ranges`` (default ``mask``): the IP ranges reserved for documentation (RFC 5737,
  RFC 3849). Same reasoning.
- ``public_resolvers`` (default ``keep``): well-known public DNS resolvers; they say nothing about
  you and "we resolve through 8.8.8.8" reads better than a pseudonym.
- ``aws_constants`` (default ``keep``): values AWS publishes for everyone: the hosted zone IDs of
  ELB and CloudFront aliases, the accounts ELB access logs are delivered from. Not complete; add
  others with ``allow``.
- ``unlabelled_accounts`` (default ``keep``): a 12-digit number with no label and outside any ARN
  is kept, unless the same value is labelled or sits in an ARN anywhere in the request (then every
  occurrence is masked). ``mask`` masks every stand-alone 12-digit number (order numbers too).
"""

from __future__ import annotations

import ipaddress

# AWS documentation examples. Anything with "EXAMPLE" in it is one too (AKIAIOSFODNN7EXAMPLE,
# EDFDVBD6EXAMPLE, Z3M3LMPEXAMPLE, wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY).
DOCUMENTATION_EXAMPLES = frozenset("""
    123456789012 111122223333 444455556666 777788889999 210987654321 012345678901 999999999999
    i-1234567890abcdef0 i-0123456789abcdef0 vpc-1a2b3c4d subnet-1a2b3c4d sg-1a2b3c4d ami-0abcdef1234567890
""".split())

DOCUMENTATION_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))

PUBLIC_RESOLVERS = frozenset("""
    8.8.8.8 8.8.4.4 1.1.1.1 1.0.0.1 9.9.9.9 149.112.112.112 208.67.222.222 208.67.220.220
    2001:4860:4860::8888 2001:4860:4860::8844 2606:4700:4700::1111 2606:4700:4700::1001
""".split())

AWS_CONSTANTS = frozenset("""
    Z2FDTNDATAQYW2
    Z35SXDOTRQ7X7K Z3AADJGX6KTTL2 Z368ELLRRE2KJ0 Z1H1FL5HABSF5 Z32O12XQLNTSW2 Z215JYRZR1TBD5
    Z3GKZC51ZF0DB4 Z1LMS91P8CMLE5 Z1GM3OXH4ZPM65 Z14GRHDCWA56QT Z2P70J7HTTTPLU Z26RNL4JYFTOTI
    127311923021 033677994240 027434742980 797873946194 985666609251 054676820928 156460612806
    652711504416 009996457667 897822967062 582318560864 600734575887 383597477331 114774131450
    783225319266 718504428378 507241528517 048591011584 190560391635
""".split())


def kept_values(config) -> frozenset[str]:
    """The exact values ``config``'s policies keep readable (one set lookup per finding)."""
    out: set[str] = set()
    if config.public_resolvers == "keep":
        out |= PUBLIC_RESOLVERS
    if config.aws_constants == "keep":
        out |= AWS_CONSTANTS
    if config.documentation_examples == "keep":
        out |= DOCUMENTATION_EXAMPLES
    return frozenset(out)


def kept_by_pattern(value: str, kind_format: str, config) -> bool:
    """The policies that keep a family of values, not a list: ``EXAMPLE`` values, documentation ranges."""
    if config.documentation_examples == "keep" and "EXAMPLE" in value:
        return True
    return (config.documentation_ranges == "keep" and kind_format in ("ipv4", "ipv6")
            and _in_ranges(value, DOCUMENTATION_RANGES))


def _in_ranges(value: str, ranges) -> bool:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(addr.version == r.version and addr in r for r in ranges)
