"""Per-request pseudonym assignment: collision-free, consistent across components.

``Generator`` gives the pseudonym of one (kind, original). A request can still hit two problems,
which this module resolves deterministically (originals are processed in sorted order, and a
clash is retried with the next ``tweak``): two originals getting the same pseudonym, and a
pseudonym equal to an original that appears in the same request. Composite kinds are built from
the resolved pseudonyms of their components, so an account embedded in a bucket name or an IP in
an EC2 hostname gets exactly the pseudonym it gets on its own.

Retries are bounded (``MAX_TWEAKS`` per original, so assignment costs O(k log k) for k originals
whatever the request holds). From ``FALLBACK_TWEAK`` on, a name's pseudonym takes a second form that
always differs from the name (a distinctive tail); an EC2 IP label whose first form clashes stops
following the pseudonym of its IP. A request in which no tweak gives a free pseudonym (every address of a
192.168.0.0/16 listed: the permutation of that range has nowhere else to go) is refused with
``MaskRefused`` (400, nothing forwarded) instead of being retried forever.
"""

from __future__ import annotations

import re

from agent.engine.detectors import Kind
from agent.engine.pseudonyms import Generator
from agent.engine.results import MaskRefused
from agent.engine.splitters import IP_LABEL, REGION

_EMBEDDED_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
_DEPENDENT = ("name", "iplabel")
MIN_NAME = 8   # names shorter than this get a distinctive tail on their pseudonym
MAX_TWEAKS = 32        # attempts per original; then the request is refused
FALLBACK_TWEAK = 8     # from this attempt on, names use their second form (IP labels from the second)


class Assignment:
    """Pseudonyms for one request: ``lookup[(kind, original)]`` and ``restore_map``."""

    def __init__(self, gen: Generator, kinds: dict[str, Kind], items: set[tuple[str, str]]):
        self._gen = gen
        self._kinds = kinds
        self._originals = {orig for _, orig in items}
        self.lookup: dict[tuple[str, str], str] = {}
        self.restore_map: dict[str, str] = {}
        # Independent kinds first (a name takes the pseudonyms of the accounts and IPs it embeds),
        # each group sorted: two plain sorts of (kind, original) cost less than one sort by a key.
        dependent = {it for it in items if kinds[it[0]].format in _DEPENDENT}
        for kind, original in sorted(items - dependent) + sorted(dependent):
            self.resolve(kind, original)

    def resolve(self, kind: str, original: str) -> str:
        key = (kind, original)
        found = self.lookup.get(key)
        if found is not None:
            return found
        spec = self._kinds[kind]
        for tweak in range(MAX_TWEAKS):
            pseudo = self._make(spec, original, tweak)
            owner = self.restore_map.get(pseudo)
            if (owner is None or owner == original) and (pseudo not in self._originals):
                break
        else:
            raise MaskRefused(
                400, "invalid_request_error",
                f"the masking gateway could not give every {kind!r} identifier in this request its own "
                "pseudonym (the request holds nearly every value of that format), so it was not "
                "forwarded. Split the request or leave some of those values out.", "pseudonym_exhausted")
        self.lookup[key] = pseudo
        self.restore_map[pseudo] = original
        return pseudo

    def _make(self, spec: Kind, original: str, tweak: int) -> str:
        if spec.format == "name":
            return self._name(spec, original, tweak)
        if spec.format == "iplabel":
            return self._iplabel(original, tweak)
        return self._gen.make(spec.format, spec.name, original, tweak, spec.keep_prefix)

    def _name(self, spec: Kind, original: str, tweak: int) -> str:
        out = list(self._gen.make("charclass", spec.name, original, tweak))
        for m in REGION.finditer(original):
            out[m.start():m.end()] = m.group()
        for m in _EMBEDDED_ACCOUNT.finditer(original):
            out[m.start():m.end()] = self.resolve("account", m.group())
        if len(original) < MIN_NAME or tweak >= FALLBACK_TWEAK:
            # A short name ("api", "prod", "logs") would get a short pseudonym that could be an
            # ordinary word in a response and be wrongly restored: give it a distinctive tail
            # ("-" + a digit + 3 more), which no dictionary word has. It is also the second form
            # for a name whose first form keeps clashing (little of it changes: "us-east-1-a"),
            # as the tail makes it longer than the name and changes with the tweak.
            out.append("-" + self._gen.tail(spec.name, original, tweak))
        return "".join(out)

    def _iplabel(self, original: str, tweak: int) -> str:
        m = IP_LABEL.fullmatch(original)
        if m is None or max(map(int, m.groups())) >= 256:
            return self._gen.charclass("iplabel", original, tweak, 3)
        ip = ".".join(m.groups())
        # First form: the label follows its IP's pseudonym (ip-10-0-1-5 and 10.0.1.5 agree). That
        # pseudonym is fixed, so when the label it gives clashes, later tweaks permute on their own.
        ip = self.resolve("ipv4", ip) if tweak == 0 else self._gen.ipv4(ip, tweak)
        prefix = original[: original.index("-") + 1]
        return prefix + ip.replace(".", "-")
