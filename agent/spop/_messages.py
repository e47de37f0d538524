"""KV lists, messages and actions: what NOTIFY and ACK frames carry (SPOE.txt 3.2)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.spop._constants import ActionType, Scope
from agent.spop._errors import SpopError, Status, _invalid
from agent.spop._typed import (
    TypedData,
    _decode_bytes,
    _encode_bytes,
    _str_bytes,
    _typed_chunks,
    decode_typed,
    encode_typed,
    typed_size,
)
from agent.spop._varint import varint_size

# --------------------------------------------------------------------------------------------------
# KV lists, messages, actions (3.2)
# --------------------------------------------------------------------------------------------------

KVList = list[tuple[str, TypedData]]


def encode_kv(items: Iterable[tuple[str, TypedData]]) -> bytes:
    """KV-LIST: [ <KV-NAME:STRING without type byte> <KV-VALUE:TYPED-DATA> ... ]"""
    return b"".join(_encode_bytes(_str_bytes(name)) + encode_typed(value) for name, value in items)


def _decode_name(buf: bytes | memoryview, pos: int, end: int) -> tuple[str, int]:
    raw, pos = _decode_bytes(buf, pos, end)
    return raw.decode("utf-8", "surrogateescape"), pos


def decode_kv(buf: bytes | memoryview, pos: int, end: int, count: int | None = None) -> tuple[KVList, int]:
    """Decode ``count`` KV items (or all of them up to ``end``)."""
    items: KVList = []
    while (pos < end) if count is None else (len(items) < count):
        name, pos = _decode_name(buf, pos, end)
        value, pos = decode_typed(buf, pos, end)
        items.append((name, value))
    return items, pos


@dataclass(frozen=True)
class Message:
    """One SPOE message of a NOTIFY frame: its name and its arguments in declaration order.

    Unnamed arguments (``args src`` rather than ``args ip=src``) have the empty name.
    """

    name: str
    args: tuple[tuple[str, TypedData], ...] = ()

    def get(self, name: str) -> TypedData | None:
        """The first argument called ``name``, or None if the message has none."""
        return next((value for key, value in self.args if key == name), None)


def encode_messages(messages: Iterable[Message]) -> bytes:
    """LIST-OF-MESSAGES: [ <MESSAGE-NAME> <NB-ARGS:1 byte> <KV-LIST> ... ] (HAProxy side; for tests)."""
    out = bytearray()
    for msg in messages:
        if len(msg.args) > 255:
            raise SpopError(Status.UNKNOWN, "a message carries at most 255 arguments")
        out += _encode_bytes(_str_bytes(msg.name)) + bytes((len(msg.args),)) + encode_kv(msg.args)
    return bytes(out)


def decode_messages(buf: bytes | memoryview, pos: int, end: int) -> list[Message]:
    messages = []
    while pos < end:
        name, pos = _decode_name(buf, pos, end)
        if not name:
            raise _invalid(f"empty message name before offset {pos}")
        if pos >= end:
            raise _invalid(f"message without NB-ARGS at offset {pos}")
        count = buf[pos]
        args, pos = decode_kv(buf, pos + 1, end, count)
        messages.append(Message(name, tuple(args)))
    return messages


# HAProxy variable names may only contain these (SPOE.txt 2.2, "register-var-names"); anything else
# would be dropped silently on the HAProxy side, so we refuse to build it.
_VAR_NAME = re.compile(r"[A-Za-z0-9._]+")


@dataclass(frozen=True)
class SetVar:
    scope: Scope
    name: str
    value: TypedData


@dataclass(frozen=True)
class UnsetVar:
    scope: Scope
    name: str


Action = SetVar | UnsetVar


def _check_action(action: Action) -> None:
    if not isinstance(action, SetVar | UnsetVar):
        raise SpopError(Status.UNKNOWN, "unknown action")
    if not isinstance(action.scope, Scope) or not isinstance(action.name, str):
        raise SpopError(Status.UNKNOWN, "action needs a Scope and a str name")
    if not _VAR_NAME.fullmatch(action.name):
        raise SpopError(Status.UNKNOWN, "variable names may only use A-Z a-z 0-9 . _")


def encode_action(action: Action) -> bytes:
    """ACTION-SET-VAR / ACTION-UNSET-VAR (3.4): type, NB-ARGS, scope byte, name, [value]."""
    return b"".join(_action_chunks(action))


def _action_chunks(action: Action) -> list[bytes]:
    _check_action(action)
    name = _encode_bytes(action.name.encode("ascii"))
    if isinstance(action, SetVar):
        return [bytes((ActionType.SET_VAR, 3, action.scope)) + name, *_typed_chunks(action.value)]
    return [bytes((ActionType.UNSET_VAR, 2, action.scope)) + name]


def action_size(action: Action) -> int:
    _check_action(action)
    name = len(action.name)
    size = 3 + varint_size(name) + name
    return size + typed_size(action.value) if isinstance(action, SetVar) else size


def _decode_action(buf: bytes | memoryview, pos: int, end: int) -> tuple[Action, int]:
    if end - pos < 3:
        raise _invalid(f"truncated action at offset {pos}")
    kind, nb_args, scope_id = buf[pos], buf[pos + 1], buf[pos + 2]
    expected = {ActionType.SET_VAR: 3, ActionType.UNSET_VAR: 2}.get(kind)
    if expected is None or nb_args != expected or scope_id > Scope.RES:
        raise _invalid(f"bad action header at offset {pos}")
    raw, pos = _decode_bytes(buf, pos + 3, end)
    name = raw.decode("utf-8", "surrogateescape")
    if kind == ActionType.UNSET_VAR:
        return UnsetVar(Scope(scope_id), name), pos
    value, pos = decode_typed(buf, pos, end)
    return SetVar(Scope(scope_id), name, value), pos


def decode_actions(buf: bytes | memoryview, pos: int, end: int) -> list[Action]:
    actions = []
    while pos < end:
        action, pos = _decode_action(buf, pos, end)
        actions.append(action)
    return actions
