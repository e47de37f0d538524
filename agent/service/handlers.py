"""The SPOE ``mask`` message handler: NOTIFY arguments in, ACK variables out (docs/CONTRACT.md).

Also here: ``MaskerHolder`` (the current masking engine, swapped atomically on SIGHUP reload),
``Metrics`` (in-process counters) and the one structured log line per request.

Nothing in this module ever writes a body byte or an original identifier anywhere: log lines carry
sizes, counts, kinds and a sanitised path; error messages are fixed texts or the engine's
``MaskRefused.message`` (whose contract forbids identifiers); exceptions are logged by type only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agent import spop
from agent.engine import restore_map
from agent.engine.memo import Memo
from agent.engine.results import MaskRefused, MaskResult
from agent.service import headers as hdrs
from agent.service.metrics import ENTRY_BUCKETS, SIZE_BUCKETS, TIME_BUCKETS, Histogram

log = logging.getLogger("agent.service.handlers")
request_log = logging.getLogger("agent.request")

UINT32_MAX = (1 << 32) - 1
CHECKED_MEMO_SIZE = 1024     # distinct header / URL texts remembered (one entry is two ints and a small dict)


def _alone() -> int:
    return 1


@dataclass(frozen=True)
class RequestContext:
    """What a handler knows about the NOTIFY it answers (the ACK must fit ``max_frame_size``).

    ``in_flight()``: NOTIFYs this process has received and not yet answered, this one included."""

    stream_id: int
    frame_id: int
    max_frame_size: int
    in_flight: Callable[[], int] = _alone


Handler = Callable[[spop.Message, RequestContext], Awaitable[list[spop.Action]]]


class MaskerLike(Protocol):
    def mask_body(self, body: bytes, content_type: str | None, parallel: bool = False) -> MaskResult: ...


# --------------------------------------------------------------------------------------------------
# Masker holder: the engine currently in use, reloadable
# --------------------------------------------------------------------------------------------------


def load_masker(key_file: str | Path, packs_dir: str | Path | None, detect_helper_min_bytes: int = 0) -> MaskerLike:
    """Build the real engine (with a detection helper process for bodies of at least
    ``detect_helper_min_bytes``; 0: none). Imported lazily: the server and its tests do not need it."""
    from agent.engine.masker import Masker  # lazy on purpose: only the real server needs it
    masker = Masker.load(key_file, packs_dir)
    if detect_helper_min_bytes > 0:
        masker.start_detect_helper(min_bytes=detect_helper_min_bytes)
    return masker


class MaskerHolder:
    """Holds the masker in use. ``reload()`` builds a new one and swaps it in one assignment.

    A request takes ``holder.current`` once when it starts, so requests in flight finish on the
    engine they started with; a failed reload keeps the previous engine and logs why.
    """

    def __init__(self, loader: Callable[[], MaskerLike]):
        self._loader = loader
        self._current = loader()          # a broken config at start-up is fatal: let it raise
        self.generation = 1

    @property
    def current(self) -> MaskerLike:
        return self._current

    def reload(self) -> bool:
        try:
            new = self._loader()
        except Exception as exc:          # any config problem: keep serving with the old engine
            # Config errors name a file and line (pack files, key file path), never request data.
            reason = f"{type(exc).__name__}: {str(exc)[:300]}"
            log.error("reload failed; still using the previous detector packs",
                      extra={"fields": {"event": "reload", "ok": False, "reason": reason,
                                        "generation": self.generation}})
            return False
        old, self._current = self._current, new
        self.generation += 1
        _close(old)
        log.info("reloaded detector packs", extra={"fields": {"event": "reload", "ok": True,
                                                              "generation": self.generation}})
        return True

    def close(self) -> None:
        _close(self._current)


def _close(masker: MaskerLike) -> None:
    """Stop what an engine runs besides itself (its detection helper); a request still using it
    then finds the helper gone and detects in the agent."""
    close = getattr(masker, "close", None)
    if close is not None:
        close()


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------


@dataclass
class Metrics:
    """In-process counters. Labels are statuses, causes and identifier kinds: never values."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)          # by cause, status != 200
    identifiers: Counter[str] = field(default_factory=Counter)     # by kind
    unknown_messages: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    mask_us_total: int = 0
    reloads: Counter[str] = field(default_factory=Counter)          # "ok" / "failed"
    detected_by: Counter[str] = field(default_factory=Counter)      # agent / helper / ..._failure
    mask_seconds: Histogram = field(default_factory=lambda: Histogram(TIME_BUCKETS))
    body_bytes: Histogram = field(default_factory=lambda: Histogram(SIZE_BUCKETS))
    map_entries: Histogram = field(default_factory=lambda: Histogram(ENTRY_BUCKETS))
    map_bytes: Histogram = field(default_factory=lambda: Histogram(SIZE_BUCKETS))

    def observe(self, outcome: Outcome) -> None:
        self.requests += 1
        self.by_status[outcome.status] += 1
        if outcome.status != 200:
            self.errors[outcome.cause] += 1
        self.identifiers.update(outcome.counts)
        self.bytes_in += outcome.bytes_in
        self.bytes_out += outcome.bytes_out
        self.mask_us_total += outcome.mask_us
        self.body_bytes.observe(outcome.bytes_in)
        if outcome.cause != "bad_args":
            self.mask_seconds.observe(outcome.mask_us / 1e6)
        if outcome.status == 200:
            self.detected_by[outcome.detected_by] += 1
            self.map_entries.observe(outcome.map_entries)
            self.map_bytes.observe(outcome.map_bytes)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "errors": dict(sorted(self.errors.items())),
            "identifiers": dict(sorted(self.identifiers.items())),
            "unknown_messages": self.unknown_messages,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "mask_us_total": self.mask_us_total,
        }


