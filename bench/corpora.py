"""Deterministic benchmark corpora for the masking engine (no network, no randomness across runs).

- ``claude_code_request()``: a ~500 KB Messages API request shaped like Claude Code's: long system
  prompt, tool schemas, source code, shell output, a signed thinking block, a small base64 image,
  and some AWS CLI output; about one identifier per 2 KB.
- ``dense_inventory_request()``: a ~1 MB request whose tool results are AWS inventory (describe-*
  JSON, ARNs, IPs, host names); about eight identifiers per KB.
"""

from __future__ import annotations

import base64
import json
import random

_WORDS = ("the of and to in is that for it as with was on be by this are or from at which an have not "
          "function return value error file line test build deploy config module class import data user "
          "request response server client cache index query update create delete list option default").split()
_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")


def _hex(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def _digits(r: random.Random, n: int) -> str:
    return str(r.randint(1, 9)) + "".join(r.choice("0123456789") for _ in range(n - 1))


def _prose(r: random.Random, n_words: int) -> str:
    return " ".join(r.choice(_WORDS) for _ in range(n_words)).capitalize() + "."


def _code(r: random.Random, n_lines: int) -> str:
    lines = []
    for i in range(n_lines):
        name = r.choice(_WORDS)
        lines.append(r.choice([
            f"def {name}_{i}(self, {r.choice(_WORDS)}: str) -> dict[str, int]:",
            f"    return {{\"{name}\": len({r.choice(_WORDS)}), \"n\": {r.randint(0, 999)}}}",
            f"    if {name} is None:  # {_prose(r, 6)}",
            f"const {name}{i} = await fetch(`/api/v1/{name}/${{id}}`, {{ method: 'POST' }});",
            f"    logger.info(\"{name} %s took %.2f ms\", {name}, elapsed)",
            f"import {name}.{r.choice(_WORDS)} as {name}_mod",
            f"# version 1.{r.randint(0, 30)}.{r.randint(0, 9)} sha {_hex(r, 40)} uuid "
            f"{_hex(r, 8)}-{_hex(r, 4)}-{_hex(r, 4)}-{_hex(r, 4)}-{_hex(r, 12)}",
        ]))
    return "\n".join(lines)


class _Ids:
    """A small fixed estate of accounts, instances, subnets, so identifiers repeat like real ones."""

    def __init__(self, r: random.Random, n: int):
        self.r = r
        self.accounts = [_digits(r, 12) for _ in range(max(2, n // 50))]
        self.instances = [f"i-{_hex(r, 17)}" for _ in range(n)]
        self.vpcs = [f"vpc-{_hex(r, 17)}" for _ in range(max(2, n // 20))]
        self.subnets = [f"subnet-{_hex(r, 17)}" for _ in range(max(2, n // 10))]
        self.sgs = [f"sg-{_hex(r, 17)}" for _ in range(max(2, n // 10))]

    def ip(self) -> str:
        return f"10.{self.r.randint(0, 3)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"

    def instance_json(self, i: int) -> dict:
        r, acct = self.r, self.r.choice(self.accounts)
        ip = self.ip()
        return {
            "InstanceId": self.instances[i % len(self.instances)], "ImageId": f"ami-{_hex(r, 17)}",
            "State": {"Code": 16, "Name": "running"}, "PrivateIpAddress": ip,
            "PrivateDnsName": f"ip-{ip.replace('.', '-')}.ec2.internal",
            "SubnetId": r.choice(self.subnets), "VpcId": r.choice(self.vpcs),
            "SecurityGroups": [{"GroupId": r.choice(self.sgs), "GroupName": "web-tier-sg"}],
            "IamInstanceProfile": {"Arn": f"arn:aws:iam::{acct}:instance-profile/app-{i % 7}-role"},
            "Placement": {"AvailabilityZone": r.choice(_REGIONS) + "a"}, "OwnerId": acct,
            "LaunchTime": "2024-05-01T12:30:45+00:00", "Architecture": "x86_64",
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
                "AttachTime": "2024-05-01T12:30:46+00:00", "DeleteOnTermination": True, "Status": "attached",
                "VolumeId": f"vol-{_hex(r, 17)}"}}],
            "Tags": [{"Key": "Environment", "Value": "production"}, {"Key": "Team", "Value": "platform"}],
            "MetadataOptions": {"State": "applied", "HttpTokens": "required", "HttpPutResponseHopLimit": 2,
                                "HttpEndpoint": "enabled", "InstanceMetadataTags": "disabled"},
            "CpuOptions": {"CoreCount": 2, "ThreadsPerCore": 2}, "EbsOptimized": True,
            "Hypervisor": "xen", "RootDeviceType": "ebs", "VirtualizationType": "hvm",
        }


def _tool(name: str, r: random.Random) -> dict:
    props = {w: {"type": "string", "description": _prose(r, 25)} for w in r.sample(_WORDS, 6)}
    return {"name": name, "description": _prose(r, 250), "input_schema": {"type": "object", "properties": props}}


def claude_code_request(seed: int = 1, target: int = 500_000) -> bytes:
    r = random.Random(seed)
    ids = _Ids(r, 40)
    png = base64.b64encode(bytes(r.randrange(256) for _ in range(30_000))).decode()
    messages: list[dict] = []
    size = 0
    turn = 0
    while size < target:
        turn += 1
        if turn % 6 == 0:
            out = json.dumps({"Reservations": [{"Instances": [ids.instance_json(turn)]}]}, indent=4)
            content = [{"type": "tool_result", "tool_use_id": f"toolu_{turn:04d}", "content": out}]
        else:
            content = [{"type": "text", "text": _code(r, 60) + "\n" + _prose(r, 120)}]
        messages.append({"role": "user", "content": content})
        messages.append({"role": "assistant", "content": [
            {"type": "thinking", "thinking": _prose(r, 80), "signature": base64.b64encode(
                bytes(r.randrange(256) for _ in range(200))).decode()},
            {"type": "text", "text": _prose(r, 60)},
            {"type": "tool_use", "id": f"toolu_{turn:04d}", "name": "Bash",
             "input": {"command": f"aws ec2 describe-instances --instance-ids {r.choice(ids.instances)}"}}]})
        size += len(json.dumps(messages[-1])) + len(json.dumps(messages[-2]))
    messages[0]["content"].append({"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                              "data": png}})
    body = {"model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": True,
            "system": [{"type": "text", "text": _prose(r, 3000)}],
            "tools": [_tool(n, r) for n in ("Bash", "Read", "Edit", "Write", "Grep", "Glob", "WebFetch",
                                            "TodoWrite", "Task", "NotebookEdit")],
            "messages": messages}
    return json.dumps(body).encode()


def _inventory_text(ids: _Ids, r: random.Random, n: int) -> str:
    acct = r.choice(ids.accounts)
    region = r.choice(_REGIONS)
    lines = []
    for i in range(n):
        kind = i % 6
        if kind >= 4 or kind == 0:
            lines.append(json.dumps(ids.instance_json(i), indent=2))
        elif kind == 1:
            lines.append(f"arn:aws:lambda:{region}:{acct}:function:svc-{i}-handler  "
                         f"{r.choice(ids.subnets)} {ids.ip()}")
        elif kind == 2:
            lines.append(f"{acct}.dkr.ecr.{region}.amazonaws.com/team/app-{i}:v{i}  "
                         f"s3://acme-{i % 13}-artifacts/builds/{i}.zip  {r.choice(ids.sgs)}")
        elif kind == 3:
            key = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
            lines.append(f"orders-{i}.c{_hex(r, 10)}.{region}.rds.amazonaws.com:5432 "
                         f"{r.choice(ids.vpcs)} AKIA{key}")
    return "\n".join(lines)


def dense_inventory_request(seed: int = 2, target: int = 1_000_000) -> bytes:
    r = random.Random(seed)
    ids = _Ids(r, 400)
    messages = []
    size = 0
    turn = 0
    while size < target:
        turn += 1
        text = _inventory_text(ids, r, 60)
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{turn:04d}", "content": text}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": "Noted."}]})
        size += len(text) + 120
    return json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 4096, "messages": messages}).encode()
