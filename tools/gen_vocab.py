"""Generate agent/engine/packs/vocab.yaml from botocore's service models (``make packs``).

Which members name a resource is decided from the models, not listed by hand:

- a member is a candidate when its shape is a string (or a list of strings) without an enum and
  its name ends in Id / Name / Identifier / Arn / Url (or their plurals), or its shape's name is
  the member's name plus such a tail (``Bucket`` -> ``BucketName``);
- a member name that is an enum in at least a quarter of its occurrences across all models is
  ambiguous and dropped;
- labels whose word before the tail is AWS vocabulary (``RegionName``, ``MetricName``,
  ``EngineName``, ``InstanceTypeId`` ...) are dropped (``QUALIFIER_STOP``) unless all the words
  before the tail name a resource customers create (``AssetModelId``: ``_created_resource``), and so are per-call
  tokens (``RequestId``, ``ClientToken``);
- a one-word label that is not a generic word (``Bucket``) must be an identifier member at least
  ``SINGLE_MIN_USES`` times and something else (a structure, an enum) at most a third as often;
- a label that is only a generic word (``Name``, ``id``) is not a vocabulary entry: the detector
  trusts ``"Name"`` and ``"Id"`` only as AWS CLI JSON keys, and never enum values under them.

The vocabulary is stored as word tuples (``db instance identifier``), so every spelling of a label
(``--db-instance-identifier``, ``DBInstanceIdentifier``, ``db_instance_identifier``,
``DB_INSTANCE_IDENTIFIER``, ``dbInstanceIdentifier``) matches the same entry (agent/engine/labels.py).
Every enum value of every model is written too, and every filter name of several parts a ``Filters``
member documents (``instance-state-name``): a value under a label that is an AWS enum value is not
masked. The detectors' examples are checked here, before the file is written.

    .venv/bin/python tools/gen_vocab.py [--check]
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "agent" / "engine" / "packs" / "vocab.yaml"
TAILS = ("id", "ids", "name", "names", "identifier", "identifiers", "arn", "arns", "url", "urls")
_TAIL = re.compile(r"(?:Id|ID|Ids|IDs|Name|Names|Identifier|Identifiers|Arn|ARN|Arns|ARNs|Url|URL|Urls)$")
# The word before the tail says the value is AWS vocabulary, not a customer's resource.
# The last group: words whose labels name an application's own records in code (display_name,
# order_id, session_id); AWS uses them too, and an object of AWS's keys says so (APP_RECORD_WORDS).
APP_RECORD_WORDS = frozenset("""
    display file host dns first last middle given family nick full device shard partition sequence
    order customer invoice message session cart ticket employee patient
""".split())
# Not for the object test: host and DNS names (PrivateDnsName, HostName) have detectors of their own
# (AWS host names, EC2 IP host labels), and AWS device names are device paths (DeviceName: /dev/xvda);
# an inventory holds thousands of each, and the object test would cost every one (~20 us).
HOST_WORDS = frozenset({"dns", "host", "device"})
QUALIFIER_STOP = frozenset("""
    region zone az engine metric attribute type class status state version platform family field
    column parameter option event feature product vendor locale language timezone header
    filter limit tier step tool recipe action permission dimension unit runtime codec
    voice currency country sku statistic property setting capability namespace sort query model
    request token idempotency trace correlation transaction span
""".split()) | APP_RECORD_WORDS
# Per-call words: a label ending in them names a call's token, whatever words stand before them.
PER_CALL_WORDS = frozenset("request token idempotency trace correlation transaction span".split())
ENUM_SHARE = 0.25
# The filter names a Filters member documents, one list item each ("<li> <p> <code>instance-state-name</code>
# - The state of the instance ..."): AWS's words, kept as enum values are ({"Name": "instance-state-name"}
# without its "Values" beside it). Only names of several parts: a one-word name (state, owner) says
# nothing (639 names, ec2 and rds mostly).
FILTER_NAME_DOC = re.compile(r"<li>\s*<p>\s*<code>([a-z][A-Za-z0-9:._-]*)</code>\s*-\s")
FILTER_NAME_PARTS = re.compile(r"[-:.]")
# Labels that read the same in application code and mean an application's own records there
# (user_id in any web app), though AWS uses them too: tests/corpus/negatives.jsonl keeps them.
# Keys of the Anthropic Messages API itself, which the gateway must forward as they are: a masked
# tool_use_id no longer matches its tool_use block (a 400 from the API).
# A policy statement's ID (Lambda's StatementId, --statement-id: the "Sid" of the function's policy)
# labels a statement inside its document, like the "Sid" it becomes: no resource (apigw-<uuid>).
# Neither a label nor a named flag.
DOCUMENT_LABELS = frozenset({("statement", "id")})
# Labels whose values come from a catalogue AWS publishes, not from the customer: an EKS add-on is
# created under the name of a catalogue entry (describe-addon-versions: vpc-cni, aws-ebs-csi-driver, a
# Marketplace vendor's), so addonName names AWS's or the vendor's product, never the customer's resource.
CATALOG_LABELS = frozenset({("addon", "name")})
STOP_LABELS = frozenset({("user", "id"), ("s3", "key"), ("tool", "use", "id"), ("custom", "id")}) | DOCUMENT_LABELS \
    | CATALOG_LABELS
# Labels whose values are the application's own data although botocore names them with an Id tail:
# an SQS FIFO message's group and deduplication IDs (MessageGroupId: aws.String("orders")). Written
# as "!words", so the shorter tail ("group id", a security group's) does not count for them either.
APP_VALUE_LABELS = frozenset({("message", "group", "id"), ("message", "deduplication", "id")})
# Labels botocore never spells but Terraform writes: aws_db_instance's argument is "identifier", so its
# variables and tfvars say db_identifier / rds_identifier (no member is named DbIdentifier).
IAC_LABELS = frozenset({("db", "identifier"), ("rds", "identifier")})
SINGLE_MIN_USES = 20   # a one-word label (Bucket) must name an identifier this often across the models


@functools.cache
def _models() -> tuple:
    """(service, model) of every service, read once: collect, object_labels, collect_objects and
    collect_named_flags each walk all of them."""
    import botocore.session
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    return tuple((service, loader.load_service_model(service, "service-2"))
                 for service in session.get_available_services())


def _string_target(shapes: dict, spec: dict) -> dict:
    """The shape a member holds, seen through a list (``SubnetIds`` holds strings)."""
    target = shapes.get(spec["shape"], {})
    if target.get("type") == "list":
        target = shapes.get(target.get("member", {}).get("shape"), {})
    return target


def collect():
    from agent.engine.labels import words
    candidates: Counter = Counter()
    id_uses: Counter = Counter()
    other_uses: Counter = Counter()   # lower-cased member name used as a structure, list, enum ...
    enum_uses: Counter = Counter()
    foreign_uses: Counter = Counter()   # uses documented as another ecosystem's vocabulary (FOREIGN_DOCS)
    uses: Counter = Counter()
    enums: set[str] = set()
    enum_members: list[tuple[tuple[str, ...], list[str]]] = []   # (member words, its enum values)
    created: set[tuple[str, ...]] = set()   # the words of every Create<Resource> operation
    for _, model in _models():
        shapes = model["shapes"]
        created.update(words(op[len(verb):]) for op in model.get("operations", {})
                       for verb in CREATE_VERBS if op.startswith(verb))
        for shape in shapes.values():
            if "enum" in shape:
                enums.update(v for v in shape["enum"] if isinstance(v, str))
            if shape.get("type") != "structure":
                continue
            for member, spec in shape.get("members", {}).items():
                if member in ("Filters", "filters"):
                    enums.update(f for f in FILTER_NAME_DOC.findall(spec.get("documentation", ""))
                                 if FILTER_NAME_PARTS.search(f))
                target = _string_target(shapes, spec)
                uses[member] += 1
                if target.get("type") != "string":
                    other_uses[member.lower()] += 1
                    continue
                if "enum" in target:
                    enum_uses[member] += 1
                    other_uses[member.lower()] += 1
                    enum_members.append((words(member), [v for v in target["enum"] if isinstance(v, str)]))
                    continue
                shape_words = words(spec["shape"])
                member_words = words(member)
                if _TAIL.search(member) or (_TAIL.search(spec["shape"]) and member_words
                                            and shape_words[-len(member_words) - 1:-1] == member_words):
                    candidates[member] += 1
                    id_uses[member.lower()] += 1
                    if FOREIGN_DOCS.search(shape.get("documentation", "")) \
                            or FOREIGN_DOCS.search(spec.get("documentation", "")):
                        foreign_uses[member] += 1
    entries: set[tuple[str, ...]] = set()
    foreign_labels: set[tuple[str, ...]] = set()
    for member in candidates:
        if enum_uses[member] >= ENUM_SHARE * uses[member]:
            continue
        if foreign_uses[member] * 2 >= candidates[member]:
            foreign_labels.add(words(member))
            continue  # Kubernetes' serviceAccountName / claimName, mirrored by EKS and Batch: k8s manifests
        w = words(member)
        if not w or len(w) > 6:
            continue
        if len(w) == 1 and w[0] in TAILS:
            continue  # generic: trusted only as an AWS CLI JSON key (see the detector)
        if len(w) == 1 and (other_uses[member.lower()] > id_uses[member.lower()] / 3
                            or id_uses[member.lower()] < SINGLE_MIN_USES or w[0] in QUALIFIER_STOP
                            or len(w[0]) < 4):
            continue  # a plain word (Account, Region, Device) that also names other things
        if w[-2:] in STOP_LABELS or w[-3:] in STOP_LABELS or (
                len(w) >= 2 and w[-1] in TAILS and w[-2] in QUALIFIER_STOP and not _created_resource(w, created)):
            continue
        if len(w) >= 2 and any(x in QUALIFIER_STOP for x in w[-2:]) and w[-1] not in TAILS:
            continue
        entries.add(w)
    # A label ends in a tail word or in a one-word resource noun that passed above (s3 bucket,
    # source bucket); "kms key", "execution role" and "security group" without their Id/Arn name
    # too many other things (and each last word is an anchor that fires on every "Key":).
    nouns = {e[0] for e in entries if len(e) == 1}
    entries = {e for e in entries if e[-1] in TAILS or e[-1] in nouns}
    # written as "!words": a label of another ecosystem, whose shorter tails do not count either
    blocked = {e for e in foreign_labels if e not in entries and len(e) >= 2} | APP_VALUE_LABELS
    entries = (entries - APP_VALUE_LABELS) | IAC_LABELS
    return entries, enums, blocked, enum_members


# What a customer creates, or terminates (Service Catalog's TerminateProvisionedProduct: a provisioned
# product is the customer's, ProvisionProduct makes it).
CREATE_VERBS = ("Create", "Terminate")


def _created_resource(w: tuple[str, ...], created: set[tuple[str, ...]]) -> bool:
    """A label whose word before the tail is AWS vocabulary (``model``, ``type``, ``zone``) still names
    a customer's resource when all the words before the tail name one that a service lets customers
    create (``AssetModelId``: CreateAssetModel, ``LanguageModelName``: transcribe's
    CreateLanguageModel, ``ThingTypeName``: CreateThingType) or terminate
    (``ProvisionedProductId``: TerminateProvisionedProduct). Three words at least (``ModelId`` of
    a foundation model stays out, although SageMaker has a CreateModel); never for an
    application-record or per-call word (``GameSessionId`` stays an object label, ``PullRequestId``
    out), nor for a version, which AWS numbers itself (``PolicyVersionId``: v1)."""
    return len(w) >= 3 and w[:-1] in created and w[-2] not in APP_RECORD_WORDS \
        and w[-2] not in PER_CALL_WORDS and w[-2] != "version"


# Objects whose lower-case "name" / "id" is a resource's: the member sets of botocore structures
# that have such a member (a string without an enum). A JSON object's keys say it is one of them when
# they hold two "distinctive" members of one structure, or one and every key is a member of it
# (three keys at least). Distinctive: camelCase (the Anthropic API and most application JSON are
# snake_case or one word), in at most OBJECT_SPREAD services (createdAt, displayName, userId are
# everyone's), and never documented as another ecosystem's vocabulary (FOREIGN_DOCS: AWS mirrors
# Kubernetes containers, Docker settings and MCP tool definitions key for key).
OBJECT_LABELS = ("name", "id")
OBJECT_SPREAD = 20
FOREIGN_DOCS = re.compile(r"Kubernetes|Docker|Model Context Protocol|OpenAPI|Swagger|JSON [Ss]chema")
# A structure whose name member is a software package's, documented so ("The name of the vulnerable
# package.", "The package name.", "Name of the dependency package."): Inspector's, ECR's and Image
# Builder's vulnerability findings name open-source packages (golang.org/x/net, openssl), not resources.
PACKAGE_NAME_DOC = re.compile(r"(?:vulnerable|affected|dependency) package\b|^(?:<p>)?\s*The package name")


def _package_structure(members: dict) -> bool:
    return bool(PACKAGE_NAME_DOC.search(members.get("name", {}).get("documentation", "")))


def object_labels() -> list[str]:
    """Members dropped from the vocabulary only as application records (``DisplayName``, ``UserId``,
    ``SessionId``, ``ShardId``: APP_RECORD_WORDS and ``user id``), exactly as the models spell them:
    trusted as a quoted JSON key whose object is one of AWS's (``aws-resource-objects``)."""
    from agent.engine.labels import words
    found: set[str] = set()
    enum_uses: Counter = Counter()
    uses: Counter = Counter()
    for _, model in _models():
        shapes = model["shapes"]
        for shape in shapes.values():
            if shape.get("type") != "structure":
                continue
            for member, spec in shape.get("members", {}).items():
                target = _string_target(shapes, spec)
                if target.get("type") != "string" or not _TAIL.search(member):
                    continue
                uses[member] += 1
                if "enum" in target:
                    enum_uses[member] += 1
                    continue
                w = words(member)
                if 2 <= len(w) <= 4 and w[-1] in TAILS and (w[-2] in APP_RECORD_WORDS or w[-2:] == ("user", "id")) \
                        and w[-2] not in HOST_WORDS and not any(x in QUALIFIER_STOP - APP_RECORD_WORDS for x in w):
                    found.add(member)
    return sorted(m for m in found if enum_uses[m] < ENUM_SHARE * uses[m])


