"""Planning a heartbeat sweep, pure: what is stored, what finding changes and which alert goes out.

The end-to-end behaviour (Graph simulator, Azurite, webhook) is in test_sweep.py; these pin every
field of the plan, so `make mutate` can judge shared/heartbeat/plan.py in seconds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.alerting.alerts import Alert, Delivery
from shared.findings.model import Finding, FindingStatus, Severity, acknowledge
from shared.graph.connectors import ConnectorReading
from shared.heartbeat.health import Health, HealthPolicy
from shared.heartbeat.plan import (
    ConnectorStatus,
    SweepRecord,
    as_of,
    history_key,
    not_rechecked,
    plan_connector,
    plan_graph_access,
    plan_removal,
    plan_sweep,
    unchanged,
)
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=1)
POLICY = HealthPolicy()
TENANT = "t1"
CHANNELS = ["webhook", "teams"]
HEALTHY_REASON = "last heartbeat 20 minutes ago; threshold 7 days"
DEAD_REASON = (
    "last heartbeat 9.0 days ago; threshold 7 days: Intune is ignoring this partner's compliance data"
)
DEAD_REMEDY = (
    "Restore the partner's connection (partner console: Intune/MDM integration) or, if the "
    "partner was retired, delete the connector and the compliance rules that rely on it."
)


def reading(cid: str = LOOKOUT, age: timedelta | None = timedelta(minutes=20), **kw: Any) -> ConnectorReading:
    at = None if age is None else NOW - age
    raw = None if at is None else at.isoformat().replace("+00:00", "Z")
    fields: dict[str, Any] = {
        "partner_state": "enabled",
        "last_heartbeat": at,
        "last_heartbeat_raw": raw,
        "heartbeat_unreadable": False,
        "threshold_days": 7,
    }
    fields.update(kw)
    return ConnectorReading(id=cid, **fields)


def status(health: Health, since: datetime = EARLIER, **kw: Any) -> ConnectorStatus:
    fields: dict[str, Any] = {
        "tenant_id": TENANT,
        "id": LOOKOUT,
        "partner": "Lookout for Work",
        "partner_known": True,
        "partner_state": "enabled",
        "last_heartbeat": "2026-11-14T12:00:00Z",
        "threshold_days": 7,
        "threshold_from_connector": True,
        "heartbeat_age_hours": 216.0,
        "health": health,
        "reason": DEAD_REASON,
        "checked_at": EARLIER,
        "health_since": since,
        # the settings Graph listed: reading() lists the threshold and no toggle
        "settings": {"partnerUnresponsivenessThresholdInDays": 7},
    }
    fields.update(kw)
    return ConnectorStatus(**fields)


def open_finding(**kw: Any) -> Finding:
    fields: dict[str, Any] = {
        "id": f"heartbeat.{LOOKOUT}",
        "tenant_id": TENANT,
        "kind": "heartbeat",
        "resource_id": LOOKOUT,
        "resource_name": "Lookout for Work",
        "severity": Severity.HIGH,
        "status": FindingStatus.OPEN,
        "message": f"Lookout for Work: {DEAD_REASON}",
        "remediation": DEAD_REMEDY,
        "first_seen": EARLIER,
        "last_seen": EARLIER,
    }
    fields.update(kw)
    return Finding(**fields)


def without_id(alert: Alert | None) -> Alert | None:
    """The alert with its random id blanked, after checking it is a fresh UUID."""
    if alert is None:
        return None
    assert len(alert.alert_id) == 36
    return replace(alert, alert_id="")


def expected_alert(**kw: Any) -> Alert:
    fields: dict[str, Any] = {
        "alert_id": "",
        "tenant_id": TENANT,
        "kind": "heartbeat",
        "finding_id": f"heartbeat.{LOOKOUT}",
        "detected_at": NOW,
        "deliveries": {"webhook": Delivery(), "teams": Delivery()},
    }
    fields.update(kw)
    return Alert(**fields)


def plan(r: ConnectorReading, previous: ConnectorStatus | None, finding: Finding | None):
    return plan_connector(r, previous, finding, tenant_id=TENANT, now=NOW, policy=POLICY, channels=CHANNELS)


def test_a_connector_going_unresponsive_is_stored_opened_and_alerted_field_by_field() -> None:
    got, finding, alert = plan(reading(age=timedelta(days=9)), status(Health.HEALTHY), None)
    assert got == status(
        Health.UNRESPONSIVE,
        since=NOW,
        checked_at=NOW,
        last_heartbeat="2026-11-14T12:00:00Z",
        heartbeat_age_hours=216.0,
    )
    assert finding == open_finding(first_seen=NOW, last_seen=NOW)
    assert without_id(alert) == expected_alert(
        severity=Severity.HIGH,
        title="Lookout for Work is unresponsive: Intune ignores its compliance data (was healthy)",
        reason=DEAD_REASON,
        details={
            "connectorId": LOOKOUT,
            "partner": "Lookout for Work",
            "previousHealth": "healthy",
            "health": "unresponsive",
            "thresholdDays": 7,
            "lastHeartbeatDateTime": "2026-11-14T12:00:00Z",
        },
    )


def test_the_same_health_again_keeps_its_since_and_says_nothing() -> None:
    before = status(Health.UNRESPONSIVE, since=EARLIER - timedelta(days=2))
    got, finding, alert = plan(reading(age=timedelta(days=9)), before, open_finding())
    assert got.health_since == EARLIER - timedelta(days=2) and got.checked_at == NOW
    # Only time moved: nothing to write, the stored finding stays true as of its lastSeen.
    assert (finding, alert) == (None, None)
    assert unchanged(before, got)


def test_the_same_health_with_a_new_fact_rewrites_the_status_and_the_finding() -> None:
    before = status(Health.UNRESPONSIVE, since=EARLIER - timedelta(days=2))
    got, finding, alert = plan(
        reading(age=timedelta(days=9), partner_state="unresponsive"), before, open_finding()
    )
    assert got.partner_state == "unresponsive" and not unchanged(before, got)
    assert finding is not None and finding.last_seen == NOW and alert is None


def test_a_recovery_resolves_the_finding_and_is_an_info_alert_without_was() -> None:
    got, finding, alert = plan(reading(), status(Health.UNRESPONSIVE), open_finding())
    assert (got.health, got.health_since, got.reason) == (Health.HEALTHY, NOW, HEALTHY_REASON)
    assert finding == open_finding(
        status=FindingStatus.RESOLVED,
        message=f"Lookout for Work: {HEALTHY_REASON}",
        last_seen=NOW,
        resolved_at=NOW,
    )
    assert without_id(alert) == expected_alert(
        severity=Severity.INFO,
        title="Lookout for Work connector recovered",
        reason=HEALTHY_REASON,
        details={
            "connectorId": LOOKOUT,
            "partner": "Lookout for Work",
            "previousHealth": "unresponsive",
            "health": "healthy",
            "thresholdDays": 7,
            "lastHeartbeatDateTime": (NOW - timedelta(minutes=20)).isoformat().replace("+00:00", "Z"),
        },
    )


def test_first_sightings_healthy_are_silent_and_unhealthy_ones_are_news() -> None:
    got, finding, alert = plan(reading(), None, None)
    assert (got.health, got.health_since, finding, alert) == (Health.HEALTHY, NOW, None, None)
    _, finding, alert = plan(reading(age=timedelta(days=9)), None, None)
    assert finding == open_finding(first_seen=NOW, last_seen=NOW)
    assert (
        alert is not None
        and alert.title == "Lookout for Work is unresponsive: Intune ignores its compliance data"
    )
    assert alert.details["previousHealth"] is None


def test_healthy_again_with_a_finding_already_resolved_changes_nothing() -> None:
    resolved = open_finding(status=FindingStatus.RESOLVED, resolved_at=EARLIER)
    _, finding, alert = plan(reading(), status(Health.HEALTHY), resolved)
    assert (finding, alert) == (None, None)


def test_an_acknowledged_problem_is_silent_between_unhealthy_states_but_not_on_recovery() -> None:
    acked = acknowledge(open_finding(), note="vendor ticket", who="ops", now=EARLIER)
    _, finding, alert = plan(reading(age=timedelta(hours=40)), status(Health.UNRESPONSIVE), acked)
    assert alert is None
    assert finding is not None and finding.status is FindingStatus.ACKNOWLEDGED
    assert finding.severity is Severity.WARNING
    _, finding, alert = plan(reading(), status(Health.WARNING), acked)
    assert finding is not None and finding.status is FindingStatus.RESOLVED
    assert alert is not None and alert.severity is Severity.INFO and alert.details["health"] == "healthy"


def test_an_unknown_partner_and_a_missing_threshold_are_stored_as_such() -> None:
    other = "7d9a6c1e-0000-4000-8000-00000000beef"
    got, _, _ = plan(reading(other, threshold_days=None), None, None)
    assert (got.partner, got.partner_known, got.threshold_days, got.threshold_from_connector) == (
        f"unknown partner {other}",
        False,
        7,
        False,
    )


def test_a_sweep_plans_each_connector_and_removes_those_graph_no_longer_lists() -> None:
    gone = status(Health.UNRESPONSIVE, id=DEFENDER, partner="Microsoft Defender for Endpoint")
    plan_ = plan_sweep(
        [reading(LOOKOUT.upper(), age=timedelta(days=9))],
        {LOOKOUT: status(Health.HEALTHY), DEFENDER: gone},
        {
            f"heartbeat.{DEFENDER}": open_finding(id=f"heartbeat.{DEFENDER}", resource_id=DEFENDER),
            f"heartbeat.{LOOKOUT}": open_finding(status=FindingStatus.RESOLVED, resolved_at=EARLIER),
        },
        tenant_id=TENANT,
        now=NOW,
        policy=POLICY,
        channels=CHANNELS,
    )
    assert [(s.id, s.health, s.health_since) for s in plan_.statuses] == [
        (LOOKOUT.upper(), Health.UNRESPONSIVE, NOW)  # the stored row is found whatever the id's case
    ]
    assert [r.row_key for r in plan_.removed] == [f"connector|{DEFENDER}"]
    assert [(f.id, f.status) for f in plan_.findings] == [
        (f"heartbeat.{LOOKOUT}", FindingStatus.OPEN),  # reopened
        (f"heartbeat.{DEFENDER}", FindingStatus.RESOLVED),
    ]
    assert [(a.details["health"], a.details["previousHealth"]) for a in plan_.alerts] == [
        ("unresponsive", "healthy"),
        ("removed", "unresponsive"),
    ]


def test_a_sweep_leaves_an_open_finding_with_nothing_new_alone_and_closes_removed_ones_at_its_time() -> None:
    defender = status(Health.UNRESPONSIVE, id=DEFENDER, partner="Microsoft Defender for Endpoint")
    zimperium = status(Health.HEALTHY, id=ZIMPERIUM, partner="Zimperium")  # removed, never a finding
    defender_finding = open_finding(
        id=f"heartbeat.{DEFENDER}", resource_id=DEFENDER, resource_name="Microsoft Defender for Endpoint"
    )
    plan_ = plan_sweep(
        [reading(age=timedelta(days=9))],
        {LOOKOUT: status(Health.UNRESPONSIVE), DEFENDER: defender, ZIMPERIUM: zimperium},
        {f"heartbeat.{LOOKOUT}": open_finding(), f"heartbeat.{DEFENDER}": defender_finding},
        tenant_id=TENANT,
        now=NOW,
        policy=POLICY,
        channels=CHANNELS,
    )
    assert plan_.statuses == [status(Health.UNRESPONSIVE, checked_at=NOW)]
    assert plan_.unchanged == {LOOKOUT}  # judged again, only older: its row is not rewritten
    removed = (
        "the Microsoft Defender for Endpoint connector no longer exists in Intune (last seen "
        "2026-11-23 11:00 UTC): devices are no longer judged with this partner's risk data"
    )
    assert plan_.findings == [  # Lookout's open finding, seen again with nothing new: not rewritten
        replace(
            defender_finding,
            status=FindingStatus.RESOLVED,
            message=removed,
            last_seen=NOW,
            resolved_at=NOW,
        ),
    ]
    assert [(a.finding_id, a.title) for a in plan_.alerts] == [
        (f"heartbeat.{ZIMPERIUM}", "Zimperium connector was removed"),  # removals in id order
        (f"heartbeat.{DEFENDER}", "Microsoft Defender for Endpoint connector was removed"),
    ]
    assert [r.row_key for r in plan_.removed] == [f"connector|{ZIMPERIUM}", f"connector|{DEFENDER}"]


def test_history_rows_are_keyed_newest_first_then_by_connector_id() -> None:
    # Ticks first: everything older than the retention is one RowKey range (the daily prune).
    assert history_key(LOOKOUT.upper(), NOW) == f"obs|09998204564800000000|{LOOKOUT}"
    assert history_key(LOOKOUT, NOW + timedelta(seconds=1)) == f"obs|09998204564799000000|{LOOKOUT}"


def test_a_sweep_with_nothing_new_plans_no_writes_but_the_statuses() -> None:
    before = status(Health.HEALTHY, reason=HEALTHY_REASON)
    plan_ = plan_sweep(
        [reading()], {LOOKOUT: before}, {}, tenant_id=TENANT, now=NOW, policy=POLICY, channels=[]
    )
    assert len(plan_.statuses) == 1 and plan_.findings == [] and plan_.alerts == [] and plan_.removed == []


def test_a_removal_closes_an_active_finding_and_says_so_once() -> None:
    gone = status(Health.UNRESPONSIVE, checked_at=datetime(2026, 11, 22, 9, 5, tzinfo=UTC))
    reason = (
        "the Lookout for Work connector no longer exists in Intune (last seen 2026-11-22 09:05 UTC): "
        "devices are no longer judged with this partner's risk data"
    )
    closed, alert = plan_removal(gone, open_finding(), NOW, CHANNELS)
    assert closed == open_finding(
        status=FindingStatus.RESOLVED, message=reason, last_seen=NOW, resolved_at=NOW
    )
    assert without_id(alert) == expected_alert(
        severity=Severity.WARNING,
        title="Lookout for Work connector was removed",
        reason=reason,
        details={
            "connectorId": LOOKOUT,
            "partner": "Lookout for Work",
            "previousHealth": "unresponsive",
            "health": "removed",
            "thresholdDays": 7,
            "lastHeartbeatDateTime": "2026-11-14T12:00:00Z",
        },
    )
    resolved = open_finding(status=FindingStatus.RESOLVED, resolved_at=EARLIER)
    assert plan_removal(gone, resolved, NOW, CHANNELS)[0] is None
    assert plan_removal(gone, None, NOW, CHANNELS)[0] is None


def test_graph_access_is_one_finding_opened_once_and_resolved_once() -> None:
    def access(problem: str | None, existing: Finding | None) -> tuple[Finding | None, Alert | None]:
        return plan_graph_access(problem, existing, tenant_id=TENANT, now=NOW, channels=CHANNELS)

    assert access(None, None) == (None, None)
    opened, alert = access("403 Forbidden", None)
    assert opened == Finding(
        id=f"graphAccess.tenant-{TENANT}",
        tenant_id=TENANT,
        kind="graphAccess",
        resource_id=f"tenant-{TENANT}",
        resource_name=f"tenant {TENANT}",
        severity=Severity.HIGH,
        status=FindingStatus.OPEN,
        message="403 Forbidden",
        remediation="Fix the access problem named in the message; until then connectors are not monitored.",
        first_seen=NOW,
        last_seen=NOW,
    )
    assert without_id(alert) == expected_alert(
        kind="graphAccess",
        finding_id=f"graphAccess.tenant-{TENANT}",
        severity=Severity.HIGH,
        title="Cannot monitor MTD connectors",
        reason="403 Forbidden",
        details={"status": "open", "resourceId": f"tenant-{TENANT}"},
        resolves=False,
        remediation="Fix the access problem named in the message; until then connectors are not monitored.",
    )
    still, again = access("403 Forbidden", opened)
    assert still is not None and still.status is FindingStatus.OPEN and again is None
    done, restored = access(None, opened)
    assert done is not None and done.status is FindingStatus.RESOLVED
    assert done.message == "Microsoft Graph answers again"
    assert without_id(restored) == expected_alert(
        kind="graphAccess",
        finding_id=f"graphAccess.tenant-{TENANT}",
        severity=Severity.INFO,
        title="Microsoft Graph access restored",
        reason="Microsoft Graph answers again",
        details={"status": "resolved", "resourceId": f"tenant-{TENANT}"},
        resolves=True,
    )
    assert access(None, done) == (None, None)
    reopened, alert = access("503", done)
    assert reopened is not None and reopened.status is FindingStatus.OPEN and alert is not None


def test_graph_access_refreshed_keeps_its_first_sighting_and_resolves_at_the_sweeps_time() -> None:
    def access(problem: str | None, existing: Finding | None) -> tuple[Finding | None, Alert | None]:
        return plan_graph_access(problem, existing, tenant_id=TENANT, now=NOW, channels=CHANNELS)

    opened, _ = plan_graph_access("403 Forbidden", None, tenant_id=TENANT, now=EARLIER, channels=CHANNELS)
    assert opened is not None
    still, _ = access("401 Unauthorized", opened)
    assert still == replace(opened, message="401 Unauthorized", last_seen=NOW)
    done, _ = access(None, still)
    assert done == replace(
        still, status=FindingStatus.RESOLVED, message="Microsoft Graph answers again", resolved_at=NOW
    )


def test_graph_throttling_past_the_grace_is_a_warning_with_the_service_health_remediation() -> None:
    found, alert = plan_graph_access(
        "Graph throttled the connector list (429) for 20 minutes",
        None,
        tenant_id=TENANT,
        now=NOW,
        channels=CHANNELS,
        transient=True,
    )
    remedy = (
        "Microsoft Graph keeps throttling or failing transiently (429, 503, 504, timeouts): check "
        "Microsoft 365 service health (admin center > Health > Service health) for Intune and "
        "Microsoft Graph, and whether another app of this tenant uses up Graph's throttling limits; "
        "MTD Guard retries every sweep and resolves this by itself when Graph answers; "
        "until then connectors are not monitored."
    )
    assert found is not None and alert is not None
    assert (found.severity, found.remediation) == (Severity.WARNING, remedy)
    assert (alert.severity, alert.remediation, alert.title) == (
        Severity.WARNING,
        remedy,
        "Cannot monitor MTD connectors",
    )


def _sweep_at(at: datetime, policy: HealthPolicy | None = POLICY) -> SweepRecord:
    return SweepRecord(
        TENANT,
        "heartbeat",
        at,
        1,
        [],
        default_threshold_days=policy.default_threshold_days if policy else None,
        early_warning_hours=policy.early_warning_hours if policy else None,
    )


def test_a_status_left_unwritten_is_read_back_as_the_last_sweep_saw_it() -> None:
    # Stored at NOW with a heartbeat 9 days old; the last sweep, 6 hours later, found nothing new.
    stored, _, _ = plan(reading(age=timedelta(days=9)), None, None)
    later = NOW + timedelta(hours=6)
    seen = as_of(stored, _sweep_at(later))
    assert (seen.checked_at, seen.heartbeat_age_hours) == (later, 222.0)
    assert seen.reason.startswith("last heartbeat 9.2 days ago; threshold 7 days")
    assert (seen.health, seen.health_since) == (stored.health, stored.health_since)


def test_a_status_is_read_back_as_stored_when_it_cannot_be_re_judged_as_the_sweep_did() -> None:
    stored, _, _ = plan(reading(age=timedelta(days=9)), None, None)
    later = NOW + timedelta(hours=6)
    kept = not_rechecked(stored, "Graph answered 503")
    assert as_of(kept, _sweep_at(later)) == kept  # Graph failed: the reason says so
    assert as_of(stored, _sweep_at(later, policy=None)) == stored  # a record from before policies
    assert as_of(stored, _sweep_at(NOW - timedelta(hours=1))) == stored  # written after that sweep
    assert as_of(stored, None) == stored
    # Judged healthy at NOW (20 minutes old); 30 hours later it would be a warning: not that
    # sweep's verdict (it would have written the change), so the row is shown as written.
    healthy, _, _ = plan(reading(), None, None)
    assert as_of(healthy, _sweep_at(NOW + timedelta(hours=30))) == healthy


def test_only_the_check_time_age_and_reason_wording_can_move_without_a_write() -> None:
    stored = status(Health.UNRESPONSIVE)
    older = replace(stored, checked_at=NOW, heartbeat_age_hours=240.0, reason="last heartbeat 10.0 days ago")
    assert unchanged(stored, older)
    for new_fact in (
        {"partner": "Lookout"},
        {"partner_known": False},
        {"partner_state": "unresponsive"},
        {"last_heartbeat": "2026-11-14T13:00:00Z"},
        {"threshold_days": 8},
        {"threshold_from_connector": False},
        {"health": Health.WARNING},
        {"health_since": NOW},
        {"settings": {"partnerUnresponsivenessThresholdInDays": 7, "iosEnabled": True}},
        {"id": LOOKOUT.upper()},
    ):
        assert not unchanged(stored, replace(older, **new_fact)), new_fact
    assert not unchanged(None, older)
    assert not unchanged(not_rechecked(stored, "Graph answered 503"), older)  # the re-check is news


def test_checked_again_after_an_outage_with_nothing_new_keeps_its_finding_as_written() -> None:
    before = not_rechecked(
        status(Health.UNRESPONSIVE, since=EARLIER - timedelta(days=2)), "Graph answered 503"
    )
    got, finding, alert = plan(reading(age=timedelta(days=9)), before, open_finding())
    assert not got.reason.startswith("not re-checked") and not unchanged(before, got)  # the row is written
    assert (finding, alert) == (None, None)  # the finding is not: nothing about it changed
