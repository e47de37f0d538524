"""Vocabularies in packs, and the splitters that check a label against one.

A pack may carry ``vocabularies``: named blocks of lines (``agent/engine/packs/vocab.yaml`` is generated
from botocore's service models by ``tools/gen_vocab.py``). A detector refers to one from its
params as ``{vocabulary: name}``; the loader puts the loaded set in its place.

``label_value`` accepts a match of ``label <separator> value`` (``s3Bucket: "x"``,
``NEXT_PUBLIC_S3_BUCKET=x``, ``--db-instance-identifier x``, ``.bucket("x")``) when the label's
words name an identifier (``agent/engine/labels.py``) and the value is not an AWS enum value
(``"Name": "running"`` is an instance state, not a name). It costs one regex pass over the label
and set look-ups: linear in the label's length.
"""

from __future__ import annotations

import re

from agent.engine import splitters
from agent.engine.labels import MAX_WORDS, SINGULAR_TAILS, Vocabulary, parse_lines, singular, words

# Values that are code, not data: type names and placeholders after a label (bucketName: string).
_NOT_VALUES = frozenset("""
    string str int integer number bool boolean float double none null nil true false undefined
    required optional any object list dict array map type value default example todo tbd changeme
    name id arn
""".split())
_EXPRESSION = re.compile(r"[$%{<(\[]|^(?:var|local|module|data|self|this|props|process|os|env|args|config|settings)\.")


def read_vocabularies(docs, error=ValueError) -> dict[str, tuple[str, list[str]]]:
    """``name -> (where, lines)`` from every pack's ``vocabularies`` mapping."""
    out: dict[str, tuple[str, list[str]]] = {}
    for path, data in docs:
        raw = data.get("vocabularies")
        if raw is None:
            continue
        line = raw.get("__line__", data.get("__line__", "?")) if isinstance(raw, dict) else "?"
        where = f"{path}:{line}"
        if not isinstance(raw, dict):
            raise error(f"{where}: 'vocabularies' must map names to blocks of lines")
        for name, block in raw.items():
            if name == "__line__":
                continue
            if not isinstance(block, str):
                raise error(f"{where}: vocabulary {name!r} must be a block of lines")
            if name in out:
                raise error(f"{where}: vocabulary {name!r} already defined at {out[name][0]}")
            out[name] = (where, parse_lines(block))
    return out


# Params read from a vocabulary by a type of their own module's: name -> the type, built from the lines
# (agent/engine/cli_text.py registers its records).
PARAM_TYPES: dict[str, object] = {}
_NAME_SETS = frozenset({"generic", "generic_lists", "generic_near_arn", "generic_in_aws_command", "named_flags"})


def resolve_params(det, vocabularies: dict, fail, sets: dict | None = None) -> None:
    """Replace ``{vocabulary: name}`` params with the loaded set (labels: a ``Vocabulary`` of word
    tuples; anything else: a frozenset of lower-cased lines, built once per load in ``sets`` and
    shared: eight detectors keep the 25,746 enum values)."""
    for key, value in list(det.params.items()):
        if key in _NAME_SETS and isinstance(value, list):
            det.params[key] = frozenset(value)   # looked up on every anchor hit: 3,698 named flags
            continue
        if isinstance(value, dict) and "vocabulary" in value:
            name = value["vocabulary"]
            if name not in vocabularies:
                raise fail(det.where, f"params.{key}: vocabulary {name!r} is not defined in any pack")
            lines = vocabularies[name][1]
            if key == "labels":
                det.params[key] = Vocabulary((tuple(line.split()) for line in lines if line[0] != "!"),
                                             (tuple(line[1:].split()) for line in lines if line[0] == "!"))
            elif key == "objects":
                det.params[key] = ResourceObjects(lines)
            elif key == "parents":
                det.params[key] = ParentObjects(lines)
            elif key in PARAM_TYPES:
                det.params[key] = PARAM_TYPES[key](lines)
            else:
                shared = sets.get(name) if sets is not None else None
                if shared is None:
                    shared = frozenset(line.lower() for line in lines)
                    if sets is not None:
                        sets[name] = shared
                det.params[key] = shared


