"""A corpus nobody here wrote: the AWS CLI's own examples (``awscli/examples/**/*.rst``), labelled
from botocore's service models, and the masker measured on it.

Labels come from the models alone, never from the detection code: for each ``aws <service> <op>``
command the flags are looked up in the operation's input shape, and each ``Output::`` JSON block is
walked along the operation's output shape (keys are member names). A value is

- an *identifier* when its member is a string (or a list of strings) without an enum whose member
  or shape name ends in Id / Name / Identifier / Arn / Url (and their plurals), and is not AWS
  vocabulary (regions, zones, engines, metrics, types ...: ``_NOT_NAMES``);
- a *non-identifier* when its member is an enum, a number, a boolean, a timestamp, or a string
  whose name says it is a type, status, state, class, version, time ... (``_NON_ID_WORDS``);
- unclassified otherwise (descriptions, policies, addresses: they may hold identifiers or not;
  a generic ``Name`` / ``Id`` of a structure describing an attribute, setting, tag, filter,
  label ...: it names a key) and not counted.

Measured per value occurrence: an identifier is *masked* when the masker masks something inside it;
a non-identifier is *changed* when the masker masks anything overlapping it. Only counts and shares
are reported; ``--misses`` lists missed values (AWS documentation example values, from the corpus
itself) for development.

    .venv/bin/python -m tests.support.awscli_corpus [--sample N] [--seed S] [--misses K] [--service ec2] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import accumulate
from pathlib import Path

try:
    import awscli
    import botocore
    import botocore.session
    from botocore import xform_name
except ImportError:  # pragma: no cover - dev dependencies (pyproject's test extra)
    awscli = botocore = None

RENAMES = {"s3api": "s3", "configservice": "config", "deploy": "codedeploy"}
_ID_TAIL = re.compile(r"(?:Id|ID|Ids|IDs|Name|Names|Identifier|Identifiers|Arn|ARN|Arns|ARNs|Url|URL|Urls)$")
# Names that hold AWS vocabulary, not a customer's resource.
_NOT_NAMES = re.compile(
    r"(?:Region|Zone|Engine|Metric|Attribute|Device|Platform|Family|Type|Status|State|Class|Version|"
    r"Format|Mode|Algorithm|Protocol|Operator|Action|Permission|Dimension|Unit|Runtime|Language|"
    r"Locale|Currency|Country|Product|Principal|Parameter|Option|Field|Feature|Event|Header|"
    r"Property|Setting|Capability|Namespace|Statistic|Codec|Timezone|TimeZone|Instance(?:Type|Class)|"
    r"Dns|DNS|Filter|Tag|Query|Sort|Column|Voice|Sku|Request|Token)"
    r"(?:Id|ID|Ids|Name|Names|Identifier|Arn|Url)?s?$")
_NON_ID_WORDS = re.compile(
    r"(?:Type|Types|Status|State|Class|Time|Date|Timestamp|Mode|Format|Enabled|Count|Size|"
    r"Port|Code|Percent|Percentage|Duration|Seconds|Minutes|Hours|Days|Period|Level|Algorithm|Protocol|"
    r"Engine|Family|Runtime|Region|Zone|Unit|Units|Limit|Priority|Weight)$")

_CMD = re.compile(r"^[ \t]*aws[ \t]+([a-z0-9-]+)[ \t]+([a-z0-9-]+)", re.M)
_OUTPUT = re.compile(r"^Output::?[ \t]*\n", re.M)


@dataclass
class Value:
    start: int
    end: int
    identifier: bool         # True: identifier; False: non-identifier
    where: str               # service.member, for the report
    not_a_value: str | None = None   # labeller correction: the token is no value at all (NOT_A_VALUE)
    doc_constant: bool = False       # labeller correction: the member's botocore docs name it as a constant
    service_constant: bool = False   # labeller correction: a same-named member of the service documents it so


@dataclass
class Example:
    path: str
    service: str
    text: str
    values: list[Value] = field(default_factory=list)


@lru_cache(maxsize=1)
def _session():
    return botocore.session.get_session()


@cache
def _model(service: str):
    try:
        return _session().get_service_model(service)
    except Exception:  # noqa: BLE001 - an unknown service: its examples are not labelled
        return None


@cache
def _operations(service: str) -> dict:
    model = _model(service)
    if model is None:
        return {}
    return {xform_name(op, "-"): model.operation_model(op) for op in model.operation_names}


# A generic member (Name, Id, Key) of a structure that describes a key/value pair, an attribute, a
# setting, a tag, a filter, a dimension, a label ... names that key, not a resource.
_GENERIC = frozenset({"name", "id", "key", "identifier"})
_KEY_STRUCTURES = re.compile(
    r"(?:Attribute|Setting|Tag|Filter|Dimension|Metric|Parameter|Option|Field|Header|Property|Capability|"
    r"Feature|Statistic|Label|Category|Entity|Variable|Column|KeyValue|Pair|Trait|Type|Condition)s?"
    r"(?:Definition|Summary|Detail|Details|Value|Entry|Item|Info)?(?:List)?$")


def classify(member: str, shape, parent: str | None = None) -> bool | None:
    """True identifier, False non-identifier, None unclassified (see the module doc)."""
    if parent and member.lower() in _GENERIC and _KEY_STRUCTURES.search(parent):
        return None
    if member.endswith(("Description", "description")):
        return None  # a description, whatever shape the model reuses for it (servicecatalog's
        #              ProvisioningArtifactDetail.Description is a ProvisioningArtifactName)
    if shape.type_name == "list":
        shape = shape.member
    t = shape.type_name
    if t in ("integer", "long", "double", "float", "boolean", "timestamp"):
        return False
    if t != "string":
        return None
    if shape.enum:
        return False
    sname = shape.name
    if sname.endswith("Type") and _ID_TAIL.search(sname[:-4]):
        sname = sname[:-4]  # IAM / KMS style shape names: roleNameType is a RoleName, KeyIdType a KeyId
    names = (member[:1].upper() + member[1:], sname[:1].upper() + sname[1:])
    if any(_ID_TAIL.search(n) for n in names) and not any(_NOT_NAMES.search(n) for n in names):
        return True
    if _NON_ID_WORDS.search(member):
        return False
    return None


# --- JSON output: a tolerant tokenizer (blocks are often cut with "...some output truncated...") ----
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|[{}\[\]:,]')


# Labeller corrections, each counted in the report: tokens the tolerant tokenizer takes for a value
# that are no value at all. "key": a quoted token followed by ":" (an example that lost a comma or a
# brace); "null": JSON null; "fragment": a number glued to letters, a piece of an unquoted word
# ("CustomKeyStoreId": cks-1234567890abcdef0) or of a string the tokenizer lost track of.
_COLON_NEXT = re.compile(r"[ \t]*:")
# "placeholder": the documentation's stand-in for a value, in the forms the examples spell it
# besides <angle brackets> (which are skipped silently, as before): a parenthesized phrase of words
# ("(Data store ID)", "arn:aws:iam::(AWS Account ID):role/(Role Name)"), a run of #
# ("sg-########"), a bracketed UPPER word ("[UNDEFINED]").
_PLACEHOLDER = re.compile(r"\([A-Za-z]+(?: [A-Za-z]+)+\)|#{4,}|\[[A-Z_]+\]")
_GLUE_BEFORE = re.compile(r"[A-Za-z0-9_./@-]")
_GLUE_AFTER = re.compile(r"[A-Za-z0-9_./:@-]")


def _doc_constant(shape, value: str) -> bool:
    """A ``value`` that the member's own botocore documentation names as code: an enum-like AWS
    constant, not a customer's name. A labeller correction, counted on its own line.

    - UPPER_SNAKE, shown anywhere as code (``The name of the resource, such as <code>CPU</code>,
      <code>MEMORY</code> ...``);
    - a plain word (lower case, PascalCase) shown as code where the docs list what the value is, not
      an example of it: ``Possible values are <code>current</code> and <code>trailing</code>``, ``The
      state of the instance (<code>running</code> or <code>pending</code>)``, ``One of the following
      processes: <code>Launch</code> ...``; not after "such as", "for example", "e.g." or "Example:"
      (``such as <code>Bob</code>``), and never a name with digits or separators (``my-function``)."""
    doc = getattr(shape, "documentation", "") or ""
    code = f"<code>{value}</code>"
    if _CONSTANT.fullmatch(value):
        return code in doc
    if not _DOC_WORD.fullmatch(value):
        return False  # docs also show example names (<code>my-function</code>): those stay identifiers
    at = doc.find(code)
    while at >= 0:
        if not _EXAMPLE_CUE.search(doc[max(0, at - 40):at]):
            return True
        at = doc.find(code, at + len(code))
    return False


class _Docs:
    documentation = ""


@cache
def _member_docs(service: str) -> dict[str, list[str]]:
    """Docs of every structure member of ``service``, by member name."""
    model = _model(service)
    out: dict[str, list[str]] = defaultdict(list)
    if model is None:
        return out
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.type_name != "structure":
            continue
        for member, spec in shape.members.items():
            if getattr(spec, "documentation", ""):
                out[member].append(spec.documentation)
    return out


@cache
def _member_enums(service: str) -> dict[str, frozenset[str]]:
    """Enum values of every structure member of ``service`` whose shape (or list item) is an enum, by
    member name."""
    model = _model(service)
    out: dict[str, set[str]] = defaultdict(set)
    if model is None:
        return {}
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.type_name != "structure":
            continue
        for member, spec in shape.members.items():
            target = spec.member if spec.type_name == "list" else spec
            if target.type_name == "string" and target.enum:
                out[member].update(target.enum)
    return {k: frozenset(v) for k, v in out.items()}


def _service_constant(service: str, member: str, value: str) -> bool:
    """``_doc_constant`` by the docs of any member of the same name in the same service: the
    constant is often documented once, where the value is set (Redshift's CreateClusterMessage says
    a cluster without a track gets the <code>current</code> one; its output's MaintenanceTrackName
    says nothing). Also a value that a same-named member of the same service holds as an enum value
    (securitylake's sourceName is an AwsLogSourceName enum where AWS's sources are configured, a
    string where custom sources are: "sourceName": "VPC_FLOW" is AWS's). A labeller correction,
    counted on its own line."""
    if value in _member_enums(RENAMES.get(service, service)).get(member, ()):
        return True
    docs = _Docs()
    for doc in _member_docs(RENAMES.get(service, service)).get(member, ()):
        docs.documentation = doc
        if _doc_constant(docs, value):
            return True
    return False


# "placeholder" also: a value that only spells its member's name, or the name's last words, in another
# spelling, optionally followed by "string" (the CLI skeleton's type word): "PreSignedUrl":
# "PRE_SIGNED_URL", "ServiceLinkedRoleARN": "arn", "playbackUrl": "url-string", --model-name model-name.
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _echoes_member(value: str, *names: str) -> bool:
    if any(c in value for c in "<>(){}#"):
        return False   # a placeholder of another form, or skipped as before
    w = [x.lower() for x in _WORDS.findall(value)]
    if w[-1:] == ["string"]:
        w = w[:-1]
    if not w or "".join(w) != re.sub(r"[^a-z0-9]", "", value.lower().removesuffix("string")):
        return False   # only letters, digits and separators: "arn-of-your-credentials" is no echo
    for name in names:
        n = [x.lower() for x in _WORDS.findall(name)]
        if len(w) <= len(n) and n[len(n) - len(w):] == w:
            return True
    return False


_CONSTANT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_DOC_WORD = re.compile(r"[a-z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)*")
_EXAMPLE_CUE = re.compile(r"(?i)such as|for example|for instance|e\.g\.|example:?|like|\bsample", re.S)


def _not_a_value(text: str, m: re.Match, tok: str) -> str | None:
    if tok.startswith('"'):
        if _COLON_NEXT.match(text, m.end()):
            return "key"
        return "null" if tok == '"null"' else None   # None as the example prints it: "AlexaForBusinessRoomArn": "null"
    if tok == "null":
        return "null"
    if tok not in ("true", "false") and ((m.start() > 0 and _GLUE_BEFORE.match(text, m.start() - 1))
                                         or _GLUE_AFTER.match(text, m.end())):
        return "fragment"
    return None


def _walk_json(text: str, start: int, end: int, shape, service: str, out: list[Value]) -> None:
    # stack of (container "{" or "[", its shape, the key it stands under)
    stack: list[tuple[str, object, str | None]] = []
    key: str | None = None
    expecting_key = False
    pending = None     # shape of the next value
    for m in _TOKEN.finditer(text, start, end):
        tok = m.group()
        if tok in "{[":
            child = pending if stack else shape
            under = key if stack and stack[-1][0] == "{" else (stack[-1][2] if stack else None)
            stack.append((tok, child, under))
            expecting_key = tok == "{"
            key = None
            pending = child.member if tok == "[" and getattr(child, "type_name", None) == "list" else None
            continue
        if tok in "}]":
            if stack:
                stack.pop()
            key = None
            pending = None
            if stack and stack[-1][0] == "[":
                sh = stack[-1][1]
                pending = sh.member if sh is not None and sh.type_name == "list" else None
            expecting_key = bool(stack) and stack[-1][0] == "{"
            continue
        if tok == ":":
            expecting_key = False
            continue
        if tok == ",":
            if stack and stack[-1][0] == "{":
                expecting_key = True
                key = None
            continue
        if not stack:
            continue
        container, cshape, under = stack[-1]
        if container == "{" and expecting_key and tok.startswith('"'):
            key, pending = _member_of(cshape, tok)
            continue
        member = key if container == "{" else under
        why = _not_a_value(text, m, tok)
        if member is not None and pending is not None:
            parent = cshape.name if container == "{" and cshape is not None else None
            label = classify(member, pending, parent)
            if tok.startswith('"'):
                s, e = m.start() + 1, m.end() - 1
                if e <= s or not any(c.isalnum() for c in text[s:e]) or "<" in text[s:e]:
                    label = None  # "", "-" or a <placeholder>: nothing to mask
                elif why is None and (_PLACEHOLDER.search(text, s, e) or (label is True and _echoes_member(
                        text[s:e], member, pending.name))):
                    why = "placeholder"
            else:
                s, e = m.span()
            if label is not None:
                out.append(Value(s, e, label, f"{service}.{member}", why,
                                 label is True and _doc_constant(pending, text[s:e]),
                                 label is True and _service_constant(service, member, text[s:e])))
        if why == "key" and container == "{":
            # the example lost a comma: read on from this key ({"SnapshotId": "snap-1" "AvailabilityZone": ...})
            key, pending = _member_of(cshape, tok)


def _member_of(cshape, tok: str):
    """(key, its member shape or None) for a quoted key token inside an object of ``cshape``."""
    key = json.loads(tok) if "\\" in tok else tok[1:-1]
    if cshape is not None and cshape.type_name == "structure":
        return key, cshape.members.get(key)
    if cshape is not None and cshape.type_name == "map":
        return key, cshape.value
    return key, None


# --- commands ----------------------------------------------------------------------------------------
_ARG = re.compile(r"""\([A-Za-z]+(?: [A-Za-z]+)+\)|'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"\\]+|\\\n""")


def _command_values(text: str, m: re.Match, op, service: str, out: list[Value]) -> None:
    # the command runs to the end of the line, continued by a trailing backslash
    pos = m.end()
    end = text.find("\n", pos)
    while end > 0 and text[end - 1] == "\\":
        end = text.find("\n", end + 1)
    if end < 0:
        end = len(text)
    members = {xform_name(n, "-"): (n, sh) for n, sh in op.input_shape.members.items()} \
        if op.input_shape is not None else {}
    flag = None
    words = 0   # words read after the flag
    in_angle = False   # inside a <placeholder of several words> (<report 1 ID>)
    for a in _ARG.finditer(text, pos, end):
        tok = a.group()
        if in_angle or tok.rfind("<") > tok.rfind(">"):
            in_angle = tok.rfind("<") > tok.rfind(">") or (in_angle and ">" not in tok)
            continue   # a word of a placeholder (labeller correction: no value)
        if tok.startswith("--"):
            flag = members.get(tok[2:].split("=", 1)[0])
            words = 0
            continue
        if flag is None or tok == "\\\n":
            continue
        s, e = a.span()
        if tok[0] in "'\"":
            s, e = s + 1, e - 1
        value = text[s:e]
        words += 1
        if _PLACEHOLDER.fullmatch(value) or (classify(*flag) is True and _echoes_member(value, flag[0], getattr(
                flag[1].member if flag[1].type_name == "list" else flag[1], "name", ""))):
            # --datastore-id (Data store ID): one placeholder, not the word "store"
            label = classify(*flag)
            if label is not None:
                out.append(Value(s, e, label, f"{service}.{flag[0]}", "placeholder"))
            continue
        if not value or value.startswith(("file://", "fileb://", "{", "[", "$")) or "=" in value \
                or any(c in value for c in "()<>") \
                or not any(c.isalnum() for c in value):
            continue
        if words > 1 and flag[1].type_name != "list":
            # a member that is no list takes one word: the next is a positional argument (the
            # outfile of an operation with a streaming output: get-object ... output.txt)
            label = classify(*flag)
            if label is not None:
                out.append(Value(s, e, label, f"{service}.{flag[0]}", "positional"))
            continue
        label = classify(*flag)
        if label is not None:
            out.append(Value(s, e, label, f"{service}.{flag[0]}", None,
                             label is True and _doc_constant(flag[1], value),
                             label is True and _service_constant(service, flag[0], value)))


_S3URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])")
_S3_ACCESS_POINT = re.compile(r"arn:aws[a-z-]*:s3(?:-object-lambda)?:[a-z0-9-]*:[0-9]{12}:accesspoint/[A-Za-z0-9.-]+")


