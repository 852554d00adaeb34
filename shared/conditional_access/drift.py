"""The Conditional Access drift job, end to end: read Graph, judge, record, alert.

Classic policies (no API lists them): from the directory audit log, read incrementally from a
stored cursor, or from inventories the admin imports. Modern policies and platform coverage: from
``/identity/conditionalAccess/policies`` and the connectors. The rules are pure (classic/,
modern.py beside this module); this module does the I/O, in an order that keeps the audit log exactly-once:

* Events are read for ``[cursor - overlap, now]`` and processed oldest first. An event that
  changes anything is committed in ONE batch with its effects (baseline row, finding, alert), the
  cursor moved to its time, and an *inserted* ``ProcessedEvent`` row. Re-reading it later (the
  overlap, equal timestamps, a retried run) finds that row and skips it; a second run processing
  it concurrently fails its whole batch (StoreConflict) and stops.
* The cursor reaches ``now`` only once every event up to ``now`` has been processed. A run that
  fails midway (Graph or storage) leaves the cursor at its last committed event: the next run
  resumes there, and nothing before it is skipped. So does a read whose paging stopped early.

What Graph sends cannot silence a run (the heartbeat sweep's promises, issue 10): an entry that is
not a policy or an event is skipped, named in ``problems`` and in ONE warning ``graphData`` finding
(its own, not the heartbeat's), resolved when a run reads every list cleanly; a paging anomaly
does the same, and a cut-short list neither reports unread policies as deleted nor judges
coverage from half a list. Throttling and service faults raise ``graphAccess`` only once they
outlast GRAPH_TRANSIENT_GRACE_MINUTES, at warning; access failures (401, 403, 404) at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from shared import logs
from shared.alerting.alerts import Alert, close_finding
from shared.alerting.channels import Channel
from shared.alerting.outbox import DeliveryReport, deliver_after_run
from shared.clock import now_utc
from shared.conditional_access.classic.changes import ChangePlan, plan_change
from shared.conditional_access.classic.hygiene import GAP_RESOURCE, HYGIENE_RESOURCE, plan_gap, plan_hygiene
from shared.conditional_access.classic.inventory import diff_inventory, parse_inventory, refreshed
from shared.conditional_access.classic.matching import (
    MODERN_SERVICE,
    ClassicChange,
    changes_from_event,
    find_policy,
    modern_policy_ids,
)
from shared.conditional_access.classic.not_classic import plan_not_classic
from shared.conditional_access.classic.removals import parse_removal
from shared.conditional_access.classic.rows import (
    AUDIT_CURSOR,
    BASELINE_IMPORT_ROWS,
    CLASSIC_POLICY_ROWS,
    IMPORT_NAME,
    AuditCursor,
    BaselineImport,
    ClassicPolicy,
    Drift,
    PlannedRemoval,
    ProcessedEvent,
)
from shared.conditional_access.modern import (
    enabled_platforms,
    plan_access,
    plan_coverage,
    plan_modern,
)
from shared.conditional_access.stored import (
    GRAPH_TRANSIENT_ROWS,
    GraphTransient,
    audit_cursor,
    classic_baseline,
    graph_transients,
    modern_baseline,
    planned_removals,
    processed_events,
    prune_processed_events,
)
from shared.findings.model import Finding, FindingKind, finding_id
from shared.findings.stored import stored_findings
from shared.graph.conditional_access_policies import CaPolicy
from shared.graph.errors import (
    READ_APP_PROTECTION,
    READ_CA_POLICIES,
    READ_COMPLIANCE_POLICIES,
    READ_CONNECTORS,
    READ_DIRECTORY_AUDITS,
    GraphError,
    Hints,
)
from shared.graph.gateway import AppProtectionList, ComplianceList, ConnectorList, GraphGateway, PolicyList
from shared.heartbeat.plan import plan_odd_data
from shared.heartbeat.sweep import stored_statuses
from shared.job_runs import Job
from shared.posture.chain import plan_chain
from shared.posture.links import ChainReads
from shared.posture.stored import link_baselines
from shared.settings import Settings
from shared.store.rows import row_key
from shared.store.state import StateStore, StoreConflict, StoreError

log = logging.getLogger(__name__)

AUDIT_RESOURCE = "directory-audit-log"
POLICIES_RESOURCE = "conditional-access-policies"
COMPLIANCE_RESOURCE = "device-compliance-policies"
APP_PROTECTION_RESOURCE = "app-protection-policies"
CA_CUT_SHORT = "cannot see: Graph's list of Conditional Access policies was cut short"
CONNECTORS_SEEN = "connectors"  # key of run.unseen only: the heartbeat raises the access finding
ODD_DATA_LISTING = "conditional-access"  # graphData.tenant-<id>.conditional-access: not the heartbeat's
ODD_DATA_ENTRY = "Conditional Access policy or directory audit event"


@dataclass
class AuditRead:
    """How far one run read the directory audit log (times are UTC)."""

    since: datetime
    until: datetime
    events: int = 0  # returned by Graph
    matched: int = 0  # changed something
    already_processed: int = 0  # skipped: processed by an earlier run
    cursor: datetime | None = None  # where the next run starts (before the overlap)
    complete: bool = False


@dataclass
class CaDriftResult:
    """What one Conditional Access drift run found and did (POST /api/checks/ca-drift answers it)."""

    tenant_id: str
    checked_at: datetime
    classic_source: str
    audit: AuditRead | None = None
    changes: list[ClassicChange] = field(default_factory=list)
    classic_known: int = 0  # classic policies known to exist
    policies: int | None = None  # modern policies read (None: could not read)
    watched: list[str] = field(default_factory=list)  # modern policies requiring compliant devices
    drifted: list[str] = field(default_factory=list)
    coverage: dict[str, bool] = field(default_factory=dict)  # platform -> a policy enforces MTD
    weakest: dict[str, str | None] = field(default_factory=dict)  # platform -> its chain's weakest link
    alerts: list[Alert] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    recorded: bool = False

    @property
    def ok(self) -> bool:
        """Nothing went wrong in this run (Graph, storage, delivery)."""
        return not self.problems


class _Run:
    """One tenant's state as loaded at the start of a run, kept current as changes are committed."""

    def __init__(
        self, settings: Settings, store: StateStore, tenant: str, channels: list[str], now: datetime
    ) -> None:
        self.settings = settings
        self.store = store
        self.tenant = tenant
        self.channels = channels
        self.now = now
        self.findings: dict[str, Finding] = stored_findings(store, self.tenant)
        self.baseline: dict[str, ClassicPolicy] = classic_baseline(store, self.tenant)
        self.removals: list[PlannedRemoval] = planned_removals(store, self.tenant)
        self.transients: dict[str, GraphTransient] = graph_transients(store, self.tenant)
        self.unjudgeable: list[str] = []  # entries of Graph's lists that were not policies/events
        self.anomalies: list[str] = []  # paging that stopped early
        self.read_all = True  # every list this run reads was read (the oddities are the whole story)
        # lower-case ids of known modern policies: never classic, whatever their name
        self.modern: set[str] = set(modern_baseline(store, self.tenant))
        self.unseen: dict[str, str] = {}  # resource -> "cannot see: ..." for the posture

    def refresh(self) -> None:
        """Re-read what another run may have changed since this one started (before a change)."""
        self.findings = stored_findings(self.store, self.tenant)
        self.baseline = classic_baseline(self.store, self.tenant)
        self.removals = planned_removals(self.store, self.tenant)

    def finding(self, kind: str, resource: str) -> Finding | None:
        return self.findings.get(finding_id(kind, resource))

    def commit(self, result: CaDriftResult | _ImportTotals, rows: list[Any]) -> None:
        """One atomic batch: a change, its finding and its alert land together or not at all."""
        rows = [r for r in rows if r is not None]
        if not rows:
            return
        self.store.commit(self.tenant, [_unique(rows)])
        result.recorded = True
        for row in rows:
            if isinstance(row, Finding):
                self.findings[row.id] = row
            elif isinstance(row, Alert):
                result.alerts.append(row)
                about = logs.fields(finding_kind=row.kind)
                log.warning("alert %s: %s - %s", row.severity, row.title, row.reason, extra=about)
            elif isinstance(row, ClassicPolicy):
                self.baseline[row.key] = row
            elif isinstance(row, PlannedRemoval):
                self.removals = [row if r.id == row.id else r for r in self.removals]

    def apply_change(self, change: ClassicChange) -> tuple[ChangePlan, list[Any]]:
        plan = plan_change(
            change,
            self.baseline,
            self.findings,
            self.removals,
            tenant_id=self.tenant,
            now=self.now,
            channels=self.channels,
        )
        rows: list[Any] = [plan.policy, *plan.findings, *plan.alerts, plan.removal]
        if plan.replaces_key is not None:
            rows.append(CLASSIC_POLICY_ROWS.delete_of(replace(plan.policy, key=plan.replaces_key)))
            self.baseline.pop(plan.replaces_key, None)
        return plan, rows

    def not_classic(self, result: CaDriftResult) -> None:
        """Baseline entries that are modern policies leave the classic baseline."""
        for group in plan_not_classic(
            self.baseline, self.findings, self.modern, now=self.now, channels=self.channels
        ):
            self.commit(result, group)
        self.baseline = {
            k: p for k, p in self.baseline.items() if not (p.policy_id and p.policy_id.lower() in self.modern)
        }

    def hygiene(self, result: CaDriftResult | _ImportTotals) -> None:
        existing = self.finding(FindingKind.CLASSIC_POLICY_HYGIENE, HYGIENE_RESOURCE)
        found, alert = plan_hygiene(
            self.baseline, existing, tenant_id=self.tenant, now=self.now, channels=self.channels
        )
        self.commit(result, [found, alert])


