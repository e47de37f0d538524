"""Test helper: plays HAProxy's side of SPOP (builds HELLO/NOTIFY/DISCONNECT, reads agent frames).

Built from the primitives of ``agent.spop`` so the tests exercise the real encoders, plus a raw
asyncio client that talks to a live agent over a socket.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from agent import spop
from agent.service.headers import encode_hdrs_bin


def hello_frame(versions: str = "2.0", max_frame_size: int = 16380, capabilities: str = "pipelining,async",
                healthcheck: bool | None = None, engine_id: str | None = "test-engine",
                extra: tuple[tuple[str, spop.TypedData], ...] = (), flags: int = spop.FLAG_FIN) -> bytes:
    items: list[tuple[str, spop.TypedData]] = [
        ("supported-versions", spop.string(versions)),
        ("max-frame-size", spop.uint32(max_frame_size)),
        ("capabilities", spop.string(capabilities)),
    ]
    if healthcheck is not None:
        items.append(("healthcheck", spop.boolean(healthcheck)))
    if engine_id is not None:
        items.append(("engine-id", spop.string(engine_id)))
    items.extend(extra)
    return spop.encode_frame(spop.FrameType.HAPROXY_HELLO, 0, 0, spop.encode_kv(items), flags)


def mask_message(body: bytes | None = b"{}", method: str = "POST", path: str = "/v1/messages",
                 ctype: str | None = "application/json", cenc: str | None = None,
                 headers: list[tuple[str, str]] | None = None) -> spop.Message:
    """A ``mask`` message as haproxy/spoe-mask.conf sends it (absent headers arrive as NULL).
    ``headers``: what ``hdrs`` (req.hdrs_bin) carries; none by default."""
    def text(value: str | None) -> spop.TypedData:
        return spop.null() if value is None else spop.string(value)
    hdrs = encode_hdrs_bin([(n.encode(), v.encode()) for n, v in headers or []])
    return spop.Message("mask", (
        ("method", text(method)), ("path", text(path)), ("ctype", text(ctype)), ("cenc", text(cenc)),
        ("hdrs", spop.binary(hdrs)), ("body", spop.null() if body is None else spop.binary(body)),
    ))


def notify_frame(stream_id: int, frame_id: int, *messages: spop.Message, flags: int = spop.FLAG_FIN) -> bytes:
    payload = spop.encode_messages(messages)
    return spop.encode_frame(spop.FrameType.NOTIFY, stream_id, frame_id, payload, flags)


def haproxy_disconnect_frame(status: int = 0, message: str = "normal") -> bytes:
    payload = spop.encode_kv([("status-code", spop.uint32(status)), ("message", spop.string(message))])
    return spop.encode_frame(spop.FrameType.HAPROXY_DISCONNECT, 0, 0, payload)


def raw_frame(body: bytes) -> bytes:
    """A frame with the given bytes after the length, for malformed-frame tests."""
    return struct.pack("!I", len(body)) + body


@dataclass
class AgentFrame:
    type: int
    flags: int
    stream_id: int
    frame_id: int
    kv: dict[str, spop.TypedData] | None = None
    actions: list[spop.Action] | None = None

    @property
    def vars(self) -> dict[str, object]:
        """ACK set-var values by name (for assertions)."""
        return {a.name: a.value.value for a in self.actions or [] if isinstance(a, spop.SetVar)}

    @property
    def status(self) -> int:
        assert self.kv is not None
        return int(self.kv["status-code"].value)   # type: ignore[arg-type]


def decode_agent_frame(frame: bytes) -> AgentFrame:
    f = spop.decode_frame(frame)
    out = AgentFrame(f.type, f.flags, f.stream_id, f.frame_id)
    if f.type == spop.FrameType.ACK:
        out.actions = spop.decode_actions(f.payload, 0, len(f.payload))
    else:
        items, _ = spop.decode_kv(f.payload, 0, len(f.payload))
        out.kv = dict(items)
    return out


def split_frames(data: bytes) -> tuple[list[AgentFrame], bytes]:
    frames = []
    while len(data) >= 4:
        (length,) = struct.unpack_from("!I", data)
        if len(data) < 4 + length:
            break
        frames.append(decode_agent_frame(data[4:4 + length]))
        data = data[4 + length:]
    return frames, data


class RawClient:
    """A bare socket client speaking SPOP as HAProxy would, against a live agent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host: str, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    @classmethod
    async def connect_unix(cls, path: str) -> RawClient:
        reader, writer = await asyncio.open_unix_connection(path)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_frame(self, timeout: float = 5.0) -> AgentFrame | None:
        """The next agent frame, or None when the agent closed the connection."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(4), timeout)
            (length,) = struct.unpack("!I", head)
            body = await asyncio.wait_for(self.reader.readexactly(length), timeout)
        except asyncio.IncompleteReadError:
            return None
        return decode_agent_frame(body)

    async def at_eof(self, timeout: float = 5.0) -> bool:
        try:
            data = await asyncio.wait_for(self.reader.read(1), timeout)
        except ConnectionResetError:
            return True
        return data == b""

    async def handshake(self, **hello: object) -> AgentFrame:
        await self.send(hello_frame(**hello))   # type: ignore[arg-type]
        frame = await self.read_frame()
        assert frame is not None and frame.type == spop.FrameType.AGENT_HELLO, frame
        return frame

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
