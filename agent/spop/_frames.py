"""Frame envelope: length, type, flags, stream and frame ids (SPOE.txt 3.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.spop._constants import _FLAGS, _HEADER, _MIN_FRAME, FLAG_FIN
from agent.spop._errors import SpopError, Status, _invalid
from agent.spop._messages import Action, action_size
from agent.spop._varint import decode_varint, encode_varint, varint_size

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
