"""Pure: each connector's settings drift as the status page says it, from stored state only.

The differences are the ones GET /api/connectors lists: ``shared.configure.drift.diff`` of the
connector's stored baseline against the settings the last sweep stored, each described in the
admin center's words (``SettingDrift.describe``), the severity ``drift.severity`` gives the
connectorDrift finding. The finding (when one is open) adds whether a person acknowledged it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.configure import drift
from shared.configure.baseline import Baseline, BaselineSource
from shared.findings.model import Finding, FindingStatus, Severity
from shared.heartbeat.plan import ConnectorStatus

# How a baseline was set, in words (BaselineSource is the API's camelCase value).
SOURCE_WORDS: dict[BaselineSource, str] = {
    BaselineSource.FIRST_SEEN: "taken when a sweep first saw the connector",
    BaselineSource.ADOPTED: "adopted from Intune's settings through the API",
    BaselineSource.CONFIGURED: "written by a configure change",
    BaselineSource.ACCEPTED: "a drift accepted by a person",
}
NO_BASELINE = ("No baseline yet", "warn")
MATCHES = ("Matches baseline", "good")
NOT_READ = ("Settings not read yet", "warn")
SEVERITY_WORDS: dict[Severity, tuple[str, str]] = {
    Severity.HIGH: ("Drifted, high severity: enforcement is weaker", "bad"),
    Severity.WARNING: ("Drifted, warning: enforcement is not weaker", "warn"),
}


@dataclass(frozen=True)
class DriftLine:
    """One connector's drift row: ``state`` in words, ``changes`` in the admin center's words."""

    partner: str
    state: str
    tone: str
    # "Connect Android devices to Lookout for Work (...): On -> Off (weakens enforcement)"
    changes: tuple[str, ...]
    note: str  # a threshold raised while the partner was silent, or ""
    acknowledged: bool  # the open connectorDrift finding was acknowledged by a person
    baseline_set_at: datetime | None
    baseline_set_by: str | None
    baseline_how: str | None


def drift_line(status: ConnectorStatus, kept: Baseline | None, finding: Finding | None) -> DriftLine:
    """What the page says of ``status``'s settings against its baseline ``kept`` (None: none yet).

    ``finding`` is the connector's connectorDrift finding, if any. A connector whose stored status
    carries no settings (stored before settings were kept) is "not read yet", never "matches"."""
    if kept is None:
        return DriftLine(status.partner, *NO_BASELINE, (), "", False, None, None, None)
    changes = drift.diff(kept.settings, status.settings)
    if not status.settings:
        words, tone = NOT_READ
    elif not changes:
        words, tone = MATCHES
    else:
        words, tone = SEVERITY_WORDS[drift.severity(changes)]
    described = tuple(
        f"{c.describe(status.partner)}{' (weakens enforcement)' if c.weakens else ''}" for c in changes
    )
    note = drift.silent_threshold(changes, status.heartbeat_age_hours) or ""
    return DriftLine(
        partner=status.partner,
        state=words,
        tone=tone,
        changes=described,
        note=f"{note[:1].upper()}{note[1:]}",
        acknowledged=bool(changes) and finding is not None and finding.status is FindingStatus.ACKNOWLEDGED,
        baseline_set_at=kept.set_at,
        baseline_set_by=kept.set_by,
        baseline_how=SOURCE_WORDS.get(kept.source, kept.source.value),
    )


def drift_lines(
    statuses: list[ConnectorStatus], baselines: Mapping[str, Baseline], findings: Mapping[str, Finding]
) -> tuple[DriftLine, ...]:
    """``drift_line`` of each connector in the order given; ``baselines`` by lower-case connector
    id, ``findings`` by finding id."""
    return tuple(
        drift_line(s, baselines.get(s.id.lower()), findings.get(drift.drift_finding_id(s.id)))
        for s in statuses
    )