def label_file(path: Path, root: Path) -> Example | None:
    text = path.read_text(encoding="utf-8")
    cli_service = path.relative_to(root).parts[0]
    service = RENAMES.get(cli_service, cli_service)
    ex = Example(str(path.relative_to(root)), cli_service, text)
    ops = _operations(service)
    last_op = None
    outputs = [o.end() for o in _OUTPUT.finditer(text)]
    for m in _CMD.finditer(text):
        if m.group(1) == "s3" and cli_service == "s3":
            # high-level s3 commands (cp, ls, sync ...): buckets in s3:// URIs
            line_end = text.find("\n", m.end())
            for u in _S3URI.finditer(text, m.end(), line_end if line_end > 0 else len(text)):
                # labeller correction: s3://arn:aws:s3:...:accesspoint/x/key names an access point by
                # its ARN, which is the identifier, not the word "arn"
                arn = _S3_ACCESS_POINT.match(text, u.start(1))
                if arn is not None:
                    ex.values.append(Value(u.start(1), arn.end(), True, "s3.Bucket"))
                    continue
                ex.values.append(Value(u.start(1), u.end(1), True, "s3.Bucket"))
            continue
        op = ops.get(m.group(2)) if RENAMES.get(m.group(1), m.group(1)) == service else None
        if op is None:
            continue
        last_op = op
        _command_values(text, m, op, cli_service, ex.values)
        # the next Output:: block after this command and before the next command belongs to it
        nxt = _CMD.search(text, m.end())
        limit = nxt.start() if nxt else len(text)
        for o in outputs:
            if m.end() < o < limit and op.output_shape is not None:
                block_end = _block_end(text, o)
                brace = text.find("{", o, block_end)
                if brace >= 0:
                    _walk_json(text, brace, block_end, op.output_shape, cli_service, ex.values)
                break
    del last_op
    ex.values = _dedupe(ex.values)
    return ex if ex.values else None


