"""Sans-IO codec for SPOP, the protocol HAProxy's SPOE filter speaks to agents (doc/SPOE.txt, SPOP 2.0).

Like h11, it owns no socket: ``AgentConnection.receive_data(bytes)`` returns events (``Hello``,
``Notify``, ``Disconnect``) and ``send_*()`` return the bytes to write. The asyncio server in
``agent/service/server.py`` is the only place that touches the network.

Layers, each a private module importing only the ones above it: ``_errors`` (status codes),
``_constants``, ``_varint``, ``_typed`` (typed data), ``_messages`` (KV lists, messages, actions),
``_frames`` (the envelope), ``_connection`` (events and the state machine, the one glue class).
This package re-exports their public names; callers write ``spop.Notify``, ``spop.encode_frame``.

Every decoding problem raises ``SpopError``, which carries the SPOP status code (SPOE.txt 3.5) the
agent must put in its AGENT-DISCONNECT before closing. Nothing else escapes this module: no
``IndexError`` from a truncated frame, no ``UnicodeError`` from a bad string. Error details name
offsets and types only, never payload bytes (the payload is a request body full of identifiers).

Section numbers in comments refer to doc/SPOE.txt ("SPOE Version 1.2"); where the spec is loose,
comments say what HAProxy 2.6's flt_spoe.c actually does, since that is the peer we must satisfy.
"""

from __future__ import annotations

from agent.spop._connection import AgentConnection, Disconnect, Event, Hello, Notify, State, negotiate_hello
from agent.spop._constants import (
    DEFAULT_MAX_FRAME_SIZE,
    FLAG_ABORT,
    FLAG_FIN,
    MIN_FRAME_SIZE,
    SPOP_VERSION,
    ActionType,
    DataType,
    FrameType,
    Scope,
)
from agent.spop._errors import MAX_DISCONNECT_MESSAGE, REASONS, SpopError, Status
from agent.spop._frames import Frame, ack_frame_size, decode_frame, encode_frame
from agent.spop._messages import (
    Action,
    KVList,
    Message,
    SetVar,
    UnsetVar,
    action_size,
    decode_actions,
    decode_kv,
    decode_messages,
    encode_action,
    encode_kv,
    encode_messages,
)
from agent.spop._typed import (
    TypedData,
    Value,
    binary,
    boolean,
    decode_typed,
    encode_typed,
    int32,
    int64,
    ipv4,
    ipv6,
    null,
    string,
    typed_size,
    uint32,
    uint64,
)
from agent.spop._varint import decode_varint, encode_varint, varint_size

__all__ = [
    "Action",
    "ActionType",
    "AgentConnection",
    "DEFAULT_MAX_FRAME_SIZE",
    "DataType",
    "Disconnect",
    "Event",
    "FLAG_ABORT",
    "FLAG_FIN",
    "Frame",
    "FrameType",
    "Hello",
    "KVList",
    "MAX_DISCONNECT_MESSAGE",
    "MIN_FRAME_SIZE",
    "Message",
    "Notify",
    "REASONS",
    "SPOP_VERSION",
    "Scope",
    "SetVar",
    "SpopError",
    "State",
    "Status",
    "TypedData",
    "UnsetVar",
    "Value",
    "ack_frame_size",
    "action_size",
    "binary",
    "boolean",
    "decode_actions",
    "decode_frame",
    "decode_kv",
    "decode_messages",
    "decode_typed",
    "decode_varint",
    "encode_action",
    "encode_frame",
    "encode_kv",
    "encode_messages",
    "encode_typed",
    "encode_varint",
    "int32",
    "int64",
    "ipv4",
    "ipv6",
    "negotiate_hello",
    "null",
    "string",
    "typed_size",
    "uint32",
    "uint64",
    "varint_size",
]