def label_value(text: str, m: re.Match, params: dict, kind: str) -> list[splitters.Part]:
    """``label <sep> value`` where the label's words are in ``params["labels"]``.

    Params: ``labels`` (a vocabulary), ``keep_values`` (lower-cased values never masked: AWS enum
    values; under a specific label only when spelled like one: lower case, UPPER_SNAKE,
    PascalCase), ``generic`` (labels trusted as they are spelled, such as the AWS CLI's ``Name``
    and ``Id`` keys, only when quoted like a JSON key), ``generic_near_arn`` (the same, only with an
    ``"arn"`` key nearby: lower-case ``name`` and ``id``), ``form``: ``key`` (the label quoted on both
    sides, the closing quote in group ``kq2``, or on neither), ``cli`` (values are shell words) or
    ``call``. The value may be quoted (``q``/``q2``, both or neither). A JSON key takes a quoted
    value; an unquoted value must end its field (line end, ``,``, ``;``, ``}``, ``#`` ...) and must
    not be a type name or an expression.
    """
    form = params.get("form", "key")
    in_command = False
    if form == "key":
        label, kq2, q, q2 = m.group("label", "kq2", "q", "q2")
        label_start = m.start("label")
        # quoted as a key only with a closing quote too: a quote before an unquoted label opens
        # the JSON string the label stands in ("AWS_S3_BUCKET=x\n..."); < : an XML element
        kq = kq2 is not None
        if (kq and not (label_start > 0 and text[label_start - 1] in "\"'<")) or (kq and q is None):
            return []
        if q is None:
            q2 = None   # the quote after an unquoted value closes the string it stands in ("S3_BUCKET=x")
        generic = kq and label in params.get("generic", ())
        if generic and label == "Name" and splitters.in_state_object(text, label_start):
            return []  # "State": {"Name": "ChargeCard"}: a state's name (splitters.in_state_object)
        if generic and label[0] == "I" and _in_policy_document(text, label_start):
            return []  # a policy document's "Id" labels the document ("key-consolepolicy-3"), as "Sid" does a statement
        if generic and splitters.under_key_parent(text, label_start):
            return []  # "SelectFields": [{"Name": "configuration.cidrBlock"}]: the name of a field, not a resource
        listed = kq and not generic and label in params.get("generic_lists", ())   # "deploymentGroups": [...]
        generic = generic or listed
        if not generic and label in params.get("generic_near_arn", ()):
            objects = params.get("objects")
            parents = params.get("parents")
            if not (kq and (_near_arn_key(text, label_start)
                            or _in_aws_object(text, label_start, label, objects, parents))):
                return []  # a plain word is never in the vocabulary: no look-up
            if label == "name" and splitters.in_state_object(text, label_start):
                return []  # "stateEnteredEventDetails": {"name": "ChargeCard"}: a state's name
            generic = True
    elif form == "pair":  # name: S3_BUCKET / value: x, and {"name": "TABLE_NAME", "value": "x"}
        label, q, q2 = m.group("label", "q", "q2")
        generic = listed = False
    elif form == "list":  # "SubnetIds": ["a", "b"]: the label's closing quote in q, the last item's in q2
        label, q, q2 = m.group("label", "q", "q2")
        label_start = m.start("label")
        if not (label_start > 0 and text[label_start - 1] in "\"'"):
            return []
        generic = listed = False
    else:
        label, q, q2 = m.group("label", "q", "q2")
        if q is None:
            q2 = None   # a quote after an unquoted word closes the string the command is in (_CLI_END)
        generic = label in params.get("generic_in_aws_command", ()) and _in_aws_command(text, m.start()) is not None
        # --name / --id known to stand in an aws command: its enum words are names too (--name prod)
        in_command = generic
        named = params.get("named_in_aws_operation")
        if not generic and named is not None and label in params.get("named_flags", ()):
            # --domain, --work-group: what the operation's own botocore docs call "The name of ..."
            command = _in_aws_command(text, m.start())
            generic = command is not None and f"{command.group('op')} {label}" in named
            # inside that command, as for --name: an enum word is a name unless a member spelled
            # like the flag keeps it (--destination-commit-specifier main: a branch)
            in_command = generic
        listed = False
    if "." in label and label.partition(".")[0] in _OTEL_OWN_NAMESPACES:
        return []  # telemetry.sdk.name, service.name: OpenTelemetry's words for the SDK and the app
    if form == "key" and label in _MAVEN_COORDINATES and label_start > 0 and text[label_start - 1] == "<" \
            and text.find("<artifactId>", max(0, label_start - 300), label_start + 300) != -1:
        return []  # a Maven POM's coordinates (<groupId>software.amazon.awssdk</groupId> beside an <artifactId>)
    spaced = None
    if q is not None and q2 is None and form == "key":
        spaced = _spaced_value(text, m.start("value"), m.end("value"), q)
        if spaced is None:
            return []
    elif (q is None) != (q2 is None):
        return []
    if form == "call":
        label = _SETTER.sub("", label)   # setBucketName("x"), withBucketName: the member after the verb
    plural = _label_decision(label, params["labels"]) if not generic else \
        (listed or (form == "cli" and label.endswith(_PLURAL_TAILS)))   # --account-ids a b: every word
    if plural is None:
        # DisplayName, UserId, SessionId: application records in code, AWS's in an object of AWS's
        # keys, or beside an ARN key as lower-case name / id are ({"arn": ..., "activeSessionId": ...})
        objects = params.get("objects")
        if not (form == "key" and kq and objects is not None and label.lower() in params.get("object_labels", ())
                and (objects.holds_at(text, label_start, label) or _near_arn_key(text, label_start)
                     or _beside_canonical_id(text, label_start))):
            return []
        plural = False
    start, end = m.span("value")
    if spaced is None and q is not None and form == "cli" and plural is not True and " " in text[start:end]:
        spaced = _spaced_value(text, start, start + _TOKEN.match(text, start).end() - start, q)
        if spaced != end:
            spaced = None
    if spaced is not None:
        if generic and splitters.FILTER_NAME.match(text, spaced):
            return []
        if _AWS_OWNED.match(text, start, spaced):
            return []
        # word by word: a pseudonym holds no space (the restore map's safe set, agent/engine/restore_map.py)
        return [(w.start(), w.end(), kind) for w in _WORD.finditer(text, start, spaced)]
    if q is None and (text[start] in "-+" or not (params.get("cell") or (
            _CLI_END.match(text, _token_end(text, start)) if form == "cli" else _FIELD_END.match(text, end)))):
        return []  # a sign starts only a quoted value ("Id": "-1682899164"; id: -1 is a number)
    if generic and (splitters.FILTER_NAME.match(text, end) or splitters.pair_name(text, start, end)):
        return []  # {"Name": "instance-state-name", "Values": [...]}: an EC2 filter's name, not a resource
    keep = params.get("keep_values")
    url_label = _URL_LABEL.search(label) is not None
    service_label = _SERVICE_NAME_LABEL.search(label) is not None
    out: list[splitters.Part] = []
    for t in _TOKEN.finditer(text, start, end):
        value = t.group()
        low = value.lower()
        # an AWS service's own code under a service-name label ("ServiceName": "guardduty")
        enum = (service_label and low in params.get("service_codes", ())) or (
            keep is not None and low in keep and ((generic and not in_command) or (
                (in_command or _PLAIN_WORD.fullmatch(value) is not None)
                and (not (in_command or _aws_spelled(text, m, form, label, q))
                     or _kept_under(label, low, params.get("label_values"))))))
        # "example" is the docs' own name for a resource in a command (aws eks create-cluster --name
        # example), a placeholder elsewhere (bucketName: example)
        code = (q is None and ((low in _NOT_VALUES and not (low == "example" and form == "cli" and (
            in_command or _in_aws_command(text, m.start()) is not None))) or _EXPRESSION.search(value))) \
            or _code_reference(value, label, q is None and form == "key",
                               q is None and form == "key" and " = " in text[m.end("label"):start])
        typed = 0   # characters of a leading resource type that stays readable
        if "/" in value and plural is _ID_LABEL:
            # a path under an ID label is something else (stackID: default/web), unless it starts
            # with a resource type an ID member's botocore docs show as a path (table/my-table,
            # alias/prod-payments): the rest is masked
            head = low.split("/", 1)[0]
            typed = len(head) + 1 if head in params.get("id_path_types", ()) else -1
        opaque = typed < 0 and _OPAQUE.fullmatch(value) is not None
        if opaque:
            typed = 0   # base64 under an ID label is one opaque token, not a path (a Firehose RecordId)
        not_a_url = url_label and ("/" not in value or value[0] == "/")
        if not (enum or code or not_a_url or typed < 0):
            parts = [(t.start(), t.end(), kind)] if opaque else \
                value_parts(text, t.start(), t.end(), kind, label, plural is not True)
            out.extend(p for p in parts if p[0] >= t.start() + typed)
        if plural is not True:
            break  # a singular label takes one value (--bucket x: what follows is not its value)
    return out