def _unique(rows: list[Any]) -> list[Any]:
    """One operation per row in a batch (Table Storage rejects two): the last version wins."""
    by_key: dict[str, Any] = {}
    for row in rows:
        by_key[row_key(row)] = row
    return list(by_key.values())


# -- the monitor run --------------------------------------------------------------------------------


@logs.job_run(Job.CA_DRIFT)
def run_ca_drift(
    settings: Settings,
    gateway: GraphGateway,
    store: StateStore,
    channels: list[Channel],
    *,
    tenant_id: str,
    now: datetime | None = None,
) -> CaDriftResult:
    """One Conditional Access drift run for ``tenant_id`` at ``now`` (default: the clock).

    Reads the directory audit log (unless CA_CLASSIC_SOURCE=import), the modern policies and the
    connectors; records findings and alerts; then delivers pending alerts. Never raises for Graph
    or storage failures: they are findings and/or ``problems`` in the result.
    """
    now = now or now_utc()
    result = CaDriftResult(tenant_id, now, settings.ca.classic_source)
    try:
        run = _Run(settings, store, tenant_id, [c.name for c in channels], now)
        # Modern first: what Graph lists as a modern policy is never classic (issue 13).
        listed = _list_modern(run, gateway, result)
        run.modern |= {p.id.lower() for p in listed.policies} if listed else set()
        if settings.ca.reads_audit_log:
            _classic_from_audit(run, gateway, result)
        run.not_classic(result)
        run.hygiene(result)
        result.classic_known = sum(1 for p in run.baseline.values() if p.exists)
        policies = _modern(run, result, listed) if listed is not None else None
        connectors = _connectors(run, gateway, result, checking_coverage=policies is not None)
        if policies is not None and connectors is not None:
            _coverage(run, connectors, policies, result)
        _chain(run, gateway, result, connectors, policies)
        _odd_data(run, result)
    except StoreError as exc:
        result.problems.append(str(exc))
        log.error("CA drift run for %s stopped: %s", tenant_id, exc)
    result.delivery = deliver_after_run(store, channels, now, tenant_id=tenant_id, problems=result.problems)
    return result


