"""SDK calls in five languages generated from botocore's input shapes, and the masker measured on them.

Claude Code reads source files, and what the SDKs' users write is a call with the operation's input
members: boto3's keyword arguments, the JavaScript v3 command's object, Go v2's input struct with
``aws.String``, Java v2's and Rust's builders. Which members a call sets comes from the models
(required ones, then a few optional), their labels from ``awscli_corpus.classify`` (identifier,
non-identifier, unclassified), the spelling of each member from the SDK's own rule (boto3 and Go keep
the model's name; Java lower-cases its first letter; Rust snake-cases it). Identifier values are made
up (names; IDs, EC2's by their prefix; accounts; ARNs with a made-up account); enum members get one
of their values, which must stay.

    .venv/bin/python -m tests.support.sdk_code_corpus [--operations N] [--seed S] [--misses K] [--json]

Reported per language: the share of identifier values masked and of enum values changed.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict

from tests.support.awscli_corpus import Example, Score, Value, classify, measure, report_masker

try:
    import botocore.session
    from botocore import xform_name
except ImportError:  # pragma: no cover - dev dependencies (pyproject's test extra)
    botocore = None

LANGUAGES = ("boto3", "js-v3", "go-v2", "java-v2", "rust")
_WORDS = ("orders", "ledger", "media", "billing", "ingest", "events", "reports", "catalog")
_PREFIX = ("kestrel", "orion", "quokka", "lumen", "calyx", "tundra")
# Members whose values are EC2-family IDs, by the end of their name, and the IDs' prefix
_EC2_PREFIXES = (("instanceid", "i"), ("vpcid", "vpc"), ("subnetid", "subnet"), ("securitygroupid", "sg"),
                 ("groupid", "sg"), ("volumeid", "vol"), ("snapshotid", "snap"), ("imageid", "ami"),
                 ("networkinterfaceid", "eni"), ("routetableid", "rtb"), ("transitgatewayid", "tgw"))


def _made_up(member: str, service: str, r: random.Random) -> str:
    """An identifier value for ``member``, shaped by its name's tail."""
    name = f"{r.choice(_PREFIX)}-{r.choice(_WORDS)}-{r.randint(10, 99)}"
    account = str(r.randint(2, 9)) + "".join(r.choice("0123456789") for _ in range(11))
    tail = member.rstrip("s").lower()
    if tail.endswith(("accountid", "owner", "ownerid", "accountnumber")):
        return account
    prefix = next((p for word, p in _EC2_PREFIXES if tail.endswith(word)), None)
    if prefix is not None:
        return prefix + "-" + "".join(r.choice("0123456789abcdef") for _ in range(17))
    if tail.endswith("arn"):
        return f"arn:aws:{service}:us-east-1:{account}:{r.choice(_WORDS)}/{name}"
    if tail.endswith("id") or tail.endswith("identifier"):
        return f"{r.choice(_WORDS)[:3]}-{''.join(r.choice('0123456789abcdef') for _ in range(12))}"
    return name


def _members(op, r: random.Random) -> list[tuple[str, object, bool]]:
    """(member, shape, identifier?) of the scalar members a call sets: every required one, then up
    to three optional; only identifiers (strings) and enums are measured."""
    shape = op.input_shape
    if shape is None:
        return []
    required = set(shape.required_members)
    chosen = [m for m in shape.members if m in required]
    optional = [m for m in shape.members if m not in required]
    chosen += r.sample(optional, min(3, len(optional)))
    out = []
    for member in chosen:
        mshape = shape.members[member]
        target = mshape.member if mshape.type_name == "list" else mshape
        if target.type_name != "string":
            continue
        label = classify(member, mshape, shape.name)
        if label is True or (label is False and getattr(target, "enum", None)):
            out.append((member, mshape, label))
    return out


def _spelled(member: str, language: str) -> str:
    if language == "java-v2":
        return member[:1].lower() + member[1:]
    if language == "rust":
        return xform_name(member)
    return member


