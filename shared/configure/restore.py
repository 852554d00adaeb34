"""Restore a connector to its baseline, through the configure path (lease, Intune's rules, only what
differs written, verified re-read, audit): on request, or by the sweep under
CONNECTOR_DRIFT_ACTION=restore. A connector deleted in Intune is created again with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared import catalog
from shared.audit.entries import AuditAction, Caller
from shared.configure import fields as connector_config
from shared.configure.apply import Outcome, configure, resolve_connector
from shared.configure.baseline import AUTOMATIC
from shared.configure.refusal import Refused
from shared.configure.stored import stored_baseline

if TYPE_CHECKING:
    from shared.alerting.channels import Channel
    from shared.configure.apply import Ports
    from shared.graph.gateway import GraphGateway
    from shared.settings import Settings
    from shared.store.state import StateStore

log = logging.getLogger(__name__)
AUTOMATIC_CALLER = Caller(f"{AUTOMATIC} (CONNECTOR_DRIFT_ACTION=restore)", "timer")


def restore(
    services: Ports,
    partner: str,
    *,
    dry_run: bool,
    caller: Caller,
    tenant_id: str,
    now: datetime | None = None,
) -> Outcome:
    """Bring ``partner`` (slug or connector id) back to its stored baseline (audited as
    ``restore``). Raises Refused 404 (unknown partner, or no baseline yet) and whatever
    ``configure`` raises."""
    connector_id = resolve_connector(
        partner, lambda i: stored_baseline(services.store, tenant_id, i) is not None
    )
    baseline = stored_baseline(services.store, tenant_id, connector_id)
    if baseline is None:
        name = catalog.by_id(connector_id).name
        raise Refused(
            404,
            "no-baseline",
            "No baseline",
            f"{name} has no baseline to restore: adopt one (POST /api/connectors/"
            f"{catalog.by_id(connector_id).slug}/baseline) or set it with PUT.",
        )
    body = connector_config.as_settings(baseline.settings)
    return configure(
        services,
        connector_id,
        body,
        dry_run=dry_run,
        caller=caller,
        tenant_id=tenant_id,
        now=now,
        action=AuditAction.RESTORE,
    )


@dataclass(frozen=True)
class _Parts:
    """The sweep's own adapters, in the shape configuring needs (``apply.Ports``)."""

    settings: Settings
    graph: GraphGateway
    store: StateStore
    channels: list[Channel]


def restore_drifted(
    settings: Settings,
    graph: GraphGateway,
    store: StateStore,
    channels: list[Channel],
    *,
    tenant_id: str,
    connector_ids: list[str],
    now: datetime,
) -> list[str]:
    """Restore each drifted connector (CONNECTOR_DRIFT_ACTION=restore), as MTD Guard; the problems,
    one sentence each, for those that could not be restored (each is also in the audit trail)."""
    parts = _Parts(settings, graph, store, channels)
    problems: list[str] = []
    for connector_id in connector_ids:
        try:
            restore(parts, connector_id, dry_run=False, caller=AUTOMATIC_CALLER, tenant_id=tenant_id, now=now)
        except Refused as refused:
            name = catalog.by_id(connector_id).name
            problems.append(f"automatic restore of {name} failed: {refused.detail}")
            log.warning("tenant %s: %s", tenant_id, problems[-1])
    return problems
