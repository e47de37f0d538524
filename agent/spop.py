"""Sans-IO codec for SPOP, the protocol HAProxy's SPOE filter speaks to agents (doc/SPOE.txt, SPOP 2.0).

Like h11, it owns no socket: ``AgentConnection.receive_data(bytes)`` returns events (``Hello``,
``Notify``, ``Disconnect``) and ``send_*()`` return the bytes to write. The asyncio server in
``agent/server.py`` is the only place that touches the network.

Every decoding problem raises ``SpopError``, which carries the SPOP status code (SPOE.txt 3.5) the
agent must put in its AGENT-DISCONNECT before closing. Nothing else escapes this module: no
``IndexError`` from a truncated frame, no ``UnicodeError`` from a bad string. Error details name
offsets and types only, never payload bytes (the payload is a request body full of identifiers).

Section numbers in comments refer to doc/SPOE.txt ("SPOE Version 1.2"); where the spec is loose,
comments say what HAProxy 2.6's flt_spoe.c actually does, since that is the peer we must satisfy.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------------------
# Status codes (3.5 "Errors & timeouts") and the messages HAProxy itself uses for them
# --------------------------------------------------------------------------------------------------


class Status(enum.IntEnum):
    NORMAL = 0
    IO_ERROR = 1
    TIMEOUT = 2
    TOO_BIG = 3
    INVALID = 4
    NO_VERSION = 5
    NO_FRAME_SIZE = 6
    NO_CAPABILITIES = 7
    BAD_VERSION = 8
    BAD_FRAME_SIZE = 9
    FRAGMENTATION = 10
    INTERLACED = 11
    FRAME_ID_NOT_FOUND = 12
    RESOURCE = 13
    UNKNOWN = 99


# Same wording as spoe_frm_err_reasons[] in HAProxy, so both sides' logs read alike.
REASONS: dict[Status, str] = {
    Status.NORMAL: "normal",
    Status.IO_ERROR: "I/O error",
    Status.TIMEOUT: "a timeout occurred",
    Status.TOO_BIG: "frame is too big",
    Status.INVALID: "invalid frame received",
    Status.NO_VERSION: "version value not found",
    Status.NO_FRAME_SIZE: "max-frame-size value not found",
    Status.NO_CAPABILITIES: "capabilities value not found",
    Status.BAD_VERSION: "unsupported version",
    Status.BAD_FRAME_SIZE: "max-frame-size too big or too small",
    Status.FRAGMENTATION: "fragmentation not supported",
    Status.INTERLACED: "invalid interlaced frames",
    Status.FRAME_ID_NOT_FOUND: "frame-id not found",
    Status.RESOURCE: "resource allocation error",
    Status.UNKNOWN: "an unknown error occurred",
}

# HAProxy refuses an AGENT-DISCONNECT whose message is longer than 255 bytes (flt_spoe.c,
# spoe_handle_agentdiscon_frame), so messages are cut to this.
MAX_DISCONNECT_MESSAGE = 255


class SpopError(Exception):
    """A protocol error: the connection must be closed with AGENT-DISCONNECT ``status``.

    ``detail`` says what was wrong (offsets, types, sizes); it never quotes payload bytes.
    """

    def __init__(self, status: Status, detail: str = ""):
        self.status = Status(status)
        self.detail = detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = REASONS[self.status] + (f": {self.detail}" if self.detail else "")
        return _truncate_utf8(text, MAX_DISCONNECT_MESSAGE)


def _invalid(detail: str) -> SpopError:
    return SpopError(Status.INVALID, detail)


def _truncate_utf8(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    return raw[:limit].decode("utf-8", "ignore") if len(raw) > limit else text


# --------------------------------------------------------------------------------------------------
# Constants (3.2 "Frames", 3.2.2 "Frame types overview", 3.4 "Actions")
# --------------------------------------------------------------------------------------------------


class FrameType(enum.IntEnum):
    UNSET = 0                 # continuation of a fragmented payload; we never accept fragmentation
    HAPROXY_HELLO = 1
    HAPROXY_DISCONNECT = 2
    NOTIFY = 3
    AGENT_HELLO = 101
    AGENT_DISCONNECT = 102
    ACK = 103


FLAG_FIN = 0x00000001
FLAG_ABORT = 0x00000002

SPOP_VERSION = "2.0"          # the only version HAProxy (1.7 .. 3.x) has ever announced
MIN_FRAME_SIZE = 256          # 3.2: "must be greater than or equal to 256 bytes"
# Our own ceiling, used before HELLO and as our side of the min() in 3.2.4. HAProxy caps its side at
# tune.bufsize-4 and that is the limit that should win, so this is only a memory bound against a
# misbehaving peer announcing a 4 GiB frame: 64 MiB stays above any buffer the gateway configures
# (GATEWAY_MAX_BODY 8 MiB gives a ~10 MiB tune.bufsize) while keeping one connection bounded.
DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024
_HEADER = struct.Struct("!I")   # 3.2: <FRAME-LENGTH:4 bytes> in network byte order
_FLAGS = struct.Struct("!I")    # 3.2: <FLAGS:4 bytes> in network byte order
_MIN_FRAME = 7                  # type(1) + flags(4) + stream-id(>=1) + frame-id(>=1)


class Scope(enum.IntEnum):
    """Variable scope of set-var/unset-var (3.4)."""

    PROC = 0
    SESS = 1
    TXN = 2
    REQ = 3
    RES = 4


class ActionType(enum.IntEnum):
    SET_VAR = 1
    UNSET_VAR = 2


class DataType(enum.IntEnum):
    """TYPED-DATA type ids (3.1)."""

    NULL = 0
    BOOL = 1
    INT32 = 2
    UINT32 = 3
    INT64 = 4
    UINT64 = 5
    IPV4 = 6
    IPV6 = 7
    STRING = 8
    BINARY = 9


# --------------------------------------------------------------------------------------------------
# Varint (3.1, "Peers encoding")
# --------------------------------------------------------------------------------------------------

_U64 = 1 << 64
# A uint64 needs at most 1 + ceil(60/7) = 10 bytes; anything longer is garbage, not a big number.
_MAX_VARINT_LEN = 10


def encode_varint(value: int) -> bytes:
    """Encode 0 <= value < 2**64 the way HAProxy's encode_varint() does.

    0..239 take one byte; then the first byte carries 4 bits (high nibble 1111) and each following
    byte 7 bits with bit 7 as "more follows". Boundaries: 240, 2288, 264432, 33818864, 4328786160...
    """
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < _U64:
        raise SpopError(Status.UNKNOWN, "varint out of range")
    if value < 240:
        return bytes((value,))
    out = bytearray(((value & 0xFF) | 0xF0,))
    value = (value - 240) >> 4
    while value >= 128:
        out.append((value & 0xFF) | 0x80)
        value = (value - 128) >> 7
    out.append(value)
    return bytes(out)


def varint_size(value: int) -> int:
    """Length of ``encode_varint(value)`` without building it."""
    size, bound, bits = 1, 240, 11      # n bytes cover 240 + 2**11 + ... + 2**(4 + 7(n-1)) values
    while value >= bound:
        size += 1
        bound += 1 << bits
        bits += 7
    return size


def decode_varint(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    """Decode the varint at ``buf[pos:end]``; return (value, position after it).

    Mirrors HAProxy's decode_varint() (each continuation byte is added whole, shifted by 4, 11,
    18, ...), but refuses what HAProxy would silently wrap: values >= 2**64 and runs of more than
    10 bytes.
    """
    if pos >= end:
        raise _invalid(f"truncated varint at offset {pos}")
    value = buf[pos]
    pos += 1
    if value < 240:
        return value, pos
    shift, length = 4, 1
    while True:
        if pos >= end:
            raise _invalid(f"truncated varint at offset {pos}")
        byte = buf[pos]
        pos += 1
        length += 1
        value += byte << shift
        shift += 7
        if byte < 128:
            break
        if length >= _MAX_VARINT_LEN:
            raise _invalid(f"varint longer than {_MAX_VARINT_LEN} bytes before offset {pos}")
    if value >= _U64:
        raise _invalid(f"varint overflows 64 bits before offset {pos}")
    return value, pos


# --------------------------------------------------------------------------------------------------
# Typed data (3.1)
# --------------------------------------------------------------------------------------------------

Value = None | bool | int | str | bytes | ipaddress.IPv4Address | ipaddress.IPv6Address

_INT_RANGES: dict[DataType, tuple[int, int]] = {
    DataType.INT32: (-(1 << 31), (1 << 31) - 1),
    DataType.UINT32: (0, (1 << 32) - 1),
    DataType.INT64: (-(1 << 63), (1 << 63) - 1),
    DataType.UINT64: (0, _U64 - 1),
}
_SIGNED = (DataType.INT32, DataType.INT64)
_BOOL_TRUE = 0x10   # 3.1: the boolean is the first bit of the FLAGS nibble


@dataclass(frozen=True)
class TypedData:
    """One TYPED-DATA value with its SPOP type (an int alone cannot say INT32 from UINT64).

    Python values: NULL None, BOOL bool, integers int, IPV4/IPV6 ipaddress objects, STRING str
    (bytes that are not UTF-8 are kept with the ``surrogateescape`` handler, so any header
    round-trips exactly), BINARY bytes.
    """

    type: DataType
    value: Value = None

    def __post_init__(self) -> None:
        _check_typed(self)


def null() -> TypedData:
    return TypedData(DataType.NULL, None)


def boolean(value: bool) -> TypedData:
    return TypedData(DataType.BOOL, value)


def int32(value: int) -> TypedData:
    return TypedData(DataType.INT32, value)


def uint32(value: int) -> TypedData:
    return TypedData(DataType.UINT32, value)


def int64(value: int) -> TypedData:
    return TypedData(DataType.INT64, value)


def uint64(value: int) -> TypedData:
    return TypedData(DataType.UINT64, value)


def ipv4(value: str | ipaddress.IPv4Address) -> TypedData:
    return TypedData(DataType.IPV4, ipaddress.IPv4Address(value))


def ipv6(value: str | ipaddress.IPv6Address) -> TypedData:
    return TypedData(DataType.IPV6, ipaddress.IPv6Address(value))


def string(value: str) -> TypedData:
    return TypedData(DataType.STRING, value)


def binary(value: bytes) -> TypedData:
    return TypedData(DataType.BINARY, bytes(value))


_PY_TYPES: dict[DataType, tuple[type, ...]] = {
    DataType.NULL: (type(None),),
    DataType.BOOL: (bool,),
    DataType.IPV4: (ipaddress.IPv4Address,),
    DataType.IPV6: (ipaddress.IPv6Address,),
    DataType.STRING: (str,),
    DataType.BINARY: (bytes,),
}


def _check_typed(data: TypedData) -> None:
    """Refuse a value its type cannot carry, at construction, as a SpopError (never TypeError)."""
    if not isinstance(data.type, DataType):
        raise SpopError(Status.UNKNOWN, "unknown data type")
    if data.type in _INT_RANGES:
        low, high = _INT_RANGES[data.type]
        if not isinstance(data.value, int) or isinstance(data.value, bool) or not low <= data.value <= high:
            raise SpopError(Status.UNKNOWN, f"{data.type.name} value out of range")
    elif not isinstance(data.value, _PY_TYPES[data.type]):
        raise SpopError(Status.UNKNOWN, f"{data.type.name} needs a {_PY_TYPES[data.type][0].__name__}")


def _int_wire(data: TypedData) -> int:
    # HAProxy decodes every integer type into a 64-bit signed sample (spoe_decode_data), so a negative
    # INT32 must travel as its 64-bit two's complement, not its 32-bit one, or -1 arrives as 4294967295.
    value = data.value
    assert isinstance(value, int)
    return value + _U64 if value < 0 else value


def _str_bytes(value: str) -> bytes:
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise SpopError(Status.UNKNOWN, "string holds a character UTF-8 cannot encode") from None


def _encode_bytes(raw: bytes) -> bytes:
    return encode_varint(len(raw)) + raw


def encode_typed(data: TypedData) -> bytes:
    """TYPED-DATA: <TYPE:4 bits><FLAGS:4 bits><DATA> (3.1)."""
    return b"".join(_typed_chunks(data))


def _typed_chunks(data: TypedData) -> list[bytes]:
    """``encode_typed`` as pieces to join once: a large STRING/BINARY value is not copied here, so an
    ACK carrying a 1 MB body is assembled with one copy of it (``send_ack``), not one per layer."""
    kind = data.type
    if kind is DataType.STRING or kind is DataType.BINARY:
        raw = _str_bytes(data.value) if kind is DataType.STRING else data.value   # type: ignore[arg-type]
        assert isinstance(raw, bytes)
        return [bytes((kind,)) + encode_varint(len(raw)), raw]
    return [_encode_scalar(data)]


def _encode_scalar(data: TypedData) -> bytes:
    kind = data.type
    if kind is DataType.NULL:
        return b"\x00"
    if kind is DataType.BOOL:
        return bytes((DataType.BOOL | (_BOOL_TRUE if data.value else 0),))
    if kind in _INT_RANGES:
        return bytes((kind,)) + encode_varint(_int_wire(data))
    if kind in (DataType.IPV4, DataType.IPV6):
        assert isinstance(data.value, ipaddress.IPv4Address | ipaddress.IPv6Address)
        return bytes((kind,)) + data.value.packed
    raise SpopError(Status.UNKNOWN, "unknown data type")


def typed_size(data: TypedData) -> int:
    """Length of ``encode_typed(data)``, computed without copying large values."""
    kind = data.type
    if kind in (DataType.NULL, DataType.BOOL):
        return 1
    if kind in _INT_RANGES:
        return 1 + varint_size(_int_wire(data))
    if kind is DataType.IPV4:
        return 5
    if kind is DataType.IPV6:
        return 17
    length = len(_str_bytes(data.value)) if kind is DataType.STRING else len(data.value)  # type: ignore[arg-type]
    return 1 + varint_size(length) + length


def _decode_bytes(buf: bytes | memoryview, pos: int, end: int) -> tuple[bytes, int]:
    """<LENGTH:varint><BYTES> as used by STRING/BINARY values, KV names and message names."""
    length, pos = decode_varint(buf, pos, end)
    if length > end - pos:
        raise _invalid(f"length {length} at offset {pos} runs past the frame end")
    return bytes(buf[pos:pos + length]), pos + length


def _decode_int(kind: DataType, buf: bytes | memoryview, pos: int, end: int) -> tuple[TypedData, int]:
    raw, pos = decode_varint(buf, pos, end)
    value = raw - _U64 if kind in _SIGNED and raw >= (1 << 63) else raw
    low, high = _INT_RANGES[kind]
    if not low <= value <= high:
        raise _invalid(f"{kind.name} value out of range before offset {pos}")
    return TypedData(kind, value), pos


def _decode_fixed(kind: DataType, buf: bytes | memoryview, pos: int, end: int) -> tuple[TypedData, int]:
    size = 4 if kind is DataType.IPV4 else 16
    if end - pos < size:
        raise _invalid(f"truncated {kind.name} at offset {pos}")
    raw = bytes(buf[pos:pos + size])
    addr = ipaddress.IPv4Address(raw) if size == 4 else ipaddress.IPv6Address(raw)
    return TypedData(kind, addr), pos + size


def decode_typed(buf: bytes | memoryview, pos: int, end: int) -> tuple[TypedData, int]:
    """Decode one TYPED-DATA at ``pos``; return (value, position after it)."""
    if pos >= end:
        raise _invalid(f"missing typed data at offset {pos}")
    head = buf[pos]
    kind_id, flags = head & 0x0F, head & 0xF0
    if kind_id > DataType.BINARY:
        raise _invalid(f"reserved data type {kind_id} at offset {pos}")
    kind = DataType(kind_id)
    # Only BOOL uses the flags nibble, and only its first bit; HAProxy never sets the others, so a
    # stray flag means we are reading garbage, not a value.
    if flags & ~(_BOOL_TRUE if kind is DataType.BOOL else 0):
        raise _invalid(f"unexpected flags 0x{flags:02x} on {kind.name} at offset {pos}")
    pos += 1
    if kind is DataType.NULL:
        return TypedData(kind, None), pos
    if kind is DataType.BOOL:
        return TypedData(kind, bool(flags)), pos
    if kind in _INT_RANGES:
        return _decode_int(kind, buf, pos, end)
    if kind in (DataType.IPV4, DataType.IPV6):
        return _decode_fixed(kind, buf, pos, end)
    raw, pos = _decode_bytes(buf, pos, end)
    if kind is DataType.STRING:
        return TypedData(kind, raw.decode("utf-8", "surrogateescape")), pos
    return TypedData(kind, raw), pos


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


# --------------------------------------------------------------------------------------------------
# Frames (3.2)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A decoded frame header plus its raw payload (``payload`` is a view into the frame)."""

    type: int
    flags: int
    stream_id: int
    frame_id: int
    payload: memoryview