# A setter's verb before the member it sets (Java SDK v1 ``setBucketName``, ``withBucketName``);
# ``set_name("fraction")`` sets a plain name, which is no AWS member.
_SETTER = re.compile(r"^(?:set|with)(?:_|(?=[A-Z]))")

# An identifier, or a dotted path of them (``resource.memory_store_id``, ``gen_ai.conversation.id``).
_CODE_PATH = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.){0,8}[A-Za-z_][A-Za-z0-9_]*\.?")
_CONSTANT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_HOLDER_WORDS = frozenset({"id", "ids", "name", "names", "arn", "arns", "url", "urls", "identifier", "identifiers"})


def _code_reference(value: str, label: str, bare: bool, assigned: bool) -> bool:
    """Code that refers to an identifier, never one:
    - a variable, constant or attribute named for what it holds (``workspace_id=workspace_id``,
      ``self._id = resource.memory_store_id``, ``ENV = "ANTHROPIC_ORGANIZATION_ID"``,
      ``"gen_ai.conversation.id"``), or named as its label (``is_package=is_package``,
      ``package: Package``, ``source.systemId = systemId``);
    - the head of a name being built (``"numpy.distutils." + name``, ``"get_" + attr``), an elided
      example (``"wrkspc_..."``);
    - ``assigned`` unquoted as code assigns (``script_name = dest_path.name``: spaces around the
      ``=``, which ``.env`` files do not put): a snake_case, UPPER_SNAKE or dotted reference;
    - ``bare`` (unquoted after a key): an UPPER_SNAKE constant (``{DEFAULT_LAYER_NAME:
      DEFAULT_GLYPHS_DIRNAME}``). Not a CLI flag's words: AWS's own check and state names are
      spelled so (``--check-name DEVICE_CERTIFICATE_EXPIRING_CHECK``).
    Named for what it holds, or assigned, only with a ``_`` or a ``.``: ``MyVaultName`` and
    ``myTaskId`` are the AWS documentation's own resource names; a name with a hyphen is no code."""
    if _CODE_PATH.fullmatch(value) is None:
        return value.endswith("...")   # an elided example (``"workspace_id": "wrkspc_..."``)
    w = words(value)
    if w == words(label)[-len(w):]:
        return True
    if "_" not in value and "." not in value:
        return False
    return assigned or value[-1] in "._" or (len(w) >= 2 and w[-1] in _HOLDER_WORDS) \
        or (bare and _CONSTANT.fullmatch(value) is not None)


# A base64 token: 40 characters or more of its alphabet, a "+" among them (a path has none).
_OPAQUE = re.compile(r"(?=[A-Za-z0-9/]*\+)[A-Za-z0-9+/]{40,1024}={0,2}")
# OpenTelemetry resource attributes of the namespaces that describe the SDK itself (telemetry.sdk.name:
# "opentelemetry") and the application's logical service (service.name, service.namespace): words of
# OpenTelemetry's semantic conventions, never an AWS resource; the cloud.*, faas.*, aws.* and k8s.*
# attributes (faas.name, aws.log.group.names, k8s.cluster.name) are read as before.
_OTEL_OWN_NAMESPACES = frozenset({"telemetry", "service"})
# A Maven POM names a dependency, plugin or project by <groupId> and <artifactId>; AWS's XML APIs have
# no <artifactId>, and their <groupId> (an EC2 security group's) never stands beside one.
_MAVEN_COORDINATES = frozenset({"groupId", "artifactId"})
_SERVICE_NAME_LABEL = re.compile(r"(?:SERVICE|[Ss]ervice)[_-]?(?:NAME|[Nn]ame)$")
# A URL label's value without a host and path is code or a route of the user's own app (queueUrl =
# queue.url, API_URL=/api/v1); a URL's hosts and paths are read by their own detectors.
_URL_LABEL = re.compile(r"(?:URL|Url|url|URI|Uri|uri)[Ss]?$")

# A lookbehind, not a consumed character: the search starts at the line's first character, and
# what ends the previous line (a newline, ``\\n``) lies before it.
_AWS_COMMAND = re.compile(r"(?:(?<![^\s;|&(`$\x00\"])|(?<=\\[nt]))aws[ \t]+[a-z0-9-]+[ \t]+(?P<op>[a-z0-9-]+)[ \t]")
_COMMAND_REACH = 2000


def _in_aws_command(text: str, flag_start: int) -> re.Match | None:
    """The ``aws <service> <operation>`` command the flag belongs to (group ``op``), or None: on its
    line, or on a line continued with a trailing backslash (a generic flag such as ``--name`` says
    nothing elsewhere).
    Line breaks are real or JSON-escaped (``\\n``); a backslash may have been blanked to NUL."""
    lo = max(0, flag_start - _COMMAND_REACH)
    start = flag_start
    while True:
        real, escaped = text.rfind("\n", lo, start), text.rfind("\\n", lo, start)
        brk = max(real, escaped)
        line_start = (real + 1 if real > escaped else escaped + 2) if brk >= 0 else lo
        command = _AWS_COMMAND.search(text, line_start, flag_start)
        if command is not None:
            return command
        # the previous line continues into this one when it ends with a backslash
        if brk <= lo or text[brk - 1] not in "\\\x00":
            return None
        start = brk


_NEAR = 400


