"""Typed data: the values carried in KV lists (SPOE.txt 3.1)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from agent.spop._constants import DataType
from agent.spop._errors import SpopError, Status, _invalid
from agent.spop._varint import _U64, decode_varint, encode_varint, varint_size

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
