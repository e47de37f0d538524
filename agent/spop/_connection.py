"""Events and the agent-side connection state machine: the codec's one glue class."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.spop._constants import (
    _HEADER,
    DEFAULT_MAX_FRAME_SIZE,
    FLAG_FIN,
    MIN_FRAME_SIZE,
    SPOP_VERSION,
    DataType,
    FrameType,
)
from agent.spop._errors import MAX_DISCONNECT_MESSAGE, REASONS, SpopError, Status, _invalid, _truncate_utf8
from agent.spop._frames import Frame, _frame_chunks, ack_frame_size, decode_frame, encode_frame
from agent.spop._messages import Action, Message, _action_chunks, decode_kv, decode_messages, encode_kv
from agent.spop._typed import _INT_RANGES, TypedData, string, uint32

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