def _access(
    run: _Run,
    result: CaDriftResult,
    resource: str,
    what: str,
    problem: str | None,
    *,
    transient: bool = False,
) -> None:
    existing = run.finding(FindingKind.GRAPH_ACCESS, resource)
    found, alert = plan_access(
        problem,
        existing,
        resource=resource,
        what=what,
        tenant_id=run.tenant,
        now=run.now,
        channels=run.channels,
        transient=transient,
    )
    stale = run.transients.pop(resource, None) if not transient else None
    rows = [found, alert, GRAPH_TRANSIENT_ROWS.delete_of(stale) if stale else None]
    if problem is not None or found is not None or stale is not None:
        run.commit(result, rows)


def _read(run: _Run, result: CaDriftResult, resource: str, what: str) -> None:
    """Graph answered ``what``: its access finding resolves, a transient streak ends."""
    _access(run, result, resource, what, None)


def _read_failed(
    run: _Run, result: CaDriftResult, exc: GraphError, *, resource: str, what: str, hints: Hints
) -> None:
    """Graph could not list ``what``. Access failures (401, 403, 404, ...) raise the finding at
    once; throttling and service faults (429, 503, 504, timeouts) only once they have lasted
    GRAPH_TRANSIENT_GRACE_MINUTES since the first of them in a row, with a remediation about
    throttling and service health. Either way the problem is named in the run's result."""
    run.read_all = False
    if not exc.transient:
        problem = exc.describe(hints)
        result.problems.append(problem)
        log.error("tenant %s: %s", run.tenant, problem)
        _access(run, result, resource, what, problem)
        return
    problem = exc.transient_summary(what)
    result.problems.append(problem)
    log.warning("tenant %s: %s", run.tenant, problem)
    streak = run.transients.get(resource)
    if streak is None:
        streak = run.transients[resource] = GraphTransient(run.tenant, resource, run.now)
        run.commit(result, [streak])
    if run.now - streak.since >= timedelta(minutes=run.settings.graph_transient_grace_minutes):
        _access(run, result, resource, what, problem, transient=True)


