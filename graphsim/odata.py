"""OData wire conventions shared by every Graph route: replies, error bodies, paging tokens.

Kept apart from routing so that a new collection reuses exactly the same envelope, and so
that the simulator's control endpoints can answer errors in the same shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

# Byte-for-byte what Graph sends for JSON payloads; some clients compare it verbatim.
GRAPH_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)
PLAIN_JSON = "application/json"

# Graph's usual error codes per status, used when a fault or route gives no code of its own.
DEFAULT_ERROR_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    411: "LengthRequired",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
DEFAULT_ERROR_MESSAGES = {
    429: "Too many requests.",
    503: "The service is temporarily unavailable. Please retry later.",
    504: "The request timed out.",
}


@dataclass(frozen=True)
class Reply:
    """What a route decided to answer; the HTTP layer adds Graph's common headers."""

    status: int
    body: bytes = b""
    content_type: str | None = GRAPH_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


class GraphError(Exception):
    """Raised by routes to answer an OData error; carries everything the body needs."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or DEFAULT_ERROR_CODES.get(status, "UnknownError")
        self.message = message
        self.headers = headers or {}


def json_reply(status: int, payload: Any, content_type: str = GRAPH_CONTENT_TYPE) -> Reply:
    """Serialise compactly, as Graph does (no spaces), in UTF-8."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Reply(status=status, body=body, content_type=content_type)


def error_reply(error: GraphError, *, date: str, request_id: str, client_request_id: str) -> Reply:
    """The OData error envelope msgraph-sdk parses into ``ODataError``/``MainError``."""
    payload = {
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": date,
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }
    reply = json_reply(error.status, payload)
    return Reply(reply.status, reply.body, reply.content_type, dict(error.headers))


def encode_skiptoken(offset: int) -> str:
    """An opaque token, like Graph's: clients must follow nextLink, never build one."""
    raw = json.dumps({"offset": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_skiptoken(token: str) -> int:
    """Inverse of ``encode_skiptoken``; a tampered or foreign token is a 400, as in Graph."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        offset = json.loads(raw)["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise GraphError(400, f"The $skiptoken '{token}' is not valid.") from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise GraphError(400, f"The $skiptoken '{token}' is not valid.")
    return offset