def collect_objects(labels: list[str]) -> list[str]:
    """One line per distinct member set, distinctive members marked with ``+`` (see above): structures
    with a lower-case ``name`` / ``id``, or with one of ``labels`` (``object_labels``)."""
    object_only = set(labels)
    services_of: dict[str, set[str]] = {}
    foreign: set[str] = set()
    structures: list[frozenset[str]] = []
    for service, model in _models():
        shapes = model["shapes"]
        for shape in shapes.values():
            if shape.get("type") != "structure":
                continue
            members = shape.get("members", {})
            shape_foreign = FOREIGN_DOCS.search(shape.get("documentation", ""))
            for member, spec in members.items():
                services_of.setdefault(member, set()).add(service)
                if shape_foreign or FOREIGN_DOCS.search(spec.get("documentation", "")):
                    foreign.add(member)
            if _package_structure(members):
                continue
            for label in OBJECT_LABELS:
                target = shapes.get(members.get(label, {}).get("shape"), {})
                if target.get("type") == "string" and "enum" not in target:
                    structures.append(frozenset(members))
                    break
            else:
                if object_only.intersection(members):
                    structures.append(frozenset(members))

    def distinctive(member: str) -> bool:
        return (member not in OBJECT_LABELS and member not in object_only and any(c.isupper() for c in member[1:])
                and len(services_of[member]) <= OBJECT_SPREAD and member not in foreign)

    lines = set()
    for members in structures:
        if any(distinctive(m) for m in members):
            lines.add(" ".join(sorted(("+" + m) if distinctive(m) else m for m in members)))
    return sorted(lines)


def _structure_members():
    """(service, shapes, member, spec, foreign) for every member of every structure of every model;
    ``foreign``: the structure or the member is documented as another ecosystem's vocabulary."""
    for service, model in _models():
        shapes = model["shapes"]
        for shape in shapes.values():
            if shape.get("type") != "structure":
                continue
            shape_foreign = FOREIGN_DOCS.search(shape.get("documentation", ""))
            for member, spec in shape.get("members", {}).items():
                yield service, shapes, member, spec, bool(
                    shape_foreign or FOREIGN_DOCS.search(spec.get("documentation", "")))

def collect_parents() -> list[str]:
    """``parent member1 member2 ...``: a structure with a lower-case ``name`` / ``id`` (a string
    without an enum) that another structure holds under ``parent`` (itself, or as a list's items),
    where ``parent`` is distinctive (camelCase of two words or more, in at most OBJECT_SPREAD
    services, never documented as another ecosystem's vocabulary) and neither structure is documented
    as one. A JSON object standing under that quoted key whose keys are all members of the structure
    is AWS's (``"outputArtifacts": [{"name": "MyApp"}]``, ``"stage": ...`` is one word and says nothing)."""
    services_of: dict[str, set[str]] = {}
    foreign: set[str] = set()
    held: list[tuple[str, str, dict]] = []   # (parent member, service, target shape)
    for service, shapes, member, spec, is_foreign in _structure_members():
        services_of.setdefault(member, set()).add(service)
        if is_foreign:
            foreign.add(member)
            continue
        target = shapes.get(spec["shape"], {})
        if target.get("type") == "list":
            target = shapes.get(target.get("member", {}).get("shape"), {})
        if target.get("type") != "structure" or FOREIGN_DOCS.search(target.get("documentation", "")):
            continue
        members = target.get("members", {})
        if _package_structure(members):
            continue
        for label in OBJECT_LABELS:
            inner = shapes.get(members.get(label, {}).get("shape"), {})
            if inner.get("type") == "string" and "enum" not in inner:
                held.append((member, service, target))
                break
    lines = set()
    for member, _, target in held:
        if member in foreign or member in OBJECT_LABELS or len(services_of[member]) > OBJECT_SPREAD \
                or not any(c.isupper() for c in member[1:]) or not member[:1].islower():
            continue
        lines.add(member + " " + " ".join(sorted(target["members"])))
    return sorted(lines)