def _near_arn_key(text: str, label_start: int) -> bool:
    """An ARN key (``"arn"``, or camelCase ``"clusterArn"``) within ``_NEAR`` characters, quoted
    exactly as this label is (``"``, or ``\\"`` inside a JSON string), in the same JSON object: the
    object is an AWS resource (``{"arn": ..., "name": ...}``), not an API message of its own
    (``{"type": "tool_use", "name": "Bash"}``), nor one that merely holds an AWS resource deeper down
    (``{"type": "tool_use", "id": "toolu_...", "name": "x", "input": {"arn": ...}}``: masking that
    ``id`` would orphan its ``tool_result``). One ``find`` of ``rn<quote>`` serves both spellings."""
    q = label_start - 1
    while q > 0 and text[q - 1] in "\\\x00":
        q -= 1
    quote = text[q:label_start]
    lo = max(0, label_start - _NEAR)
    hi = min(len(text), label_start + _NEAR)
    tail = "rn" + quote
    pos = text.find(tail, lo, hi)
    while pos >= 0:
        before = text[pos - 1] if pos > lo else ""
        start = -1
        if before == "a" and text.startswith(quote, pos - 1 - len(quote)):
            start = pos - 1 - len(quote)                      # "arn"
        elif before == "A":                                   # "clusterArn": lower-case word before Arn
            start = pos - 1
            while start > lo and text[start - 1].isalnum():
                start -= 1
            start -= len(quote)
            if not (start >= lo and start + len(quote) < pos - 1 and text.startswith(quote, start)
                    and text[start + len(quote)].islower()):
                start = -1
        if start >= 0 and _COLON.match(text, pos + len(tail)) \
                and _same_object(text, min(start, label_start), max(start, label_start)):
            return True
        pos = text.find(tail, pos + len(tail), hi)
    return False


_COLON = re.compile(r"[ \t]*:")
_STATEMENT_KEY = re.compile(r'"Statement[\\\x00]*"[ \t]*:')


def _in_policy_document(text: str, label_start: int) -> bool:
    """A ``"Statement"`` key in the same JSON object as the key at ``label_start``: the object is an IAM
    policy document (``{"Version": ..., "Id": ..., "Statement": [...]}``), whose ``Id`` is its own label."""
    lo = max(0, label_start - _NEAR)
    for m in _STATEMENT_KEY.finditer(text, lo, min(len(text), label_start + _NEAR)):
        if _same_object(text, min(m.start(), label_start), max(m.start(), label_start)):
            return True
    return False

# An S3 owner's ID under an "ID" key: a canonical user ID (64 lower-case hex digits) or an IAM ARN,
# AWS's own spelling of who owns or started something (S3's Owner, Grantee and Initiator:
# {"DisplayName": ..., "ID": ...}).
_CANONICAL_ID = re.compile(r'"I[Dd][\\\x00]*"[ \t]*:[ \t]*[\\\x00]*"(?:[0-9a-f]{64}[\\\x00]*"|arn:aws[a-z-]*:iam::)')


def _beside_canonical_id(text: str, label_start: int) -> bool:
    """An S3 canonical user ID key within ``_NEAR`` characters, in the same JSON object: the object
    is an S3 owner or grantee (``{"DisplayName": "x", "ID": "<64 hex>"}``), whose display name is
    the account's."""
    lo = max(0, label_start - _NEAR)
    for m in _CANONICAL_ID.finditer(text, lo, min(len(text), label_start + _NEAR)):
        if _same_object(text, min(m.start(), label_start), max(m.start(), label_start)):
            return True
    return False


class ResourceObjects:
    """Member sets of botocore structures with a lower-case ``name`` / ``id`` (``tools/gen_vocab.py``,
    one line each, distinctive members marked ``+``). ``holds(label, keys)``: the keys of a JSON
    object say it is one of them: two distinctive members of one structure that has ``label``, or one
    and every key (``MIN_KEYS`` at least) a member of it. The Anthropic API's own objects (tool_use,
    tools, tool_result) have snake_case or one-word keys, never a distinctive member."""

    MIN_DISTINCTIVE = 2
    MIN_KEYS = 3

    def __init__(self, lines) -> None:
        self.members: list[frozenset[str]] = []
        self.index: dict[str, list[int]] = {}
        for i, line in enumerate(lines):
            names = []
            for word in line.split():
                if word.startswith("+"):
                    word = word[1:]
                    self.index.setdefault(word, []).append(i)
                names.append(word)
            self.members.append(frozenset(names))

    def holds_at(self, text: str, label_start: int, label: str, near: list[str] | None = None) -> bool:
        """``holds`` for the object around the key at ``label_start``. First the cheap question (one
        ``findall`` of camelCase keys near it: is any distinctive?), which most objects fail (tool
        definitions, schemas): 196 keys of the bench's Claude Code body, 2.2 -> 0.4 ms.
        ``near``: ``_near_keys`` of this label, when the caller has them already."""
        index = self.index
        for key in _near_keys(text, label_start, label) if near is None else near:
            if key in index:
                return self.holds(label, _object_keys(text, label_start))
        return False

    def holds(self, label: str, keys: set[str]) -> bool:
        counts: dict[int, int] = {}
        for key in keys:
            for i in self.index.get(key, ()):
                counts[i] = counts.get(i, 0) + 1
        for i, n in counts.items():
            members = self.members[i]
            if label in members and (n >= self.MIN_DISTINCTIVE
                                     or (len(keys) >= self.MIN_KEYS and keys <= members)):
                return True
        return False


def _near_keys(text: str, label_start: int, label: str) -> list[str]:
    """The camelCase keys (``_TWO_WORD_KEY`` for a capitalized label) within ``_NEAR`` characters of
    the key at ``label_start``: its siblings in a "name": camelCase object."""
    keys = _CAMEL_KEY if label[0].islower() else _TWO_WORD_KEY
    return keys.findall(text, max(0, label_start - _NEAR), label_start + _NEAR)


def _in_aws_object(text: str, label_start: int, label: str, objects: ResourceObjects | None,
                   parents: ParentObjects | None) -> bool:
    """``objects.holds_at`` or ``parents.holds_at``. A parent key is a camelCase key before the
    label (``_PARENT_KEY`` starts like ``_CAMEL_KEY``, and ``_TWO_WORD_KEY`` takes every camelCase
    key too), so with no such key within reach neither holds and the parent search is not made:
    the Claude Code body's 196 "name" / "id" keys of tool calls and tool definitions have none."""
    near = _near_keys(text, label_start, label)
    if not near:
        return False
    return (objects is not None and objects.holds_at(text, label_start, label, near)) or (
        parents is not None and parents.holds_at(text, label_start, label))