def _block_end(text: str, start: int) -> int:
    """End of the indented literal block that starts at ``start`` (the line after ``Output::``)."""
    pos = start
    n = len(text)
    while pos < n:
        nl = text.find("\n", pos)
        line = text[pos:nl if nl >= 0 else n]
        if line.strip() and not line[0].isspace():
            return pos
        if nl < 0:
            return n
        pos = nl + 1
    return n


def _dedupe(values: list[Value]) -> list[Value]:
    seen, out = set(), []
    for v in sorted(values, key=lambda v: (v.start, v.end)):
        if (v.start, v.end) not in seen:
            seen.add((v.start, v.end))
            out.append(v)
    return out


def examples_root() -> Path:
    return Path(awscli.__file__).parent / "examples"


def load_examples(sample: int | None = None, seed: int = 13, service: str | None = None) -> list[Example]:
    root = examples_root()
    paths = sorted(p for p in root.rglob("*.rst") if len(p.relative_to(root).parts) > 1)
    if service:
        paths = [p for p in paths if p.relative_to(root).parts[0] == service]
    if sample is not None and sample < len(paths):
        paths = sorted(random.Random(seed).sample(paths, sample))
    out = []
    for p in paths:
        ex = label_file(p, root)
        if ex is not None:
            out.append(ex)
    return out