# JSON keys without a tail word whose botocore shape says they hold identifiers ("virtualNode":
# ResourceName, "destinationCommit": CommitId, "deploymentGroups": a list of DeploymentGroupName):
# exactly as the models spell them, quoted as a JSON key. Only distinctive spellings (two words or
# more, camelCase or PascalCase, in at most OBJECT_SPREAD services, never documented as another
# ecosystem's vocabulary); no AWS vocabulary word (QUALIFIER_STOP) in the member's or the shape's
# name; and in at least MODEL_KEY_SHARE of the member's string uses the shape is such a name.
MODEL_KEY_SHARE = 0.75
PAIR_WORDS = frozenset({"tag", "tags", "key", "keys", "value", "values", "label", "labels"})  # a key/value pair's


def collect_model_keys() -> tuple[list[str], list[str]]:
    """(keys holding one identifier, keys holding a list of them)."""
    from agent.engine.labels import words
    services_of: dict[str, set[str]] = {}
    foreign: set[str] = set()
    named: Counter = Counter()
    strings: Counter = Counter()
    lists: Counter = Counter()
    for service, shapes, member, spec, is_foreign in _structure_members():
        services_of.setdefault(member, set()).add(service)
        if is_foreign:
            foreign.add(member)
        raw = shapes.get(spec["shape"], {})
        target = _string_target(shapes, spec)
        if target.get("type") != "string":
            continue
        strings[member] += 1
        name = raw.get("member", {}).get("shape", "") if raw.get("type") == "list" else spec["shape"]
        if name.endswith("Type") and _TAIL.search(name[:-4]):
            name = name[:-4]
        if "enum" in target or _TAIL.search(member) or not _TAIL.search(name) \
                or any(x in QUALIFIER_STOP or x in PAIR_WORDS for x in set(words(member)) | set(words(name))):
            continue
        named[member] += 1
        if raw.get("type") == "list":
            lists[member] += 1
    single, plural = [], []
    for member, n in named.items():
        if n < MODEL_KEY_SHARE * strings[member] or member in foreign or len(services_of[member]) > OBJECT_SPREAD \
                or len(words(member)) < 2 or not any(c.isupper() for c in member[1:]):
            continue
        (plural if lists[member] * 2 > n else single).append(member)
    return sorted(single), sorted(plural)


# AWS CLI flags that name a resource though their words do not say so (--domain, --work-group,
# --repository): the operation's own input member is a string without an enum whose botocore docs
# begin "The name of the ...", "The ID of ...", "The identifier of ...", "The ARN of ...". Trusted
# only inside that operation's ``aws <service> <operation>`` command. Flags the vocabulary already
# covers, flags ending in a tail word (dropped or covered on purpose) and flags with an AWS
# vocabulary word (QUALIFIER_STOP: --source-region, --engine) are left out.
NAMED_DOC = re.compile(r"^\s*(?:<p>)?\s*The\s+(?:(?:unique|user-defined|friendly)\s+)?"
                       r"(?:name|ID|identifier|Amazon Resource Name|ARN)\b(?:\s*\([A-Z]+\))?\s+(?:of|for)\s+"
                       r"(?:the|a|an|your)\b", re.I)


# Also trusted inside the operation's command: a member the model itself calls an identifier, by its
# name or its shape's (--user-id, --display-name: application records elsewhere, and dropped from the
# vocabulary for that; --source-commit-specifier holds a CommitName), unless a word says AWS
# vocabulary (QUALIFIER_STOP but the application-record words: --region-name, --metric-name).
VOCABULARY_WORDS = QUALIFIER_STOP - APP_RECORD_WORDS - HOST_WORDS


def _named_by_model(member: str, shape: str, w: tuple[str, ...]) -> bool:
    from agent.engine.labels import words
    if shape.endswith("Type") and _TAIL.search(shape[:-4]):
        shape = shape[:-4]   # IAM / KMS shape names: roleNameType is a RoleName
    if not (_TAIL.search(member) or _TAIL.search(shape)):
        return False
    return not any(x in VOCABULARY_WORDS for x in set(w) | set(words(shape)))


MODEL_FLAG_END_USES = 5
FILTER_OPERATORS = frozenset({"contains", "equals", "prefix", "prefixes", "with", "marker", "to"})


def collect_named_flags(entries) -> list[str]:
    """``operation flag`` lines (kebab-case, as the CLI spells them)."""
    from botocore import xform_name

    from agent.engine.labels import Vocabulary, words
    vocabulary = Vocabulary(entries)
    lines = set()
    by_model = set()
    for _, model in _models():
        shapes = model["shapes"]
        for op_name, op in model["operations"].items():
            members = shapes.get(op.get("input", {}).get("shape"), {}).get("members", {})
            for member, spec in members.items():
                target = _string_target(shapes, spec)
                if target.get("type") != "string" or "enum" in target:
                    continue
                flag = xform_name(member, "-")
                w = words(flag)
                if not w or vocabulary.matches(w) or tuple(w[-2:]) in DOCUMENT_LABELS | CATALOG_LABELS:
                    continue
                if NAMED_DOC.search(spec.get("documentation", "")) and w[-1] not in TAILS \
                        and not any(x in QUALIFIER_STOP for x in w):
                    lines.add(f"{xform_name(op_name, '-')} {flag}")
                elif _named_by_model(member, spec["shape"], w):
                    by_model.add(f"{xform_name(op_name, '-')} {flag}")
    # A flag named by the model only when its last word already anchors a flag (vocabulary tails,
    # the documented flags above): each new last word is one more literal after every "-" the
    # prefilter scans for (33 of them, "-to", "-with", "-marker": +12 % prefilter time).
    ends = {e[-1] for e in entries} | {"name", "id"} | {line.rsplit("-", 1)[-1] for line in lines}
    # Also a last word that ends at least MODEL_FLAG_END_USES model-named flags and is no filter
    # operator (--name-contains, --name-prefix, --starts-with): one literal more for many flags
    # (codecommit's --source-commit-specifier, --destination-commit-specifier: a CommitName).
    last = Counter(line.rsplit("-", 1)[-1].rsplit(" ", 1)[-1] for line in by_model)
    ends |= {w for w, n in last.items() if n >= MODEL_FLAG_END_USES and w not in FILTER_OPERATORS}
    ends |= {e + "s" for e in ends}
    lines |= {line for line in by_model if line.rsplit("-", 1)[-1].rsplit(" ", 1)[-1] in ends}
    return sorted(lines)


# The AWS CLI's own commands that call no single operation (awscli.customizations: ``codeartifact login``,
# ``ecs deploy``): flags whose help text says they take a name or ID ("Your CodeArtifact repository
# name", "The short name or full Amazon Resource Name (ARN) of the service"), with the same tests as
# the operations' flags above; an S3 object key's name (``s3 website --error-document``) is no resource.
CUSTOM_NAMED_DOC = re.compile(r"^\s*(?:Required\.\s+)?(?:The|Your)\s+(?:[A-Za-z]+\s+){0,3}(?:name|ID|identifier)\b",
                              re.I)


def collect_customization_flags(entries) -> list[str]:
    """``command flag`` lines for the AWS CLI's customization commands (BasicCommand subclasses)."""
    import importlib
    import inspect
    import pkgutil

    import awscli.customizations
    from awscli.customizations.commands import BasicCommand

    from agent.engine.labels import Vocabulary, words
    vocabulary = Vocabulary(entries)
    lines = set()
    seen: set[type] = set()
    for info in pkgutil.walk_packages(awscli.customizations.__path__, awscli.customizations.__name__ + "."):
        try:
            module = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - a customization needing an optional dependency
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls in seen or not issubclass(cls, BasicCommand) or cls is BasicCommand:
                continue
            seen.add(cls)
            command, table = getattr(cls, "NAME", None), getattr(cls, "ARG_TABLE", None)
            if not isinstance(command, str) or not isinstance(table, list):
                continue
            for arg in table:
                if not isinstance(arg, dict) or arg.get("positional_arg") or not isinstance(arg.get("name"), str):
                    continue
                doc = re.sub(r"<[^>]+>", "", str(arg.get("help_text", "")))
                w = words(arg["name"])
                if (NAMED_DOC.search(doc) or CUSTOM_NAMED_DOC.search(doc)) and "object key" not in doc \
                        and w and not vocabulary.matches(w) and w[-1] not in TAILS \
                        and not any(x in QUALIFIER_STOP for x in w):
                    lines.add(f"{command} {arg['name']}")
    return sorted(lines)