def _odd_data(run: _Run, result: CaDriftResult) -> None:
    """One graphData finding for what was odd in this run's lists; resolved only by a run that
    read every list (a list Graph did not answer may still hold the odd entry)."""
    if not (run.unjudgeable or run.anomalies or run.read_all):
        return
    found, alert = plan_odd_data(
        run.unjudgeable,
        ". ".join(run.anomalies) or None,
        run.finding(FindingKind.GRAPH_DATA, f"tenant-{run.tenant}.{ODD_DATA_LISTING}"),
        tenant_id=run.tenant,
        now=run.now,
        channels=run.channels,
        listing=ODD_DATA_LISTING,
        entry=ODD_DATA_ENTRY,
    )
    run.commit(result, [found, alert])


def _classic_from_audit(run: _Run, gateway: GraphGateway, result: CaDriftResult) -> None:
    ca = run.settings.ca
    cursor = audit_cursor(run.store, run.tenant)
    gap, gap_alert = plan_gap(
        cursor,
        run.finding(FindingKind.AUDIT_LOG_GAP, GAP_RESOURCE),
        retention_days=ca.audit_retention_days,
        tenant_id=run.tenant,
        now=run.now,
        channels=run.channels,
    )
    run.commit(result, [gap, gap_alert])
    until = run.now.replace(microsecond=0)
    overlap = timedelta(minutes=ca.audit_overlap_minutes)
    oldest = until - timedelta(days=ca.audit_retention_days)  # Graph keeps nothing older
    since = max(cursor.position - overlap, oldest) if cursor else oldest
    read = result.audit = AuditRead(since=since, until=until, cursor=cursor.position if cursor else None)
    try:
        listed = gateway.list_directory_audits(since, until, ca.matching.server_filter)
    except GraphError as exc:
        what, hints = "the directory audit log", READ_DIRECTORY_AUDITS
        _read_failed(run, result, exc, resource=AUDIT_RESOURCE, what=what, hints=hints)
        return
    _read(run, result, AUDIT_RESOURCE, "the directory audit log")
    _listed(run, result, listed.problems, listed.unjudgeable, listed.anomaly)
    read.events = len(listed.events)
    run.modern |= modern_policy_ids(listed.events)
    if any(changes_from_event(e, ca.matching, run.baseline, run.modern) for e in listed.events):
        # Only when an event would count as classic: is its target a modern policy after all?
        run.modern |= _modern_events(run, gateway, result, since, until)
    processed = processed_events(run.store, run.tenant, since)
    position = cursor.position if cursor else since
    for event in sorted(listed.events, key=lambda e: (e.activity_at, e.id)):
        if event.activity_at < since:  # outside the window asked for: processed rows are pruned there
            continue
        if event.id in processed:
            read.already_processed += 1
            continue
        if not changes_from_event(event, ca.matching, run.baseline, run.modern):
            continue
        run.refresh()  # rare (classic policies seldom change): judge against the latest state
        changes = changes_from_event(event, ca.matching, run.baseline, run.modern)
        if not changes:
            continue
        position = max(position, event.activity_at)
        rows: list[Any] = [
            ProcessedEvent(
                run.tenant, event.id, event.activity_at, run.now, ", ".join(c.drift for c in changes)
            )
        ]
        for change in changes:
            rows += run.apply_change(change)[1]
        rows.append(AuditCursor(run.tenant, AUDIT_CURSOR, position, run.now))
        try:
            run.commit(result, rows)
        except StoreConflict:
            result.problems.append(
                f"another run processed audit event {event.id} at the same time; this run stopped "
                "reading the audit log and the next run continues where that one ends"
            )
            return
        processed.add(event.id)
        read.matched += 1
        read.cursor = position
        result.changes += changes
    if listed.anomaly:  # pages left unread: the next run reads this window again from the cursor
        return
    final = max(position, until)
    run.commit(result, [AuditCursor(run.tenant, AUDIT_CURSOR, final, run.now)])
    read.cursor, read.complete = final, True
    prune_processed_events(run.store, run.tenant, until - overlap)


