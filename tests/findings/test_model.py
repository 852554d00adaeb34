"""A finding's lifecycle, pure: opened, seen again, acknowledged, resolved, reopened."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.findings.model import (
    Finding,
    FindingClosed,
    FindingStatus,
    Severity,
    acknowledge,
    finding_id,
    observe,
    resolve,
)

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def seen(
    existing: Finding | None,
    now: datetime,
    severity: Severity = Severity.HIGH,
    name: str = "Lookout",
    remediation: str = "fix it",
) -> Finding:
    return observe(
        existing,
        tenant_id="t",
        kind="heartbeat",
        resource_id="ABC-1",
        resource_name=name,
        severity=severity,
        message=f"seen at {now:%H:%M}",
        remediation=remediation,
        now=now,
    )


def test_a_new_problem_opens_a_finding_with_a_stable_lowercase_id() -> None:
    assert finding_id("heartbeat", "ABC-1") == "heartbeat.abc-1"
    assert seen(None, T0) == Finding(
        id="heartbeat.abc-1",
        tenant_id="t",
        kind="heartbeat",
        resource_id="ABC-1",
        resource_name="Lookout",
        severity=Severity.HIGH,
        status=FindingStatus.OPEN,
        message="seen at 12:00",
        remediation="fix it",
        first_seen=T0,
        last_seen=T0,
    )


def test_seen_again_keeps_first_seen_and_status_and_takes_the_latest_words() -> None:
    acked = acknowledge(seen(None, T0), note="n", who="ops", now=T0)
    again = seen(acked, T1, Severity.WARNING, name="Lookout for Work")
    assert again == Finding(
        id="heartbeat.abc-1",
        tenant_id="t",
        kind="heartbeat",
        resource_id="ABC-1",
        resource_name="Lookout for Work",
        severity=Severity.WARNING,
        status=FindingStatus.ACKNOWLEDGED,
        message="seen at 13:00",
        remediation="fix it",
        first_seen=T0,
        last_seen=T1,
        note="n",
        acknowledged_by="ops",
        acknowledged_at=T0,
    )


def test_an_open_finding_seen_again_takes_the_latest_remediation() -> None:
    opened = seen(None, T0)
    assert seen(opened, T1, remediation="restore the partner's connection") == replace(
        opened, message="seen at 13:00", remediation="restore the partner's connection", last_seen=T1
    )


def test_a_resolved_finding_that_comes_back_is_opened_anew_on_the_same_stored_row() -> None:
    stored = replace(resolve(seen(None, T0), message="ok", now=T1), etag="W/1")
    assert stored.status is FindingStatus.RESOLVED and not stored.is_active
    assert (stored.message, stored.last_seen, stored.resolved_at) == ("ok", T1, T1)
    back = seen(stored, T2)
    assert back.status is FindingStatus.OPEN and back.is_active
    assert (back.first_seen, back.last_seen, back.resolved_at) == (T2, T2, None)
    assert back.etag == "W/1"  # replaces the stored row rather than failing as a new one
    assert seen(None, T0).etag is None


def test_acknowledging_records_who_when_and_why_and_only_while_it_lasts() -> None:
    acked = acknowledge(seen(None, T0), note="vendor ticket", who="ops@contoso.com", now=T1)
    assert (acked.status, acked.note, acked.acknowledged_by, acked.acknowledged_at) == (
        FindingStatus.ACKNOWLEDGED,
        "vendor ticket",
        "ops@contoso.com",
        T1,
    )
    assert acked.is_active
    again = acknowledge(acked, note=None, who="lead", now=T2)
    assert (again.note, again.acknowledged_by, again.acknowledged_at) == (None, "lead", T2)
    closed = resolve(acked, message="ok", now=T2)
    with pytest.raises(
        FindingClosed,
        match=r"^finding heartbeat.abc-1 was resolved at 2026-11-20 14:00:00\+00:00; nothing to acknowledge$",
    ):
        acknowledge(closed, note="late", who="ops", now=T2)
