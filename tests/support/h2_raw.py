"""A minimal HTTP/2 client over TLS for what curl and the SDKs cannot send: request trailers (a
HEADERS frame after the DATA frames). One request per connection, HPACK literals only (no Huffman,
no dynamic table), enough to read the response status HAProxy sends."""

from __future__ import annotations

import socket
import ssl
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, SETTINGS, PING, GOAWAY, RST_STREAM, WINDOW_UPDATE = 0x0, 0x1, 0x4, 0x6, 0x7, 0x3, 0x8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
# HPACK static table entries for :status (RFC 7541, appendix A).
STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out, value = bytearray([first | limit]), value - limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack(headers: list[tuple[str, str]]) -> bytes:
    """Every field as "literal never indexed, new name" with raw (not Huffman) strings."""
    out = b""
    for name, value in headers:
        n, v = name.encode(), value.encode()
        out += b"\x10" + _int(len(n), 7) + n + _int(len(v), 7) + v
    return out


def _status(block: bytes) -> int | None:
    if not block:
        return None
    first = block[0]
    if first & 0x80:
        return STATIC_STATUS.get(first & 0x7F)
    if first & 0xC0 == 0x40 and 8 <= first & 0x3F <= 14 or first & 0xF0 in (0x00, 0x10) and 8 <= first & 0x0F <= 14:
        length = block[1]
        if not length & 0x80:          # raw string
            return int(block[2:2 + length])
    return None


def request(port: int, cafile: str, method: str, path: str, headers: list[tuple[str, str]],
            body: bytes, trailers: list[tuple[str, str]] | None = None,
            host: str = "localhost", timeout: float = 15.0, authority: str | None = None
            ) -> tuple[int | None, bytes]:
    """Send one request on stream 1 (body in 16 KiB DATA frames, then ``trailers`` if any) and
    return (status or None, response body). ``authority``: the :authority if not ``host``."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as s:
        assert s.selected_alpn_protocol() == "h2"
        pseudo = [(":method", method), (":scheme", "https"), (":authority", authority or host), (":path", path)]
        out = PREFACE + frame(SETTINGS, 0, 0)
        last = not body and not trailers
        out += frame(HEADERS, END_HEADERS | (END_STREAM if last else 0), 1, hpack(pseudo + headers))
        for i in range(0, len(body), 16384):
            piece = body[i:i + 16384]
            end = i + 16384 >= len(body) and not trailers
            out += frame(DATA, END_STREAM if end else 0, 1, piece)
        if trailers:
            out += frame(HEADERS, END_HEADERS | END_STREAM, 1, hpack(trailers))
        s.sendall(out)
        status, data, buf = None, b"", b""
        while True:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionError, ssl.SSLError):
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 9:
                length = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + length:
                    break
                kind, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                payload, buf = buf[9:9 + length], buf[9 + length:]
                if kind == SETTINGS and not flags & ACK:
                    s.sendall(frame(SETTINGS, ACK, 0))
                elif kind == HEADERS and stream == 1 and status is None:
                    status = _status(payload)
                elif kind == DATA and stream == 1:
                    data += payload
                if stream == 1 and flags & END_STREAM and kind in (DATA, HEADERS) or kind in (GOAWAY, RST_STREAM):
                    return status, data
        return status, data