# The project's stated policies (README): UUIDs pass unchanged even under an identifier key, and
# AWS-owned names (AWS-RunShellScript, AmazonS3ReadOnlyAccess, ARNs whose account is "aws") are the
# same in every account.
# Identifier values of these shapes are counted apart, as "kept by policy", not as misses.
POLICY_KEPT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
                         r"(?:AWS|Amazon)[A-Z0-9-].*|arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:aws:.*")
# Labeller corrections under the same documented policies, each counted and printed on its own:
# a value that is only a region or an AZ ("Name": "us-west-2c" of an AZ, "GroupName": "us-west-2":
# README, "Always kept ... regions and AZs"); a multi-word AWS-owned name ("AWS X-Ray", "Amazon
# Elastic Compute Cloud (Amazon EC2)"); a public AWS documentation or product page
# (https://docs.aws.amazon.com/..., https://aws.amazon.com/...): the same for everyone; an AWS service
# endpoint name or service principal.
POLICY_CORRECTIONS = (
    ("regions/AZs", re.compile(r"(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|"
                               r"northwest|southeast|southwest)-[0-9]{1,2}[a-z]?)")),
    ("AWS-owned multi-word names", re.compile(r"(?:AWS|Amazon) .*")),
    ("public AWS docs URLs", re.compile(r"https?://(?:docs\.aws\.amazon\.com|aws\.amazon\.com)/.*")),
    # AWS service endpoint names (com.amazonaws.us-east-1.s3, not a customer's com.amazonaws.vpce.* service)
    # and service principals (codecommit.amazonaws.com): the same in every account (README, Detection)
    ("AWS service endpoint names and principals",
     re.compile(r"com\.amazonaws\.(?!vpce\.)[a-z0-9-]+(?:\.[a-z0-9-]+)+|[a-z0-9-]+\.amazonaws\.com")),
    # The name "default": what AWS itself creates or reserves under that name in every account (the
    # default VPC security group, DB / cache / Redshift subnet group, ECS cluster, Config recorder,
    # KMS key policy, ElastiCache / MemoryDB user, Glue database, Athena catalog); the engine keeps it
    # on purpose (vocab.yaml's no_match '"GroupName": "default"'), like the AWS-owned names above.
    # Also what AWS predefines under one name for everyone: CodeDeploy's deployment configurations
    # (CodeDeployDefault.OneAtATime), SageMaker's default variant AllTraffic, Bedrock's test alias
    # TSTALIASID (the engine keeps them: splitters.AWS_DEFAULT_NAME), and the default parameter groups AWS
    # creates per engine family (default.mysql8.0, default.redshift-1.0, default.redis5.0.cluster.on: a
    # prefix customers' groups cannot take; session 17).
    ("AWS default resource names", re.compile(r"default|CodeDeployDefault\.[A-Za-z0-9]+|AllTraffic|TSTALIASID"
                                              r"|default\.[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*")),
    # AWS itself as the vendor or company ("VendorName": "AWS" of a managed rule group,
    # "aws/securityhub/CompanyName": "AWS"): POLICY_KEPT's AWS-owned names without the suffix.
    # (any case: an Elastic IP's "IpOwnerId": "amazon", an Amazon-owned address pool)
    ("AWS as the vendor name", re.compile(r"(?i:AWS|Amazon)")),
    # Names under the aws: prefix, which AWS reserves for itself: global condition keys (aws:username),
    # Systems Manager plugins and Automation actions (aws:updateSsmAgent), reserved tag keys.
    ("AWS-reserved aws: names", re.compile(r"aws:[A-Za-z0-9][A-Za-z0-9:_/-]*")),
    # Elastic Beanstalk's solution stacks, AWS's platform names in its published scheme ("64bit Amazon
    # Linux 2015.03 v2.0.0 running Tomcat 8 Java 8"): the same for every customer.
    ("Elastic Beanstalk solution stacks", re.compile(r"(?:32|64)bit (?:Amazon Linux|Windows Server) .+ running .+")),
    # The AWS managed keys' aliases (alias/aws/s3, alias/aws/ebs): AWS creates them in every account
    # (README: "AWS-owned names ... alias/aws/s3 are kept under any label").
    ("AWS managed key aliases", re.compile(r"alias/aws/[a-z0-9-]+")),
    # AWS Managed Rules names in WAF ("AWS#AWSManagedRulesSQLiRuleSet#SQLi_BODY"): AWS's rule
    # groups, the same for every customer, spelled vendor#group#rule.
    ("AWS managed WAF rule names", re.compile(r"AWS#AWS[A-Za-z0-9]+#[A-Za-z0-9_]+")),
    # AWS's own ARNs without an account: Step Functions service integrations (arn:aws:states:::lambda:invoke)
    # and Security Hub standards and rulesets (arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/...)
    # and Service Quotas' quotas (arn:aws:servicequotas:us-east-2::ec2/L-1216C47A: the quota codes AWS
    # defines; the engine keeps them readable, packs/README.md)
    # and Bedrock's foundation models (arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-...)
    # and EventBridge Scheduler's universal targets (arn:aws:scheduler:::aws-sdk:sqs:sendMessage)
    ("AWS-owned ARNs without an account",
     re.compile(r"arn:aws[a-z-]*:(?:states|securityhub|servicequotas|scheduler):[a-z0-9-]*::.+|"
                r"arn:aws[a-z-]*:bedrock:[a-z0-9-]*::foundation-model/.+")),
    # RDS's certificate authorities (CACertificateIdentifier: rds-ca-rsa2048-g1, and their ARNs without an
    # account, arn:aws:rds:us-west-2::cert:rds-ca-2019): AWS's CAs, the same for every customer (session 11;
    # splitters.AWS_DEFAULT_NAME)
    ("RDS certificate authorities",
     re.compile(r"(?:arn:aws[a-z-]*:rds:[a-z0-9-]*::cert:)?rds-ca-(?:rsa2048-g1|rsa4096-g1|ecc384-g1|2019|2015)")),
    # What AWS predefines for every customer under fixed names (session 12; splitters.AWS_DEFAULT_NAME): the
    # security policies of Elastic Load Balancing (ELBSecurityPolicy-2016-08; elbv2.SslPolicy) and Transfer
    # Family, AppConfig's predefined deployment strategies (AppConfig.AllAtOnce), AWS Backup's default role and
    # the ECS roles its docs name for everyone (ecsInstanceRole)
    ("AWS-predefined policies, strategies and default roles",
     re.compile(r"(?:Transfer|ELB)SecurityPolicy-[A-Za-z0-9]+(?:-[A-Za-z0-9]+){1,6}|AppConfig\.(?:AllAtOnce|"
                r"Linear50PercentEvery30Seconds|Linear20PercentEvery6Minutes|Canary10Percent20Minutes)|"
                r"AWSBackupDefaultServiceRole|ecs(?:TaskExecution|Instance|Service|Autoscale|Events)Role")),

    # The EKS add-ons AWS publishes in its catalogue (describe-addon-versions, owner "aws"): a cluster's add-on
    # is created under the catalogue's name, the same for every customer (session 15; vocab.yaml drops the
    # "addon name" label, tools/gen_vocab.py CATALOG_LABELS)
    ("EKS add-on names of AWS's catalogue",
     re.compile(r"vpc-cni|coredns|kube-proxy|aws-ebs-csi-driver|aws-efs-csi-driver|aws-mountpoint-s3-csi-driver|"
                r"eks-pod-identity-agent|snapshot-controller|amazon-cloudwatch-observability|aws-guardduty-agent|"
                r"adot|eks-node-monitoring-agent|aws-network-flow-monitoring-agent|aws-fsx-csi-driver|"
                r"aws-s3-csi-driver|metrics-server|cert-manager|external-dns")),

    # A URL of a host outside AWS with no path (a Cognito callback https://www.example.com, a registrar's
    # site): no AWS identifier; AWS hosts and URL paths are measured as before.
    ("URLs of a host outside AWS, without a path",
     re.compile(r"[a-z][a-z0-9+.-]*://(?![^/\s]*(?:amazonaws\.com|\.aws|amazon\.com|cloudfront\.net|awsapps\.com"
                r"|amazoncognito\.com)(?::[0-9]+)?/?$)[^/\s]+/?")),
)
@lru_cache(maxsize=1)
def _service_codes() -> frozenset[str]:
    """Every AWS service's codes (its botocore name, endpoint prefix, signing name): guardduty, ec2."""
    codes = set()
    for service in _session().get_available_services():
        model = _model(service)
        meta = model.metadata if model is not None else {}
        codes.update(v.lower() for v in (service, meta.get("endpointPrefix"), meta.get("signingName")) if v)
    return frozenset(codes)