def _modern_events(
    run: _Run, gateway: GraphGateway, result: CaDriftResult, since: datetime, until: datetime
) -> set[str]:
    """Ids the modern audit events of the window name, when the configured services leave them
    out of the main read (by default Graph is asked for Core Directory events only)."""
    services = {s.casefold() for s in run.settings.ca.matching.services}
    if "*" in services or MODERN_SERVICE.casefold() in services:
        return set()  # already in the main read
    try:
        listed = gateway.list_directory_audits(since, until, {"loggedByService": MODERN_SERVICE})
    except GraphError as exc:
        result.problems.append(
            "the modern Conditional Access audit events could not be read; classic changes were told "
            "from modern ones by Graph's policy list only: " + exc.describe(READ_DIRECTORY_AUDITS)
        )
        return set()
    return modern_policy_ids(listed.events)


def _list_modern(run: _Run, gateway: GraphGateway, result: CaDriftResult) -> PolicyList | None:
    try:
        listed = gateway.list_ca_policies()
    except GraphError as exc:
        what, hints = "Conditional Access policies", READ_CA_POLICIES
        _read_failed(run, result, exc, resource=POLICIES_RESOURCE, what=what, hints=hints)
        run.unseen[POLICIES_RESOURCE] = _cannot_see(exc, hints)
        return None
    _read(run, result, POLICIES_RESOURCE, "Conditional Access policies")
    _listed(run, result, listed.problems, listed.unjudgeable, listed.anomaly)
    return listed


def _modern(run: _Run, result: CaDriftResult, listed: PolicyList) -> list[CaPolicy] | None:
    result.policies = len(listed.policies)
    baseline = modern_baseline(run.store, run.tenant)
    if listed.anomaly:  # a policy on an unread page is not deleted: judge only what was read
        read = {p.id.lower() for p in listed.policies}
        baseline = {k: v for k, v in baseline.items() if k in read}
    plan = plan_modern(
        listed.policies,
        baseline,
        run.findings,
        tenant_id=run.tenant,
        now=run.now,
        channels=run.channels,
    )
    for group in plan.groups:
        run.commit(result, group)
    result.watched = sorted(p.id for p in listed.policies if p.has_compliant_device)
    result.drifted = plan.drifted
    if listed.anomaly:
        result.problems.append("platform coverage not checked: the policy list may be incomplete")
        return None
    return listed.policies


def _listed(
    run: _Run, result: CaDriftResult, problems: list[str], unjudgeable: list[str], anomaly: str | None
) -> None:
    """What was odd in one list Graph answered: named in the problems, kept for the finding."""
    result.problems.extend(problems)
    for problem in problems:
        log.warning("tenant %s: %s", run.tenant, problem)
    run.unjudgeable += unjudgeable
    if anomaly:
        run.anomalies.append(anomaly)


def _connectors(
    run: _Run, gateway: GraphGateway, result: CaDriftResult, *, checking_coverage: bool
) -> ConnectorList | None:
    try:
        return gateway.list_connectors()
    except GraphError as exc:  # the heartbeat monitor raises its own finding for this
        if checking_coverage:
            result.problems.append("platform coverage not checked: " + exc.describe(READ_CONNECTORS))
        run.unseen[CONNECTORS_SEEN] = _cannot_see(exc, READ_CONNECTORS)
        return None


def _coverage(run: _Run, connectors: ConnectorList, policies: list[CaPolicy], result: CaDriftResult) -> None:
    groups, _, covered = plan_coverage(
        enabled_platforms(connectors.readings),
        policies,
        run.findings,
        tenant_id=run.tenant,
        now=run.now,
        channels=run.channels,
    )
    for group in groups:
        run.commit(result, group)
    result.coverage = covered


