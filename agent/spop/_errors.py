"""Status codes and the one exception of the codec (SPOE.txt 3.5)."""

from __future__ import annotations

import enum

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
