"""The variable-length integer encoding of SPOP (SPOE.txt 3.1)."""

from __future__ import annotations

from agent.spop._errors import SpopError, Status, _invalid

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
