"""Reading connector health from the last stored sweep (no live Graph call)."""

from __future__ import annotations

import azure.functions as func

from functions import views
from functions.http import Problem, endpoint, json_response
from functions.http.query import Count, QuerySpec
from shared import catalog
from shared.context import services
from shared.heartbeat.sweep import history, last_sweep, stored_statuses
from shared.principal import Role

bp = func.Blueprint()
DETAIL_QUERY = QuerySpec("connector_get", (Count("historyLimit", low=1, high=1000, fallback=50),))


@bp.function_name("connectors_list")
@bp.route(route="connectors", methods=["GET"])
@endpoint(Role.READER)
def connectors_list(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/connectors (Reader): every connector's health as the last stored sweep judged it, by
    partner name (ConnectorList); no Graph call. 400 for any query parameter.
    """
    s = services()
    tenant = s.settings.tenant_id
    sweep = last_sweep(s.store, tenant)
    statuses = sorted(stored_statuses(s.store, tenant).values(), key=lambda c: c.partner.lower())
    return json_response(views.connector_list(tenant, sweep, statuses))


@bp.function_name("connector_get")
@bp.route(route="connectors/{partner}", methods=["GET"])
@endpoint(Role.READER, DETAIL_QUERY)
def connector_get(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/connectors/{partner} (Reader): one connector (catalog slug or connector id) as the
    last sweep judged it, with its last ``historyLimit`` readings (1-1000, default 50), newest
    first (ConnectorDetail). 400 for a bad query parameter; 404 when the last sweep did not see it.
    """
    limit: int = DETAIL_QUERY.parse(req)["historyLimit"]
    s = services()
    tenant = s.settings.tenant_id
    wanted = req.route_params.get("partner", "")
    connector_id = catalog.resolve(wanted)
    status = stored_statuses(s.store, tenant).get(connector_id)
    if status is None:
        raise Problem(
            404,
            "Connector not found",
            f"No connector {wanted!r} was seen in tenant {tenant} by the last sweep. Use a catalog "
            "name (e.g. 'lookout', 'defender') or a connector id from GET /api/connectors.",
        )
    seen = history(s.store, tenant, status.id, limit)
    return json_response(views.connector_detail(status, seen))