# --------------------------------------------------------------------------------------------------
# Log line helpers
# --------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,40}")

# The paths a log line may show, as route templates (haproxy/log-paths.map is the same table for
# HAProxy's log line; tests/integration/test_logs.py checks they agree). A path can carry anything a client put
# there (a file id, an instance id, an ARN), so a path is logged only as one of these templates,
# where every variable segment is "{id}", and any other path as "other".
LOG_ROUTES: tuple[tuple[str, str], ...] = (
    (r"^/v1/messages$", "/v1/messages"),
    (r"^/v1/messages/count_tokens$", "/v1/messages/count_tokens"),
    (r"^/v1/messages/batches$", "/v1/messages/batches"),
    (r"^/v1/messages/batches/[^/]+$", "/v1/messages/batches/{id}"),
    (r"^/v1/messages/batches/[^/]+/results$", "/v1/messages/batches/{id}/results"),
    (r"^/v1/messages/batches/[^/]+/cancel$", "/v1/messages/batches/{id}/cancel"),
    (r"^/v1/models$", "/v1/models"),
    (r"^/v1/models/[^/]+$", "/v1/models/{id}"),
    (r"^/v1/files$", "/v1/files"),
    (r"^/v1/files/[^/]+$", "/v1/files/{id}"),
    (r"^/v1/files/[^/]+/content$", "/v1/files/{id}/content"),
    (r"^/v1/complete$", "/v1/complete"),
    (r"^/v1/chat/completions$", "/v1/chat/completions"),
    (r"^/api/event_logging/batch$", "/api/event_logging/batch"),
    (r"^/api/hello$", "/api/hello"),
    (r"^/api/claude_code/metrics$", "/api/claude_code/metrics"),
    (r"^/api/oauth/[^/]+$", "/api/oauth/{id}"),
    (r"^/api/[a-z_]+$", "/api/{id}"),
)
_LOG_ROUTES = [(re.compile(rx), template) for rx, template in LOG_ROUTES]


def safe_path(path: str | None) -> str:
    """The route template of ``path`` (``/v1/files/{id}``), or ``other``: never a client's segment."""
    if not path:
        return ""
    path = path.split("?", 1)[0]
    for rx, template in _LOG_ROUTES:
        if rx.search(path):
            return template
    return "other"


def safe_method(method: str | None) -> str:
    return method if method and re.fullmatch(r"[A-Z]{1,16}", method) else "OTHER"


def safe_token(text: str) -> str:
    return text if _TOKEN.fullmatch(text) else "other"


