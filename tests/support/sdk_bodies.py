"""Hypothesis strategies for Messages API request bodies, built from the ``anthropic`` SDK's own
param types: the TypedDicts of ``MessageCreateParamsBase`` (stable and beta) are walked with
``typing.get_type_hints`` (Required / NotRequired / Literal / Union / Iterable / Dict, recursively),
so every block type the SDK knows is generated without a hand list: text, image, document (base64,
text, content, URL and file sources), tool_use, tool_result with nested blocks, search_result,
thinking, redacted_thinking, server tool use and its results with ``encrypted_*`` content,
mcp_tool_use / mcp_tool_result, container_upload, citations, cache_control ...

Free-text strings carry AWS identifiers (``planted_text``); base64 data carries ID-shaped runs
that are not identifiers (``base64_data``). ``serialize`` writes one value with the keys of every
object in a random order and random whitespace, and tells where each protected node's raw text is.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import string
import typing
from collections.abc import Iterable, Mapping, Sequence

import typing_extensions
from hypothesis import strategies as st

HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
WORDS = ("check", "the", "instance", "logs", "deploy", "and", "then", "bucket", "role", "ok", "é", "→",
         "subnet", "prod", "why", "is", "it", "down", "please", "fix")
# Keys of user-controlled objects (tool input, metadata, schemas ...): with the names the API
# protects on its own blocks, which here are user data to mask.
KEYS = ("path", "command", "query", "target", "value", "note", "items", "arg", "signature",
        "encrypted_content", "encrypted_index", "data", "type")
MAX_DEPTH = 6        # nested TypedDicts (message > tool_result > document > source ...)


# --- identifiers that any position must mask -----------------------------------------------------
ec2_ids = st.tuples(st.sampled_from(("i", "vpc", "subnet", "sg", "vol", "eni", "ami", "snap")),
                    st.text(HEX, min_size=17, max_size=17)).map(lambda t: f"{t[0]}-{t[1]}")
access_keys = st.tuples(st.sampled_from(("AKIA", "ASIA")), st.text(UPPER_DIGITS, min_size=16, max_size=16)).map(
    "".join)
accounts = st.text(string.digits, min_size=11, max_size=11).map(lambda s: "4" + s)
role_names = st.from_regex(r"[a-z][a-z0-9]{3,9}-[a-z0-9]{3,9}", fullmatch=True)
arns = st.tuples(accounts, role_names).map(lambda t: f"arn:aws:iam::{t[0]}:role/{t[1]}")
private_ips = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(1, 254)).map(
    lambda t: f"10.{t[0]}.{t[1]}.{t[2]}")
identifiers = st.one_of(ec2_ids, access_keys, arns, private_ips)


def secrets_of(identifier: str) -> list[str]:
    """The parts of a planted identifier that must not survive (an ARN: its account and role)."""
    if identifier.startswith("arn:"):
        account, role = identifier.split(":")[4], identifier.split("/", 1)[1]
        return [account, role]
    return [identifier]


planted_text = st.lists(st.one_of(st.sampled_from(WORDS), identifiers), min_size=1, max_size=6).map(" ".join)


@st.composite
def base64_data(draw) -> str:
    """Valid base64 with ID-shaped runs (AKIA..., 12 digits) at 4-character boundaries: not identifiers."""
    chunks = [base64.b64encode(draw(st.binary(min_size=0, max_size=24))).decode().rstrip("=")]
    chunks[0] = chunks[0][: len(chunks[0]) // 4 * 4]
    for _ in range(draw(st.integers(1, 3))):
        chunks.append(draw(st.one_of(access_keys, accounts.map(lambda a: a))))
        chunks.append(base64.b64encode(draw(st.binary(min_size=3, max_size=12))).decode()[:4])
    return "".join(chunks)


# --- the SDK's types, walked -------------------------------------------------------------------
def _unwrap(tp):
    while True:
        origin = typing.get_origin(tp)
        if origin in (typing.Required, typing.NotRequired, typing.Annotated):
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _is_file_input(tp) -> bool:
    return tp is bytes or typing.get_origin(tp) is typing.IO or tp is typing.IO or \
        getattr(tp, "__name__", "") in ("PathLike", "IO", "BinaryIO")


def _leaf(depth: int):
    json_leaf = st.one_of(planted_text, st.integers(-5, 10**6), st.booleans(), st.none())
    if depth >= MAX_DEPTH:
        return json_leaf
    return st.one_of(json_leaf, st.dictionaries(st.sampled_from(KEYS), json_leaf, max_size=3),
                     st.lists(json_leaf, max_size=3), fake_blocks(), st.lists(fake_blocks(), max_size=2))


def fake_blocks():
    """Objects shaped like protected blocks, for places where they are user data (a tool's input, a
    schema, metadata): their identifiers must be masked."""
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("thinking"), "thinking": planted_text, "signature": planted_text}),
        st.fixed_dictionaries({"type": st.just("redacted_thinking"), "data": planted_text}),
        st.fixed_dictionaries({"type": st.sampled_from(("web_search_result", "compaction")),
                               "encrypted_content": planted_text, "signature": planted_text}),
        st.fixed_dictionaries({"type": st.just("image"), "source": st.fixed_dictionaries(
            {"type": st.just("base64"), "media_type": st.just("image/png"), "data": planted_text})}))


@functools.cache
def for_type(tp, depth: int = 0, field: str = ""):
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is typing.Union:
        members = [a for a in args if not _is_file_input(_unwrap(a))]
        if any(_is_file_input(_unwrap(a)) for a in args):   # Base64FileInput: the data of a base64 source
            return base64_data()
        non_none = [a for a in members if a is not type(None)]
        strategies = [s for s in (for_type(a, depth, field) for a in non_none) if not s.is_empty]
        if not strategies:
            return st.nothing()
        if len(non_none) < len(members):
            strategies.append(st.none())
        return st.one_of(strategies)
    if typing_extensions.is_typeddict(tp):
        if depth > MAX_DEPTH:
            return st.nothing()
        return _typed_dict(tp, depth)
    if origin in (list, Iterable, Sequence, tuple) or (origin is not None and getattr(origin, "__name__", "") in (
            "Iterable", "Sequence", "SequenceNotStr")):
        inner = args[0] if args else object
        item = for_type(inner, depth, field)
        if item.is_empty:
            return st.just([])
        return st.lists(item, min_size=1 if depth < 3 else 0, max_size=3 if depth < 4 else 1)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return st.dictionaries(st.sampled_from(KEYS), _leaf(depth), max_size=3)
    if tp is str:
        if field == "data":
            return base64_data()
        return planted_text
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(0, 100_000)
    if tp is float:
        return st.floats(0, 1, allow_nan=False)
    if tp is type(None):
        return st.none()
    if getattr(tp, "__name__", "") in ("datetime", "date"):
        return st.just("2025-01-01T00:00:00Z")
    # object, Any, anything else: a small JSON value
    return _leaf(depth)


def _typed_dict(cls, depth: int):
    hints = typing.get_type_hints(cls, include_extras=True)
    # The SDK's modules use postponed annotations, so __required_keys__ cannot see Required[...]:
    # read it from the evaluated hints.
    total = getattr(cls, "__total__", True)
    is_required = {k: typing.get_origin(v) is typing.Required or (total and typing.get_origin(v) is not
                                                                    typing.NotRequired) for k, v in hints.items()}
    required = {k: for_type(v, depth + 1, k) for k, v in hints.items() if is_required[k]}
    if any(s.is_empty for s in required.values()):
        return st.nothing()
    optional = {k: for_type(v, depth + 1, k) for k, v in hints.items() if not is_required[k]}
    # Strategies that can never produce a value (too deep) make the whole dict impossible; optional
    # ones are simply left out.
    optional = {k: s for k, s in optional.items() if not s.is_empty}
    return st.fixed_dictionaries(required, optional=optional)


def _members(tp) -> list:
    tp = _unwrap(tp)
    return list(typing.get_args(tp)) if typing.get_origin(tp) is typing.Union else [tp]


def _flatten(tp) -> list:
    members = _members(tp)
    if len(members) == 1 and members[0] is _unwrap(tp):
        return members
    return [c for m in members for c in _flatten(m)]


def _messages(params_cls):
    """Messages whose content is a list of blocks (the union the SDK declares for each role).
    Generated as the TypedDicts say, most bodies would carry a string content or one block, and
    the top-level options would outnumber the blocks."""
    hints = typing.get_type_hints(params_cls, include_extras=True)
    (message_union,) = typing.get_args(_unwrap(hints["messages"]))
    out = []
    for message_cls in _members(message_union):
        mhints = typing.get_type_hints(message_cls, include_extras=True)
        lists = [m for m in _members(mhints["content"]) if typing.get_origin(m) is not None
                 and typing.get_origin(m) is not typing.Literal and typing.get_args(m)]
        if not lists:
            continue
        (block_union,) = typing.get_args(lists[0])
        # Every block type equally likely (nested unions would make some rare).
        classes = sorted({c for c in _flatten(block_union) if typing_extensions.is_typeddict(c)},
                         key=lambda c: c.__name__)
        blocks = st.sampled_from(classes).flatmap(lambda c: for_type(c, 2, "content"))
        out.append(st.fixed_dictionaries({"role": for_type(mhints["role"], 2, "role"),
                                          "content": st.lists(blocks, min_size=1, max_size=4)}))
    return st.lists(st.one_of(out), min_size=1, max_size=5)


def _bodies(params_cls):
    return st.tuples(for_type(params_cls), _messages(params_cls)).map(lambda t: {**t[0], "messages": t[1]})


@functools.cache
def request_bodies():
    """Whole request bodies, from the stable and the beta MessageCreateParamsBase. Importing the
    SDK's types takes ~1.5 s: wrap this in ``st.deferred`` so only a process that draws pays it."""
    from anthropic.types import message_create_params as stable
    from anthropic.types.beta import message_create_params as beta
    return st.one_of(_bodies(stable.MessageCreateParamsBase), _bodies(beta.MessageCreateParamsBase))


