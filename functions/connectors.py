"""Connectors: their health, settings, baseline and drift from the last stored sweep (no live Graph
call); adopting a baseline, restoring it, deleting a connector, and exporting every connector's
settings as the PUT bodies that set them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions.findings import note_body
from functions.http import Problem, endpoint, json_response
from functions.http.body import no_body
from functions.http.callers import TICKET_HEADER, caller_for, clean_ticket, refused_response
from functions.http.query import Count, Flag, QuerySpec, Schema
from functions.replay import idempotent
from shared.clock import now_utc
from shared.configure.refusal import Refused
from shared.context import services
from shared.principal import Role

if TYPE_CHECKING:
    from shared.audit.entries import Caller
    from shared.configure.baseline import Baseline
    from shared.context import Services

bp = func.Blueprint()
DETAIL_QUERY = QuerySpec("connector_get", (Count("historyLimit", low=1, high=1000, fallback=50),))


@dataclass(frozen=True)
class DryRun(Flag):
    """true or false (also 1 or 0); absent: TRUE. For the routes that only preview unless told."""

    @property
    def default(self) -> bool:
        """True: without ?dryRun=false nothing is written."""
        return True

    def schema(self) -> Schema:
        """A JSON Schema boolean, true by default."""
        return {"type": "boolean", "default": True}


RESTORE_QUERY = QuerySpec(
    "connector_restore",
    (DryRun("dryRun", "false: write the baseline to Graph (default true: only the plan)"),),
)
DELETE_QUERY = QuerySpec(
    "connector_delete",
    (DryRun("dryRun", "false: delete the connector in Intune (default true: only say so)"),),
)


def _change(
    req: func.HttpRequest, act: Callable[[Services, Caller], Any], view: Callable[[Any, str | None], Any]
) -> func.HttpResponse:
    """A connector change: ticket and caller read, ``act`` run under Idempotency-Key, a refusal as
    problem+json carrying the ticket, else ``view(result, ticket)`` as JSON."""

    def run() -> func.HttpResponse:
        ticket = clean_ticket(req.headers.get(TICKET_HEADER), TICKET_HEADER)
        caller = caller_for(req, "api", ticket, anonymous="function key caller")
        try:
            done = act(services(), caller)
        except Refused as refused:
            return refused_response(req, refused, ticket=ticket)
        return json_response(view(done, ticket))

    return idempotent(req, "api", run)


@bp.function_name("connectors_list")
@bp.route(route="connectors", methods=["GET"])
@endpoint(Role.READER)
def connectors_list(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/connectors (Reader): every connector's health, settings (the PUT body's shape),
    baseline and drift as the last stored sweep saw them, by partner name (ConnectorList); no Graph
    call. 400 for any query parameter.
    """
    from functions import views
    from shared.configure.stored import stored_baselines
    from shared.heartbeat.sweep import last_sweep, stored_statuses

    s = services()
    tenant = s.settings.tenant_id
    sweep = last_sweep(s.store, tenant)
    statuses = sorted(stored_statuses(s.store, tenant).values(), key=lambda c: c.partner.lower())
    return json_response(views.connector_list(tenant, sweep, statuses, stored_baselines(s.store, tenant)))


