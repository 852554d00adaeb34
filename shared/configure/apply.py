"""Configure one MTD connector, end to end: lease, read, check Intune's rules, write, re-read, audit.

The order is what makes it safe to call from tickets:
  1. the body is validated strictly before anything else (400 naming the field);
  2. a real run takes the tenant's configure lease (shared/store/changes.py, ETag-guarded), so two
     configure calls never plan against each other's stale state: the second waits for the first
     and then plans against what the first wrote, or gets 409 with Retry-After. One lease per
     tenant rather than per connector, because Intune's MAM rule spans connectors;
  3. the current connector is read and Intune's rules are checked before any write;
  4. only what differs is sent (POST when absent, PATCH of just the changed properties, nothing
     when already as desired), then the connector is read again: the answer shows what Intune
     really holds, not what we asked for;
  5. every outcome, refusals included, lands in the audit trail.
A dry run does steps 1, 3 and the plan of 4, and writes nothing to Graph.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from shared import catalog, deadline
from shared.alerting.alerts import Alert, new_alert
from shared.audit import trail
from shared.audit.entries import AuditAction, Caller, Result, entry_by
from shared.clock import now_utc
from shared.configure import baseline, verify
from shared.configure import fields as connector_config
from shared.configure.baseline import baseline_key
from shared.configure.drift import drift_finding_id
from shared.configure.fields import BY_GRAPH, Action, Change, InvalidSettings, Plan
from shared.configure.refusal import Refused
from shared.configure.stored import stored_baseline
from shared.configure.verify import NOT_KEPT_ROWS
from shared.findings.model import FindingKind, Severity
from shared.graph.errors import WRITE_CONNECTORS, GraphError
from shared.store.changes import ChangeStore
from shared.store.state import StateStore

if TYPE_CHECKING:
    from shared.alerting.channels import Channel
    from shared.graph.gateway import GraphGateway
    from shared.settings import Settings


class Ports(Protocol):
    """What configuring needs of the composition root's ``Services`` (which is one): a sweep that
    restores by itself passes its own parts."""

    @property
    def settings(self) -> Settings: ...
    @property
    def graph(self) -> GraphGateway: ...
    @property
    def store(self) -> StateStore: ...
    @property
    def channels(self) -> list[Channel]: ...


# Refused is defined in shared/configure/refusal.py (standard library only, for the HTTP toolkit's
# import) and re-exported: callers import it from either module.
__all__ = [
    "LEASE",
    "LEASE_MARGIN",
    "LEASE_WAIT_SECONDS",
    "OUTCOME_UNKNOWN",
    "Outcome",
    "OutcomeUnknown",
    "Ports",
    "Refused",
    "acquire_lease",
    "configure",
    "create_notes",
    "in_graph",
    "lease_length",
    "resolve_connector",
    "unknown_refusal",
    "write",
]
log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # the time budget of a configure run without one (a script); see _bounded
LEASE_MARGIN = timedelta(seconds=30)  # clock differences between instances, the release itself
LEASE_WAIT_SECONDS = 10.0  # how long a second caller waits for the first to finish
_POLL_SECONDS = 0.2
_CONNECTOR_ID = re.compile(r"^[0-9a-f]{7,8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")


@dataclass
class Outcome:
    """What a configure request did (or would do, dry run), as the API answers it."""

    connector_id: str
    partner: str
    dry_run: bool
    applied: bool
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any]
    changes: list[Change]
    partner_state: str | None
    last_heartbeat: str | None
    next_steps: list[str]
    audit_id: str
    notes: list[str] = field(default_factory=list)
    result: Result = Result.APPLIED  # as the audit trail records it: partial when Intune kept less


def resolve_connector(partner: str, present: Callable[[str], bool] | None = None) -> str:
    """A connector id from a catalog slug or an id; Refused(404) for anything else. With
    ``present`` (does the tenant have this id?), the slug of a partner with several public ids
    means the one the tenant has (catalog.resolve_in)."""
    connector_id = catalog.resolve(partner)
    if not _CONNECTOR_ID.match(connector_id):
        slugs = ", ".join(p.slug for p in catalog.partners())
        raise Refused(
            404,
            "unknown-partner",
            "Unknown partner",
            f"{partner!r} is neither a partner name MTD Guard knows ({slugs}) nor a connector id (a GUID).",
        )
    return connector_id if present is None else catalog.resolve_in(partner, present)


def in_graph(graph: GraphGateway) -> Callable[[str], bool]:
    """``present`` for resolve_connector: Graph has a connector with this id. A failed read says
    no: the request's own read of the connector then fails and is reported and audited."""

    def present(connector_id: str) -> bool:
        try:
            return graph.get_connector(connector_id) is not None
        except GraphError:
            return False

    return present


