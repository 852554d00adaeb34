"""Verified writes: what Intune really kept after a configure write. Pure rules, no I/O.

After every write the connector is read again and compared twice: each setting asked for against
what Intune holds now (``not_kept``), and every setting the request did NOT name against what it was
before (``side_effects``: a PATCH that resets what it was not sent, an Intune rule changing a
neighbour). Whether Graph's PATCH of a connector merges or replaces is unconfirmed, so both are
checked on every write rather than assumed.

A value Intune refused to keep is remembered (``NotKept``, row ``notkept|<connector id>``): the same
request again does not PATCH it again (it would only be refused again), and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.configure.fields import BY_GRAPH, FIELDS, Plan
from shared.store.rows import RowKind, safe_key


@dataclass(frozen=True)
class Difference:
    """One setting Intune holds differently from what was expected of it."""

    graph: str  # the Graph property
    expected: bool | int | None  # asked for (not_kept) or held before (side_effects)
    held: bool | int | None  # what the re-read shows

    @property
    def label(self) -> str:
        """The admin center's name of the setting."""
        return BY_GRAPH[self.graph].label

    def view(self) -> dict[str, Any]:
        """As the API and the audit trail show it."""
        spec = BY_GRAPH[self.graph]
        return {
            "field": spec.pointer,
            "property": self.graph,
            "label": spec.label,
            "expected": self.expected,
            "held": self.held,
        }


@dataclass(frozen=True)
class Verification:
    """The re-read compared with the request (``not_kept``) and with the settings before
    (``side_effects``); ``complete`` when Intune holds exactly what was asked and nothing else moved."""

    not_kept: list[Difference] = field(default_factory=list)
    side_effects: list[Difference] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Intune kept everything asked and changed nothing else."""
        return not self.not_kept and not self.side_effects

    def notes(self) -> list[str]:
        """One sentence per difference, for the answer and the audit trail."""
        kept = [
            f"Intune did not keep {d.label} ({BY_GRAPH[d.graph].pointer}): asked {_shown(d.expected)}, "
            f"it holds {_shown(d.held)}; MTD Guard will not send it again for the same value"
            for d in self.not_kept
        ]
        moved = [
            f"Intune also changed {d.label} ({BY_GRAPH[d.graph].pointer}), which this request did not "
            f"touch: {_shown(d.expected)} -> {_shown(d.held)}"
            for d in self.side_effects
        ]
        return kept + moved


def _shown(value: bool | int | None) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "On" if value else "Off"
    return str(value)


def verify(plan: Plan, reread: Mapping[str, bool | int]) -> Verification:
    """Compare Graph's re-read managed settings with the plan: every change asked must be held,
    every setting the plan did not change must hold its value from before (when there was one)."""
    asked = {c.property: c.after for c in plan.changes}
    not_kept = [Difference(p, v, reread.get(p)) for p, v in asked.items() if reread.get(p) != v]
    before = plan.before or {}
    side = [
        Difference(f.graph, before[f.graph], reread.get(f.graph))
        for f in FIELDS
        if f.graph in before
        and f.graph not in asked
        and f.graph in reread
        and reread[f.graph] != before[f.graph]
    ]
    return Verification(not_kept, side)


@dataclass(frozen=True)
class NotKept:
    """Values Intune refused to keep for one connector: property -> [asked, held], at ``at`` (UTC)."""

    tenant_id: str
    connector_id: str
    values: dict[str, list[bool | int | None]]
    at: datetime


NOT_KEPT_ROWS = RowKind(
    NotKept,
    "notkept",
    key=lambda n: safe_key(n.connector_id.lower()),
    layout="<connector id>: values Intune refused to keep after a write (not sent again for the same value)",
)


def remembered(
    previous: NotKept | None, verification: Verification, *, tenant_id: str, connector_id: str, at: datetime
) -> NotKept | None:
    """The memory after a write: the values refused now, over those refused before (a value now
    kept is forgotten). None when nothing is left to remember."""
    values = dict(previous.values) if previous else {}
    for d in verification.not_kept:
        values[d.graph] = [d.expected, d.held]
    if not values:
        return None
    return NotKept(tenant_id, connector_id, values, at)


def skip_refused(
    desired: Mapping[str, bool | int], current: Mapping[str, bool | int], memory: NotKept | None
) -> tuple[dict[str, bool | int], list[str]]:
    """``desired`` without the values Intune refused to keep last time and still does not hold
    (asked the same, holding the same), and one note per value left out."""
    if memory is None:
        return dict(desired), []
    kept: dict[str, bool | int] = {}
    notes: list[str] = []
    for prop, value in desired.items():
        asked, held = (memory.values.get(prop) or [None, None])[:2]
        if asked == value and prop in memory.values and current.get(prop) == held and held != value:
            notes.append(
                f"not sent again: Intune did not keep {BY_GRAPH[prop].label} at {_shown(value)} when asked "
                f"on {memory.at:%Y-%m-%d %H:%M} UTC and still holds {_shown(held)}; change it in the "
                "Intune admin center or find out why Intune refuses it"
            )
            continue
        kept[prop] = value
    return kept, notes