def _alternation(words_: list[str]) -> str:
    forms = set()
    for w in words_:
        forms.update((w, w.capitalize(), w.upper()))
    return "|".join(sorted(forms, key=lambda f: (-len(f), f)))


SEP_Q = r"(?:[\x00\\]*\\)?"    # an optional JSON escape in front of a quote, at any nesting depth
VALUE = r"[A-Za-z0-9/][A-Za-z0-9._/:@+-]{0,254}"
BLANK = r"(?:[ \t\r\n]|\\[nrt])"   # blanks between JSON list items, also as escapes in a JSON string
# Around a key's separator: blanks, and line breaks too where the key or the value is quoted (JSON
# allows any whitespace there: {"KeyId"\n:\n"x"}; an unquoted YAML "key:" line does not continue).
JSON_BLANK = r"(?:[ \t]*(?:(?<=[\"'])[\r\n][ \t\r\n]*|[\r\n][ \t\r\n]*(?=(?:[\x00\\]*\\)?[\"']))?[ \t]*)"


def _owned() -> str:
    """A value another detector owns, with its own format: EC2-family IDs and ARNs. The regex
    refuses them at once, so an inventory's thousands of "InstanceId" keys cost one failed match
    each instead of a splitter call and an overlap contest."""
    from agent.engine.splitters import EC2_ID
    return rf"(?!arn:|{EC2_ID.pattern}(?![A-Za-z0-9_]))"


OWNED = _owned()


# What every generated detector shares: one priority, values spread to their other occurrences
# (propagate), and label_value to cut the value from its label.
LABELLED = {"priority": 38, "propagate": True, "split": "label_value"}


# Generic keys: a member that is a tail word alone (Name, Id, ID, Identifier), trusted as a quoted
# JSON key when it is a string without an enum in GENERIC_SHARE of its uses across the models. Arn
# and Url stay out: ARNs have their own detector, and a generic "Url" would take any web address.
GENERIC_SHARE = 0.95


def generic_keys() -> list[str]:
    uses: Counter = Counter()
    ids: Counter = Counter()
    for _, model in _models():
        shapes = model["shapes"]
        for shape in shapes.values():
            for member, spec in shape.get("members", {}).items() if shape.get("type") == "structure" else ():
                if member.lower() not in ("id", "name", "identifier") or not member[0].isupper():
                    continue
                uses[member] += 1
                target = shapes.get(spec["shape"], {})
                if target.get("type") == "string" and "enum" not in target:
                    ids[member] += 1
    return sorted(m for m in uses if ids[m] >= GENERIC_SHARE * uses[m])


# A path under an ID label is something else (a Kubernetes "default/checkout"), unless its first
# segment is a resource type an ID member's own docs show as a path: "<code>table/my-table</code>",
# "<code>service/my-cluster/my-service</code>" (Application Auto Scaling's ResourceId),
# "<code>alias/ExampleAlias</code>" (a KMS KeyId). AWS-managed "aws/..." names stay out.
ID_PATH_DOC = re.compile(r"<code>([A-Za-z][A-Za-z0-9-]*)/[^<\s]+</code>")
ID_MEMBER = re.compile(r"(?:Id|ID|Identifier)$")


# Which AWS words a label keeps. An enum value under an identifier label is kept only when a member
# spelled like that label (its last words) is, somewhere in the models, an enum holding that value
# (securitylake's "sourceName": "VPC_FLOW"), or documents it as a constant in code
# (<code>current</code> of Redshift's MaintenanceTrackName; not after "such as", "for example" ...).
# Any other enum word under an identifier label is a name ("StageName": "prod", "BranchName":
# "main", "DatabaseName": "customer"): the 25,000 enum values of all models spell half the words
# people name things with. Lines are "label words|value", the label's last word singular
# (agent.engine.labels.singular, which vocab.py reads them back with).
DOC_CODE = re.compile(r"<code>([A-Za-z][A-Za-z0-9_]*)</code>")
DOC_CONSTANT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*|[a-z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)*")
DOC_UPPER = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
# Not a constant: an example of a name, or the name a resource gets by default (the API Gateway
# stage of Migration Hub Refactor Spaces "defaults to <code>prod</code>": a name people choose too).
EXAMPLE_CUE = re.compile(r"(?i)such as|for example|for instance|e\.g\.|example:?|like|\bsample|defaults? (?:to|is)")


# What the models do not say: the target of every VPC route table's own route is "local" (EC2 User
# Guide, route tables), where every other route holds a gateway's ID.
LABEL_CONSTANTS = frozenset({"gateway id|local"})


def collect_label_values(entries, enums, enum_members) -> list[str]:
    from agent.engine.labels import singular, words
    # and the generic words, for a generic flag inside an aws command (ecs put-account-setting
    # --name serviceLongArnFormat: that operation's name is an enum)
    keys = {singular(e) for e in entries} | {(w,) for w in TAILS if not w.endswith("s")}
    known = {v.lower() for v in enums}
    lines: set[str] = set(LABEL_CONSTANTS)

    def add(member_words: tuple[str, ...], values) -> None:
        for k in range(1, min(len(member_words), 6) + 1):
            tail = singular(member_words[-k:])
            if tail in keys:
                label = " ".join(tail)
                lines.update(f"{label}|{v.lower()}" for v in values
                             if v.lower() in known and v == v.strip() and not any(c.isspace() or c == "|" for c in v))

    for member_words, values in enum_members:
        add(member_words, values)
    for _, shapes, member, spec, _ in _structure_members():
        if not _TAIL.search(member):
            continue
        target = _string_target(shapes, spec)
        if target.get("type") != "string" or "enum" in target:
            continue
        doc = spec.get("documentation", "")
        found = []
        for m in DOC_CODE.finditer(doc):
            value = m.group(1)
            if DOC_CONSTANT.fullmatch(value) and (DOC_UPPER.fullmatch(value)
                                                  or not EXAMPLE_CUE.search(doc[max(0, m.start() - 40):m.start()])):
                found.append(value)
        if found:
            add(words(member), found)
    return sorted(lines)


def collect_service_codes() -> list[str]:
    """Every service's own names: its botocore name, endpoint prefix and signing name (guardduty, s3,
    execute-api): what a "ServiceName" key holds when it names an AWS service, not a customer's."""
    found: set[str] = set()
    for service, model in _models():
        meta = model.get("metadata", {})
        found.update(v.lower() for v in (service, meta.get("endpointPrefix"), meta.get("signingName")) if v)
    return sorted(found)


def collect_id_path_types() -> list[str]:
    found: set[str] = set()
    for _, model in _models():
        shapes = model["shapes"]
        for shape in shapes.values():
            for member, spec in shape.get("members", {}).items() if shape.get("type") == "structure" else ():
                if ID_MEMBER.search(member):
                    doc = spec.get("documentation") or shapes.get(spec["shape"], {}).get("documentation", "")
                    found.update(ID_PATH_DOC.findall(doc))
    return sorted(found - {"aws"})


# Values never masked under a label: AWS enum values (under a generic label, and wherever the label is
# not spelled as only AWS spells it), and under a specific label so spelled those its members keep.
def _keep() -> dict:
    """Fresh dicts for each detector: a shared one would be written as a YAML alias."""
    return {"keep_values": {"vocabulary": "aws-enum-values"}, "label_values": {"vocabulary": "aws-label-values"},
            "service_codes": {"vocabulary": "aws-service-codes"}}