def kinds_string(counts: dict[str, int]) -> str:
    """``kind=n,kind=n`` sorted by kind, zero counts dropped (CONTRACT.md ``kinds``)."""
    return ",".join(f"{safe_token(k)}={n}" for k, n in sorted(counts.items()) if n > 0)


@dataclass
class Outcome:
    """Everything the log line and the metrics say about one request."""

    method: str = "OTHER"
    path: str = ""
    status: int = 500
    bytes_in: int = 0
    bytes_out: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    mask_us: int = 0
    cause: str = "masked"
    map_entries: int = 0
    map_bytes: int = 0
    detected_by: str = "agent"

    def log(self) -> None:
        request_log.info("request", extra={"fields": {
            "event": "request", "method": self.method, "path": self.path, "status": self.status,
            "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
            "count": sum(self.counts.values()), "kinds": kinds_string(self.counts),
            "mask_us": self.mask_us, "cause": self.cause, "detected_by": self.detected_by,
        }})


# --------------------------------------------------------------------------------------------------
# The handler
# --------------------------------------------------------------------------------------------------

TXN = spop.Scope.TXN

MSG_COMPRESSED = ("aws-mask-gateway: compressed request bodies cannot be inspected, so this one was not "
                  "forwarded. Send the body uncompressed (Content-Encoding: identity or no header).")
MSG_INTERNAL = ("aws-mask-gateway: the masking agent failed on this request, so it was not forwarded. "
                "The agent log names the error type (never the body).")
MSG_BAD_ARGS = ("aws-mask-gateway: the gateway sent the masking agent a malformed 'mask' message, so the "
                "request was not forwarded. Check haproxy/spoe-mask.conf against docs/CONTRACT.md.")


class BadArgs(Exception):
    """The NOTIFY did not carry the arguments CONTRACT.md lists (a configuration error)."""


def _arg_str(msg: spop.Message, name: str) -> str | None:
    data = msg.get(name)
    if data is None or data.type is spop.DataType.NULL:
        return None
    if data.type is not spop.DataType.STRING:
        raise BadArgs(name)
    return str(data.value)


def _arg_headers(msg: spop.Message) -> list[tuple[bytes, bytes]]:
    """Every request header (``hdrs``, HAProxy's ``req.hdrs_bin``). Required: without it the
    headers could not be inspected, so a configuration that forgets it fails closed."""
    data = msg.get("hdrs")
    if data is None or data.type is not spop.DataType.BINARY:
        raise BadArgs("hdrs")
    assert isinstance(data.value, bytes)
    try:
        return hdrs.parse_hdrs_bin(data.value)
    except hdrs.BadHeaders as exc:
        raise BadArgs("hdrs") from exc


def _arg_body(msg: spop.Message) -> bytes:
    data = msg.get("body")
    if data is None:
        raise BadArgs("body")
    if data.type is spop.DataType.NULL:      # req.body of a request without a body
        return b""
    if data.type is not spop.DataType.BINARY:
        raise BadArgs("body")
    assert isinstance(data.value, bytes)
    return data.value


# A URL made only of these segments, without a query string, cannot hold an identifier.
_PLAIN_URL_PATH = re.compile(r"(?:/(?:[a-z_]{1,40}|v\d{1,2}))*/?")
MSG_HEADER_CREDENTIAL = ("aws-mask-gateway: a request header carries an AWS credential ({kinds}: an IAM access "
                         "key id or an Amazon Bedrock API key). AWS credentials never leave through the "
                         "gateway, in any header (x-api-key and authorization included), so this request "
                         "was not forwarded. Use an Anthropic API key.")
MSG_HEADER = ("aws-mask-gateway: a request header contains what looks like an AWS identifier ({kinds}). "
              "Only request bodies are masked, so this request was not forwarded; remove the identifier "
              "from the header (e.g. a debug or tracing header) or put it in the body instead.")
MSG_URL = ("aws-mask-gateway: the URL (path or query string) contains what looks like an AWS identifier "
           "({kinds}). Only request bodies are masked, so this request was not forwarded; put the "
           "identifier in the body instead.")


