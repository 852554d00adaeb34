"""What one classic change does, pure: the remediation an admin reads for each drift, the baseline
row it leaves (state, partner, content hash, who and where from), the finding's wording and when an
alert goes out. The disabled and planned-deletion cases field by field: test_classic_rules.py."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.conditional_access.classic.changes import plan_change, remediation
from shared.conditional_access.classic.matching import ClassicChange
from shared.conditional_access.classic.rows import ClassicPolicy, Drift, PlannedRemoval, PolicyState
from shared.findings.model import Finding, FindingStatus, Severity
from tests.conftest import LOOKOUT

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PID = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001"
ZIMPERIUM = "08a8455c-48dd-45ff-ad82-7211355354f3"
NAME_KEY = "name-1234567890abcdef"


def advice(connector: str) -> str:
    return (
        "If this tenant still depends on it (a connector set up before Intune release 2404 with no modern "
        f"policy taking over), delete and re-create {connector} in Intune, then finish the partner side in "
        "its console. Since 2404 classic policies are no longer needed: make sure an enabled modern "
        "Conditional Access policy requires a compliant device on every platform the connector enables "
        "(MTD Guard's caCoverage findings name any gap)."
    )


LOOKOUT_ADVICE = advice("the Lookout for Work connector")
ANY_ADVICE = advice("the MTD connector it belongs to")
DELETED = "A deleted classic policy cannot be restored. "
NEXT_TIME = " Next time, announce a removal first: POST /api/ca/planned-removals or the ticket webhook."
DISABLED = (
    "A disabled classic policy cannot be re-enabled. Delete it instead (announce the removal first with "
    "POST /api/ca/planned-removals). "
)
EDITED = (
    "Microsoft's guidance is never to edit classic MTD policies. Ask the person named here what changed "
    "and why; revert it in Entra admin center > Conditional Access > Classic policies, or remove the "
    "policy the supported way (announce, then delete). "
)
PLANNED = (
    "Nothing to do: this is the cleanup Microsoft now recommends. Check that an enabled modern Conditional "
    "Access policy requires a compliant device on every platform the connector enables."
)
ADDED = (
    "Since Intune release 2404 classic MTD policies are not created nor needed; find out what created "
    "this one. Remove it once a modern policy requiring a compliant device covers the connector's "
    "platforms (announce, then delete)."
)


@pytest.mark.parametrize(
    ("drift", "partner", "planned", "text"),
    [
        (Drift.DELETED, "Lookout for Work", False, DELETED + LOOKOUT_ADVICE + NEXT_TIME),
        (Drift.DELETED, None, False, DELETED + ANY_ADVICE + NEXT_TIME),
        (Drift.DELETED, "Lookout for Work", True, PLANNED),
        (Drift.DISABLED, "Lookout for Work", False, DISABLED + LOOKOUT_ADVICE),
        (Drift.DISABLED, None, False, DISABLED + ANY_ADVICE),
        (Drift.MODIFIED, "Lookout for Work", False, EDITED + LOOKOUT_ADVICE),
        (Drift.MODIFIED, None, False, EDITED + ANY_ADVICE),
        (Drift.MODIFIED, None, True, EDITED + ANY_ADVICE),  # only a deletion is ever planned
        (Drift.ADDED, "Lookout for Work", False, ADDED),
    ],
)
def test_each_drift_has_its_remediation(drift: Drift, partner: str | None, planned: bool, text: str) -> None:
    assert remediation(drift, partner, planned) == text


def change(drift: Drift, name: str = "Token policy", **kw: Any) -> ClassicChange:
    fields: dict[str, Any] = {
        "drift": drift,
        "policy_id": PID,
        "display_name": name,
        "at": NOW - timedelta(hours=1),
        "source": "audit",
    }
    fields.update(kw)
    return ClassicChange(**fields)


def row(name: str = "Token policy", **kw: Any) -> ClassicPolicy:
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "key": PID,
        "policy_id": PID,
        "display_name": name,
        "state": PolicyState.ENABLED,
        "partner_id": None,
        "partner": None,
        "content_hash": "h0",
        "source": "import",
        "first_seen": NOW - timedelta(days=9),
        "updated_at": NOW - timedelta(days=9),
        "last_change": "imported by ops",
    }
    fields.update(kw)
    return ClassicPolicy(**fields)


def plan(c: ClassicChange, *baseline: ClassicPolicy, findings: Any = None, removals: Any = ()):
    return plan_change(
        c,
        {p.key: p for p in baseline},
        findings or {},
        list(removals),
        tenant_id="t",
        now=NOW,
        channels=["webhook"],
    )


def test_a_policy_added_in_an_import_is_an_info_finding_with_a_new_row() -> None:
    added = plan(
        change(
            Drift.ADDED, "Zimperium MTD", policy_id=None, source="import", content_hash="h1", evidence="seen"
        )
    )
    key = "name-" + hashlib.sha256(b"zimperium mtd").hexdigest()[:16]
    assert added.policy == ClassicPolicy(
        tenant_id="t",
        key=key,
        policy_id=None,
        display_name="Zimperium MTD",
        state=PolicyState.ENABLED,
        partner_id=ZIMPERIUM,  # recognised from the name
        partner="Zimperium",
        content_hash="h1",
        source="import",
        first_seen=NOW,
        updated_at=NOW,
        last_change="added (seen in the inventory imported by unknown)",
    )
    assert added.replaces_key is None and added.removal is None
    [finding] = added.findings
    assert (finding.tenant_id, finding.severity, finding.first_seen, finding.resource_name) == (
        "t",
        Severity.INFO,
        NOW,
        "Zimperium MTD",
    )
    assert finding.message == (
        "Classic CA policy 'Zimperium MTD' (Zimperium) appeared on 2026-11-20T11:00:00Z "
        "(seen in the inventory imported by unknown). Evidence: seen."
    )
    assert finding.remediation == ADDED
    [alert] = added.alerts
    assert (alert.title, alert.detected_at, alert.tenant_id) == (
        "Classic CA policy 'Zimperium MTD' appeared",
        NOW,
        "t",
    )
    off = plan(change(Drift.ADDED, source="import", by="ops", new_state=PolicyState.DISABLED))
    assert off.policy.state is PolicyState.DISABLED
    assert off.policy.last_change == "added (seen in the inventory imported by ops)"


def test_an_edit_of_a_policy_known_by_name_moves_it_to_its_id_and_keeps_what_was_known() -> None:
    by_name = row(key=NAME_KEY, policy_id=None, partner_id=ZIMPERIUM, partner="Zimperium")
    edited = plan(change(Drift.MODIFIED, by="admin@contoso.com", event_id="Directory_9"), by_name)
    assert edited.policy == ClassicPolicy(
        tenant_id="t",
        key=PID,
        policy_id=PID,
        display_name="Token policy",
        state=PolicyState.ENABLED,
        partner_id=ZIMPERIUM,  # the baseline knew it; the name does not tell
        partner="Zimperium",
        content_hash="h0",  # an audit event says nothing of the details
        source="import",
        first_seen=NOW - timedelta(days=9),
        updated_at=NOW,
        last_change="modified by admin@contoso.com (event Directory_9)",
    )
    assert edited.replaces_key == NAME_KEY
    [finding] = edited.findings
    assert finding.severity is Severity.HIGH
    assert finding.message == (
        "Classic CA policy 'Token policy' (Zimperium) was edited on 2026-11-20T11:00:00Z "
        "by admin@contoso.com."
    )
    assert edited.alerts[0].title == "Classic CA policy 'Token policy' was edited"
    # The same policy already known by its id: nothing to move.
    assert plan(change(Drift.MODIFIED), row()).replaces_key is None


def test_the_row_state_follows_the_change_then_the_baseline() -> None:
    assert plan(change(Drift.MODIFIED), row(state=PolicyState.DISABLED)).policy.state is PolicyState.DISABLED
    assert plan(change(Drift.MODIFIED)).policy.state is PolicyState.UNKNOWN
    assert plan(change(Drift.MODIFIED), row(state=PolicyState.DELETED)).policy.state is PolicyState.DELETED
    revived = plan(change(Drift.ADDED), row(state=PolicyState.DELETED))
    assert revived.policy.state is PolicyState.ENABLED
    deleted = plan(change(Drift.DELETED, new_state=PolicyState.DELETED), row(state=PolicyState.DELETED))
    assert deleted.policy.state is PolicyState.DELETED


def test_an_imported_change_carries_its_own_content_hash_and_partner() -> None:
    known = row(partner_id=ZIMPERIUM, partner="Zimperium")
    imported = plan(
        change(Drift.MODIFIED, source="import", by="ops", content_hash="h1", partner_id=LOOKOUT), known
    )
    assert (imported.policy.content_hash, imported.policy.partner_id, imported.policy.partner) == (
        "h1",
        LOOKOUT,
        "Lookout for Work",
    )
    assert imported.policy.last_change == "modified (seen in the inventory imported by ops)"
    # An import entry without details does not keep the old hash; an audit event does.
    assert plan(change(Drift.MODIFIED, source="import"), known).policy.content_hash is None
    assert plan(change(Drift.MODIFIED), known).policy.content_hash == "h0"
    assert plan(change(Drift.MODIFIED, content_hash="h2"), known).policy.content_hash == "h2"


def test_a_policy_without_partner_is_named_alone() -> None:
    lonely = plan(change(Drift.MODIFIED, event_id="Directory_2"), row())
    assert (lonely.policy.partner_id, lonely.policy.partner) == (None, None)
    assert lonely.findings[0].message == (
        "Classic CA policy 'Token policy' was edited on 2026-11-20T11:00:00Z (initiator not logged)."
    )
    assert lonely.policy.last_change == "modified (initiator not logged) (event Directory_2)"
    assert lonely.findings[0].remediation == EDITED + ANY_ADVICE


def test_a_planned_deletion_without_ticket_and_the_removal_remembers_its_last_20_uses() -> None:
    removal = PlannedRemoval(
        "t",
        "r",
        "ops@contoso.com",
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
        policy_id=PID,
        used_by=[f"p{i}" for i in range(20)],
    )
    deleted = plan(change(Drift.DELETED, new_state=PolicyState.DELETED), row(), removals=[removal])
    assert deleted.findings[0].message == (
        "Classic CA policy 'Token policy' was deleted on 2026-11-20T11:00:00Z (initiator not logged), as "
        "announced by ops@contoso.com on 2026-11-19T12:00:00Z: cleanup as Microsoft now recommends."
    )
    assert deleted.removal is not None
    assert deleted.removal.used_by == [*(f"p{i}" for i in range(1, 20)), PID]
    # A removal is looked for only for deletions.
    assert plan(change(Drift.MODIFIED), row(), removals=[removal]).removal is None


def test_a_finding_still_open_is_updated_without_a_new_alert_and_a_closed_one_reopens_with_one() -> None:
    first = plan(change(Drift.MODIFIED), row())
    [finding] = first.findings
    earlier = Finding(
        finding.id,
        "t",
        finding.kind,
        finding.resource_id,
        "old name",
        Severity.HIGH,
        FindingStatus.ACKNOWLEDGED,
        "m",
        "r",
        NOW - timedelta(days=2),
        NOW - timedelta(days=2),
    )
    again = plan(change(Drift.MODIFIED), row(), findings={finding.id: earlier})
    assert again.alerts == []
    assert (again.findings[0].first_seen, again.findings[0].status, again.findings[0].last_seen) == (
        NOW - timedelta(days=2),
        FindingStatus.ACKNOWLEDGED,
        NOW,
    )
    closed = Finding(**{**earlier.__dict__, "status": FindingStatus.RESOLVED})
    reopened = plan(change(Drift.MODIFIED), row(), findings={finding.id: closed})
    assert len(reopened.alerts) == 1 and reopened.findings[0].status is FindingStatus.OPEN
