"""AWS grammar pieces for generated tests: regions, AZs and partitions from botocore's endpoint data,
every ID family the detector packs know (their own examples, plus values drawn from their
regexes' grammar), names built from those pieces, ARNs and host names, each with the context a
detector is anchored on (``s3://``, ``"BucketName": ``, ``--bucket``, an ARN ...).

Used by tests/unit/test_bounded_work.py (degenerate names) and tests/fuzz_invariants.py (the invariant
fuzz lane). Everything here is synthetic; still, nothing that reports a failure prints a value:
failures name seeds, kinds and positions.
"""

from __future__ import annotations

import functools
import random
import re
import string
from dataclasses import dataclass

from agent.engine.masker import UNLABELLED_ACCOUNT_DETECTOR
from agent.engine.policy_values import kept_values
from agent.engine.settings import MaskConfig
from tests.support.masker_support import shipped_packs


@functools.lru_cache(maxsize=1)
def endpoints() -> dict:
    import botocore.loaders  # a test dependency (pyproject's test extra): data only, no network
    return botocore.loaders.Loader().load_data("endpoints")


@functools.lru_cache(maxsize=1)
def regions() -> tuple[str, ...]:
    return tuple(sorted({r for p in endpoints()["partitions"] for r in p["regions"]}))


@functools.lru_cache(maxsize=1)
def partition_of() -> dict[str, str]:
    return {r: p["partition"] for p in endpoints()["partitions"] for r in p["regions"]}


@functools.lru_cache(maxsize=1)
def azs() -> tuple[str, ...]:
    return tuple(r + letter for r in regions() for letter in "abcdef")


SEPARATORS = ("-", ".", "_", "/", ":")
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits


@functools.lru_cache(maxsize=1)
def ec2_prefixes() -> tuple[str, ...]:
    """The EC2-family prefixes of the ec2-resource-id detector, read from its regex."""
    det = next(d for d in shipped_packs().detectors if d.id == "ec2-resource-id")
    m = re.search(r"\(\?P<value>\(\?:([a-z|-]+)\)-", det.regex.pattern)
    return tuple(m.group(1).split("|"))