def detectors(entries, named_flags: list[str], model_keys: tuple[list[str], list[str]] = ([], []),
              generic: tuple[str, ...] = ("Id", "ID", "Name")) -> list[dict]:
    ends = sorted({e[-1] for e in entries} | {"name", "id"})
    tail = _alternation(ends)
    label_value = {
        "id": "vocab-label-value",
        "kind": "name",
        "description": ("A value after a label whose words name an AWS identifier member (botocore): JSON keys, "
                        "YAML / CloudFormation, SDK arguments (boto3, JS v3, Go aws.String), snake_case IaC "
                        "attributes, environment variables, in any spelling of the label."),
        # No unbounded repeat in an anchor: Hyperscan pays for [ \t]* on every byte (2 -> 0.6 ms
        # per 500 KB); two blanks (aligned Terraform) and a line break (JSON written "key"\n:) have
        # their own anchors.
        "anchors": [f"(?:{tail})[\"'\\\\\\x00]*[ \\t]?[:=]", f"(?:{tail})[\"'\\\\\\x00]*[\\r\\n]",
                    f"(?:{tail})\\\\?[\"']?[ \\t][ \\t]"],
        "window": 64,   # labels are shorter; the window is sliced and reversed once per anchor hit
        "window_chars": "[A-Za-z0-9_.-]",
        "window_exact": True,
        "after": 300,
        **LABELLED,
        "params": {"labels": {"vocabulary": "aws-identifier-labels"},
                   **_keep(),
                   "generic": list(generic), "generic_near_arn": ["name", "id"],
                   "id_path_types": {"vocabulary": "aws-id-path-types"},
                   "objects": {"vocabulary": "aws-resource-objects"},
                   "parents": {"vocabulary": "aws-parent-objects"},
                   "object_labels": {"vocabulary": "aws-object-labels"}},
        # Atomic groups (?>...) around label-and-separator and around the opening quote: neither
        # can match otherwise and still lead to a match (a shorter label ends on a label character,
        # no separator; a value cannot start at a quote), so they only spare the backtracking into
        # them when the value is refused (an "InstanceId" key's EC2 ID: a dense 1 MB inventory has
        # ~4,000, 9.6 -> 4.9 ms). ``aws.String(`` stays outside: without it "aws.String" is a value.
        "regex": (rf"(?:(?<![A-Za-z0-9_.\\\-])|(?<=[\\\x00][nrt]))(?>(?P<label>[A-Za-z][A-Za-z0-9_.-]{{0,63}})"
                  rf"(?P<kq2>{SEP_Q}[\"'])?{JSON_BLANK}(?:=>|:=|[:=]){JSON_BLANK})(?:aws\.String\()?(?>(?P<q>{SEP_Q}[\"'`])?)"
                  rf"{OWNED}(?P<value>[-+]?{VALUE})(?P<q2>{SEP_Q}[\"'`])?"),
        "examples": {
            "match": [
                {"text": '{"DBInstanceIdentifier": "orders-db"}', "masks": ["orders-db"]},
                {"text": "NEXT_PUBLIC_S3_BUCKET=acme-web-assets\n", "masks": ["acme-web-assets"]},
                {"text": "const s3Bucket: 'acme-uploads';", "masks": ["acme-uploads"]},
                {"text": 'eks_cluster_name = "platform-prod"', "masks": ["platform-prod"]},
                {"text": 'db_identifier = "orders-db-1"', "masks": ["orders-db-1"]},
                {"text": "s3.put_object(Bucket='acme-exports', Key='a.csv')", "masks": ["acme-exports"]},
                {"text": 'input := &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders-db")}',
                 "masks": ["orders-db"]},
                {"text": '"Variables": {"TABLE_NAME": "orders-table"}', "masks": ["orders-table"]},
                {"text": '{"TypeName": "AWS::Kinesis::Stream", "Identifier": "orders-stream"}',
                 "masks": ["orders-stream"]},
                {"text": '{"ResourceId": "table/orders-2024"}', "masks": ["orders-2024"]},
                {"text": '"State": {"Code": 16, "Name": "running"}, "KeyName": "my-key-pair"',
                 "masks": ["my-key-pair"]},
                {"text": '"Instances": [{"InstanceId": "mi-0123456789abcdef0"}]', "masks": ["mi-0123456789abcdef0"]},
                {"text": '"PhoneNumberId": "+12065550100"', "masks": ["+12065550100"]},
                {"text": '"ECS_CLUSTER=x\\nDB_INSTANCE_IDENTIFIER=orders-db\\n"', "masks": ["orders-db"]},
                {"text": '{"channel": {"arn": "x", "name": "channel-1", "id": "a1b2c3"}}',
                 "masks": ["channel-1", "a1b2c3"]},
                {"text": '{"Name": "Flights Select Query", "WorkGroup": "primary"}',
                 "masks": ["Flights", "Select", "Query"]},
                {"text": '{\\"SAMAccountName\\": \\"Jane Doe\\"}', "masks": ["Jane", "Doe"]},
                {"text": '{"capacityProviderArn": "arn:aws:ecs:us-east-1:123456789012:capacity-provider/cp", '
                         '"name": "ExampleCapacityProvider"}',
                 "masks": ["ExampleCapacityProvider"]},
                {"text": '{"arn": "x", "location": {"regionName": "us-east-1"}, "name": "web-1"}', "masks": ["web-1"]},
                {"text": '{"name": "WordPress-1", "supportCode": "x", "isStaticIp": false, "addOns": []}',
                 "masks": ["WordPress-1"]},
                {"text": '{\\"id\\": \\"-1682899164\\", \\"name\\": \\"www.example.com\\", \\"target\\": '
                         '\\"192.0.2.0\\", \\"isAlias\\": false, \\"type\\": \\"A\\"}',
                 "masks": ["-1682899164", "www.example.com"]},
                {"text": '{"ProviderName": "my-provider", "DisplayName": "my-portfolio", "CreatedTime": 1571337221.5}',
                 "masks": ["my-provider", "my-portfolio"]},
                {"text": '"outputArtifacts": [\n  {"name": "MyApp"}\n]', "masks": ["MyApp"]},
                {"text": '"awsAccounts": [\n' + ',\n'.join(
                    f'        {{\n            "id": "21098765432{n}",\n            "emailAddress": "",\n'
                    f'            "name": ""\n        }}' for n in range(1, 6)) + '\n]',
                 "masks": [f"21098765432{n}" for n in range(1, 6)]},
                {"text": "billingAccountName: acme-payer", "masks": ["acme-payer"]},
                {"text": '{"StageName": "prod", "CatalogName": "hive"}', "masks": ["prod", "hive"]},
                {"text": '{\\"domainInfos\\": [{\\"status\\": \\"REGISTERED\\", \\"name\\": \\"DataFrobotz\\"}, '
                         '{\\"status\\": \\"REGISTERED\\", \\"name\\": \\"erontest\\"}]}',
                 "masks": ["DataFrobotz", "erontest"]},
                {"text": '{"activeSessionId": "st-a1b2c3d4e5f6g", "arn": "arn:aws:ivs:us-west-2:123456789012:stage/x"}',
                 "masks": ["st-a1b2c3d4e5f6g"]},
                {"text": '"Owner": {"DisplayName": "ops-team", '
                         '"ID": "7009a8971cd538e11f6b6606438875e7c86c5b672f46db45460ddcd087d36c32"}',
                 "masks": ["ops-team", "7009a8971cd538e11f6b6606438875e7c86c5b672f46db45460ddcd087d36c32"]},
                {"text": '"Initiator": {"ID": "arn:aws:iam::123456789012:user/ops", "DisplayName": "ops-lead"}',
                 "masks": ["ops-lead"]},
                {"text": '"OperationId": "gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd"',
                 "masks": ["gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd"]},
                {"text": '"RecordId": "jFirejqxCLlK5xjH/UNmlMVcjktEN76I7916X9PaZ+PVaOSXDfU1WGOqEZhx"',
                 "masks": ["jFirejqxCLlK5xjH/UNmlMVcjktEN76I7916X9PaZ+PVaOSXDfU1WGOqEZhx"]},
                # a Service Catalog provisioned product (TerminateProvisionedProduct: the customer's)
                {"text": '{"ProvisionedProductName": "orders-bucket-prod", "Status": "AVAILABLE"}',
                 "masks": ["orders-bucket-prod"]},
                {"text": "provisioned_product_id = 'pp-2x7kqbd5nwzvs'", "masks": ["pp-2x7kqbd5nwzvs"]},
            ],
            "no_match": ['"Name": "running"', '"GroupName": "default"', '"Name": "instance-state-name"',
                         '{"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": []}',
                         '{"accountId": "5b10ac8d82e05b22cc7d4ef5"}', '{"operationId": "listPetsByOwner"}',
                         '"SelectFields": [{"Name": "accountId"}, {"Name": "resource-name"}]',
                         '{"DisplayName": "Jane", "Role": "admin"}', '{"sessionId": "s-1", "user": {"arn": "x"}}',
                         '"GatewayId": "local"', '"SourceName": "VPC_FLOW"', '"MaintenanceTrackName": "current"',
                         '"ManifestName": "string"', '"containerName": "web"', 'profile_name="prod"',
                         '{"refId": "A"}',
                         '{"stackID": "default/checkout"}',
                         '{"Values": ["running"], "Name": "instance-state-name"}', "bucketName: string;",
                         'display_name = "Orders"', '"name": "Bash"', "BUCKET_NAME=${BUCKET}",
                         '"requestId": "req-1234"', "validId: 12", '"Status": "available"',
                         '{"type": "tool_use", "id": "toolu_01abc", "name": "mcp__aws__list"}',
                         '{"type": "tool_result", "tool_use_id": "toolu_01abc"}',
                         '{"name": "my-app", "version": "1.0.0"}', "bucket_id: -1",
                         # an open-source package a vulnerability finding names (Inspector, ECR, Image Builder)
                         '{"name": "golang.org/x/net", "version": "v0.7.0", "fixedInVersion": "0.17.0", '
                         '"packageManager": "GOBINARY", "filePath": "app/server"}',
                         '"vulnerablePackages": [{"name": "openssl-libs", "version": "3.0.7", "release": "27.el9"}]',
                         '"affectedPackages": [{"name": "log4j-core", "version": "2.14.1", "fixedInVersion": "2.17.1", '
                         '"packageManager": "JAR"}]',
                         '"outputArtifacts": [{"name": "MyApp", "color": "red"}]',
                         "serviceAccountName: app-runner-sa", "claimName: data-pvc-01",
                         'MessageGroupId: aws.String("orders")', '"MessageDeduplicationId": "o-17"',
                         '{"provider_name": "registry.terraform.io/hashicorp/aws"}',
                         '"outputArtifacts": [{"spec": {"name": "MyApp"}}]', '"items": [{"name": "web"}]',
                         '"outputArtifacts": [], "other": {"name": "web"}',
                         '"ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)"', '"Name": "AWS X-Ray"',
                         '"Name": "PUT /prod"', '"Name": "Name {{imagebuilder:buildDate}}"',
                         '"Name": "one two three four five six seven eight nine"', '{"name": "Run the tests"}',
                         "\"Name\": \"it's\" ok\"",
                         '{"type": "tool_use", "id": "toolu_01abc", "name": "mcp__aws__get", "input": {"arn": "x"}}',
                         '{"type": "tool_use", "input": {"roleArn": "arn:aws:iam::123456789012:role/r"}, '
                         '"id": "toolu_01abc", "name": "mcp__a"}',
                         '{"description": "see clusterArn", "name": "Bash"}',
                         '{"name": "http", "containerPort": 80, "protocol": "TCP"}',
                         '{"name": "web", "image": "nginx", "imagePullPolicy": "Always", "volumeMounts": []}',
                         '{"name": "list_buckets", "description": "d", "inputSchema": {}, "outputSchema": {}}',
                         '{"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"isAlias": false, '
                         '"supportCode": "x", "isStaticIp": true}}',
                         '{"name": "my-app", "version": "1.0.0", "devDependencies": {}, "peerDependencies": {}}',
                         '{"UserId": "u_8f3k2", "DisplayName": "Jane Doe", "Email": "j@x", "IsActive": true}',
                         'display_name: "Orders"  # DisplayName only as a JSON key of an AWS object'],
        },
    }
    plurals = sorted({e[-1] for e in entries if e[-1].endswith("s")})
    json_list = {
        "id": "vocab-json-list",
        "kind": "name",
        "description": "Items of a JSON list under a plural identifier key (\"SubnetIds\": [\"a\", \"b\"]).",
        "anchors": [f"(?:{_alternation(plurals)}){SEP_Q}\"[ \\t]?:[ \\t]?\\["],
        "window": 120,
        "window_chars": "[A-Za-z0-9_.-]",
        "window_exact": True,
        "after": 600,
        **LABELLED, "split": "label_list",   # each item competes on its own (finder.PART_HITS)
        "params": {"labels": {"vocabulary": "aws-identifier-labels"},
                   **_keep(), "form": "list"},
        "regex": (rf"(?<![A-Za-z0-9_.\\\-])(?P<label>[A-Za-z][A-Za-z0-9_.-]{{0,119}})(?P<q>{SEP_Q}\")[ \t]*:[ \t]*\["
                  rf"{BLANK}*{SEP_Q}\"(?P<value>{VALUE}(?:{SEP_Q}\"{BLANK}*,{BLANK}*{SEP_Q}\"{VALUE}){{0,200}})"
                  rf"(?P<q2>{SEP_Q}\")"),
        "examples": {
            "match": [
                {"text": '"TableNames": [\n    "Forum",\n    "orders-2024"\n]', "masks": ["Forum", "orders-2024"]},
                {"text": '{\\"SubnetIds\\": [\\"subnet-1EXAMPLE\\", \\"subnet-2EXAMPLE\\"]}',
                 "masks": ["subnet-1EXAMPLE", "subnet-2EXAMPLE"]},
                {"text": '"UserNames": ["pat", "test"]', "masks": ["pat", "test"]},
            ],
            "no_match": ['"Names": ["running"]', '"Types": ["a-1"]', '"SubnetIds": []', '"AccountIds": ["all"]'],
        },
    }
    xml = {
        "id": "vocab-xml-element",
        "kind": "name",
        "description": ("Text of an XML element named by an identifier member "
                        "(S3 and EC2 API XML: <BucketName>x</BucketName>)."),
        "anchors": [f"(?:{tail})>"],
        "window": 64,
        "window_chars": "[A-Za-z0-9_.-]",
        "window_exact": True,
        "after": 300,
        **LABELLED,
        "params": {"labels": {"vocabulary": "aws-identifier-labels"},
                   **_keep(), "generic": ["Name", "Id"]},
        "regex": (rf"(?<=<)(?P<label>[A-Za-z][A-Za-z0-9_.-]{{0,63}})(?P<kq2>)>(?P<q>)(?P<value>{VALUE})(?P<q2>)</"),
        "examples": {
            "match": [
                {"text": "<Bucket><Name>acme-xml-bucket</Name></Bucket>", "masks": ["acme-xml-bucket"]},
                {"text": "<DBInstanceIdentifier>orders-db</DBInstanceIdentifier>", "masks": ["orders-db"]},
            ],
            "no_match": ["<instanceState><name>running</name></instanceState>", "<Name>running</Name>",
                         "<RegionName>us-east-1</RegionName>", "<name>${bucket}</name>"],
        },
    }
    pair_params = {"labels": {"vocabulary": "aws-identifier-labels"},
                   **_keep(), "form": "pair"}
    env_yaml = {
        "id": "vocab-env-pair-yaml",
        "kind": "name",
        "description": ("Kubernetes / compose environment entries whose name is an identifier label "
                        "(- name: S3_BUCKET, then value: x)."),
        "anchors": ["name:[ \\t]+[\"']?[A-Z][A-Z0-9]*_"],
        "window": 0,
        "after": 300,
        **LABELLED,
        "params": pair_params,
        "regex": (rf"name:[ \t]+[\"']?(?P<label>[A-Z][A-Z0-9_]{{0,63}})[\"']?[ \t]*(?:\r?\n|(?:\\r)?\\n)"
                  rf"[ \t]*(?:-[ \t]+)?value:[ \t]*(?P<q>{SEP_Q}[\"'])?(?P<value>{VALUE})(?P<q2>{SEP_Q}[\"'])?"),
        "examples": {
            "match": [{"text": "env:\n  - name: S3_BUCKET\n    value: acme-uploads-prod\n",
                       "masks": ["acme-uploads-prod"]},
                      {"text": "- name: DB_INSTANCE_IDENTIFIER\n  value: \"orders-db\"", "masks": ["orders-db"]}],
            "no_match": ["- name: LOG_LEVEL\n  value: debug", "- name: S3_BUCKET\n  valueFrom: x"],
        },
    }
    env_json = {
        "id": "vocab-env-pair-json",
        "kind": "name",
        "description": ("ECS task definition environment entries whose name is an identifier label "
                        "({\"name\": \"TABLE_NAME\", \"value\": \"x\"})."),
        "anchors": ["name\\\\?\"[ \\t]?:[ \\t]?\\\\?\"[A-Z][A-Z0-9]*_"],
        "window": 1,
        "after": 300,
        **LABELLED,
        "params": pair_params,
        "regex": (rf"{SEP_Q}\"name{SEP_Q}\"[ \t]*:[ \t]*{SEP_Q}\"(?P<label>[A-Z][A-Z0-9_]{{0,63}}){SEP_Q}\""
                  rf"[ \t]*,{BLANK}*{SEP_Q}\"value{SEP_Q}\"[ \t]*:[ \t]*(?P<q>{SEP_Q}\")(?P<value>{VALUE})"
                  rf"(?P<q2>{SEP_Q}\")"),
        "examples": {
            "match": [{"text": '"environment": [{"name": "TABLE_NAME", "value": "orders-table"}]',
                       "masks": ["orders-table"]}],
            "no_match": ['{"name": "LOG_LEVEL", "value": "debug"}', '{"name": "TABLE_NAME", "value": ""}'],
        },
    }
    cfn_pair = {
        "id": "vocab-cfn-pair-json",
        "kind": "name",
        "description": ("CloudFormation outputs and parameters whose key is an identifier label ({\"OutputKey\": "
                        "\"UploadsBucketName\", \"OutputValue\": \"x\"}, ParameterKey / ParameterValue)."),
        "anchors": ["(?:Output|Parameter)Key\\\\?\"[ \\t]?:"],
        "window": 1,
        "after": 400,
        **LABELLED,
        "params": pair_params,
        "regex": (rf"{SEP_Q}\"(?:Output|Parameter)Key{SEP_Q}\"[ \t]*:[ \t]*{SEP_Q}\""
                  rf"(?P<label>[A-Za-z][A-Za-z0-9_]{{0,63}}){SEP_Q}\"[ \t]*,{BLANK}*"
                  rf"{SEP_Q}\"(?:Output|Parameter)Value{SEP_Q}\"[ \t]*:[ \t]*(?P<q>{SEP_Q}\")"
                  rf"(?P<value>{VALUE})(?P<q2>{SEP_Q}\")"),
        "examples": {
            "match": [{"text": '{"OutputKey": "UploadsBucketName", "OutputValue": "acme-uploads-2019"}',
                       "masks": ["acme-uploads-2019"]},
                      {"text": '{"ParameterKey": "KeyName", "ParameterValue": "ops-keypair"}',
                       "masks": ["ops-keypair"]}],
            "no_match": ['{"OutputKey": "ApiStage", "OutputValue": "prod"}',
                         '{"ParameterKey": "Env", "ParameterValue": "staging-2"}'],
        },
    }
    # Mobile config keys say an ID, an ARN or a bucket (app_name, CFBundleDisplayName: the app's own words).
    MOBILE_TAIL = r"(?:[Ii][Dd]|ARN|[Aa]rn|[Bb]ucket|BUCKET)"
    mobile_string = {
        "id": "vocab-android-string",
        "kind": "name",
        "description": ("An Android string resource whose name is an identifier label (res/values/strings.xml: "
                        "<string name=\"cognito_client_id\">x</string>)."),
        "anchors": ["<string name="],
        "window": 0,
        "after": 400,
        **LABELLED,
        "params": pair_params,
        "regex": (rf"<string name={SEP_Q}\"(?P<label>[A-Za-z][A-Za-z0-9_.]{{0,60}}{MOBILE_TAIL}){SEP_Q}\""
                  rf"[^>\n]{{0,80}}>"
                  rf"(?P<q>)(?P<value>{VALUE})(?P<q2>)</string>"),
        "examples": {
            "match": [{"text": '<string name="cognito_client_id">4wsb7tg7bws3izany2yn4cdrkv</string>',
                       "masks": ["4wsb7tg7bws3izany2yn4cdrkv"]},
                      {"text": '<string name="s3_bucket" translatable="false">acme-uploads-7</string>',
                       "masks": ["acme-uploads-7"]}],
            "no_match": ['<string name="app_name">Orders</string>', '<string name="bucket_hint">x-1</string>',
                         '<string name="aws_region">eu-west-1</string>',
                         '<string name="bucket_id">${bucket}</string>'],
        },
    }
    plist_string = {
        "id": "vocab-plist-string",
        "kind": "name",
        "description": ("An Info.plist / property-list entry whose key is an identifier label "
                        "(<key>AWSCognitoAppClientId</key> <string>x</string>)."),
        "anchors": ["</key>"],
        "window": 64,
        "window_chars": "[A-Za-z0-9_.-]",
        "window_exact": True,
        "after": 400,
        **LABELLED,
        "params": pair_params,
        "regex": (rf"(?<=<key>)(?P<label>[A-Za-z][A-Za-z0-9_.-]{{0,60}}{MOBILE_TAIL})</key>{BLANK}{{0,40}}<string>"
                  rf"(?P<q>)(?P<value>{VALUE})(?P<q2>)</string>"),
        "examples": {
            "match": [{"text": "<key>AWSCognitoAppClientId</key>\n\t<string>cz1f0d1qq4ctameplwnbwvn3v0</string>",
                       "masks": ["cz1f0d1qq4ctameplwnbwvn3v0"]}],
            "no_match": ["<key>CFBundleShortVersionString</key>\n\t<string>5.2.0</string>",
                         "<key>AWSRegion</key><string>us-east-1</string>"],
        },
    }
    flag_ends = {line.split()[1].rsplit("-", 1)[-1] for line in named_flags}
    flag = {
        "id": "vocab-cli-flag",
        "kind": "name",
        "description": "Values of AWS CLI flags whose words name an AWS identifier member (botocore).",
        "anchors": [f"-(?:{'|'.join(sorted(set(ends) | flag_ends))})s?[= \\t]"],
        "window": 100,
        "window_chars": "[a-z0-9-]",
        "window_exact": True,
        "after": 600,
        **LABELLED,
        "params": {"labels": {"vocabulary": "aws-identifier-labels"},
                   **_keep(), "form": "cli",
                   "id_path_types": {"vocabulary": "aws-id-path-types"},
                   "generic_in_aws_command": ["name", "id", "identifier", "names", "ids"],
                   "named_flags": sorted({line.split()[1] for line in named_flags}),
                   "named_in_aws_operation": {"vocabulary": "aws-cli-named-flags"}},
        # After a separator or a JSON escape (\n in a JSON string; \\n, NUL and n, one level deeper).
        "regex": (rf"(?:(?<![A-Za-z0-9_-])|(?<=[\\\x00][nrt]))"
                  rf"--(?P<label>[a-z0-9]+(?:-[a-z0-9]+){{0,8}})(?:=|[ \t]+)(?P<q>\\?[\"'])?"
                  rf"(?P<value>\+?{VALUE}(?:(?:\\?[\"'])?[ \t]+(?!--)(?:\\?[\"'])?{VALUE}){{0,50}})(?P<q2>\\?[\"'])?"),
        "examples": {
            "match": [
                {"text": "aws rds describe-db-instances --db-instance-identifier orders-db",
                 "masks": ["orders-db"]},
                {"text": "aws ssm send-command --instance-ids mi-0123456789abcdef0 mi-0fedcba9876543210",
                 "masks": ["mi-0123456789abcdef0", "mi-0fedcba9876543210"]},
                {"text": "aws ivs get-channel \\\n    --name channel-1", "masks": ["channel-1"]},
                {"text": 'aws ssm get-parameter --maintenance-window-id "mw-ab12cd34eEXAMPLE"',
                 "masks": ["mw-ab12cd34eEXAMPLE"]},
                {"text": "aws apigateway create-rest-api --name 'My First API' --region us-west-2",
                 "masks": ["My", "First", "API"]},
                {"text": "aws codeartifact list-repositories-in-domain --domain test-domain", "masks": ["test-domain"]},
                {"text": "aws athena list-named-queries \\\n    --work-group TeamB", "masks": ["TeamB"]},
                {"text": "aws chime get-user --account-id 12a3456b --user-id u-jdoe-01",
                 "masks": ["12a3456b", "u-jdoe-01"]},
                {"text": "aws ssm terminate-session --session-id jdoe-07a16060613c408b5",
                 "masks": ["jdoe-07a16060613c408b5"]},
                {"text": "aws codebuild batch-get-projects --names proj-a proj-b", "masks": ["proj-a", "proj-b"]},
                {"text": "aws apigatewayv2 get-stage --api-id a1b2c3 --stage-name prod", "masks": ["a1b2c3", "prod"]},
                {"text": "aws lambda create-alias --function-name fn-1 --name LIVE", "masks": ["fn-1", "LIVE"]},
                {"text": "aws eks create-cluster --name example", "masks": ["example"]},
                {"text": 'aws chime get-phone-number --phone-number-id "+12065550100"', "masks": ["+12065550100"]},
                {"text": "aws codecommit merge-branches-by-squash --source-commit-specifier bugfix-1234 \\\n"
                         "    --destination-commit-specifier release-2", "masks": ["bugfix-1234", "release-2"]},
                # the AWS CLI's own commands (awscli.customizations): codeartifact login, ecs deploy
                {"text": "aws codeartifact login --tool pip --domain acme-artifacts --repository shared-pypi",
                 "masks": ["acme-artifacts", "shared-pypi"]},
                {"text": "aws ecs deploy --service orders-svc --task-definition td.json "
                         "--codedeploy-deployment-group dg-orders", "masks": ["orders-svc", "dg-orders"]},
            ],
            "no_match": ["npm login --registry https://npm.example.com --scope @acme-web",
                         "aws sso login --profile dev-1",
                         "git log --name-only", "docker run --name web-1 nginx", "git clone --id x-1",
                         "aws lambda add-permission --statement-id apigw-1 --action lambda:InvokeFunction",
                         "serverless deploy --stage-name prod",
                         "aws ecs put-account-setting --name serviceLongArnFormat --value enabled",
                         "aws ec2 describe-instances --filters Name=x,Values=y",
                         "--engine-name mysql", "--region-name us-east-1", "git push --domain x-1",
                         "aws codeartifact list-domains --domain test-domain", "aws ec2 describe-vpcs --rule x-1",
                         "git commit --user-id u-jdoe-01", "aws chime list-users --user-id u-jdoe-01",
                         "aws transcribe describe-language-model --model-name cli-clm-1",
                         "aws lakeformation commit-transaction --transaction-id a1b2c3"],
        },
    }
    method = {
        "id": "vocab-method-call",
        "kind": "name",
        "description": ("Builder calls whose name is an AWS identifier member "
                        "(Java / Rust SDKs: .dbInstanceIdentifier(\"x\"); Ruby: .bucket('x'))."),
        "anchors": [f"(?:{tail})\\(\\\\?[\"']"],
        "window": 80,
        "window_chars": "[A-Za-z0-9_.]",
        "after": 300,
        **LABELLED,
        "params": {"labels": {"vocabulary": "aws-identifier-labels"},
                   **_keep(), "form": "call"},
        "regex": (rf"\.(?P<label>[a-z][A-Za-z0-9_]{{0,79}})\((?P<q>{SEP_Q}[\"'])(?P<value>{VALUE})"
                  rf"(?P<q2>{SEP_Q}[\"'])\)"),
        "examples": {
            "match": [
                {"text": 'DescribeDbInstancesRequest.builder().dbInstanceIdentifier("orders-db").build()',
                 "masks": ["orders-db"]},
                {"text": 'client.get_object().bucket("acme-exports").key("a.csv")', "masks": ["acme-exports"]},
                {"text": "obj = s3.bucket('kestrel-uploads-2025').object('backups/db.sql.gz')",
                 "masks": ["kestrel-uploads-2025"]},
            ],
            "no_match": ['builder.name("x")', 'logger.info("started")', '.regionName("us-east-1")'],
        },
    }
    single, plural = model_keys
    keys = "|".join(sorted(single + plural, key=lambda k: (-len(k), k)))
    model_key = {
        "id": "vocab-model-key",
        "kind": "name",
        "description": ("A value under a JSON key without an Id/Name tail whose botocore shape holds an identifier "
                        "(\"virtualNode\": a ResourceName, \"destinationCommit\": a CommitId), spelled as the models "
                        "spell it; lists of them (\"deploymentGroups\": [...])."),
        # The opening quote leads: a literal set of quoted keys is cheaper to scan for than bare words.
        # No closing quote: with window 0 a hit only says where the regex starts, and the escaped-quote
        # tail made Hyperscan's start-of-match compile take 3.8 s (0.39 s without), at every agent start.
        "anchors": [f"\"(?:{keys})"],
        "window": 0,
        "after": 600,
        **LABELLED,
        "params": {"labels": {"vocabulary": "aws-identifier-labels"},
                   **_keep(),
                   "generic": single, "generic_lists": plural},
        # A list item is never a key: without that look-ahead a singular key's value ran on over the
        # next key ("sourceCommit": "ca45e279", "sourceReference": ...) and hid it.
        "regex": (rf"\"(?P<label>{keys})(?P<kq2>{SEP_Q}\")[ \t]*:{BLANK}*"
                  rf"(?:\[{BLANK}*)?(?P<q>{SEP_Q}\"){OWNED}"
                  rf"(?P<value>{VALUE}(?:{SEP_Q}\"{BLANK}*,{BLANK}*{SEP_Q}\"{VALUE}(?!{SEP_Q}\"[ \t]*:)){{0,200}})"
                  rf"(?P<q2>{SEP_Q}\")"),
        "examples": {
            "match": [
                {"text": '{"virtualNode": "vnServiceBv1"}', "masks": ["vnServiceBv1"]},
                {"text": '{\\"destinationCommit\\": \\"9f31c968EXAMPLE\\"}', "masks": ["9f31c968EXAMPLE"]},
                {"text": '"deploymentGroups": [\n  "WordPress_DG",\n  "WordPress_Beta_DG"\n]',
                 "masks": ["WordPress_DG", "WordPress_Beta_DG"]},
                {"text": '{"sourceCommit": "ca45e279EXAMPLE",\n "sourceBranch": "bugfix-1234"}',
                 "masks": ["ca45e279EXAMPLE", "bugfix-1234"]},
            ],
            "no_match": ['virtualNode: vn-1', '"virtualNode": {"name": "x"}', '"virtualNodes": "x"',
                         '"deploymentGroups": []', '"AllowedTags": ["env"]', '"virtualNode": "running"'],
        },
    }
    return [label_value, json_list, xml, env_yaml, env_json, cfn_pair, mobile_string, plist_string, flag, method,
            model_key]


