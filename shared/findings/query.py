"""Listing findings: filters, a stable order and opaque continuation tokens. Pure.

Order: what needs attention first - open, then acknowledged, then resolved; within each, high
before warning before info; then the most recently seen first. Paging is by keyset: the token
carries the sort key of the last finding served (not an offset), so findings that open or close
between two pages never make a page repeat or skip one that kept its place. A token is bound to
its filters: reusing it with other filters is refused rather than answered wrongly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.findings.model import Finding, FindingKind, FindingStatus, Severity

_STATUS_RANK = {FindingStatus.OPEN: 0, FindingStatus.ACKNOWLEDGED: 1, FindingStatus.RESOLVED: 2}
_SEVERITY_RANK = {Severity.HIGH: 0, Severity.WARNING: 1, Severity.INFO: 2}
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class BadQuery(ValueError):
    """A filter value or token that cannot be used; the message names the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _values(parameter: str, raw: str | None, allowed: Iterable[str]) -> frozenset[str]:
    if raw is None or not raw.strip():
        return frozenset()
    wanted = {v.strip() for v in raw.split(",") if v.strip()}
    known = set(allowed)
    unknown = sorted(wanted - known)
    if unknown:
        raise BadQuery(
            parameter, f"{parameter} {', '.join(unknown)} unknown; use one of {', '.join(sorted(known))}"
        )
    return frozenset(wanted)


@dataclass(frozen=True)
class FindingQuery:
    kinds: frozenset[str] = frozenset()  # empty: any
    severities: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, kind: str | None, severity: str | None, status: str | None) -> FindingQuery:
        """Comma-separated values per filter; unknown values are refused (BadQuery)."""
        return cls(
            kinds=_values("kind", kind, [k.value for k in FindingKind]),
            severities=_values("severity", severity, [s.value for s in Severity]),
            statuses=_values("status", status, [s.value for s in FindingStatus]),
        )

    def matches(self, finding: Finding) -> bool:
        return (
            (not self.kinds or finding.kind in self.kinds)
            and (not self.severities or finding.severity.value in self.severities)
            and (not self.statuses or finding.status.value in self.statuses)
        )

    @property
    def fingerprint(self) -> str:
        text = json.dumps([sorted(self.kinds), sorted(self.severities), sorted(self.statuses)])
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def sort_key(finding: Finding) -> tuple[int, int, float, str]:
    return (
        _STATUS_RANK.get(finding.status, 3),
        _SEVERITY_RANK.get(finding.severity, 3),
        -finding.last_seen.timestamp(),
        finding.id,
    )


def _encode(key: tuple[int, int, float, str], fingerprint: str) -> str:
    raw = json.dumps({"v": 1, "k": list(key), "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, fingerprint: str) -> tuple[int, int, float, str]:
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        status, severity, seen, fid = data["k"]
        key = (int(status), int(severity), float(seen), str(fid))
        token_filters = data["f"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadQuery("continuationToken", "continuationToken is not one this API issued") from exc
    if token_filters != fingerprint:
        raise BadQuery(
            "continuationToken",
            "continuationToken belongs to other filters: repeat the first request's filters",
        )
    return key


def page(
    findings: Iterable[Finding], query: FindingQuery, *, limit: int, token: str | None
) -> tuple[list[Finding], str | None]:
    """One page of matching findings in order, and the token of the next page (None: last page)."""
    ordered = sorted((f for f in findings if query.matches(f)), key=sort_key)
    if token:
        after = _decode(token, query.fingerprint)
        ordered = [f for f in ordered if sort_key(f) > after]
    chunk = ordered[:limit]
    more = len(ordered) > limit
    return chunk, (_encode(sort_key(chunk[-1]), query.fingerprint) if more and chunk else None)