NOT_A_VALUE = {"key": "keys read as values", "null": "JSON null", "fragment": "number pieces of unquoted words",
               "placeholder": "documentation placeholders (and values that spell their member's name)",
               "positional": "words after a one-word flag's value (the CLI's outfile)"}


# X-Ray's trace IDs (1-<8 hex>-<24 hex>) and segment IDs (16 hex) under X-Ray's "Id" members: one per
# request, like the request IDs the vocabulary leaves out; the engine keeps them (vocab.py,
# _per_request_or_code; a segment ID where a trace ID stands before it).
_XRAY_REQUEST_IDS = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}|[0-9a-f]{16}")


def policy_reason(text: str, start: int, end: int) -> str | None:
    """Why an identifier value is kept by policy, or None (counted as an identifier)."""
    if POLICY_KEPT.fullmatch(text, start, end):
        return "UUIDs, AWS-owned names"
    for reason, rx in POLICY_CORRECTIONS:
        if rx.fullmatch(text, start, end):
            return reason
    return None


@dataclass
class Score:
    ids: int = 0
    masked: int = 0
    non_ids: int = 0
    changed: int = 0
    policy: int = 0
    kept: Counter = field(default_factory=Counter)        # policy reason -> identifier values
    not_values: Counter = field(default_factory=Counter)  # (reason, "id" | "non-id") -> tokens dropped

    def add(self, other: Score) -> None:
        self.ids += other.ids
        self.masked += other.masked
        self.non_ids += other.non_ids
        self.changed += other.changed
        self.policy += other.policy
        self.kept.update(other.kept)
        self.not_values.update(other.not_values)

    @property
    def recall(self) -> float:
        return self.masked / self.ids if self.ids else 1.0

    @property
    def change_rate(self) -> float:
        return self.changed / self.non_ids if self.non_ids else 0.0


