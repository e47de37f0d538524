"""Unit tests of the sans-IO SPOP codec (agent/spop/) against doc/SPOE.txt and HAProxy 2.6 behaviour."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent import spop
from agent.spop import DataType, Status
from tests.support.effort import examples
from tests.support.spop_peer import (
    decode_agent_frame,
    haproxy_disconnect_frame,
    hello_frame,
    mask_message,
    notify_frame,
    raw_frame,
)

FAST = settings(max_examples=examples(150), deadline=None)


def status_of(fn, *args) -> Status:
    with pytest.raises(spop.SpopError) as info:
        fn(*args)
    return info.value.status


def ready(max_frame_size: int = 16380, pipelining: bool = True, **hello) -> spop.AgentConnection:
    conn = spop.AgentConnection(pipelining=pipelining)
    [event] = conn.receive_data(hello_frame(max_frame_size=max_frame_size, **hello))
    assert isinstance(event, spop.Hello)
    conn.send_agent_hello()
    assert conn.state is spop.State.READY
    return conn


def agent_frame(data: bytes):
    (length,) = struct.unpack_from("!I", data)
    assert len(data) == 4 + length
    return decode_agent_frame(data[4:])


# --------------------------------------------------------------------------------------------------
# Varint
# --------------------------------------------------------------------------------------------------

BOUNDARIES = [(0, 1), (239, 1), (240, 2), (2287, 2), (2288, 3), (264431, 3), (264432, 4),
              (33818863, 4), (33818864, 5), (4328786159, 5), (4328786160, 6), (2**64 - 1, 10)]


@pytest.mark.parametrize(("value", "length"), BOUNDARIES)
def test_varint_boundaries(value: int, length: int) -> None:
    raw = spop.encode_varint(value)
    assert len(raw) == length == spop.varint_size(value)
    assert spop.decode_varint(raw, 0, len(raw)) == (value, length)


def test_varint_exact_bytes_match_haproxy() -> None:
    # Worked by hand from HAProxy's encode_varint(): 240 -> [1111 0000][0000 0000], etc.
    assert spop.encode_varint(239) == b"\xef"
    assert spop.encode_varint(240) == b"\xf0\x00"
    assert spop.encode_varint(2287) == b"\xff\x7f"
    assert spop.encode_varint(2288) == b"\xf0\x80\x00"
    assert spop.encode_varint(264432) == b"\xf0\x80\x80\x00"


@FAST
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_varint_round_trip(value: int) -> None:
    raw = spop.encode_varint(value)
    assert spop.varint_size(value) == len(raw)
    assert spop.decode_varint(b"xx" + raw + b"yy", 2, len(raw) + 4) == (value, len(raw) + 2)


@pytest.mark.parametrize("raw", [b"", b"\xf0", b"\xf0\x80", b"\xff\xff\xff"])
def test_varint_truncated(raw: bytes) -> None:
    assert status_of(spop.decode_varint, raw, 0, len(raw)) is Status.INVALID


def test_varint_too_long_or_overflowing() -> None:
    too_long = b"\xff" + b"\xff" * 10 + b"\x00"
    assert status_of(spop.decode_varint, too_long, 0, len(too_long)) is Status.INVALID
    overflow = b"\xff" + b"\xff" * 8 + b"\x7f"          # 10 bytes, value > 2**64 - 1
    assert status_of(spop.decode_varint, overflow, 0, len(overflow)) is Status.INVALID


@pytest.mark.parametrize("value", [-1, 2**64, 1.5, True])
def test_varint_encode_refuses_non_u64(value) -> None:
    assert status_of(spop.encode_varint, value) is Status.UNKNOWN


@FAST
@given(st.binary(max_size=12))
def test_varint_decoder_only_raises_spop_errors(raw: bytes) -> None:
    try:
        value, end = spop.decode_varint(raw, 0, len(raw))
    except spop.SpopError:
        return
    assert spop.encode_varint(value) == raw[:end]      # the encoding is bijective


# --------------------------------------------------------------------------------------------------
# Typed data
# --------------------------------------------------------------------------------------------------

typed_values = st.one_of(
    st.just(spop.null()),
    st.booleans().map(spop.boolean),
    st.integers(-(2**31), 2**31 - 1).map(spop.int32),
    st.integers(0, 2**32 - 1).map(spop.uint32),
    st.integers(-(2**63), 2**63 - 1).map(spop.int64),
    st.integers(0, 2**64 - 1).map(spop.uint64),
    st.integers(0, 2**32 - 1).map(lambda n: spop.ipv4(ipaddress.IPv4Address(n))),
    st.integers(0, 2**128 - 1).map(lambda n: spop.ipv6(ipaddress.IPv6Address(n))),
    st.binary(max_size=300).map(lambda b: spop.string(b.decode("utf-8", "surrogateescape"))),
    st.text(max_size=50).filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)).map(spop.string),
    st.binary(max_size=3000).map(spop.binary),
)


@FAST
@given(typed_values)
def test_typed_round_trip(value: spop.TypedData) -> None:
    raw = spop.encode_typed(value)
    assert spop.typed_size(value) == len(raw)
    assert spop.decode_typed(raw, 0, len(raw)) == (value, len(raw))


def test_every_type_has_its_wire_id() -> None:
    samples = [spop.null(), spop.boolean(True), spop.int32(1), spop.uint32(1), spop.int64(1), spop.uint64(1),
               spop.ipv4("10.0.0.1"), spop.ipv6("::1"), spop.string("s"), spop.binary(b"b")]
    assert [spop.encode_typed(v)[0] & 0x0F for v in samples] == list(range(10))
    assert spop.encode_typed(spop.boolean(True)) == b"\x11"
    assert spop.encode_typed(spop.boolean(False)) == b"\x01"
    assert spop.encode_typed(spop.ipv4("10.1.2.3")) == b"\x06\x0a\x01\x02\x03"


def test_negative_ints_travel_as_64_bit_twos_complement() -> None:
    # HAProxy decodes every integer into a 64-bit signed sample, so -1 must be 2**64 - 1 on the wire.
    assert spop.encode_typed(spop.int32(-1)) == b"\x02" + spop.encode_varint(2**64 - 1)
    assert spop.encode_typed(spop.int64(-5)) == b"\x04" + spop.encode_varint(2**64 - 5)


@pytest.mark.parametrize("raw", [
    b"\x0a",                                   # reserved type 10
    b"\x0f",                                   # reserved type 15
    b"\x22\x01",                               # flags on an INT32
    b"\x31",                                   # BOOL with an unknown flag bit
    b"\x06\x01\x02\x03",                       # truncated IPV4
    b"\x07" + b"\x00" * 15,                    # truncated IPV6
    b"\x08\x05abc",                            # STRING length past the end
    b"\x09\xf0",                               # BINARY with a truncated length varint
    b"\x02" + spop.encode_varint(2**31),       # INT32 out of range
    b"\x03" + spop.encode_varint(2**32),       # UINT32 out of range
    b"",                                       # nothing at all
])
def test_typed_decode_rejects(raw: bytes) -> None:
    assert status_of(spop.decode_typed, raw, 0, len(raw)) is Status.INVALID


@pytest.mark.parametrize(("kind", "value"), [
    (DataType.INT32, 2**31), (DataType.UINT32, -1), (DataType.UINT64, 2**64), (DataType.INT64, "1"),
    (DataType.STRING, b"bytes"), (DataType.BINARY, "text"), (DataType.BOOL, 1), (DataType.IPV4, "10.0.0.1"),
    (DataType.INT32, True),
])
def test_typed_constructor_refuses_wrong_values(kind: DataType, value) -> None:
    assert status_of(spop.TypedData, kind, value) is Status.UNKNOWN


# --------------------------------------------------------------------------------------------------
# KV lists, messages, actions
# --------------------------------------------------------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.", max_size=20)
var_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCZ0189._", min_size=1, max_size=30)


@FAST
@given(st.lists(st.tuples(names, typed_values), max_size=8))
def test_kv_round_trip(items) -> None:
    raw = spop.encode_kv(items)
    assert spop.decode_kv(raw, 0, len(raw)) == (items, len(raw))


@FAST
@given(st.lists(st.tuples(names.filter(bool), st.lists(st.tuples(names, typed_values), max_size=5)),
                max_size=4))
def test_messages_round_trip(spec) -> None:
    messages = [spop.Message(name, tuple(args)) for name, args in spec]
    raw = spop.encode_messages(messages)
    assert spop.decode_messages(raw, 0, len(raw)) == messages


actions = st.one_of(
    st.builds(spop.SetVar, st.sampled_from(list(spop.Scope)), var_names, typed_values),
    st.builds(spop.UnsetVar, st.sampled_from(list(spop.Scope)), var_names),
)


@FAST
@given(st.lists(actions, max_size=8))
def test_actions_round_trip(items) -> None:
    raw = b"".join(spop.encode_action(a) for a in items)
    assert sum(spop.action_size(a) for a in items) == len(raw)
    assert spop.decode_actions(raw, 0, len(raw)) == items


def test_set_var_and_unset_var_layout() -> None:
    # 3.4: <SET-VAR:1><NB-ARGS:3><SCOPE:1><NAME><VALUE> and <UNSET-VAR:2><NB-ARGS:2><SCOPE:1><NAME>
    assert spop.encode_action(spop.SetVar(spop.Scope.TXN, "status", spop.int32(200))) == \
        b"\x01\x03\x02\x06status\x02" + spop.encode_varint(200)
    assert spop.encode_action(spop.UnsetVar(spop.Scope.RES, "x")) == b"\x02\x02\x04\x01x"


@pytest.mark.parametrize("name", ["", "has-dash", "sp ace", "é"])
def test_var_names_haproxy_would_drop_are_refused(name: str) -> None:
    assert status_of(spop.encode_action, spop.UnsetVar(spop.Scope.TXN, name)) is Status.UNKNOWN


@pytest.mark.parametrize("raw", [
    b"\x03\x03\x02\x01x\x00",        # unknown action type
    b"\x01\x02\x02\x01x\x00",        # SET-VAR with 2 args
    b"\x01\x03\x07\x01x\x00",        # scope 7
    b"\x01\x03\x02\x05x",            # name past the end
    b"\x01\x03",                     # truncated header
    b"\x01\x03\x02\x01x",            # SET-VAR without its value
])
def test_bad_actions_rejected(raw: bytes) -> None:
    assert status_of(spop.decode_actions, raw, 0, len(raw)) is Status.INVALID


def test_message_lookup_and_unnamed_args() -> None:
    msg = spop.Message("m", (("", spop.int32(1)), ("a", spop.string("x")), ("a", spop.string("y"))))
    assert msg.get("a") == spop.string("x")
    assert msg.get("") == spop.int32(1)
    assert msg.get("missing") is None


# --------------------------------------------------------------------------------------------------
# HELLO negotiation
# --------------------------------------------------------------------------------------------------


def test_hello_negotiates_min_frame_size_and_pipelining() -> None:
    conn = spop.AgentConnection(max_frame_size=100_000)
    [hello] = conn.receive_data(hello_frame(max_frame_size=16380, capabilities="pipelining,async"))
    assert isinstance(hello, spop.Hello)
    assert (hello.version, hello.max_frame_size) == ("2.0", 16380)
    assert hello.capabilities == frozenset({"pipelining"})
    assert hello.engine_id == "test-engine" and not hello.healthcheck
    answer = agent_frame(conn.send_agent_hello())
    assert answer.type == spop.FrameType.AGENT_HELLO and (answer.stream_id, answer.frame_id) == (0, 0)
    assert answer.flags == spop.FLAG_FIN
    assert {k: v.value for k, v in answer.kv.items()} == {
        "version": "2.0", "max-frame-size": 16380, "capabilities": "pipelining"}
    assert answer.kv["max-frame-size"].type is DataType.UINT32
    assert conn.frame_limit == 16380


def test_hello_our_limit_wins_when_smaller() -> None:
    conn = spop.AgentConnection(max_frame_size=4096)
    [hello] = conn.receive_data(hello_frame(max_frame_size=16380))
    assert hello.max_frame_size == 4096


@pytest.mark.parametrize(("offered", "ours", "expected"), [
    ("pipelining,async", True, "pipelining"),
    (" async , pipelining ", True, "pipelining"),
    ("async", True, ""),
    ("", True, ""),
    ("pipelining", False, ""),
    ("fragmentation,pipelining,async", True, "pipelining"),   # never fragmentation, never async
])
def test_hello_capabilities(offered: str, ours: bool, expected: str) -> None:
    conn = spop.AgentConnection(pipelining=ours)
    conn.receive_data(hello_frame(capabilities=offered))
    assert agent_frame(conn.send_agent_hello()).kv["capabilities"].value == expected


@pytest.mark.parametrize(("versions", "ok"), [
    ("2.0", True), (" 2.0 , 1.5 ", True), ("1.0,2.0", True), ("2.1", True),
    ("1.0", False), ("3.0", False), ("x.y", False), ("", False),
])
def test_hello_versions(versions: str, ok: bool) -> None:
    conn = spop.AgentConnection()
    if ok:
        [hello] = conn.receive_data(hello_frame(versions=versions))
        assert hello.version == "2.0"
    else:
        assert status_of(conn.receive_data, hello_frame(versions=versions)) is Status.BAD_VERSION


def _hello_without(key: str) -> bytes:
    items = [("supported-versions", spop.string("2.0")), ("max-frame-size", spop.uint32(16380)),
             ("capabilities", spop.string(""))]
    payload = spop.encode_kv([i for i in items if i[0] != key])
    return spop.encode_frame(spop.FrameType.HAPROXY_HELLO, 0, 0, payload)


@pytest.mark.parametrize(("missing", "status"), [
    ("supported-versions", Status.NO_VERSION), ("max-frame-size", Status.NO_FRAME_SIZE),
    ("capabilities", Status.NO_CAPABILITIES),
])
def test_hello_missing_items(missing: str, status: Status) -> None:
    assert status_of(spop.AgentConnection().receive_data, _hello_without(missing)) is status


def test_hello_frame_size_bounds() -> None:
    too_small = hello_frame(max_frame_size=255)
    assert status_of(spop.AgentConnection().receive_data, too_small) is Status.BAD_FRAME_SIZE
    [hello] = spop.AgentConnection().receive_data(hello_frame(max_frame_size=256))
    assert hello.max_frame_size == 256


def test_hello_wrong_type_unknown_items_and_ids() -> None:
    bad_type = hello_frame(extra=(("healthcheck", spop.string("yes")),))
    assert status_of(spop.AgentConnection().receive_data, bad_type) is Status.INVALID
    extra = hello_frame(extra=(("future-item", spop.binary(b"\x00\x01")),))
    assert isinstance(spop.AgentConnection().receive_data(extra)[0], spop.Hello)
    payload = raw_frame(b"\x01" + struct.pack("!I", 1) + b"\x01\x00")     # stream-id 1
    assert status_of(spop.AgentConnection().receive_data, payload) is Status.INVALID


def test_healthcheck_hello_answers_then_closes() -> None:
    conn = spop.AgentConnection()
    [hello] = conn.receive_data(hello_frame(healthcheck=True))
    assert hello.healthcheck
    assert agent_frame(conn.send_agent_hello()).type == spop.FrameType.AGENT_HELLO
    assert conn.state is spop.State.CLOSED
    assert conn.receive_data(notify_frame(1, 1, mask_message())) == []


def test_frames_out_of_order_around_the_handshake() -> None:
    notify = notify_frame(1, 1, mask_message())
    assert status_of(spop.AgentConnection().receive_data, notify) is Status.INVALID
    conn = spop.AgentConnection()
    conn.receive_data(hello_frame())
    assert status_of(conn.receive_data, notify) is Status.INVALID              # before our AGENT-HELLO
    conn = ready()
    assert status_of(conn.receive_data, hello_frame()) is Status.INVALID       # second HELLO
    assert status_of(spop.AgentConnection().send_ack, 1, 1) is Status.UNKNOWN


# --------------------------------------------------------------------------------------------------
# NOTIFY / ACK
# --------------------------------------------------------------------------------------------------


def test_notify_is_decoded_with_named_args() -> None:
    conn = ready()
    data = notify_frame(7, 3, mask_message(b'{"a":1}', cenc=None),
                        spop.Message("other", (("", spop.ipv4("10.0.0.1")),)))
    [event] = conn.receive_data(data)
    assert isinstance(event, spop.Notify)
    assert (event.stream_id, event.frame_id, event.size) == (7, 3, len(data) - 4)
    mask, other = event.messages
    assert mask.name == "mask" and mask.get("body") == spop.binary(b'{"a":1}')
    assert mask.get("cenc") == spop.null() and mask.get("method") == spop.string("POST")
    assert other.args == (("", spop.ipv4("10.0.0.1")),)
    assert conn.pending == {(7, 3)}


def test_acks_may_go_out_of_order_and_only_once() -> None:
    conn = ready()
    conn.receive_data(notify_frame(1, 1, mask_message()) + notify_frame(2, 1, mask_message()))
    second = agent_frame(conn.send_ack(2, 1, [spop.SetVar(spop.Scope.TXN, "status", spop.int32(200))]))
    assert (second.type, second.stream_id, second.frame_id) == (spop.FrameType.ACK, 2, 1)
    assert second.vars == {"status": 200}
    assert agent_frame(conn.send_ack(1, 1)).actions == []
    assert status_of(conn.send_ack, 1, 1) is Status.FRAME_ID_NOT_FOUND


def test_duplicate_pending_ids_are_interlaced() -> None:
    conn = ready()
    conn.receive_data(notify_frame(5, 1, mask_message()))
    assert status_of(conn.receive_data, notify_frame(5, 1, mask_message())) is Status.INTERLACED


def test_ack_larger_than_negotiated_size_is_refused_and_stays_pending() -> None:
    conn = ready(max_frame_size=1024)
    conn.receive_data(notify_frame(1, 1, mask_message()))
    big = [spop.SetVar(spop.Scope.TXN, "body", spop.binary(b"x" * 1024))]
    assert spop.ack_frame_size(1, 1, big) > 1024
    assert status_of(conn.send_ack, 1, 1, big) is Status.TOO_BIG
    assert conn.pending == {(1, 1)}
    exact = [spop.SetVar(spop.Scope.TXN, "body", spop.binary(b"x" * (1024 - 7 - 3 - 5 - 1 - 2)))]
    assert spop.ack_frame_size(1, 1, exact) == 1024
    assert len(conn.send_ack(1, 1, exact)) == 1024 + 4


def test_notify_with_abort_and_fin_is_processed() -> None:
    conn = ready()
    [event] = conn.receive_data(notify_frame(1, 1, mask_message(), flags=spop.FLAG_FIN | spop.FLAG_ABORT))
    assert isinstance(event, spop.Notify)


def test_byte_by_byte_feed_gives_the_same_events() -> None:
    data = hello_frame() + notify_frame(1, 2, mask_message(b"x" * 500)) + notify_frame(3, 4, mask_message())
    whole = ready()
    expected = whole.receive_data(data[len(hello_frame()):])
    conn = spop.AgentConnection()
    events = []
    for i in range(len(data)):
        events += conn.receive_data(data[i:i + 1])
        if conn.state is spop.State.HELLO_RECEIVED:
            conn.send_agent_hello()
    assert isinstance(events[0], spop.Hello) and events[1:] == expected
    assert [(e.stream_id, e.frame_id) for e in events[1:]] == [(1, 2), (3, 4)]


def test_haproxy_must_wait_for_agent_hello() -> None:
    # 3.2.3: HAProxy sends nothing else before our AGENT-HELLO; a peer that does is not following SPOP.
    conn = spop.AgentConnection()
    assert status_of(conn.receive_data, hello_frame() + notify_frame(1, 1, mask_message())) is Status.INVALID


# --------------------------------------------------------------------------------------------------
# Malformed and forbidden frames -> the right DISCONNECT status
# --------------------------------------------------------------------------------------------------


def test_frame_too_big_is_refused_from_the_length_alone() -> None:
    conn = spop.AgentConnection(max_frame_size=1000)
    assert status_of(conn.receive_data, struct.pack("!I", 1001)) is Status.TOO_BIG
    conn = ready(max_frame_size=512)
    assert status_of(conn.receive_data, struct.pack("!I", 513)) is Status.TOO_BIG
    assert conn.state is spop.State.CLOSED


def test_fragmented_frames_are_refused() -> None:
    assert status_of(spop.AgentConnection().receive_data, hello_frame(flags=0)) is Status.FRAGMENTATION
    conn = ready()
    assert status_of(conn.receive_data, notify_frame(1, 1, mask_message(), flags=0)) is Status.FRAGMENTATION
    conn = ready()
    unset = spop.encode_frame(spop.FrameType.UNSET, 1, 1, b"more")
    assert status_of(conn.receive_data, unset) is Status.FRAGMENTATION


def _notify_payload(payload: bytes) -> bytes:
    return spop.encode_frame(spop.FrameType.NOTIFY, 1, 1, payload)


@pytest.mark.parametrize("data", [
    raw_frame(b""),                                       # empty frame
    raw_frame(b"\x03\x00\x00\x00\x01\x01"),               # 6 bytes: no frame-id
    raw_frame(b"\x03\x00\x00\x00\x01\xf0"),               # truncated stream-id varint
    _notify_payload(b"\x04mask"),                         # message without NB-ARGS
    _notify_payload(b"\x09mask"),                         # message name past the end
    _notify_payload(b"\x00\x00"),                         # empty message name
    _notify_payload(b"\x04mask\x02\x04body\x09\x05ab"),   # second arg missing, body truncated
    _notify_payload(b"\x04mask\x01\x04body\x0a"),         # reserved data type
    _notify_payload(b"\x04mask\x01\xf0"),                 # bad varint for an arg name
    spop.encode_frame(spop.FrameType.ACK, 1, 1, b""),     # an agent frame type sent to the agent
    spop.encode_frame(spop.FrameType.HAPROXY_DISCONNECT, 0, 0,           # DISCONNECT without status-code
                      spop.encode_kv([("message", spop.string("x"))])),
])
def test_malformed_frames_are_invalid(data: bytes) -> None:
    conn = ready()
    assert status_of(conn.receive_data, data) is Status.INVALID
    assert conn.state is spop.State.CLOSED and conn.receive_data(b"anything") == []


def test_unknown_frame_types_are_skipped() -> None:
    conn = ready()
    skipped = spop.encode_frame(50, 0, 0, b"whatever")
    assert conn.receive_data(skipped + notify_frame(1, 1, mask_message()))[0].stream_id == 1


def test_error_details_never_quote_the_payload() -> None:
    conn = ready()
    secret = b"123456789012"
    broken = _notify_payload(b"\x04mask\x01\x04body\x09" + spop.encode_varint(100) + secret)
    with pytest.raises(spop.SpopError) as info:
        conn.receive_data(broken)
    assert secret.decode() not in info.value.message and "123456" not in str(info.value)


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=200))
def test_garbage_after_handshake_only_raises_spop_errors(data: bytes) -> None:
    conn = ready()
    try:
        conn.receive_data(struct.pack("!I", len(data)) + data)
    except spop.SpopError as err:
        assert "internal decoder error" not in err.message     # a real decoding path, not the safety net


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=300))
def test_garbage_before_handshake_only_raises_spop_errors(data: bytes) -> None:
    try:
        spop.AgentConnection().receive_data(data)
    except spop.SpopError as err:
        assert "internal decoder error" not in err.message


# --------------------------------------------------------------------------------------------------
# DISCONNECT
# --------------------------------------------------------------------------------------------------


def test_haproxy_disconnect_event_then_frames_are_ignored() -> None:
    conn = ready()
    [event] = conn.receive_data(haproxy_disconnect_frame(2, "a timeout occurred"))
    assert event == spop.Disconnect(2, "a timeout occurred")
    assert conn.state is spop.State.CLOSED
    assert conn.receive_data(notify_frame(1, 1, mask_message())) == []


@pytest.mark.parametrize("status", list(Status))
def test_agent_disconnect_carries_status_and_spec_message(status: Status) -> None:
    frame = agent_frame(spop.AgentConnection().send_disconnect(status))
    assert frame.type == spop.FrameType.AGENT_DISCONNECT and (frame.stream_id, frame.frame_id) == (0, 0)
    assert frame.status == status and frame.kv["status-code"].type is DataType.UINT32
    assert frame.kv["message"].value == spop.REASONS[status]


def test_disconnect_message_is_cut_to_255_bytes() -> None:
    frame = agent_frame(spop.AgentConnection().send_disconnect(4, "é" * 300))
    assert len(frame.kv["message"].value.encode()) <= 255
    err = spop.SpopError(Status.INVALID, "x" * 400)
    assert len(err.message.encode()) == 255


def test_status_codes_match_the_spec() -> None:
    assert {s.name: int(s) for s in Status} == {
        "NORMAL": 0, "IO_ERROR": 1, "TIMEOUT": 2, "TOO_BIG": 3, "INVALID": 4, "NO_VERSION": 5,
        "NO_FRAME_SIZE": 6, "NO_CAPABILITIES": 7, "BAD_VERSION": 8, "BAD_FRAME_SIZE": 9,
        "FRAGMENTATION": 10, "INTERLACED": 11, "FRAME_ID_NOT_FOUND": 12, "RESOURCE": 13, "UNKNOWN": 99}