def create_notes(connector_id: str) -> list[str]:
    """What a person should know before MTD Guard creates this connector: a partner it does not
    know (Intune decides whether the id is valid), or a partner whose id is unconfirmed."""
    partner = catalog.by_id(connector_id)
    if not partner.known:
        return [
            f"MTD Guard does not know partner {connector_id} (it is not in its catalog); Intune decides "
            "whether it is a valid partner id, and refuses the create if not"
        ]
    if partner.alternate_ids and connector_id.lower() == partner.id:
        others = ", ".join(partner.alternate_ids)
        return [
            f"which connector id Intune uses for {partner.name} is unconfirmed (public sources also give "
            f"{others}); created as {partner.id}: PUT /api/connectors/{others.split(', ')[0]} to use "
            "the other"
        ]
    return []


def configure(
    services: Ports,
    partner: str,
    body: Any,
    *,
    dry_run: bool,
    caller: Caller,
    tenant_id: str,
    pointer_base: str = "",
    now: datetime | None = None,
    action: AuditAction = AuditAction.CONFIGURE,
) -> Outcome:
    """Bring ``tenant_id``'s connector ``partner`` (catalog slug or connector id) to the desired
    settings in ``body`` (the JSON documented in configure.fields; ``pointer_base`` prefixes the
    RFC 6901 pointers of its errors). Every outcome is audited.

    Raises Refused: 400 invalid settings, 404 unknown partner, 409 concurrent change or Intune's
    one-MAM-partner rule, 422 a setting Intune or the partner does not support, 502/503 Graph failed.

    ``action`` is what the audit trail calls it (a restore is a configure to the baseline). A real
    configure (not a restore) sets the baseline of what it asked, as Intune kept it.
    """
    now = now or now_utc()
    changes_store = ChangeStore(services.store)
    tenant = tenant_id
    connector_id = resolve_connector(partner, in_graph(services.graph))
    audit = _Auditor(services.store, tenant, caller, connector_id, now, action=action)
    try:
        desired = connector_config.parse(body, pointer_base)
    except InvalidSettings as exc:
        errors = [{"pointer": e.pointer, "detail": e.detail} for e in exc.errors]
        detail = "The settings are not valid: " + "; ".join(
            f"{e.pointer or '/'} {e.detail}" for e in exc.errors
        )
        audit.refused(400, detail)
        raise Refused(400, "invalid-settings", "Invalid settings", detail, errors=errors) from None
    if dry_run:
        return _run(services, connector_id, desired, dry_run=True, audit=audit)
    with _bounded():
        return _leased(services, changes_store, connector_id, desired, audit)


def _bounded() -> contextlib.AbstractContextManager[object]:
    """Without an enclosing time budget (a script), one of ``LEASE``: every Graph call of the run
    then ends before the lease does, which a fixed lease alone did not ensure (each call may take
    up to the gateway's CALL_SECONDS)."""
    if math.isinf(deadline.remaining_for_storage()):
        return deadline.budget(LEASE.total_seconds())
    return contextlib.nullcontext()


def _leased(
    services: Ports,
    changes_store: ChangeStore,
    connector_id: str,
    desired: dict[str, bool | int],
    audit: _Auditor,
) -> Outcome:
    """The real run under the tenant's configure lease; Refused(409) when another holds it."""
    holder = acquire_lease(changes_store, audit.tenant)
    if holder is None:
        detail = (
            "Another configure request for this tenant is still being applied; retry in a few "
            "seconds (it will be planned against the result of the other one)."
        )
        audit.refused(409, detail)
        raise Refused(409, "concurrent-change", "Concurrent change", detail, retry_after=5)
    held_until = now_utc() + lease_length()  # no earlier than the lease's own end (the same budget end)
    release = True
    try:
        return _run(services, connector_id, desired, dry_run=False, audit=audit, held_until=held_until)
    except Refused as refused:
        # Graph may still apply a write it never answered: the lease is kept to its end, so no
        # other configure plans against a state that is about to change (one MAM partner rule).
        release = refused.kind != OUTCOME_UNKNOWN
        raise
    finally:
        if release:
            changes_store.release_lease(audit.tenant, holder)