# The characters json.dumps (ensure_ascii) writes as more than one: controls, quote, backslash and
# everything past ASCII. The rest take one each, so only these need measuring.
_ESCAPED = re.compile(r'[\x00-\x1f"\\\x7f-\U0010ffff]')


def _json_spans(masker, text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """Masked spans when the example is pasted into a Messages request (the gateway's real path),
    mapped back to positions in ``text``, and that mapping (text position -> request position)."""
    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 1024,
                       "messages": [{"role": "user", "content": text}]})
    base = body.index('"content": "') + len('"content": "')
    widths = [1] * len(text)
    for m in _ESCAPED.finditer(text):
        widths[m.start()] = len(json.dumps(m.group())) - 2
    return sorted((s, e) for s, e, _, _ in masker.scan(body, as_json=True)), list(accumulate(widths, initial=base))


def not_restored(masker, examples: list[Example]) -> list[str]:
    """The examples (paths) that do not come back whole: restore(mask(text)) != text. Every part the
    masker replaces must be a token its pseudonym restores as (a part inside a longer token, or a
    pseudonym spliced twice, breaks what the model writes back). By design some cannot: a value
    written %XX-encoded comes back decoded, and a secret access key is never restored."""
    from agent.engine.restore import restore_text
    out = []
    for ex in examples:
        r = masker.mask_body(ex.text.encode(), "text/plain")
        if r.restore_map and restore_text(r.body.decode(), r.restore_map) != ex.text:
            out.append(ex.path)
    return out