class ParentObjects:
    """``parent member ...`` lines (``tools/gen_vocab.py``, ``aws-parent-objects``): a botocore
    structure with a lower-case ``name`` / ``id`` held under the distinctive member ``parent``.
    ``holds_at``: the object around the key at ``label_start`` stands under a quoted ``parent`` key
    (``"outputArtifacts": [{"name": "MyApp"}]``, ``"domainInfos": [{..}, {..}]``) and all its keys
    are members of such a structure with that label. The cheap question first: one ``findall`` of
    camelCase keys that open an object or a list in the ``_PARENT_REACH`` characters before the label."""

    def __init__(self, lines) -> None:
        self.index: dict[str, list[frozenset[str]]] = {}
        for line in lines:
            parent, *members = line.split()
            self.index.setdefault(parent, []).append(frozenset(members))

    def holds_at(self, text: str, label_start: int, label: str) -> bool:
        lo = max(0, label_start - _PARENT_REACH)
        index = self.index
        for t in reversed(list(_PARENT_KEY.finditer(text, lo, label_start))):
            sets = index.get(t.group(1))
            if sets is None or not splitters.directly_under(text, t.end() - 1, label_start):
                continue
            keys = _object_keys(text, label_start)
            return any(label in members and keys <= members for members in sets)
        return False


# How far back the parent key may stand: a pretty-printed list puts ~130 characters per item of three
# keys between them ("awsAccounts": [{"id", "emailAddress", "name"}, ...]), so 400 reached the third
# item no more; the search runs only where the other tests found camelCase keys near the label.
_PARENT_REACH = 2400
# A quoted camelCase key that opens an object or a list: "outputArtifacts": [ {  (the quote may be
# escaped, a line break real or JSON-escaped).
_PARENT_KEY = re.compile(r'"([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)[\\\x00]*"[ \t]*:(?:[ \t\r\n]|[\\\x00][nrt])*[\[{]')


# Possessive: each repeat is followed by a class it cannot match, so giving characters back never
# helps, and without backtracking the search over +-400 characters costs ~40 % less.
_CAMEL_KEY = re.compile(r'"([a-z][a-z0-9]*+[A-Z][A-Za-z0-9]*+)[\\\x00]*+"[ \t]*+:')
_TWO_WORD_KEY = re.compile(r'"([A-Za-z][a-z0-9]*+[A-Z][A-Za-z0-9]*+)[\\\x00]*+"[ \t]*+:')
# A brace, or a quoted camelCase-or-word key and its colon (the quote may be escaped: \"key\":).
_OBJECT_TOKEN = re.compile(r'[{}]|"([A-Za-z][A-Za-z0-9]{0,63})[\\\x00]*"[ \t]*:')


def _add_level_keys(tokens, opens: str, closes: str, keys: set[str]) -> None:
    """Add the keys among ``tokens`` (``_OBJECT_TOKEN`` matches, read in one direction) that stand at
    the level they start on: objects ``opens`` ... ``closes`` in between are skipped, and the first
    unmatched ``closes`` ends the object."""
    depth = 0
    for t in tokens:
        g = t.group()
        if g == opens:
            depth += 1
        elif g == closes:
            if depth == 0:
                return
            depth -= 1
        elif depth == 0:
            keys.add(t.group(1))


def _object_keys(text: str, label_start: int) -> set[str]:
    """Keys of the JSON object that holds the key at ``label_start`` (within ``_NEAR`` characters each
    way; nested objects skipped): one regex pass over at most 800 characters, no JSON parse."""
    lo = max(0, label_start - _NEAR)
    hi = min(len(text), label_start + _NEAR)
    tokens = list(_OBJECT_TOKEN.finditer(text, lo, hi))
    at = next((i for i, t in enumerate(tokens) if t.start() >= label_start - 1), len(tokens))
    keys: set[str] = set()
    _add_level_keys(tokens[at:], "{", "}", keys)               # from the label on, to the closing brace
    _add_level_keys(reversed(tokens[:at]), "}", "{", keys)     # back from it, to the opening brace
    label = _OBJECT_TOKEN.match(text, label_start - 1)
    if label is not None and label.group(1):
        keys.discard(label.group(1))
    return keys


def _same_object(text: str, a: int, b: int) -> bool:
    """No JSON object opens or closes between two keys at ``a`` < ``b`` unless it closes again
    (``{"arn": "x", "location": {...}, "name": "y"}``): they are keys of one object."""
    depth = 0
    for ch in text[a:b]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


# Under a specific label an enum value is kept only when it is spelled like AWS's own words
# (default, VPC_FLOW, LoadBalancer); "UserName": "Bob" is a user, whatever enum also spells Bob.
_PLAIN_WORD = re.compile(r"[a-z]+(?:[-_][a-z]+)*|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*|(?:[A-Z][a-z0-9]+){2,}")
_PLURAL_TAILS = ("ids", "names", "arns", "identifiers", "urls")


def _aws_spelled(text: str, m: re.Match, form: str, label: str, q: str | None) -> bool:
    """The label is spelled the way only AWS's own output and commands spell it, so an enum word
    after it is a name unless the label's members keep it (``_kept_under``): a flag inside an ``aws
    <service> <operation>`` command (``--stage-name prod``), or a PascalCase JSON key with a quoted
    value (``"StageName": "prod"``, ``"UserNames": ["pat"]``: the AWS CLI's JSON for most services).
    Application JSON and code spell keys in camelCase or snake_case and keep their enum-like words
    (``"containerName": "web"`` of a compose file, ``"refId": "A"`` of a Grafana panel,
    ``profile_name="prod"``, ``Bucket=bucket``)."""
    if form == "cli":
        return _in_aws_command(text, m.start()) is not None
    if form not in ("key", "list") or q is None or not label[:1].isupper() or label.isupper() \
            or (form == "key" and m.group("kq2") is None):
        return False
    start = m.start("label")
    return start > 0 and text[start - 1] == '"'


# Kept under any label: "default" (what AWS creates under that name in every account), "all" (AWS's
# word for everyone: --group-names all, "AccountIds": ["all"]) and the type names and placeholders
# of CLI skeletons and code ("ManifestName": "string", "ServiceLinkedRoleARN": "arn").
_RESERVED = frozenset({"default", "all"}) | _NOT_VALUES


