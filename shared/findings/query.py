"""Listing findings: filters and a stable order, paged by keyset. Pure.

Order: what needs attention first - open, then acknowledged, then resolved; within each, high
before warning before info; then the most recently seen first. Paging is by keyset: the next page
starts after the sort key of the last finding served (not an offset), so findings that open or
close between two pages never make a page repeat or skip one that kept its place. The HTTP route
carries that key in a continuation token bound to these filters (functions/http/tokens.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.findings.model import Finding, FindingStatus, Severity

_STATUS_RANK = {FindingStatus.OPEN: 0, FindingStatus.ACKNOWLEDGED: 1, FindingStatus.RESOLVED: 2}
_SEVERITY_RANK = {Severity.HIGH: 0, Severity.WARNING: 1, Severity.INFO: 2}
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
SortKey = tuple[int, int, float, str]  # status rank, severity rank, -last seen (epoch s), id


@dataclass(frozen=True)
class FindingQuery:
    """Filters of GET /api/findings; each set holds the wanted values (FindingKind, Severity,
    FindingStatus values), empty meaning any."""

    kinds: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()

    def matches(self, finding: Finding) -> bool:
        """Whether ``finding`` passes every filter that is set."""
        return (
            (not self.kinds or finding.kind in self.kinds)
            and (not self.severities or finding.severity.value in self.severities)
            and (not self.statuses or finding.status.value in self.statuses)
        )


def sort_key(finding: Finding) -> SortKey:
    """Where ``finding`` sorts in ``GET /api/findings``: status rank, severity rank, last seen
    (negated epoch seconds: the newest first), then id to break ties; see the module docstring."""
    return (
        _STATUS_RANK.get(finding.status, 3),
        _SEVERITY_RANK.get(finding.severity, 3),
        -finding.last_seen.timestamp(),
        finding.id,
    )


def as_sort_key(raw: Any) -> SortKey:
    """A sort key read back from JSON (a 4-item list); ValueError/TypeError on any other shape."""
    status, severity, seen, fid = raw
    if not isinstance(fid, str):
        raise TypeError("the finding id of a sort key is text")
    return (int(status), int(severity), float(seen), fid)


def page(
    findings: Iterable[Finding], query: FindingQuery, *, limit: int, after: SortKey | None = None
) -> tuple[list[Finding], SortKey | None]:
    """One page of matching findings in order (those after ``after``), and the sort key to continue
    after (None: this is the last page)."""
    ordered = sorted((f for f in findings if query.matches(f)), key=sort_key)
    if after is not None:
        ordered = [f for f in ordered if sort_key(f) > after]
    chunk = ordered[:limit]
    more = len(ordered) > limit
    return chunk, (sort_key(chunk[-1]) if more and chunk else None)