# --- serializing with any key order and whitespace ------------------------------------------------
@functools.cache
def sdk_opaque_fields() -> dict[str, frozenset[str]]:
    """Block type -> its ``signature`` and ``encrypted_*`` fields, read from every param TypedDict of
    the installed SDK (stable and beta): the independent oracle for the engine's table."""
    import importlib
    import pkgutil
    out: dict[str, set[str]] = {}
    for pkg in ("anthropic.types", "anthropic.types.beta"):
        for info in pkgutil.iter_modules(importlib.import_module(pkg).__path__):
            if not info.name.endswith("_param"):
                continue
            for cls in vars(importlib.import_module(f"{pkg}.{info.name}")).values():
                if not typing_extensions.is_typeddict(cls) or "type" not in getattr(cls, "__annotations__", {}):
                    continue
                hints = typing.get_type_hints(cls)
                fields = {k for k in hints if k == "signature" or k.startswith("encrypted_")}
                for kind in typing.get_args(_unwrap(hints["type"])) if fields else ():
                    out.setdefault(kind, set()).update(fields)
    return {k: frozenset(v) for k, v in out.items()}


_BLOCK_KEYS = ("content", "source", "citations")


def is_block_path(path: tuple) -> bool:
    """Whether an object at ``path`` is a content block by the Messages API's structure: in
    ``system[]`` or ``messages[].content``, then only below ``content``, ``source`` or ``citations``
    (never below ``input``, ``tools``, ``metadata`` ...; never an array directly in an array)."""
    if len(path) >= 2 and path[0] == "system" and isinstance(path[1], int):
        rest, prev_int = path[2:], True
    elif len(path) >= 3 and path[0] == "messages" and isinstance(path[1], int) and path[2] == "content":
        rest, prev_int = path[3:], False
    else:
        return False
    for p in rest:
        if isinstance(p, int):
            if prev_int:
                return False
            prev_int = True
        elif p in _BLOCK_KEYS:
            prev_int = False
        else:
            return False
    return True