def _kept_under(label: str, low: str, label_values) -> bool:
    """An AWS enum value ``low`` under the specific identifier ``label`` spelled as AWS spells it
    (``_aws_spelled``): kept when it is reserved (``_RESERVED``), or when a member spelled like the
    label (its last words, ``aws-label-values``) is an enum holding it or documents it as a constant
    (``"sourceName": "VPC_FLOW"``, ``"MaintenanceTrackName": "current"``). Otherwise it is a name
    that happens to spell an enum value somewhere ("StageName": "prod", "BranchName": "main").
    Without ``label_values`` (a pack of its own), every enum value is kept, as before."""
    if label_values is None or low in _RESERVED:
        return True
    w = singular(words(label))
    if not w:
        return False
    # the generic word alone ("name|x": enums of members named name) speaks only for a generic label
    first = 2 if len(w) > 1 and w[-1] in SINGULAR_TAILS else 1
    return any(f"{' '.join(w[len(w) - k:])}|{low}" in label_values
               for k in range(first, min(len(w), MAX_WORDS) + 1))


_ID_LABEL = 0      # singular and ending in id: a path-like value is something else (stackID: default/web)


def _label_decision(label: str, vocabulary: Vocabulary):
    """None: not an identifier label; True: plural (takes a list); False or ``_ID_LABEL``: singular.
    Remembered under a private key (a label can be an original: a map keyed by bucket names)."""
    memo = vocabulary.decisions
    key, decision = memo.get((label,))
    if decision is None:
        label_words = words(label)
        if not vocabulary.matches(label_words):
            decision = "no"
        elif label_words[-1].endswith("s"):
            decision = True
        else:
            # a path under an ID label is something else (stackID: default/web), but a secret's
            # ID is its name, and names of secrets are paths (SecretId: prod/db-password)
            decision = _ID_LABEL if label_words[-1] == "id" and "secret" not in label_words else False
        memo.put(key, decision)
    return None if decision == "no" else decision


# A quoted value of several words (``"Name": "Flights Select Query"``, ``--name "My First API"``):
# up to 8 words and 128 characters of printable ASCII, none holding a quote, an escape, a path or an
# expression. Each word is masked on its own (``Flights``, ``Select``, ``Query``).
_FIRST_WORD = re.compile(r"[-+]?[A-Za-z0-9._@+-]+")
_MORE_WORDS = re.compile(r"(?: [A-Za-z0-9._@+&#,;()!?*~=-]+){1,7}")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[._@+-][A-Za-z0-9]+)*")
_SPACED_MAX = 128


def _spaced_value(text: str, start: int, end: int, q: str) -> int | None:
    """End of a quoted multi-word value whose first word is ``text[start:end]``, or None."""
    if not _FIRST_WORD.fullmatch(text, start, end):
        return None
    more = _MORE_WORDS.match(text, end)
    if more is None or more.end() - start > _SPACED_MAX or not text.startswith(q, more.end()):
        return None
    return more.end()


# An unquoted value ends its field at a line end, a separator, or the quote closing the string the
# whole assignment stands in ("S3_BUCKET=x" in a compose list, a one-line JSON string, shell echo).
# A quote ends the field when it closes the string the value stands in ("S3_BUCKET=x"), not when it
# opens one: ROLE_ARN = f"arn:..." (a string prefix, then the string's text). So do a shell line
# continuation (ENV ASSETS_BUCKET=x \) and the next of space-separated pairs
# (--parameter-overrides KeyName=x Env=prod).
_FIELD_END = re.compile(r"[ \t]*(?:[\r\n,;})\]#]|[\\\x00]+[nrt]|(?:[\\\x00]+)?[\"'`](?![A-Za-z0-9_{$/])"
                        r"|[\\\x00]\r?\n|\Z)|[ \t]+(?=[A-Za-z_][A-Za-z0-9_.-]{0,63}=[^=])")
# A shell word also ends at the quote that closes the string it stands in (``"aws s3 ls --bucket x"``,
# or JSON in a JSON string, read decoded).
_CLI_END = re.compile(r"[ \t\r\n;|&)\\\"']|\Z")


def _token_end(text: str, start: int) -> int:
    t = _TOKEN.match(text, start)
    return t.end() if t else start


_TOKEN = re.compile(r"[^\s\"'`,\x00\\]+")


def value_parts(text: str, start: int, end: int, kind: str, label: str, single: bool = True) -> list[splitters.Part]:
    """The value's parts: none for what another detector owns (ARNs, IP addresses) or AWS owns
    (managed policy and document names, ``alias/aws/...``) or is public (a Terraform provider's
    registry address: ``provider_name = "registry.terraform.io/hashicorp/aws"``); path-like values
    per segment. ``single``: the label takes one value; an account under an account label is then
    account-in-context's, which finds only the first value of a list (``--account-ids "1..." "2..."``
    masks them all here)."""
    value = text[start:end]
    # First what a dedicated detector masks (an inventory's every OwnerId): neither format holds
    # "/" or ":", so checking it first answers as checking it last did, only sooner. Every EC2 ID
    # holds a "-": without one, its long alternation is not tried.
    if (single and splitters.ACCOUNT.fullmatch(value) and _ACCOUNT_LABEL.search(label)) \
            or ("-" in value and splitters.EC2_ID.fullmatch(value)):
        return []  # ec2-resource-id / account-in-context mask it: no contest for every ID in an inventory
    if single and ((_ACCOUNT_ID_LABEL.search(label) and _VENDOR_ACCOUNT.fullmatch(value))
                   or (_OPERATION_ID_LABEL.search(label) and _FUNCTION_NAME.fullmatch(value))):
        return []  # another vendor's account (Jira's 24 hex digits), an OpenAPI operationId (listPetsByOwner)
    if not splitters.SAFE.fullmatch(value) or value.lower() in ("null", "none", "true", "false") \
            or value.startswith(("$", "<", "var.", "local.", "aws_", "com.amazonaws.", "alias/aws/", "arn:",
                                 "registry.terraform.io/", "registry.opentofu.org/")) \
            or value.endswith(".amazonaws.com") or _AWS_OWNED.match(value) or _AWS_OWNED_MEMBER.fullmatch(value) \
            or value in _AWS_ITSELF or value in splitters.AWS_FIXED_ROLES \
            or _IP.fullmatch(value) \
            or splitters.AWS_DEFAULT_NAME.fullmatch(value) or _ADVISORY.fullmatch(value) \
            or _UUID.fullmatch(value) or (value.startswith(("sha", "md5:")) and _DIGEST.fullmatch(value)) \
            or (len(value) == 40 and _GIT_COMMIT.fullmatch(value)) \
            or _per_request_or_code(text, start, value, label):
        return []
    scheme = value.find("://")
    if scheme > 0:
        # A URL: the scheme is no name, and its host is aws-hostname's when it is AWS's and nothing
        # to hide when it is not (AWS_ENDPOINT_URL=http://localstack:4566); its path may name a
        # resource (a queue URL's queue), segment by segment.
        path = value.find("/", scheme + 3)
        return [] if path < 0 else splitters._path_parts(text, start + path, end, kind)
    if value.startswith("alias/") and len(value) > 6:
        start, value = start + 6, value[6:]   # a KMS alias: "alias/" is AWS's syntax, the rest its name
    if "/" in value or ":" in value:
        return splitters._path_parts(text, start, end, kind)
    return [(start, end, splitters._segment_kind(value) if kind == "name" else kind)]