def measure(masker, examples: list[Example], misses: dict | None = None,
            as_json: bool = False) -> dict[str, Score]:
    """Per service scores. ``misses`` (optional): where -> Counter of missed / changed values.
    ``as_json``: each example inside a Messages request instead of as plain text."""
    scores: dict[str, Score] = defaultdict(Score)
    for ex in examples:
        if as_json:
            spans, pos = _json_spans(masker, ex.text)
        else:
            spans, pos = sorted((s, e) for s, e, _, _ in masker.scan(ex.text, as_json=False)), None
        starts = [s for s, _ in spans]
        sc = scores[ex.service]
        for v in ex.values:
            rs, re_ = (pos[v.start], pos[v.end]) if pos is not None else (v.start, v.end)
            hit_inside = _any(spans, starts, rs, re_, inside=True)
            hit_overlap = hit_inside or _any(spans, starts, rs, re_, inside=False)
            if v.not_a_value:
                sc.not_values[(v.not_a_value, "id" if v.identifier else "non-id")] += 1
                continue
            reason = policy_reason(ex.text, v.start, v.end) if v.identifier else None
            if reason is None and v.identifier and v.doc_constant:
                reason = "constants named in the member's botocore docs"
            if reason is None and v.identifier and v.service_constant:
                reason = "constants named in a same-named member's docs or enum (same service)"
            if reason is None and v.identifier and v.where.startswith("xray.") \
                    and _XRAY_REQUEST_IDS.fullmatch(ex.text, v.start, v.end):
                reason = "X-Ray trace and segment IDs (per request)"
            if reason is None and v.identifier and v.where.endswith(".StatementId"):
                reason = "policy statement IDs (a statement's own label, kept as a policy's Sid is)"
            if reason is None and v.identifier and v.where.lower().endswith("servicename") \
                    and ex.text[v.start:v.end].lower() in _service_codes():
                reason = "AWS service codes under a service-name member"
            if reason is not None:
                sc.policy += 1
                sc.kept[reason] += 1
            elif v.identifier:
                sc.ids += 1
                if hit_inside:
                    sc.masked += 1
                elif misses is not None:
                    misses.setdefault(("miss", v.where), Counter())[ex.text[v.start:v.end]] += 1
            else:
                sc.non_ids += 1
                if hit_overlap:
                    sc.changed += 1
                    if misses is not None:
                        misses.setdefault(("changed", v.where), Counter())[ex.text[v.start:v.end]] += 1
    return scores