def protected_kind(path: tuple, value, parent) -> str | None:
    """What passes byte-exact, by structure (DESIGN.md): signed thinking and redacted_thinking
    blocks, base64 ``source`` objects (images; documents when they pass), and the ``signature`` /
    ``encrypted_*`` fields the SDK declares on the block type that holds them; anything else, user
    data included whatever its keys, is masked."""
    if isinstance(value, dict) and is_block_path(path) and (
            value.get("type") in ("thinking", "redacted_thinking")
            or value.get("type") == "base64" and path[-1] == "source"):
        return "block"
    if (isinstance(value, str) and isinstance(parent, dict) and path and isinstance(path[-1], str)
            and is_block_path(path[:-1]) and isinstance(parent.get("type"), str)
            and path[-1] in sdk_opaque_fields().get(parent["type"], ())):
        return "value"
    return None


def serialize(value, rnd: random.Random, ensure_ascii: bool | None = None) -> tuple[str, list[tuple[tuple, str]]]:
    """(JSON text with every object's keys shuffled and random whitespace, [(path, raw text of each
    protected node)])."""
    if ensure_ascii is None:
        ensure_ascii = rnd.random() < 0.5
    ws = rnd.choice(("", " ", "\n", "\n  ", "\t", "\r\n "))
    protected: list[tuple[tuple, str]] = []

    def pad() -> str:
        return ws if rnd.random() < 0.7 else rnd.choice(("", " ", "\n    "))

    def go(v, path: tuple, parent) -> str:
        if isinstance(v, dict):
            keys = list(v)
            rnd.shuffle(keys)
            inner = ("," + pad()).join(
                pad() + json.dumps(k, ensure_ascii=ensure_ascii) + pad() + ":" + pad() + go(v[k], path + (k,), v)
                for k in keys)
            out = "{" + inner + pad() + "}"
        elif isinstance(v, list):
            out = "[" + ("," + pad()).join(pad() + go(x, path + (i,), v) for i, x in enumerate(v)) + pad() + "]"
        else:
            out = json.dumps(v, ensure_ascii=ensure_ascii)
        if protected_kind(path, v, parent):
            protected.append((path, out))
        return out

    return go(value, (), None), protected


def walk_strings(value, path: tuple = ()):
    """(path, string) for every string value, with whether it lies inside a protected node."""
    def go(v, p, inside, parent=None):
        inside = inside or protected_kind(p, v, parent) is not None
        if isinstance(v, dict):
            for k, x in v.items():
                yield from go(x, p + (k,), inside, v)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from go(x, p + (i,), inside)
        elif isinstance(v, str):
            yield p, v, inside
    yield from go(value, path, False)


def at(value, path: tuple):
    for p in path:
        value = value[p]
    return value