def _render(language: str, service: str, op_name: str, items: list[tuple[str, list[str], bool]]) -> tuple[str, list]:
    """The call's source, and (start, end, identifier?, member) of each value in it."""
    parts: list[str] = []
    values: list[tuple[int, int, bool, str]] = []
    length = 0

    def put(text: str, value: tuple[bool, str] | None = None) -> None:
        nonlocal length
        if value is not None:
            values.append((length, length + len(text), *value))
        parts.append(text)
        length += len(text)

    snake = xform_name(op_name)
    head = {
        "boto3": f'import boto3\n\nclient = boto3.client("{service}")\nresponse = client.{snake}(\n',
        "js-v3": f'import {{ {op_name}Command }} from "@aws-sdk/client-{service}";\n\n'
                 f"const out = await client.send(new {op_name}Command({{\n",
        "go-v2": f"out, err := client.{op_name}(ctx, &{service.replace('-', '')}.{op_name}Input{{\n",
        "java-v2": f"{op_name}Request request = {op_name}Request.builder()\n",
        "rust": f"let resp = client\n    .{snake}()\n",
    }[language]
    put(head)
    for member, vals, identifier in items:
        key = _spelled(member, language)
        many = len(vals) > 1
        if language == "boto3":
            put(f"    {key}=" + ("[" if many else ""))
        elif language == "js-v3":
            put(f"  {key}: " + ("[" if many else ""))
        elif language == "go-v2":
            put(f"\t{key}: " + ("[]string{" if many else "aws.String("))
        elif language == "java-v2":
            put(f"        .{key}(")
        else:
            put(f"    .{key}(" + ("vec![" if many else ""))
        for i, v in enumerate(vals):
            if i:
                put(", ")
            put('"')
            put(v, (identifier, member))
            put('"')
        if language == "boto3":
            put(("]" if many else "") + ",\n")
        elif language == "js-v3":
            put(("]" if many else "") + ",\n")
        elif language == "go-v2":
            put(("}" if many else ")") + ",\n")
        elif language == "java-v2":
            put(")\n")
        else:
            put(("]" if many else "") + ")\n")
    put({"boto3": ")\n", "js-v3": "}));\n", "go-v2": "})\n", "java-v2": "        .build();\n",
         "rust": "    .send()\n    .await?;\n"}[language])
    return "".join(parts), values


def examples(operations: int = 400, seed: int = 13) -> dict[str, list[Example]]:
    """Per language, one call per sampled operation (the same members and values in each language)."""
    session = botocore.session.get_session()
    r = random.Random(seed)
    services = session.get_available_services()
    out: dict[str, list[Example]] = defaultdict(list)
    made = 0
    while made < operations:
        service = r.choice(services)
        model = session.get_service_model(service)
        op_name = r.choice(model.operation_names)
        members = _members(model.operation_model(op_name), r)
        if not any(label for _, _, label in members):
            continue
        items = []
        for member, mshape, label in members:
            target = mshape.member if mshape.type_name == "list" else mshape
            n = r.randint(1, 2) if mshape.type_name == "list" else 1
            vals = [_made_up(member, service, r) if label else r.choice(target.enum) for _ in range(n)]
            items.append((member, vals, label))
        made += 1
        for language in LANGUAGES:
            text, values = _render(language, service, op_name, items)
            out[language].append(Example(f"{service}.{op_name}", language, text,
                                         [Value(s, e, ident, f"{service}.{member}") for s, e, ident, member in values]))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--operations", type=int, default=400)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--misses", type=int, default=0)
    p.add_argument("--json", action="store_true", help="each call inside a Messages request (the real path)")
    args = p.parse_args(argv)
    masker = report_masker()
    print(f"SDK calls made from botocore {botocore.__version__}'s input shapes: {args.operations} operations, "
          f"{'inside a Messages request' if args.json else 'as plain text'}")
    for language, exs in examples(args.operations, args.seed).items():
        misses: dict | None = {} if args.misses else None
        total = Score()
        for sc in measure(masker, exs, misses, as_json=args.json).values():
            total.add(sc)
        print(f"{language:<8} {total.ids:5d} identifier values {100 * total.recall:6.2f} % masked; "
              f"{total.non_ids:5d} enum values {100 * total.change_rate:6.2f} % changed")
        if misses:
            for what in ("miss", "changed"):
                items = sorted(((k[1], c) for k, c in misses.items() if k[0] == what),
                               key=lambda kc: -sum(kc[1].values()))[:args.misses]
                for where, c in items:
                    print(f"    {what} {sum(c.values()):3d} {where}: {', '.join(v for v, _ in c.most_common(3))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