def encode_frame(frame_type: int, stream_id: int, frame_id: int, payload: bytes,
                 flags: int = FLAG_FIN) -> bytes:
    """<FRAME-LENGTH:4> <TYPE:1> <FLAGS:4> <STREAM-ID:varint> <FRAME-ID:varint> <PAYLOAD>."""
    if not 0 <= frame_type <= 255 or not 0 <= flags < (1 << 32):
        raise SpopError(Status.UNKNOWN, "frame type or flags out of range")
    return b"".join(_frame_chunks(frame_type, stream_id, frame_id, [payload], len(payload), flags))


def _frame_chunks(frame_type: int, stream_id: int, frame_id: int, payload: list[bytes], size: int,
                  flags: int = FLAG_FIN) -> list[bytes]:
    head = bytes((frame_type,)) + _FLAGS.pack(flags) + encode_varint(stream_id) + encode_varint(frame_id)
    return [_HEADER.pack(len(head) + size) + head, *payload]


def decode_frame(frame: bytes | memoryview) -> Frame:
    """Split one frame (without its 4-byte length) into header fields and payload."""
    view = memoryview(frame)
    if len(view) < _MIN_FRAME:
        raise _invalid(f"frame of {len(view)} bytes is shorter than a frame header")
    (flags,) = _FLAGS.unpack_from(view, 1)
    stream_id, pos = decode_varint(view, 5, len(view))
    frame_id, pos = decode_varint(view, pos, len(view))
    return Frame(view[0], flags, stream_id, frame_id, view[pos:])