def render(entries, enums, version: str, objects: list[str], named_flags: list[str], obj_labels: list[str],
           parents: list[str], model_keys: tuple[list[str], list[str]], blocked=(),
           generic: tuple[str, ...] = ("Id", "ID", "Name"), id_paths: tuple[str, ...] = (),
           label_values: tuple[str, ...] = (), service_codes: tuple[str, ...] = ()) -> str:
    import yaml
    dets = detectors(entries, named_flags, model_keys, generic)
    head = (f"# GENERATED by tools/gen_vocab.py from botocore {version} service models: do not edit.\n"
            "# Regenerate with `make packs` after changing the generator or the botocore pin.\n"
            "# Identifier labels as word tuples (agent/engine/labels.py) and AWS enum values (never masked\n"
            "# under a label). Schema: agent/engine/packs/README.md.\n")
    body = yaml.safe_dump({"pack": "vocab", "detectors": dets}, sort_keys=False, width=10_000,
                          allow_unicode=False)
    labels = "\n".join(["    " + " ".join(e) for e in sorted(entries)]
                       + ["    !" + " ".join(e) for e in sorted(blocked)])
    values = "\n".join("    " + v for v in sorted(v for v in enums if v.strip() and v == v.strip()
                                                     and "\n" not in v and len(v) <= 120))
    return (head + body + "vocabularies:\n  aws-identifier-labels: |\n" + labels
            + "\n  aws-enum-values: |\n" + values
            + "\n  aws-resource-objects: |\n" + "\n".join("    " + line for line in objects)
            + "\n  aws-cli-named-flags: |\n" + "\n".join("    " + line for line in named_flags)
            + "\n  aws-object-labels: |\n" + "\n".join("    " + line for line in obj_labels)
            + "\n  aws-parent-objects: |\n" + "\n".join("    " + line for line in parents)
            + "\n  aws-id-path-types: |\n" + "\n".join("    " + line for line in id_paths)
            + "\n  aws-label-values: |\n" + "\n".join("    " + line for line in label_values)
            + "\n  aws-service-codes: |\n" + "\n".join("    " + line for line in service_codes) + "\n")