def url_text(path: str | None, query: str | None) -> bytes:
    """The path and query string as one text for the engine to search, as sent and percent-decoded;
    empty when the path is made of plain segments and there is no query.

    The URL is not masked (its pseudonyms could not be restored into anything); a URL that carries
    an identifier is refused. Anthropic's API only puts its own object ids there (``msgbatch_...``)
    and ``?beta=true``, so this costs nothing for real clients."""
    path, query = path or "", query or ""
    if not query and _PLAIN_URL_PATH.fullmatch(path):
        return b""
    views = [path, urllib.parse.unquote(path), urllib.parse.unquote(urllib.parse.unquote(path)),
             query, urllib.parse.unquote_plus(query), urllib.parse.unquote_plus(urllib.parse.unquote_plus(query))]
    return "\n".join(dict.fromkeys(v.replace("&", "\n") for v in views)).encode("utf-8", "surrogateescape")


def is_identity(cenc: str | None) -> bool:
    """True when Content-Encoding is absent, empty or only ``identity`` tokens."""
    if not cenc:
        return True
    return all(token.strip().lower() in ("", "identity") for token in cenc.split(","))


def error_actions(status: int, error_type: str, message: str, mask_us: int) -> list[spop.Action]:
    return [
        spop.SetVar(TXN, "status", spop.int32(status)),
        spop.SetVar(TXN, "error_type", spop.string(error_type)),
        spop.SetVar(TXN, "error", spop.string(message)),
        spop.SetVar(TXN, "mask_us", spop.uint32(min(mask_us, UINT32_MAX))),
    ]


def success_actions(body: bytes, map_bytes: bytes, counts: dict[str, int], mask_us: int) -> list[spop.Action]:
    # The SHA-256 that hop 2 (haproxy.cfg fe_verify) demands of the outgoing body, taken over the
    # bytes this agent masked: HAProxy then hashes the body once (hop 2) instead of twice
    # (1 MB: ~0.5 ms of HAProxy's time; hashlib here runs the same SHA-NI code).
    return [
        spop.SetVar(TXN, "status", spop.int32(200)),
        spop.SetVar(TXN, "body", spop.binary(body)),
        spop.SetVar(TXN, "sha256", spop.string(hashlib.sha256(body).hexdigest())),
        spop.SetVar(TXN, "map", spop.binary(map_bytes)),
        spop.SetVar(TXN, "count", spop.uint32(min(sum(counts.values()), UINT32_MAX))),
        spop.SetVar(TXN, "kinds", spop.string(kinds_string(counts))),
        spop.SetVar(TXN, "mask_us", spop.uint32(min(mask_us, UINT32_MAX))),
    ]


def too_large_message(needed: int, limit: int) -> str:
    return (f"aws-mask-gateway: the masked request needs a {needed}-byte reply from the masking agent but "
            f"the SPOE frame limit (max-frame-size) is {limit} bytes, so it was not forwarded. Raise "
            f"GATEWAY_MAX_BODY (buffer and frame size follow it) or send a smaller request.")