def _per_request_or_code(text: str, start: int, value: str, label: str) -> bool:
    """Values of an identifier's shape that name no resource of the account: an X-Ray trace ID
    (``1-5f84c7a1-<24 hex>``, one per request, like the request IDs the vocabulary leaves out); a
    64-bit segment ID in a trace's context (16 hex with a trace ID in the ``_TRACE_REACH``
    characters before it: a Lambda REPORT line's ``TraceId: 1-... SegmentId: x``, a segment
    document's ``"trace_id"`` / ``"id"``); an exception's or error's type name under an exception or
    error label (``"exception_name": "ConditionalCheckFailedException"``, PowerShell's
    ``FullyQualifiedErrorId : Amazon.S3.AmazonS3Exception``, TypeScript's ``_errorName: string =
    'CredentialsError'``: code, spelled the same in every account; a test named ``TestWithException``
    stays a name, whatever its length); a container runtime's 64-hex container ID under a container ID label (Docker's,
    OpenTelemetry's ``container.id``; AWS Batch on EKS reports the same ID); a security finding's own
    32-hex ``"id"`` beside its ``"severity"``."""
    n = len(value)
    if n == 35 and _XRAY_TRACE.fullmatch(value) is not None:
        return True
    if n == 16 and _HEX.fullmatch(value) is not None and \
            _XRAY_TRACE.search(text, max(0, start - _TRACE_REACH), start) is not None:
        return True
    if n == 64 and _HEX.fullmatch(value):
        return words(label)[-2:] == ("container", "id")
    if n == 32 and _HEX.fullmatch(value) and words(label) == ("id",):
        # a security finding's own ID (Macie, GuardDuty: 32 hex under "id" in the object that holds its
        # "severity", in either order), one per finding as a request ID is one per request
        lo, hi = max(0, start - _FINDING_REACH), start + _FINDING_REACH
        severities = [m.start() for m in _FINDING_SEVERITY.finditer(text, lo, hi)]
        if severities and splitters.any_at_level(text, start, severities, lo, hi):
            return True
    if value.endswith(("Exception", "Error")) and _TYPE_NAME.fullmatch(value):
        w = words(label)
        return "exception" in w or "error" in w
    return False


_XRAY_TRACE = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
_FINDING_SEVERITY = re.compile(r'"[Ss]everity[\\\x00]*"\s*:')
_FINDING_REACH = 4000
# Public advisory IDs (an Inspector finding's vulnerabilityId): CVE, GitHub's GHSA, Amazon Linux's ALAS.
_ADVISORY = re.compile(r"CVE-[0-9]{4}-[0-9]{4,7}|GHSA(?:-[2-9a-z]{4}){3}|ALAS[0-9A-Z]*-[0-9]{4}-[0-9]+")
_HEX = re.compile(r"[0-9a-f]+")
_TRACE_REACH = 300
# A type name, optionally dotted (a Java / .NET / Python module path): botocore.errorfactory.X,
# Amazon.S3.AmazonS3Exception, NoSuchBucketException.
_TYPE_NAME = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.){0,8}[A-Z][A-Za-z0-9]*(?:Exception|Error)")


# AWS itself as the vendor or company: ASFF's "CompanyName": "AWS", a managed rule group's "VendorName".
_AWS_ITSELF = frozenset({"AWS", "Amazon", "aws", "amazon"})
# AWS-managed names (AWSLambdaBasicExecutionRole, AmazonS3ReadOnlyAccess, AWS-RunShellScript and
# the job-function policies): the same in every account, so nothing to hide.
_AWS_OWNED = re.compile(r"(?:AWS|Amazon)[A-Z0-9 -]|(?:AdministratorAccess|PowerUserAccess|ReadOnlyAccess|"
                        r"ViewOnlyAccess|SecurityAudit|SystemAdministrator|DatabaseAdministrator|"
                        r"NetworkAdministrator|SupportUser|DataScientist|Billing)\Z")