# -- the enforcement chain (shared/posture/) ------------------------------------------------------------


def _cannot_see(exc: GraphError, hints: Hints) -> str:
    """ "cannot see: grant ..." for a missing permission, else what went wrong."""
    hint = hints.get(exc.status or 0)
    return f"cannot see: {hint}" if exc.status == 403 and hint else f"cannot see: {exc.describe(hints)}"


def _chain_list(
    run: _Run,
    result: CaDriftResult,
    read: Callable[[], ComplianceList | AppProtectionList],
    *,
    resource: str,
    what: str,
    hints: Hints,
) -> list[Any] | None:
    """One chain list, or None (its reason in ``run.unseen[resource]``) when it cannot be read
    whole: a failed read raises the usual graphAccess finding; a cut-short list judges nothing."""
    try:
        listed = read()
    except GraphError as exc:
        _read_failed(run, result, exc, resource=resource, what=what, hints=hints)
        run.unseen[resource] = _cannot_see(exc, hints)
        return None
    _read(run, result, resource, what)
    _listed(run, result, listed.problems, listed.unjudgeable, listed.anomaly)
    if listed.anomaly:
        run.unseen[resource] = f"cannot see: Graph's list of {what} was cut short ({listed.anomaly})"
        return None
    return list(listed.policies)


def _chain(
    run: _Run,
    gateway: GraphGateway,
    result: CaDriftResult,
    connectors: ConnectorList | None,
    policies: list[CaPolicy] | None,
) -> None:
    """Read the compliance and app protection policies, judge every platform's chain, record its
    link findings and the posture snapshot GET /api/posture serves."""
    compliance = _chain_list(
        run,
        result,
        gateway.list_compliance_policies,
        resource=COMPLIANCE_RESOURCE,
        what="device compliance policies",
        hints=READ_COMPLIANCE_POLICIES,
    )
    apps: list[Any] | None = None
    if gateway.api_version == "beta":
        apps = _chain_list(
            run,
            result,
            gateway.list_app_protection_policies,
            resource=APP_PROTECTION_RESOURCE,
            what="app protection policies",
            hints=READ_APP_PROTECTION,
        )
    else:
        run.unseen[APP_PROTECTION_RESOURCE] = (
            "cannot see: the maximum allowed device threat level of app protection policies is in Graph "
            "beta only; set GRAPH_API_VERSION=beta to check this link"
        )
    reads = ChainReads(
        connectors=connectors.readings if connectors is not None else None,
        statuses=stored_statuses(run.store, run.tenant),
        compliance=compliance,
        ca=policies,
        app_protection=apps,
        connectors_unseen=run.unseen.get(CONNECTORS_SEEN, ""),
        compliance_unseen=run.unseen.get(COMPLIANCE_RESOURCE, ""),
        ca_unseen=run.unseen.get(
            POLICIES_RESOURCE, "cannot see: the Conditional Access policy list was cut short"
        ),
        app_protection_unseen=run.unseen.get(APP_PROTECTION_RESOURCE, ""),
    )
    plan = plan_chain(
        reads,
        link_baselines(run.store, run.tenant),
        run.findings,
        tenant_id=run.tenant,
        now=run.now,
        channels=run.channels,
    )
    for group in plan.groups:
        run.commit(result, group)
    run.commit(result, list(plan.postures))
    result.weakest = {p.platform: p.weakest_link.value if p.weakest_link else None for p in plan.postures}


# -- import of an inventory ---------------------------------------------------------------------------


@dataclass
class _ImportTotals:
    alerts: list[Alert] = field(default_factory=list)
    recorded: bool = False


@dataclass
class ImportResult:
    """What importing a classic policy inventory changed (PUT /api/ca/classic-baseline answers it)."""

    tenant_id: str
    imported_at: datetime
    first_import: bool
    policies: list[ClassicPolicy]
    changes: list[ClassicChange]
    resolved: list[str]  # findings closed because the baseline was re-imported
    alerts: list[Alert]
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    problems: list[str] = field(default_factory=list)