def check(text: str) -> list[str]:
    """Every example of the generated detectors, through the engine's own path."""
    import tempfile

    from agent.engine.detectors import load_packs
    from agent.engine.finder import Finder
    problems = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / "vocab-check.yaml"
        tmp.write_text(text.replace("pack: vocab", "pack: vocab-check", 1)
                       .replace("id: vocab-", "id: check-vocab-")
                       .replace("aws-identifier-labels", "check-labels").replace("aws-enum-values", "check-enums")
                       .replace("aws-resource-objects", "check-objects")
                       .replace("aws-cli-named-flags", "check-named-flags")
                       .replace("aws-object-labels", "check-object-labels")
                       .replace("aws-parent-objects", "check-parent-objects")
                       .replace("aws-id-path-types", "check-id-path-types")
                       .replace("aws-label-values", "check-label-values")
                       .replace("aws-service-codes", "check-service-codes"))
        packs = load_packs(d)
    for det in packs.detectors:
        if not det.id.startswith("check-vocab-"):
            continue
        for ex in det.match_examples:
            found = sorted(ex["text"][s:e] for s, e, _ in Finder([det]).find(ex["text"]))
            if found != sorted(ex["masks"]):
                problems.append(f"{det.id}: {ex['text']!r} masks {found}, expected {ex['masks']}")
        for ex in det.nomatch_examples:
            found = [ex[s:e] for s, e, _ in Finder([det]).find(ex)]
            if found:
                problems.append(f"{det.id}: no_match {ex!r} masks {found}")
    return problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="fail if the committed file is not what would be written")
    args = p.parse_args()
    import botocore
    entries, enums, blocked, enum_members = collect()
    label_values = tuple(collect_label_values(entries, enums, enum_members))
    labels = object_labels()
    objects = collect_objects(labels)
    named_flags = collect_named_flags(entries)
    # a customization's flag only where its last word already anchors one (no new literal for the prefilter)
    def last(line: str) -> str:
        return line.rsplit("-", 1)[-1].rsplit(" ", 1)[-1]
    ends = {e[-1] for e in entries} | {"name", "id"} | {last(line) for line in named_flags}
    custom = {line for line in collect_customization_flags(entries) if last(line) in ends}
    named_flags = sorted(set(named_flags) | custom)
    parents = collect_parents()
    model_keys = collect_model_keys()
    generic = tuple(generic_keys())
    id_paths = tuple(collect_id_path_types())
    service_codes = tuple(collect_service_codes())
    text = render(entries, enums, botocore.__version__, objects, named_flags, labels, parents, model_keys,
                  blocked, generic, id_paths, label_values, service_codes)
    problems = check(text)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print(f"{OUT.relative_to(ROOT)} is {'up to date' if same else 'STALE: run make packs'}")
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(entries)} identifier labels, {len(enums)} enum values, "
          f"{len(objects)} resource objects ({len(labels)} labels kept for them), {len(parents)} parent keys, "
          f"{sum(map(len, model_keys))} model keys, {len(named_flags)} named CLI flags, "
          f"{len(label_values)} label values, {len(service_codes)} service codes, "
          f"botocore {botocore.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
