"""The one interface between the transport (SPOP server, CLI) and the masking engine.

The server calls ``Masker.mask_body`` once per request body and sends back what it returns; it knows
nothing of detectors or pseudonyms. ``MaskRefused`` is how the engine says "this body must not be
forwarded" with the HTTP status and Anthropic error type the client should get.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MaskResult:
    body: bytes                                   # the masked body, to be forwarded instead of the original
    restore_map: dict[str, str]                   # pseudonym -> original, for the response restore
    counts: dict[str, int] = field(default_factory=dict)   # identifiers masked, by kind (no values)
    detected_by: str = "agent"     # or "helper" / "agent_after_helper_failure" (agent/engine/detect_helper.py)


class MaskRefused(Exception):
    """The body cannot be masked and must not be forwarded.

    ``message`` is shown to the client: it says what happened and which setting changes it, and it
    never contains an identifier from the body.
    """

    def __init__(self, status: int, error_type: str, message: str, cause: str):
        super().__init__(message)
        self.status = status            # 413, 415, 400 ...
        self.error_type = error_type    # Anthropic error type: "request_too_large", "invalid_request_error" ...
        self.message = message
        self.cause = cause              # short machine-readable cause for logs and metrics