def acquire_lease(store: ChangeStore, tenant: str) -> str | None:
    """The tenant's configure lease (None when another holder kept it past the wait): the one
    writer to Intune's connectors at a time, shared by configure, restore and delete."""
    give_up_at = time.monotonic() + min(LEASE_WAIT_SECONDS, deadline.remaining())
    while True:
        holder = store.acquire(tenant, now_utc(), lease_length())
        if holder is not None or time.monotonic() >= give_up_at:
            return holder
        time.sleep(_POLL_SECONDS)


def lease_length() -> timedelta:
    """A lease that outlasts its holder: every Graph and storage call of a configure ends with the
    invocation's time budget (shared/deadline.py), so the lease runs to the budget's end and a
    margin. A lease shorter than its holder's work let a second configure in during a throttled
    PATCH, and two partners got Android app protection evaluation at once."""
    left = deadline.remaining_for_storage()
    return LEASE if math.isinf(left) else timedelta(seconds=max(left, 0.0)) + LEASE_MARGIN


def _run(
    services: Ports,
    connector_id: str,
    desired: dict[str, bool | int],
    *,
    dry_run: bool,
    audit: _Auditor,
    held_until: datetime | None = None,
) -> Outcome:
    graph = services.graph
    api_version = services.settings.graph_api_version
    try:
        current = graph.get_connector(connector_id)
        others: dict[str, list[str]] = {}
        if any(desired.get(f.graph) is True for f in connector_config.FIELDS if f.mam):
            readings = graph.list_connectors().readings
            others = connector_config.mam_holders([(r.id, r.toggles) for r in readings], connector_id)
        refused = connector_config.refusals(
            connector_id, desired, api_version=api_version, others_mam=others, partner_facts=current or {}
        )
        if refused:
            status = 409 if any(r.status == 409 for r in refused) else 422
            first = next(r for r in refused if r.status == status)
            detail = " ".join(r.detail for r in refused)
            audit.refused(status, detail, before=_shape(current))
            raise Refused(
                status,
                first.kind,
                first.title,
                detail,
                refusals=[
                    {"pointer": r.pointer, "status": r.status, "detail": r.detail, **r.extra} for r in refused
                ],
                **first.extra,
            )
        memory = services.store.get(NOT_KEPT_ROWS, audit.tenant, baseline_key(connector_id))
        held = connector_config.current_values(current) if current else {}
        sent, skipped = verify.skip_refused(desired, held, memory)
        plan = connector_config.plan(connector_id, current, sent)
        advice = connector_config.partner_notes(connector_id, desired, current or {})
        if current is None:
            advice = [*create_notes(connector_id), *advice]
        if dry_run:
            return audit.done(Result.DRY_RUN, plan, current, None, applied=False, notes=[*skipped, *advice])
        after, notes = _apply(graph, plan)
        checked = verify.verify(plan, connector_config.current_values(after or {}))
        if after is not None and checked.side_effects and plan.action is Action.UPDATE:
            after, checked = _repair(graph, plan, checked)
            notes.append(
                "Intune reset settings this request did not send (its PATCH replaced rather than "
                "merged); MTD Guard sent the whole set of settings once more"
            )
    except OutcomeUnknown as unknown:
        refusal = unknown_refusal(unknown.error, connector_id, held_until)
        audit.failed(refusal.status, refusal.detail)
        raise refusal from unknown.error
    except GraphError as exc:
        hint = exc.describe(WRITE_CONNECTORS)
        audit.failed(_graph_status(exc), hint)
        raise Refused(_graph_status(exc), "graph-failed", "Microsoft Graph failed", hint) from exc
    result = Result.UNCHANGED if plan.action is Action.NONE else Result.APPLIED
    if not checked.complete or skipped:
        # a value left out because Intune refused it before is still not held: never "unchanged"
        result = Result.PARTIAL
    notes = [*notes, *skipped, *checked.notes(), *advice]
    outcome = audit.done(result, plan, current, after, applied=plan.action is not Action.NONE, notes=notes)
    _record_write(services, audit, plan, desired, after or current, checked=checked, memory=memory)
    return outcome