class MaskHandler:
    """Handles SPOE message ``mask``: masks the body with the current engine, answers CONTRACT.md vars.

    Masking is CPU-bound and runs right here, in the event loop thread. A thread pool would not run
    it in parallel (the engine holds the GIL) and would only add hand-offs; the agent scales with
    processes instead. Before masking, the handler yields once so that frames already received are
    read and queued, and the loop never runs more than one body's masking without a break.
    """

    def __init__(self, holder: MaskerHolder, metrics: Metrics | None = None):
        self.holder = holder
        self.metrics = metrics if metrics is not None else Metrics()
        # What the engine found in a header or URL text, by engine generation and the text's private
        # key (memo.py: no original kept): a client sends the same headers and URL on every request,
        # and searching them cost the agent ~0.15 ms of each (17 % of its time per 1 KB request).
        self._checked: Memo[dict[str, int]] = Memo(CHECKED_MEMO_SIZE)

    async def __call__(self, msg: spop.Message, ctx: RequestContext) -> list[spop.Action]:
        await asyncio.sleep(0)
        outcome = Outcome()
        actions = self._handle(msg, ctx, outcome)
        self.metrics.observe(outcome)
        outcome.log()
        return actions

    def _handle(self, msg: spop.Message, ctx: RequestContext, out: Outcome) -> list[spop.Action]:
        try:
            path, query = _arg_str(msg, "path"), _arg_str(msg, "query")
            out.method, out.path = safe_method(_arg_str(msg, "method")), safe_path(path)
            ctype, cenc, body = _arg_str(msg, "ctype"), _arg_str(msg, "cenc"), _arg_body(msg)
            headers = _arg_headers(msg)
        except BadArgs as exc:
            log.error("mask message lacks a valid argument", extra={"fields": {"argument": str(exc)}})
            return self._refuse(out, 500, "api_error", MSG_BAD_ARGS, "bad_args")
        out.bytes_in = len(body)
        # Every coding of every Content-Encoding header ("gzip, identity" is gzip), not only the
        # last one HAProxy's req.hdr() returns in cenc.
        if not is_identity(cenc) or any(c != "identity" for c in hdrs.content_codings(headers)):
            return self._refuse(out, 415, "invalid_request_error", MSG_COMPRESSED, "compressed")
        credentials = hdrs.aws_credentials(headers)
        if credentials:
            return self._refuse(out, 400, "invalid_request_error",
                                MSG_HEADER_CREDENTIAL.format(kinds=kinds_string(credentials)), "credential_in_header")
        for where, text, message, cause in (
                ("header", hdrs.forwarded_text(headers), MSG_HEADER, "identifier_in_header"),
                ("URL", url_text(path, query), MSG_URL, "identifier_in_url")):
            try:
                kinds = self._kinds_in(text)
            except Exception as exc:     # its text may quote the header or URL: log the type only
                log.error(f"{where} check failed", extra={"fields": {"exception": type(exc).__name__}})
                return self._refuse(out, 500, "api_error", MSG_INTERNAL, "exception")
            if kinds:
                return self._refuse(out, 400, "invalid_request_error", message.format(kinds=kinds_string(kinds)), cause)
        return self._mask(body, ctype or None, ctx, out)

    def _kinds_in(self, text: bytes) -> dict[str, int]:
        """Kinds and counts of identifiers the current engine finds in a header or URL text."""
        if not text:
            return {}
        # the text as str: memo.private_key's second hash only differs from its first for str parts
        key, kinds = self._checked.get((self.holder.generation, text.decode("latin-1")))
        if kinds is None:
            counts = self.holder.current.mask_body(text, "text/plain").counts
            kinds = self._checked.put(key, {k: int(n) for k, n in counts.items() if n})
        return kinds

    def _mask(self, body: bytes, ctype: str | None, ctx: RequestContext, out: Outcome) -> list[spop.Action]:
        masker = self.holder.current          # one engine for the whole request, even across a reload
        start = time.perf_counter_ns()
        try:
            # A second core helps only when no other request waits here for this one's core.
            result = masker.mask_body(body, ctype, parallel=ctx.in_flight() <= 1)
            map_bytes = restore_map.encode(result.restore_map)
        except MaskRefused as refused:
            out.mask_us = _elapsed_us(start)
            return self._refuse(out, refused.status, refused.error_type, refused.message,
                                f"refused_{safe_token(refused.cause)}")
        except Exception as exc:     # the exception text may quote the body: log its type only
            out.mask_us = _elapsed_us(start)
            log.error("masking failed", extra={"fields": {"exception": type(exc).__name__}})
            return self._refuse(out, 500, "api_error", MSG_INTERNAL, "exception")
        out.mask_us = _elapsed_us(start)
        counts = {k: int(v) for k, v in result.counts.items()}
        actions = success_actions(result.body, map_bytes, counts, out.mask_us)
        needed = spop.ack_frame_size(ctx.stream_id, ctx.frame_id, actions)
        if needed > ctx.max_frame_size:
            return self._refuse(out, 413, "request_too_large", too_large_message(needed, ctx.max_frame_size),
                                "ack_too_large")
        out.status, out.bytes_out, out.counts, out.cause = 200, len(result.body), counts, "masked"
        out.map_entries, out.map_bytes = len(result.restore_map), len(map_bytes)
        out.detected_by = result.detected_by
        return actions

    @staticmethod
    def _refuse(out: Outcome, status: int, error_type: str, message: str, cause: str) -> list[spop.Action]:
        out.status, out.cause = status, cause
        return error_actions(status, error_type, message, out.mask_us)


def _elapsed_us(start_ns: int) -> int:
    return (time.perf_counter_ns() - start_ns) // 1000