def _any(spans, starts, s, e, inside: bool) -> bool:
    import bisect
    i = bisect.bisect_left(starts, s)
    j = max(0, i - 1)
    while j < len(spans) and spans[j][0] < e:
        a, b = spans[j]
        if inside and s <= a and b <= e:
            return True
        if not inside and a < e and b > s:
            return True
        j += 1
    return False


def report_masker():
    """The masker the corpus reports measure (a fixed key, the shipped packs), imported only when a report
    runs."""
    from agent.engine.masker import Masker
    from tests.support.masker_support import shipped_packs
    return Masker(b"corpus-report-key-not-secret-0123456789", shipped_packs())


def example_arguments(p: argparse.ArgumentParser, unit: str) -> None:
    """The options of the reports over the awscli examples: which files, which service, misses, the path."""
    p.add_argument("--sample", type=int, default=None, help="files to sample (default: all)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--service", default=None)
    p.add_argument("--misses", type=int, default=0, help="list this many missed/changed members")
    p.add_argument("--json", action="store_true", help=f"each {unit} inside a Messages request (the real path)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    example_arguments(p, "example")
    p.add_argument("--worst", type=int, default=15)
    args = p.parse_args(argv)
    masker = report_masker()
    examples = load_examples(args.sample, args.seed, args.service)
    misses: dict | None = {} if args.misses else None
    scores = measure(masker, examples, misses, as_json=args.json)
    total = Score()
    for sc in scores.values():
        total.add(sc)
    print(f"awscli {awscli.__version__} examples, botocore {botocore.__version__} models: "
          f"{len(examples)} files, {len(scores)} services, "
          f"{'inside a Messages request' if args.json else 'as plain text'}")
    print(f"{'service':<28} {'ids':>6} {'masked':>7} {'non-ids':>8} {'changed':>8}")
    rows = sorted(scores.items(), key=lambda kv: (kv[1].recall, -kv[1].ids))
    for name, sc in rows[:args.worst]:
        print(f"{name:<28} {sc.ids:6d} {100 * sc.recall:6.1f}% {sc.non_ids:8d} {100 * sc.change_rate:7.2f}%")
    print(f"{'worst change rate':<28}")
    for name, sc in sorted(scores.items(), key=lambda kv: -kv[1].change_rate)[:5]:
        print(f"{name:<28} {sc.ids:6d} {100 * sc.recall:6.1f}% {sc.non_ids:8d} {100 * sc.change_rate:7.2f}%")
    print(f"{'OVERALL':<28} {total.ids:6d} {100 * total.recall:6.2f}% {total.non_ids:8d} "
          f"{100 * total.change_rate:7.3f}%  (targets: >= 98% masked, <= 0.5% changed)")
    print(f"identifier values kept by policy, not counted above: {total.policy} ("
          + ", ".join(f"{reason} {n}" for reason, n in total.kept.most_common()) + ")")
    if total.not_values:
        print("labeller corrections, tokens that are no value (not counted above): "
              + ", ".join(f"{NOT_A_VALUE[r]} {n} ({side})" for (r, side), n in sorted(total.not_values.items())))
    unrestored = not_restored(masker, examples)
    print(f"round trip: {len(unrestored)} of {len(examples)} examples do not restore whole"
          + (": " + ", ".join(unrestored[:args.misses]) if args.misses else ""))
    if misses:
        print_misses(misses, args.misses)
    return 0


def print_misses(misses: dict, top: int) -> None:
    """The ``top`` members with the most missed identifier values and changed other values."""
    for what in ("miss", "changed"):
        items = sorted(((k[1], c) for k, c in misses.items() if k[0] == what),
                       key=lambda kc: -sum(kc[1].values()))[:top]
        print(f"--- top {what} members (AWS documentation example values) ---")
        for where, c in items:
            print(f"{sum(c.values()):5d} {where}: {', '.join(v for v, _ in c.most_common(4))}")


if __name__ == "__main__":
    sys.exit(main())
