"""Frame, scope, action and data type constants (SPOE.txt 3.2, 3.4)."""

from __future__ import annotations

import enum
import struct

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
