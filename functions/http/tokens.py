"""Continuation tokens: opaque, and bound to the route and filters they were issued for.

A token carries a keyset position (the sort key of the last item served: any JSON value the route
chooses, never an offset) with the route's name and a hash of the filters of the request that got
it. Reusing a token on another route, or with other filters, is refused rather than answered
wrongly (a page of one query continued with another would silently skip or repeat items). The
page size (``limit``) is not a filter: it may change from page to page.

Shape: base64url (no padding) of ``{"v": 1, "s": <route>, "f": <filters hash>, "p": <position>}``.
Not signed: a forged position only pages a caller through data it may read anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

VERSION = 1


class TokenError(ValueError):
    """A token that cannot continue this query; ``other_filters`` when it belongs to other filters."""

    def __init__(self, message: str, *, other_filters: bool = False) -> None:
        super().__init__(message)
        self.other_filters = other_filters


def _canonical(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in value)  # StrEnum members read as their values
    raise TypeError(f"not a filter value: {type(value).__name__}")


def filters_hash(filters: Mapping[str, Any]) -> str:
    """16 hex digits naming the filter values (absent ones as None), whatever their order."""
    text = json.dumps(filters, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode(position: Any, scope: str, filters: Mapping[str, Any]) -> str:
    """The token continuing after ``position`` (JSON-serialisable) on route ``scope`` with ``filters``."""
    raw = json.dumps(
        {"v": VERSION, "s": scope, "f": filters_hash(filters), "p": position}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, scope: str, filters: Mapping[str, Any] | None) -> Any:
    """The position ``token`` carries; TokenError when it is not one of this route's tokens, or was
    issued for other filters (not checked when ``filters`` is None: they could not be read)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        version, issued_for, issued_filters, position = data["v"], data["s"], data["f"], data["p"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise TokenError("is not one this API returned") from None
    if version != VERSION or issued_for != scope:
        raise TokenError("is not one this API returned for this route")
    if filters is not None and issued_filters != filters_hash(filters):
        raise TokenError("belongs to other filters: keep the same filters when paging", other_filters=True)
    return position