def _repair(
    graph: Any, plan: Plan, checked: verify.Verification
) -> tuple[dict[str, Any] | None, verify.Verification]:
    """One more PATCH with every managed setting as it should be (before + asked, except what Intune
    refused to keep), so a PATCH that resets what it is not sent leaves nothing unsent; re-read and
    verified again. Whatever is still off after it is reported, never retried in a loop."""
    refused = {d.graph for d in checked.not_kept}
    body = {p: v for p, v in plan.predicted.items() if p not in refused}
    write(lambda: graph.update_connector(plan.connector_id, body))
    after = graph.get_connector(plan.connector_id)
    return after, verify.verify(plan, connector_config.current_values(after or {}))


def _record_write(
    services: Ports,
    audit: _Auditor,
    plan: Plan,
    desired: dict[str, bool | int],
    held_now: dict[str, Any] | None,
    *,
    checked: verify.Verification,
    memory: verify.NotKept | None,
) -> None:
    """After a real write: the values Intune refused remembered, an alert when it changed settings
    the request did not touch, and (configure, not restore) the baseline of what Intune kept."""
    tenant, connector_id = audit.tenant, plan.connector_id
    rows: list[object] = []
    if checked.not_kept:
        rows.append(
            verify.remembered(memory, checked, tenant_id=tenant, connector_id=connector_id, at=audit.now)
        )
    if checked.side_effects:
        rows.append(_side_effect_alert(services, audit, connector_id, checked))
    if audit.action is AuditAction.CONFIGURE:
        values = connector_config.current_values(held_now or {})
        existing = stored_baseline(services.store, tenant, connector_id)
        kept = {p: values[p] for p in desired if p in values}
        rows.append(
            baseline.updated(
                existing,
                tenant_id=tenant,
                connector_id=connector_id,
                settings=kept if existing else {**(plan.before or values), **kept},
                set_by=audit.caller.who,
                at=audit.now,
                source=baseline.BaselineSource.CONFIGURED,
                ticket=audit.caller.ticket,
            )
        )
    if rows:
        services.store.commit(tenant, [rows])


def _side_effect_alert(
    services: Ports, audit: _Auditor, connector_id: str, checked: verify.Verification
) -> Alert:
    partner = catalog.by_id(connector_id).name
    weakened = any(
        BY_GRAPH[d.graph].enforces and d.expected is True and d.held is False for d in checked.side_effects
    )
    return new_alert(
        tenant_id=audit.tenant,
        kind=FindingKind.CONNECTOR_DRIFT,
        finding_id=drift_finding_id(connector_id),
        severity=Severity.HIGH if weakened else Severity.WARNING,
        title=f"{partner}: Intune changed settings a configure request did not touch",
        reason="; ".join(n for n in checked.notes() if n.startswith("Intune also changed")),
        detected_at=audit.now,
        details={
            "connectorId": connector_id,
            "partner": partner,
            "auditId": audit.entry_id,
            "sideEffects": [d.view() for d in checked.side_effects],
        },
        channels=[c.name for c in services.channels],
    )


def _apply(graph: Any, plan: Plan) -> tuple[dict[str, Any] | None, list[str]]:
    notes: list[str] = []
    if plan.action is Action.CREATE:
        try:
            write(lambda: graph.create_connector(plan.body))
        except GraphError as exc:
            if exc.status != 409:
                raise
            # Created meanwhile outside MTD Guard (the admin center): patch what still differs.
            current = graph.get_connector(plan.connector_id)
            again = connector_config.plan(plan.connector_id, current, plan.predicted)
            if again.action is Action.UPDATE:
                write(lambda: graph.update_connector(plan.connector_id, again.body))
            notes.append("the connector appeared while this request ran; only the differences were patched")
    elif plan.action is Action.UPDATE:
        write(lambda: graph.update_connector(plan.connector_id, plan.body))
    if plan.action is Action.NONE:
        return None, notes
    return graph.get_connector(plan.connector_id), notes


OUTCOME_UNKNOWN = "write-outcome-unknown"  # the Refused kind of a write Graph may still apply


class OutcomeUnknown(Exception):
    """A write sent to Graph without an answer (timeout, dropped connection, 504): it may land
    later, after this request has given up."""

    def __init__(self, error: GraphError) -> None:
        super().__init__(str(error))
        self.error = error


def write(send: Callable[[], object]) -> None:
    """Send one Graph write; a failure that leaves its outcome unknown raises OutcomeUnknown,
    any other GraphError as it is."""
    try:
        send()
    except GraphError as exc:
        if exc.status is None or exc.status == 504:
            raise OutcomeUnknown(exc) from exc
        raise