@functools.lru_cache(maxsize=1)
def pack_example_list() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(detector id, text, values it must mask) for every example of every pack that names them."""
    out = []
    config = MaskConfig()               # what the gateway runs by default: its policies decide too
    kept = kept_values(config)
    for det in shipped_packs().detectors:
        if det.id == UNLABELLED_ACCOUNT_DETECTOR and config.unlabelled_accounts == "keep":
            continue                    # a detector only the "mask" policy turns on
        for ex in det.match_examples:
            text, masks = (ex, (ex,)) if isinstance(ex, str) else (ex["text"], tuple(ex.get("masks", ())))
            if any(m in kept for m in masks):
                continue                # an AWS constant or public resolver, kept by default policy
            if masks and not _glued(text, masks):
                out.append((det.id, text, masks))
    return tuple(out)


def _glued(text: str, masks: tuple[str, ...]) -> bool:
    """Two identifiers written without a separator (``i-...i-...``): detected, but by design their
    pseudonyms do not restore (a pseudonym never restores inside a longer token)."""
    return any(re.search(re.escape(a) + re.escape(b), text) for a in masks for b in masks)


# --- values ---------------------------------------------------------------------------------------
def account(rng: random.Random) -> str:
    return "".join(rng.choice(string.digits) for _ in range(12))


def ec2_id(rng: random.Random) -> str:
    n = 17 if rng.random() < 0.7 else 8
    return rng.choice(ec2_prefixes()) + "-" + "".join(rng.choice(HEX) for _ in range(n))


def access_key(rng: random.Random) -> str:
    return rng.choice(("AKIA", "ASIA")) + "".join(rng.choice(UPPER_DIGITS) for _ in range(16))


def iam_unique_id(rng: random.Random) -> str:
    return rng.choice(("AIDA", "AROA", "AGPA", "ANPA", "AIPA")) + "".join(
        rng.choice(UPPER_DIGITS) for _ in range(17))


def mixed_upper(rng: random.Random, first: str, n: int) -> str:
    body = [rng.choice(string.digits), rng.choice(string.ascii_uppercase)]
    body += [rng.choice(UPPER_DIGITS) for _ in range(n - 2)]
    rng.shuffle(body)
    return first + "".join(body)


def ipv4(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice((f"10.{rng.randrange(256)}", f"172.{rng.randrange(16, 32)}", "192.168")) + \
            f".{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return f"{rng.choice((3, 18, 34, 52, 54, 203))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def ipv6(rng: random.Random) -> str:
    return "2600:1f18:" + ":".join(f"{rng.randrange(0x100, 0x10000):x}" for _ in range(6))


WORDS = ("acme", "orders", "billing", "prod", "staging", "logs", "data", "assets", "etl", "web", "api",
         "payments", "archive", "raw", "events", "reports", "atlas", "helios", "batch", "queue")


def name(rng: random.Random, kept: float = 0.3) -> str:
    """A resource name built from words, regions, AZs, accounts and digits (S3-bucket alphabet)."""
    parts = [rng.choice(WORDS)]
    for _ in range(rng.randrange(1, 4)):
        r = rng.random()
        if r < kept:
            parts.append(rng.choice(regions()) if rng.random() < 0.5 else rng.choice(azs()))
        elif r < kept + 0.15:
            parts.append(account(rng))
        elif r < kept + 0.35:
            parts.append(str(rng.randrange(1, 10_000)))
        else:
            parts.append(rng.choice(WORDS))
    rng.shuffle(parts)
    if not any(c.isalpha() for c in "".join(p for p in parts if p in WORDS)):
        parts.append(rng.choice(WORDS))
    return rng.choice(("-", "-", ".")).join(parts) + str(rng.randrange(10, 100))


def kept_only(rng: random.Random) -> str:
    """A name made of nothing but kept parts: regions, AZs and separators."""
    pieces = [rng.choice(regions()) if rng.random() < 0.5 else rng.choice(azs())
              for _ in range(rng.randrange(1, 4))]
    sep = rng.choice(("-", ".", "_", "/", "--"))
    out = sep.join(pieces)
    return out + rng.choice(("", "", "-", "."))


# --- identifiers in their context -----------------------------------------------------------------
@dataclass
class Planted:
    text: str                 # what goes into a string of the body
    secrets: tuple[str, ...]  # values that must not survive masking in any form
    family: str               # for reports: which generator made it (never the value)


def _arn(rng: random.Random, acct: str, resource_name: str) -> Planted:
    region = rng.choice(regions())
    part = partition_of()[region]
    form = rng.randrange(5)
    if form == 0:
        return Planted(f"arn:{part}:iam::{acct}:role/{resource_name}", (acct, resource_name), "arn-iam")
    if form == 1:
        return Planted(f"arn:{part}:s3:::{resource_name}/key.json", (resource_name,), "arn-s3")
    if form == 2:
        return Planted(f"arn:{part}:lambda:{region}:{acct}:function:{resource_name}", (acct, resource_name),
                       "arn-lambda")
    if form == 3:
        iid = ec2_id(rng)
        return Planted(f"arn:{part}:ec2:{region}:{acct}:instance/{iid}", (acct, iid), "arn-ec2")
    return Planted(f"arn:{part}:sns:{region}:{acct}:{resource_name}", (acct, resource_name), "arn-sns")


def _host(rng: random.Random, acct: str, bucket: str) -> Planted:
    bucket = bucket.replace(".", "-")     # one DNS label (a dotted name would be several)
    region = rng.choice([r for r in regions() if partition_of()[r] in ("aws", "aws-us-gov")])
    form = rng.randrange(4)
    if form == 0:
        return Planted(f"{acct}.dkr.ecr.{region}.amazonaws.com/{bucket}:latest", (acct, bucket), "host-ecr")
    if form == 1:
        return Planted(f"https://{bucket}.s3.{region}.amazonaws.com/a/b.txt", (bucket,), "host-s3")
    if form == 2:
        return Planted(f"{bucket}.cluster-ab12cd34ef56.{region}.rds.amazonaws.com", (bucket,), "host-rds")
    ip = ipv4(rng).split(".")
    return Planted(f"ip-{'-'.join(ip)}.{region}.compute.internal", (".".join(ip),), "host-ip-label")


def planted(rng: random.Random) -> Planted:
    """One identifier (or a few) in the context a detector is anchored on, or one of every detector's
    own examples (the packs' contexts, planted anywhere)."""
    acct = account(rng)
    nm = name(rng)
    family = rng.randrange(17)
    if family == 0:
        return Planted(f'"Account": "{acct}"', (acct,), "account-json")
    if family == 1:
        return Planted(f"AWS account {acct}", (acct,), "account-prose")
    if family == 2:
        v = ec2_id(rng)
        return Planted(v, (v,), "ec2-id")
    if family == 3:
        v = access_key(rng)
        return Planted(v, (v,), "access-key")
    if family == 4:
        v = iam_unique_id(rng)
        return Planted(v, (v,), "iam-unique-id")
    if family == 5:
        v = ipv4(rng)
        return Planted(v, (v,), "ipv4")
    if family == 6:
        v = ipv6(rng)
        return Planted(v, (v,), "ipv6")
    if family in (7, 8):
        return _arn(rng, acct, nm)
    if family == 9:
        return _host(rng, acct, nm)
    if family == 10:
        return Planted(f"aws s3 cp s3://{nm}/x.csv .", (nm,), "name-s3-uri")
    if family == 11:
        key = rng.choice(("BucketName", "FunctionName", "TableName", "QueueName", "DBInstanceIdentifier"))
        return Planted(f'"{key}": "{nm}"', (nm,), "name-json-key")
    if family == 12:
        flag = rng.choice(("--bucket", "--function-name", "--table-name", "--stack-name"))
        return Planted(f"aws x {flag} {nm}", (nm,), "name-cli-flag")
    if family == 13:
        v = mixed_upper(rng, "Z", 13)
        return Planted(f"/hostedzone/{v}", (v,), "zone-id")
    if family == 14:
        v = mixed_upper(rng, "E", 13)
        return Planted(v, (v,), "distribution-id")
    if family == 15:      # nothing to hide (a region, an AZ): left as it is, and it must not hang
        v = kept_only(rng)
        return Planted(rng.choice((f'"Name": "{v}"', f"S3 bucket {v} is empty", f"s3://{v}/x")), (), "kept-only-name")
    det, text, masks = rng.choice(pack_example_list())
    return Planted(text, masks, "pack-example")