def ack_frame_size(stream_id: int, frame_id: int, actions: Sequence[Action]) -> int:
    """Size an ACK frame would have (excluding its 4-byte length), which must stay <= max-frame-size."""
    head = 1 + 4 + varint_size(stream_id) + varint_size(frame_id)
    return head + sum(action_size(a) for a in actions)


# --------------------------------------------------------------------------------------------------
# Events returned by AgentConnection.receive_data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """HAPROXY-HELLO received and negotiated (3.2.4). Answer with ``send_agent_hello()``.

    ``max_frame_size``/``capabilities`` are the negotiated values; ``haproxy_*`` what HAProxy offered.
    If ``healthcheck`` is set, close the connection after the answer (3.2.3).
    """

    version: str
    max_frame_size: int
    capabilities: frozenset[str]
    healthcheck: bool
    engine_id: str | None
    haproxy_versions: tuple[str, ...]
    haproxy_max_frame_size: int
    haproxy_capabilities: frozenset[str]


@dataclass(frozen=True)
class Notify:
    """A NOTIFY frame (3.2.6): answer with ``send_ack(stream_id, frame_id, actions)``."""

    stream_id: int
    frame_id: int
    messages: tuple[Message, ...]
    size: int = 0   # frame size in bytes, for logs and metrics


@dataclass(frozen=True)
class Disconnect:
    """HAPROXY-DISCONNECT (3.2.8): answer with ``send_disconnect(Status.NORMAL)``, then close."""

    status_code: int
    message: str


Event = Hello | Notify | Disconnect


class State(enum.Enum):
    AWAIT_HELLO = "await-hello"       # nothing received yet; only HAPROXY-HELLO is acceptable
    HELLO_RECEIVED = "hello-received"  # HELLO decoded, AGENT-HELLO not sent yet
    READY = "ready"                    # handshake done: NOTIFY / ACK
    CLOSED = "closed"                  # DISCONNECT sent or received, error, or healthcheck done


# --------------------------------------------------------------------------------------------------
# HELLO negotiation (3.2.4, 3.2.5, 3.2.1)
# --------------------------------------------------------------------------------------------------

_VERSION = re.compile(r"\s*(\d+)\.(\d+)\s*")


def _parse_versions(text: str) -> tuple[str, ...]:
    """Comma-separated "Major.Minor" list; spaces ignored (3.2.4). Unparseable entries are dropped."""
    out = []
    for item in text.split(","):
        match = _VERSION.fullmatch(item)
        if match:
            out.append(f"{int(match[1])}.{int(match[2])}")
    return tuple(out)


def _pick_version(offered: tuple[str, ...]) -> str:
    # "When a major version is announced by HAProxy, it means it also supports all previous minor
    # versions" (3.2.4): any 2.x offer includes 2.0, the one version we speak.
    if any(v.split(".")[0] == "2" for v in offered):
        return SPOP_VERSION
    raise SpopError(Status.BAD_VERSION, "HAProxy offers no 2.x version")


def _parse_capabilities(text: str) -> frozenset[str]:
    return frozenset(c.strip() for c in text.split(",") if c.strip())


# name -> (accepted types, status when missing; None = optional)
_HELLO_KEYS: dict[str, tuple[tuple[DataType, ...], Status | None]] = {
    "supported-versions": ((DataType.STRING,), Status.NO_VERSION),
    # HAProxy sends UINT32 but accepts any integer type in the agent's answer; be as liberal.
    "max-frame-size": (tuple(_INT_RANGES), Status.NO_FRAME_SIZE),
    "capabilities": ((DataType.STRING,), Status.NO_CAPABILITIES),
    "healthcheck": ((DataType.BOOL,), None),
    "engine-id": ((DataType.STRING,), None),
}


def _hello_items(payload: memoryview) -> dict[str, TypedData]:
    items, _ = decode_kv(payload, 0, len(payload))
    found: dict[str, TypedData] = {}
    for name, value in items:
        if not name:
            raise _invalid("HELLO item with an empty name")
        spec = _HELLO_KEYS.get(name)
        if spec is None:
            continue                       # unknown items are ignored (3.2.1: "silently ignored")
        if value.type not in spec[0]:
            raise _invalid(f"HELLO item {name} has type {value.type.name}")
        found[name] = value
    for name, (_, missing) in _HELLO_KEYS.items():
        if missing is not None and name not in found:
            raise SpopError(missing)
    return found


def negotiate_hello(payload: memoryview, our_max_frame_size: int, pipelining: bool) -> Hello:
    items = _hello_items(payload)
    versions = _parse_versions(str(items["supported-versions"].value))
    version = _pick_version(versions)
    their_max = int(items["max-frame-size"].value)   # type: ignore[arg-type]
    if their_max < MIN_FRAME_SIZE:
        raise SpopError(Status.BAD_FRAME_SIZE, f"HAProxy max-frame-size {their_max} < {MIN_FRAME_SIZE}")
    offered = _parse_capabilities(str(items["capabilities"].value))
    # pipelining is symmetrical (3.2.1): announce it only if HAProxy offered it. Never "async" (ACKs
    # must return on the connection of their NOTIFY, simpler and enough with pipelining) and never
    # "fragmentation" (HAProxy 2.6 cannot send fragments usefully and 3.1 removed them; announcing it
    # would let HAProxy split a body we then could not mask as a whole).
    caps = frozenset({"pipelining"}) if pipelining and "pipelining" in offered else frozenset()
    health = items.get("healthcheck")
    engine = items.get("engine-id")
    return Hello(
        version=version,
        max_frame_size=min(our_max_frame_size, their_max),
        capabilities=caps,
        healthcheck=bool(health.value) if health else False,
        engine_id=str(engine.value) if engine else None,
        haproxy_versions=versions,
        haproxy_max_frame_size=their_max,
        haproxy_capabilities=offered,
    )


def _parse_disconnect(payload: memoryview) -> Disconnect:
    items, _ = decode_kv(payload, 0, len(payload))
    found = dict(items)
    status, message = found.get("status-code"), found.get("message")
    bad_status = status is None or status.type not in _INT_RANGES
    if bad_status or message is None or message.type is not DataType.STRING:
        raise _invalid("HAPROXY-DISCONNECT needs status-code (integer) and message (string)")
    return Disconnect(int(status.value), str(message.value))   # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# The connection state machine (agent side)
# --------------------------------------------------------------------------------------------------


@dataclass
class AgentConnection:
    """Agent side of one SPOP connection. Feed it bytes, act on the events, write what send_* returns.

    ``max_frame_size`` is our offer in the HELLO negotiation (the effective limit is the min of both
    sides). ``pipelining`` is announced when HAProxy offers it; then several NOTIFYs may be pending and
    their ACKs may go out in any order (3.2.1).
    """

    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    pipelining: bool = True
    state: State = State.AWAIT_HELLO
    hello: Hello | None = None
    _buffer: bytearray = field(default_factory=bytearray, repr=False)
    _pending: set[tuple[int, int]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if not MIN_FRAME_SIZE <= self.max_frame_size < (1 << 32):
            raise SpopError(Status.BAD_FRAME_SIZE, f"max-frame-size must be in [{MIN_FRAME_SIZE}, 2**32)")

    # ---- limits -------------------------------------------------------------------------------

    @property
    def frame_limit(self) -> int:
        """Largest frame (without its 4-byte length) either side may send right now."""
        return self.hello.max_frame_size if self.hello else self.max_frame_size

    @property
    def pending(self) -> frozenset[tuple[int, int]]:
        """(stream-id, frame-id) of NOTIFYs not yet acknowledged."""
        return frozenset(self._pending)

    # ---- receiving ----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Consume bytes from HAProxy; return the complete events they finish.

        Raises SpopError on any protocol violation; the connection is then CLOSED and the caller
        should write ``send_disconnect(err.status, err.message)`` and close the socket.
        """
        if self.state is State.CLOSED:
            return []     # after a DISCONNECT "all other frames will be ignored" (3.2.8)
        self._buffer += data
        events: list[Event] = []
        try:
            while self.state is not State.CLOSED:
                frame = self._next_frame()
                if frame is None:
                    break
                event = self._handle(frame)
                if event is not None:
                    events.append(event)
        except SpopError:
            self._close()
            raise
        except Exception as exc:   # a bug here must still end as a protocol error, not a crash
            self._close()
            raise SpopError(Status.UNKNOWN, f"internal decoder error ({type(exc).__name__})") from None
        return events

    def _next_frame(self) -> tuple[memoryview, int] | None:
        if len(self._buffer) < 4:
            return None
        (length,) = _HEADER.unpack_from(self._buffer, 0)
        # Refuse an oversized frame from its length alone, before buffering it (3.2, status 3).
        if length > self.frame_limit:
            raise SpopError(Status.TOO_BIG, f"frame of {length} bytes > max-frame-size {self.frame_limit}")
        if len(self._buffer) < 4 + length:
            return None
        if len(self._buffer) == 4 + length:
            # The usual case (HAProxy waits for the ACK of a body): take the buffer as it is rather
            # than copy a 1 MB frame out of it.
            frame, self._buffer = self._buffer, bytearray()
            return memoryview(frame)[4:], length
        frame = self._buffer[4:4 + length]      # one copy; the buffer keeps only what follows
        del self._buffer[:4 + length]
        return memoryview(frame), length

    def _handle(self, item: tuple[memoryview, int]) -> Event | None:
        view, size = item
        frame = decode_frame(view)
        if frame.type == FrameType.UNSET or not frame.flags & FLAG_FIN:
            # We never announce "fragmentation", so a continuation frame or a first fragment is a
            # peer error (3.2, 3.2.1).
            raise SpopError(Status.FRAGMENTATION, "fragmented frame received but never announced")
        if self.state is State.AWAIT_HELLO:
            return self._on_hello(frame)
        if self.state is State.HELLO_RECEIVED:
            raise _invalid("frame received before the AGENT-HELLO was sent")
        return self._on_ready(frame, size)

    def _on_hello(self, frame: Frame) -> Hello:
        if frame.type != FrameType.HAPROXY_HELLO:
            raise _invalid(f"first frame must be HAPROXY-HELLO, got type {frame.type}")
        if frame.stream_id or frame.frame_id:
            raise _invalid("HAPROXY-HELLO must have stream-id 0 and frame-id 0")
        self.hello = negotiate_hello(frame.payload, self.max_frame_size, self.pipelining)
        self.state = State.HELLO_RECEIVED
        return self.hello

    def _on_ready(self, frame: Frame, size: int) -> Event | None:
        if frame.type == FrameType.NOTIFY:
            return self._on_notify(frame, size)
        if frame.type == FrameType.HAPROXY_DISCONNECT:
            event = _parse_disconnect(frame.payload)
            self.state = State.CLOSED
            return event
        if frame.type in (FrameType.HAPROXY_HELLO, FrameType.AGENT_HELLO, FrameType.AGENT_DISCONNECT,
                          FrameType.ACK):
            raise _invalid(f"unexpected frame type {frame.type} after the handshake")
        return None       # "Unknown frames may be silently skipped" (3.2.2)

    def _on_notify(self, frame: Frame, size: int) -> Notify:
        key = (frame.stream_id, frame.frame_id)
        if key in self._pending:
            raise SpopError(Status.INTERLACED, "NOTIFY reuses the ids of a pending NOTIFY")
        messages = decode_messages(frame.payload, 0, len(frame.payload))
        self._pending.add(key)
        # ABORT on an unfragmented frame "can be ignored" (3.2): the NOTIFY is answered as usual.
        return Notify(frame.stream_id, frame.frame_id, tuple(messages), size)

    # ---- sending ------------------------------------------------------------------------------

    def send_agent_hello(self) -> bytes:
        """AGENT-HELLO (3.2.5) with the negotiated version, max-frame-size and capabilities."""
        if self.state is not State.HELLO_RECEIVED or self.hello is None:
            raise SpopError(Status.UNKNOWN, "AGENT-HELLO only answers a HAPROXY-HELLO")
        hello = self.hello
        payload = encode_kv([
            ("version", string(hello.version)),
            ("max-frame-size", uint32(hello.max_frame_size)),
            ("capabilities", string(",".join(sorted(hello.capabilities)))),
        ])
        # A healthcheck ends with our answer (3.2.3 "AGENT-HELLO + close()").
        self.state = State.CLOSED if hello.healthcheck else State.READY
        return encode_frame(FrameType.AGENT_HELLO, 0, 0, payload)

    def send_ack(self, stream_id: int, frame_id: int, actions: Sequence[Action] = ()) -> bytes:
        """ACK (3.2.7) for a pending NOTIFY.

        Raises SpopError(TOO_BIG) if the frame would exceed the negotiated max-frame-size; the NOTIFY
        then stays pending so the caller can send a smaller ACK instead.
        """
        if self.state is not State.READY:
            raise SpopError(Status.UNKNOWN, f"cannot send ACK in state {self.state.value}")
        key = (stream_id, frame_id)
        if key not in self._pending:
            raise SpopError(Status.FRAME_ID_NOT_FOUND, "ACK for a NOTIFY that is not pending")
        size = ack_frame_size(stream_id, frame_id, actions)
        if size > self.frame_limit:
            raise SpopError(Status.TOO_BIG, f"ACK of {size} bytes > max-frame-size {self.frame_limit}")
        chunks = [c for a in actions for c in _action_chunks(a)]
        self._pending.discard(key)
        # One join for the whole frame: the masked body is copied once on its way out.
        return b"".join(_frame_chunks(FrameType.ACK, stream_id, frame_id, chunks, sum(map(len, chunks))))

    def send_disconnect(self, status: Status | int = Status.NORMAL, message: str | None = None) -> bytes:
        """AGENT-DISCONNECT (3.2.9); the caller closes the socket right after writing it."""
        status = int(status)
        if message is None:
            known = {s.value: s for s in Status}
            message = REASONS[known[status]] if status in known else ""
        payload = encode_kv([
            ("status-code", uint32(status)),
            ("message", string(_truncate_utf8(message, MAX_DISCONNECT_MESSAGE))),
        ])
        self._close()
        return encode_frame(FrameType.AGENT_DISCONNECT, 0, 0, payload)

    def _close(self) -> None:
        self.state = State.CLOSED
        self._buffer.clear()
        self._pending.clear()