def import_classic_baseline(
    settings: Settings,
    store: StateStore,
    channels: list[Channel],
    body: Any,
    *,
    tenant_id: str,
    who: str,
    now: datetime | None = None,
) -> ImportResult:
    """Compare an admin's inventory with the baseline, raise drift, and make it the new baseline.

    Raises classic.inventory.InvalidInventory (nothing written) when the inventory is not valid.
    Importing accepts what happened before: open classic drift findings and the audit-gap finding
    are resolved (unless this very import confirms the drift again).
    """
    now = now or now_utc()
    inventory = parse_inventory(body, now)
    run = _Run(settings, store, tenant_id, [c.name for c in channels], now)
    totals = _ImportTotals()
    first = store.get(BASELINE_IMPORT_ROWS, run.tenant, IMPORT_NAME) is None
    drift, quiet = diff_inventory(inventory, run.baseline, first_import=first, by=who, now=now)
    touched: set[str] = set()
    for change in drift:
        plan, rows = run.apply_change(change)
        touched.update(f.id for f in plan.findings)
        run.commit(totals, rows)
    for change in quiet:
        known = find_policy(run.baseline, change.policy_id, change.display_name)
        row = refreshed(known, change, tenant_id=run.tenant, now=now)
        stale = CLASSIC_POLICY_ROWS.delete_of(known) if known is not None and known.key != row.key else None
        if stale is not None:
            run.baseline.pop(known.key, None)  # type: ignore[union-attr]
        run.commit(totals, [row, stale])
    resolved = _accept_history(run, totals, touched, who)
    run.commit(
        totals,
        [BaselineImport(run.tenant, IMPORT_NAME, now, who, len(inventory.policies), inventory.exported_at)],
    )
    run.hygiene(totals)
    result = ImportResult(
        tenant_id=run.tenant,
        imported_at=now,
        first_import=first,
        policies=sorted(run.baseline.values(), key=lambda p: p.display_name.casefold()),
        changes=drift,
        resolved=resolved,
        alerts=totals.alerts,
    )
    result.delivery = deliver_after_run(store, channels, now, tenant_id=tenant_id, problems=result.problems)
    return result


def _accept_history(run: _Run, totals: _ImportTotals, keep: set[str], who: str) -> list[str]:
    """Resolve classic drift findings (and the audit gap) the re-import has superseded."""
    resolved = []
    for found in list(run.findings.values()):
        if found.id in keep or not found.is_active:
            continue
        if found.kind not in (FindingKind.CLASSIC_POLICY_DRIFT, FindingKind.AUDIT_LOG_GAP):
            continue
        done, alert = close_finding(
            found,
            f"Accepted into the baseline: {who} imported the classic policy inventory on "
            f"{run.now.isoformat(timespec='seconds').replace('+00:00', 'Z')}. Before: {found.message}",
            f"{found.resource_name}: accepted by a new baseline",
            run.now,
            run.channels,
        )
        run.commit(totals, [done, alert])
        resolved.append(found.id)
    return resolved


# -- planned removals ---------------------------------------------------------------------------------


def announce_removal(
    store: StateStore, body: Any, who: str, *, tenant_id: str, now: datetime | None = None
) -> PlannedRemoval:
    """Record a removal announced beforehand (HTTP API and the ticket webhooks).

    Raises classic.inventory.InvalidInventory listing the problems when ``body`` is not valid.
    A deletion of a matching classic policy seen later inside the window is ``info``, not ``high``.
    """
    removal = parse_removal(body, tenant_id=tenant_id, who=who, now=now or now_utc())
    store.commit(tenant_id, [[removal]])
    return removal


def classic_state(store: StateStore, *, tenant_id: str) -> dict[str, Any]:
    """What MTD Guard knows of ``tenant_id``'s classic policies, for GET /api/ca/classic-baseline:
    ``baseline`` (ClassicPolicy list by name), ``import`` (BaselineImport | None), ``cursor``
    (AuditCursor | None), ``removals`` (PlannedRemoval list). Raises StoreError."""
    tenant = tenant_id
    return {
        "baseline": sorted(classic_baseline(store, tenant).values(), key=lambda p: p.display_name.casefold()),
        "import": store.get(BASELINE_IMPORT_ROWS, tenant, IMPORT_NAME),
        "cursor": audit_cursor(store, tenant),
        "removals": planned_removals(store, tenant),
    }


def drift_counts(changes: list[ClassicChange]) -> Mapping[str, int]:
    """How many changes of each Drift value (every value present, zero included)."""
    counts = {d.value: 0 for d in Drift}
    for change in changes:
        counts[change.drift.value] += 1
    return counts