@bp.function_name("connector_get")
@bp.route(route="connectors/{partner}", methods=["GET"])
@endpoint(Role.READER, DETAIL_QUERY)
def connector_get(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/connectors/{partner} (Reader): one connector (catalog slug or connector id) as the
    last sweep judged it, with its settings, baseline, drift and last ``historyLimit`` readings
    (1-1000, default 50), newest first (ConnectorDetail). 400 for a bad query parameter; 404 when
    the last sweep did not see it.
    """
    from functions import views
    from shared import catalog
    from shared.configure.stored import stored_baseline
    from shared.heartbeat.sweep import history, stored_statuses

    limit: int = DETAIL_QUERY.parse(req)["historyLimit"]
    s = services()
    tenant = s.settings.tenant_id
    wanted = req.route_params.get("partner", "")
    statuses = stored_statuses(s.store, tenant)
    status = statuses.get(catalog.resolve_in(wanted, lambda i: i in statuses))
    if status is None:
        raise Problem(
            404,
            "Connector not found",
            f"No connector {wanted!r} was seen in tenant {tenant} by the last sweep. Use a catalog "
            "name (e.g. 'lookout', 'defender') or a connector id from GET /api/connectors.",
        )
    seen = history(s.store, tenant, status.id, limit)
    kept = stored_baseline(s.store, tenant, status.id)
    return json_response(views.connector_detail(status, kept, seen))


@bp.function_name("connector_baseline")
@bp.route(route="connectors/{partner}/baseline", methods=["POST"])
@endpoint(Role.OPERATOR)
def connector_baseline(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/connectors/{partner}/baseline (Operator): take the settings Intune holds now (read
    from Graph) as the connector's baseline, with an optional ``{"note": "..."}`` body; audited;
    honours Idempotency-Key. Answers the Baseline.

    400 invalid body or query parameter; 404 unknown partner or no such connector in Intune;
    502/503 Graph failed.
    """
    from functions import views
    from shared.configure.manage import adopt_baseline

    note, _ = note_body(req)
    partner = req.route_params.get("partner", "")

    def act(s: Services, caller: Caller) -> Baseline:
        return adopt_baseline(s, partner, note=note, caller=caller, tenant_id=s.settings.tenant_id)

    return _change(req, act, lambda adopted, _ticket: views.baseline(adopted))


@bp.function_name("connector_restore")
@bp.route(route="connectors/{partner}/restore", methods=["POST"])
@endpoint(Role.OPERATOR, RESTORE_QUERY)
def connector_restore(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/connectors/{partner}/restore (Operator): write the connector's baseline back
    through the configure path (lease, Intune's rules, only what differs, verified re-read); a DRY
    RUN unless ``?dryRun=false``. A deleted connector is created again. Audited as ``restore``;
    honours Idempotency-Key. Answers ConfigureResult.

    400 bad query parameter or any body; 404 unknown partner or no baseline; 409 concurrent change; 422 a
    baseline setting this Graph version cannot write; 502/503 Graph failed.
    """
    from functions import views
    from shared.configure.restore import restore

    dry_run: bool = RESTORE_QUERY.parse(req)["dryRun"]
    no_body(req, "dryRun is a query parameter: ?dryRun=false")
    partner = req.route_params.get("partner", "")

    def act(s: Services, caller: Caller) -> Any:
        return restore(s, partner, dry_run=dry_run, caller=caller, tenant_id=s.settings.tenant_id)

    return _change(req, act, views.configure_result)


@bp.function_name("connector_delete")
@bp.route(route="connectors/{partner}", methods=["DELETE"])
@endpoint(Role.OPERATOR, DELETE_QUERY)
def connector_delete(req: func.HttpRequest) -> func.HttpResponse:
    """DELETE /api/connectors/{partner} (Operator, the most privileged role MTD Guard has): delete
    the connector in Intune, under the tenant's configure lease; a DRY RUN unless ``?dryRun=false``.
    Audited as ``delete``; the baseline is kept (restore sets the connector up again); honours
    Idempotency-Key. Answers ConnectorDeletion.

    400 bad query parameter or any body; 404 unknown partner or no such connector; 409 concurrent change;
    502/503 Graph failed.
    """
    from functions import views
    from shared.configure.manage import delete_connector

    dry_run: bool = DELETE_QUERY.parse(req)["dryRun"]
    no_body(req, "dryRun is a query parameter: ?dryRun=false")
    partner = req.route_params.get("partner", "")

    def act(s: Services, caller: Caller) -> Any:
        return delete_connector(s, partner, dry_run=dry_run, caller=caller, tenant_id=s.settings.tenant_id)

    return _change(req, act, views.connector_deletion)


@bp.function_name("connectors_export")
@bp.route(route="export", methods=["GET"])
@endpoint(Role.READER)
def connectors_export(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/export (Reader): every connector's settings as the PUT /api/connectors/{partner}
    body that sets them, by partner slug, read from Graph now (settings as code: commit them,
    replay them in another tenant). 400 for any query parameter; 502/503 Graph failed.
    """
    from functions import views
    from shared.configure.manage import export_settings

    s = services()
    try:
        bodies = export_settings(s)
    except Refused as refused:
        return refused_response(req, refused)
    return json_response(
        views.connector_export(s.settings.tenant_id, now_utc(), s.settings.graph_api_version, bodies)
    )