def unknown_refusal(exc: GraphError, connector_id: str, held_until: datetime | None) -> Refused:
    """The 503 of a write whose outcome is unknown: says so, until when the lease is held (no other
    change gets in before), and to read the connector again before retrying."""
    until = ((held_until or now_utc()) + timedelta(seconds=1)).replace(microsecond=0)  # rounded up
    wait = max(1, math.ceil((until - now_utc()).total_seconds()))
    detail = (
        f"{exc.describe(WRITE_CONNECTORS)}. The write was sent, so Intune may still apply it: its "
        f"outcome is unknown. The tenant's configure lease is held until "
        f"{until.isoformat().replace('+00:00', 'Z')} so that no other change plans against it; "
        f"read the connector again (GET /api/connectors/{catalog.by_id(connector_id).slug}) before "
        "retrying."
    )
    return Refused(
        503,
        OUTCOME_UNKNOWN,
        "Write outcome unknown",
        detail,
        retry_after=wait,
        leaseHeldUntil=until,
    )


def _graph_status(exc: GraphError) -> int:
    # No answer, throttled or Graph's own outage: try again later (503). Anything else Graph
    # refused (403 missing permission, 400): a bad gateway answer that a retry will not fix (502).
    if exc.status is None or exc.status in (429, 500, 502, 503, 504):
        return 503
    return 502


def _shape(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else connector_config.as_settings(connector_config.current_values(item))


class _Auditor:
    """Writes the one audit entry of a configure request."""

    def __init__(
        self,
        store: StateStore,
        tenant: str,
        caller: Caller,
        connector_id: str,
        now: datetime,
        *,
        action: AuditAction = AuditAction.CONFIGURE,
    ) -> None:
        self._store = store
        self.tenant = tenant
        self.caller = caller
        self._connector_id = connector_id
        self.now = now
        self.action = action
        self.entry_id = str(uuid.uuid4())

    def _write(
        self,
        result: Result,
        status: int,
        detail: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        changes: list[Change] | None = None,
    ) -> None:
        trail.record(
            self._store,
            entry_by(
                self.caller,
                entry_id=self.entry_id,
                tenant_id=self.tenant,
                at=self.now,
                action=self.action,
                target=self._connector_id,
                target_name=catalog.by_id(self._connector_id).name,
                result=result,
                status=status,
                detail=detail,
                before=before,
                after=after,
                changes=[c.view() for c in changes or []],
            ),
        )

    def refused(self, status: int, detail: str, before: dict[str, Any] | None = None) -> None:
        self._write(Result.REFUSED, status, detail, before=before)

    def failed(self, status: int, detail: str) -> None:
        self._write(Result.FAILED, status, detail)

    def done(
        self,
        result: Result,
        plan: Plan,
        current: dict[str, Any] | None,
        reread: dict[str, Any] | None,
        *,
        applied: bool,
        notes: list[str] | None = None,
    ) -> Outcome:
        source = reread or current or {}
        after = (
            connector_config.as_settings(plan.predicted)
            if reread is None
            else connector_config.as_settings(connector_config.current_values(reread))
        )
        before = _shape(current)
        partner = catalog.by_id(self._connector_id)
        state = source.get("partnerState") if isinstance(source.get("partnerState"), str) else None
        heartbeat = source.get("lastHeartbeatDateTime")
        heartbeat = heartbeat if isinstance(heartbeat, str) else None
        count = f"{len(plan.changes)} setting(s)"
        if plan.action is Action.NONE and result is Result.PARTIAL:
            summary = f"{partner.name} does not hold every setting asked, and nothing more can be sent"
        elif plan.action is Action.NONE:
            summary = f"{partner.name} is already as desired; nothing to write"
        elif result is Result.DRY_RUN:
            summary = f"dry run: would {plan.action.value} {partner.name} ({count}); nothing written"
        else:
            summary = f"{plan.action.value}d {partner.name} ({count})"
        if notes:
            summary += ". " + ". ".join(notes)
        self._write(result, 200, summary, before=before, after=after, changes=plan.changes)
        return Outcome(
            connector_id=self._connector_id,
            partner=partner.name,
            dry_run=result is Result.DRY_RUN,
            applied=applied,
            action=plan.action,
            before=before,
            after=after,
            changes=plan.changes,
            partner_state=state,
            last_heartbeat=heartbeat,
            next_steps=connector_config.next_steps(self._connector_id, state, heartbeat),
            audit_id=self.entry_id,
            notes=list(notes or []),
            result=result,
        )