# The same in code, as an SDK's constant for it (Pulumi's aws.iam.ManagedPolicy.AWSLambdaBasicExecutionRole,
# aws.iam.ManagedPolicy.AMAZON_S3_READ_ONLY_ACCESS in Python): a dotted member path, its last part AWS's name.
_AWS_OWNED_MEMBER = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.){1,8}(?:AWS|Amazon|AMAZON)[A-Z0-9_][A-Za-z0-9_]*")
# An AWS account ID is always 12 digits: under an account-ID label, another vendor's account shape is that
# vendor's (Jira Cloud's 24 hex digits; Chime's UUID is kept as every UUID is). An OpenAPI document's
# operationId is a function name in lowerCamelCase (listPetsByOwner); AWS's OperationIds (Cloud Map,
# Lightsail) are opaque tokens and UUIDs.
_ACCOUNT_ID_LABEL = re.compile(r"(?:[Aa]ccount|ACCOUNT)[_-]?(?:[Ii][Dd])$")
_VENDOR_ACCOUNT = re.compile(r"[0-9a-f]{24}")
_OPERATION_ID_LABEL = re.compile(r"(?:[Oo]peration|OPERATION)[_-]?(?:[Ii][Dd])$")
_FUNCTION_NAME = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)+")
# Labels under which account-in-context (core.yaml) finds a 12-digit account by itself.
_ACCOUNT_LABEL = re.compile(r"[Aa]ccount|ACCOUNT|[Oo]wner|OWNER|[Rr]egistryId")
# A content digest (docker's "Id": "sha256:4a5e...", an image's digest) is a hash of bytes, like a git
# SHA: it tells nothing, and "sha256" is no name.
_DIGEST = re.compile(r"(?:sha1|sha256|sha384|sha512|md5):[0-9a-fA-F]{16,128}")
# A git commit (CodePipeline's "revisionId", CodeBuild's "resolvedSourceVersion"): the repository's, no
# resource of the account; 40 lower-case hex digits are no AWS identifier's shape (session 17).
_GIT_COMMIT = re.compile(r"[0-9a-f]{40}")
# UUIDs pass unchanged everywhere (DESIGN.md), under a label too: random, they tell nothing.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IP = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9]{1,2})?|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")


# --- key / value tables: each row's key is a label, its value a cell (session 11) ---------------------
# One row of a two-column key / value table: PowerShell's Format-Table of a hashtable or of
# ``Key`` / ``Value`` objects (a Lambda environment), CloudFormation ``OutputKey`` / ``OutputValue``,
# ``pulumi stack output`` (``OUTPUT  VALUE``); the value a single token ending the line. ``cli``: a
# key-value row of AWS CLI ``--output table`` (``||  PhysicalResourceId  |  x  ||``).
_ROW_FORMS = {
    "pair": re.compile(r"[ \t]*(?P<label>[A-Za-z][A-Za-z0-9_.:/-]{0,119})[ \t]+(?P<q>(?!))?"
                       r"(?P<value>[^\s\"'`,\\\x00{}]+)(?P<q2>(?!))?[ \t]*"),
    "cli": re.compile(r"[ \t]*\|\|[ \t]+(?P<label>[A-Z][A-Za-z0-9]{1,119})[ \t]*\|[ \t]+(?P<q>(?!))?"
                      r"(?P<value>[^\s\"'`,\\\x00|]+)(?P<q2>(?!))?[ \t]+\|\|[ \t]*"),
}
_ROW_BREAK = re.compile(r"\r?\n|(?:\\r)?\\n")


def label_rows(text: str, m: re.Match, params: dict, kind: str) -> list[splitters.Part]:
    """Each row of a key / value table (``params["rows"]``: a ``_ROW_FORMS`` key) whose key is an
    identifier label, read as ``label_value`` reads a name / value pair (``form: pair``) whose value
    is a table cell: ``TABLE_NAME  orders-2024``, ``TableName  x``, ``bucketName  x``. Rows of another
    shape (a value of several words, a header) are skipped."""
    row = _ROW_FORMS[params.get("rows", "pair")]
    cell = dict(params, form="pair", cell=True)
    start, end = m.span("value")
    out: list[splitters.Part] = []
    pos = start
    for brk in [*_ROW_BREAK.finditer(text, start, end), None]:
        ls, le = pos, (brk.start() if brk else end)
        pos = brk.end() if brk else end
        r = row.fullmatch(text, ls, le)
        if r is not None:
            out.extend(label_value(text, r, cell, kind))
    return out


# A YAML list item's ``Name:`` entry (``- Name: x`` or a later key of the item), one token ending its line.
_ITEM_NAME = re.compile(r"(?:(?<=\n)|(?<=\\n)|(?<![\s\S]))[ \t]*(?:-[ \t]+)?Name:[ \t]+[\"']?"
                        r"(?P<v>[A-Za-z0-9][A-Za-z0-9._-]{0,254})[\"']?[ \t]*(?=\r?\n|\\[rn]|$)")


def item_names(text: str, m: re.Match, params: dict, kind: str) -> list[splitters.Part]:
    """The ``Name:`` of each item of a YAML list whose key names what the items are (``Buckets:``
    of ``aws s3api list-buckets --output yaml``); other keys of the items are left alone."""
    start, end = m.span("value")
    out: list[splitters.Part] = []
    for e in _ITEM_NAME.finditer(text, start, end):
        out.extend(value_parts(text, e.start("v"), e.end("v"), kind, "Name"))
    return out


# A YAML block list's items, one a line: "- x", "- 'x'", a comment after
_YAML_ITEM = re.compile(r"(?:(?<=\n)|(?<=\\n)|(?<![\s\S]))[ \t]*-[ \t]+[\"']?(?P<v>[^\s\"'#\\]{1,255})[\"']?"
                        r"[ \t]*(?:#[^\n\\]*)?(?=\r?\n|\\[rn]|$)")


def label_items(text: str, m: re.Match, params: dict, kind: str) -> list[splitters.Part]:
    """The items of a YAML block list under a plural identifier label (``TableNames:`` then
    ``- Forum``: AWS CLI v2's ``--output yaml``, a CloudFormation or serverless.yml list), each as
    ``value_parts`` reads a value under that label; AWS enum values and expressions stay."""
    label = m.group("label")
    w = words(label)
    if not (params["labels"].matches(w) or params["labels"].matches(singular(w))):
        return []
    keep = params["keep_values"]
    out: list[splitters.Part] = []
    for item in _YAML_ITEM.finditer(text, *m.span("value")):
        value = item.group("v")
        if value.lower() in keep or value.startswith(("$", "!", "{", "[", "*", "&")):
            continue
        out.extend(value_parts(text, item.start("v"), item.end("v"), kind, label))
    return out


splitters.SPLITTERS.setdefault("label_value", label_value)
splitters.SPLITTERS.setdefault("label_items", label_items)
splitters.SPLITTERS.setdefault("label_rows", label_rows)
splitters.SPLITTERS.setdefault("item_names", item_names)
# The same for a list's items ("SubnetIds": [...]): each item competes on its own (finder.PART_HITS), so
# an item another detector owns (an EC2 ID) does not hide the others.
splitters.SPLITTERS.setdefault("label_list", label_value)
