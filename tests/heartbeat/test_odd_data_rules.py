"""The odd-data finding and the "not re-checked" status, pure (issue 10's rules in plan.py).

``plan_odd_data`` is called by the heartbeat sweep (connector list) and by the Conditional Access
drift job (its own listing and entry words); ``not_rechecked`` keeps every connector's last health
when Graph cannot list them. test_sweep.py and the CA drift tests show them end to end on Azurite;
these pin every field with literal values so `make mutate` can judge them in seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from shared.alerting.alerts import Alert
from shared.findings.model import Finding, FindingStatus, Severity, acknowledge
from shared.heartbeat.health import Health
from shared.heartbeat.plan import not_rechecked, plan_odd_data
from tests.heartbeat.test_plan import (
    CHANNELS,
    DEAD_REASON,
    EARLIER,
    NOW,
    TENANT,
    expected_alert,
    status,
    without_id,
)

ODD_ID = f"graphData.tenant-{TENANT}.connectors"
ODD_REMEDY = (
    "Every other entry was still judged. Check the named entries in the Intune admin center "
    "(Tenant administration > Connectors and tokens > Mobile Threat Defense) or Entra; if "
    "Graph keeps sending them, open a Microsoft support case quoting the message. A paging "
    "anomaly means the list may be incomplete: entries on unread pages keep their last "
    "known state until a sweep reads the whole list."
)
ODD_TITLE = "Graph returned connector data MTD Guard cannot judge"
CLEAN = "Graph's connector list reads cleanly again"
BAD_ENTRY = 'entry 2 has no id: {"partnerState":"enabled"}'
ANOMALY = "Graph's paging stopped early: an @odata.nextLink repeated a page already read"
# The Conditional Access drift job's words (shared/conditional_access/drift.py ODD_DATA_*)
CA_LISTING = "conditional-access"
CA_ENTRY = "Conditional Access policy or directory audit event"


def odd(
    unjudgeable: list[str], anomaly: str | None, existing: Finding | None, **kw: str
) -> tuple[Finding | None, Alert | None]:
    return plan_odd_data(unjudgeable, anomaly, existing, tenant_id=TENANT, now=NOW, channels=CHANNELS, **kw)


def odd_finding(message: str, **kw: object) -> Finding:
    fields: dict[str, object] = {
        "id": ODD_ID,
        "tenant_id": TENANT,
        "kind": "graphData",
        "resource_id": f"tenant-{TENANT}.connectors",
        "resource_name": f"connector list of tenant {TENANT}",
        "severity": Severity.WARNING,
        "status": FindingStatus.OPEN,
        "message": message,
        "remediation": ODD_REMEDY,
        "first_seen": NOW,
        "last_seen": NOW,
    }
    fields.update(kw)
    return Finding(**fields)  # type: ignore[arg-type]


def opened_alert(message: str, **kw: object) -> Alert:
    fields: dict[str, object] = {
        "kind": "graphData",
        "finding_id": ODD_ID,
        "severity": Severity.WARNING,
        "title": ODD_TITLE,
        "reason": message,
        "details": {"status": "open", "resourceId": f"tenant-{TENANT}.connectors"},
        "resolves": False,
        "remediation": ODD_REMEDY,
    }
    fields.update(kw)
    return expected_alert(**fields)


def test_an_unjudgeable_connector_opens_one_warning_finding_with_one_alert_field_by_field() -> None:
    found, alert = odd([BAD_ENTRY], None, None)
    message = f"Graph returned a connector MTD Guard cannot judge: {BAD_ENTRY}"
    assert found == odd_finding(message)
    assert without_id(alert) == opened_alert(message)


def test_a_paging_anomaly_alone_is_the_message_and_both_are_joined_by_a_full_stop() -> None:
    found, alert = odd([], ANOMALY, None)
    assert found == odd_finding(ANOMALY)
    assert without_id(alert) == opened_alert(ANOMALY)
    both, _ = odd([BAD_ENTRY, "entry 4 is not an object: 7"], ANOMALY, None)
    assert both is not None
    assert both.message == (
        f"Graph returned a connector MTD Guard cannot judge: {BAD_ENTRY}; entry 4 is not an object: 7. "
        f"{ANOMALY}"
    )


def test_five_entries_are_quoted_and_the_rest_only_counted() -> None:
    entries = [f"entry {n} has no id" for n in range(1, 8)]
    head = "Graph returned a connector MTD Guard cannot judge: "
    five = "entry 1 has no id; entry 2 has no id; entry 3 has no id; entry 4 has no id; entry 5 has no id"

    def message(listed: list[str]) -> str:
        found, _ = odd(listed, None, None)
        assert found is not None
        return found.message

    assert message(entries[:5]) == head + five
    assert message(entries[:6]) == head + five + "; and 1 more"
    assert message(entries) == head + five + "; and 2 more"


def test_a_message_beyond_4000_characters_is_cut_with_its_length_and_digest() -> None:
    long_entry = "x" * 4100
    full = "Graph returned a connector MTD Guard cannot judge: " + long_entry
    digest = hashlib.sha256(full.encode()).hexdigest()[:12]
    found, alert = odd([long_entry], None, None)
    assert found is not None and alert is not None
    assert found.message == f"{full[:4000]}…[4151 chars, sha256 {digest}]"
    assert alert.reason == found.message
    exactly, _ = odd(["y" * (4000 - 51)], None, None)
    assert exactly is not None and len(exactly.message) == 4000 and "…" not in exactly.message


def test_while_it_lasts_the_finding_is_refreshed_without_a_new_alert() -> None:
    opened = odd_finding(ANOMALY, first_seen=EARLIER, last_seen=EARLIER)
    found, alert = odd([BAD_ENTRY], None, opened)
    assert alert is None
    assert found == odd_finding(
        f"Graph returned a connector MTD Guard cannot judge: {BAD_ENTRY}", first_seen=EARLIER
    )
    seen = acknowledge(opened, note="asked Microsoft", who="admin@contoso.com", now=EARLIER)
    kept, quiet = odd([], ANOMALY, seen)
    assert quiet is None
    assert kept == replace(seen, last_seen=NOW)
    assert kept.status is FindingStatus.ACKNOWLEDGED


def test_a_clean_read_resolves_it_once_with_an_info_alert() -> None:
    for existing in (
        odd_finding(ANOMALY, first_seen=EARLIER, last_seen=EARLIER),
        acknowledge(odd_finding(ANOMALY), note=None, who="admin@contoso.com", now=EARLIER),
    ):
        done, alert = odd([], None, existing)
        assert done == replace(
            existing, status=FindingStatus.RESOLVED, message=CLEAN, last_seen=NOW, resolved_at=NOW
        )
        assert without_id(alert) == expected_alert(
            kind="graphData",
            finding_id=ODD_ID,
            severity=Severity.INFO,
            title=CLEAN,
            reason=CLEAN,
            details={"status": "resolved", "resourceId": f"tenant-{TENANT}.connectors"},
            resolves=True,
        )
        assert done is not None
        assert odd([], None, done) == (None, None)
    assert odd([], None, None) == (None, None)


def test_odd_data_after_a_clean_read_reopens_the_finding_and_alerts_again() -> None:
    closed = odd_finding(
        ANOMALY, status=FindingStatus.RESOLVED, first_seen=EARLIER, last_seen=EARLIER, resolved_at=EARLIER
    )
    found, alert = odd([], ANOMALY, closed)
    assert found == odd_finding(ANOMALY)
    assert without_id(alert) == opened_alert(ANOMALY)


def test_the_ca_drift_job_gets_its_own_finding_named_in_its_own_words() -> None:
    resource = f"tenant-{TENANT}.conditional-access"
    message = (
        "Graph returned a Conditional Access policy or directory audit event MTD Guard cannot judge: "
        + BAD_ENTRY
    )
    found, alert = odd([BAD_ENTRY], None, None, listing=CA_LISTING, entry=CA_ENTRY)
    assert found == odd_finding(
        message,
        id=f"graphData.{resource}",
        resource_id=resource,
        resource_name=f"Conditional Access policy or directory audit event list of tenant {TENANT}",
    )
    assert without_id(alert) == opened_alert(
        message,
        finding_id=f"graphData.{resource}",
        title="Graph returned Conditional Access policy or directory audit event data MTD Guard cannot judge",
        details={"status": "open", "resourceId": resource},
    )
    assert found is not None
    done, closing = odd([], None, found, listing=CA_LISTING, entry=CA_ENTRY)
    clean = "Graph's Conditional Access policy or directory audit event list reads cleanly again"
    assert done is not None and done.message == clean and done.status is FindingStatus.RESOLVED
    assert closing is not None and closing.title == clean and closing.reason == clean


def test_a_connector_not_rechecked_keeps_its_health_and_says_why() -> None:
    judged = status(Health.UNRESPONSIVE, since=NOW - timedelta(days=2))
    kept = not_rechecked(judged, "403 Forbidden: the app lacks DeviceManagementServiceConfig.Read.All")
    assert kept == replace(
        judged,
        reason=(
            "not re-checked: 403 Forbidden: the app lacks DeviceManagementServiceConfig.Read.All. "
            f"Last check: {DEAD_REASON}"
        ),
    )


def test_not_rechecked_again_replaces_the_problem_and_keeps_the_judged_reason_once() -> None:
    judged = status(Health.HEALTHY, reason="last heartbeat 20 minutes ago; threshold 7 days")
    twice = not_rechecked(not_rechecked(judged, "Graph answered 503"), "Graph throttled (429)")
    assert twice == replace(
        judged,
        reason=(
            "not re-checked: Graph throttled (429). "
            "Last check: last heartbeat 20 minutes ago; threshold 7 days"
        ),
    )
    # a judged reason that merely mentions the words is not taken for an earlier "not re-checked"
    odd_reason = status(Health.UNKNOWN, reason="partner says: not re-checked: see console")
    assert not_rechecked(odd_reason, "503").reason == (
        "not re-checked: 503. Last check: partner says: not re-checked: see console"
    )


def test_a_judged_reason_quoting_last_check_is_kept_whole_when_not_rechecked_twice() -> None:
    quoting = "Graph sent partnerState 'x Last check: y': MTD Guard cannot judge it"
    judged = status(Health.UNKNOWN, reason=quoting)
    twice = not_rechecked(not_rechecked(judged, "Graph answered 503"), "Graph answered 504")
    assert twice.reason == f"not re-checked: Graph answered 504. Last check: {quoting}"
