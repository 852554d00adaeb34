"""The audit trail: GET /api/audit, newest first, with filters and opaque continuation tokens."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from functions.http import endpoint, json_response
from functions.http.problems import FieldError, invalid
from functions.http.query import Choice, Count, Moment, QuerySpec, Text, Token
from shared.audit.entries import AuditAction, AuditQuery, Result
from shared.context import services
from shared.principal import Role

bp = func.Blueprint()


def _position(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.startswith("audit|"):
        raise ValueError("not an audit row key")
    return raw


LIST_QUERY = QuerySpec(
    "audit_list",
    (
        Text("connector", "partner name or connector id (also a finding id for acknowledgements)"),
        Choice("result", enum=Result),
        Choice("action", enum=AuditAction),
        Text("ticket", max_length=200),
        Moment("since", "inclusive"),
        Moment("until", "exclusive"),
        Count("limit", low=1, high=500, fallback=50),
        Token(position=_position),
    ),
)


@bp.function_name("audit_list")
@bp.route(route="audit", methods=["GET"])
@endpoint(Role.READER, LIST_QUERY)
def audit_list(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/audit (Reader): this tenant's audit entries, newest first (AuditPage), ``limit`` per
    page (1-500, default 50).

    Filters: connector (partner name, connector id or finding id), result, action, ticket, since
    (inclusive) and until (exclusive), times in UTC. 400 ``Invalid query parameter``, with a
    pointer per parameter, for a bad parameter or a continuationToken issued for another route or
    other filters.
    """
    from functions import views
    from shared import catalog
    from shared.audit import trail

    q = LIST_QUERY.parse(req)
    if q["since"] is not None and q["until"] is not None and q["since"] >= q["until"]:
        raise invalid(  # an empty window is a mistake in the request, not an empty trail
            "Invalid query parameter",
            [FieldError("/until", "until must be later than since", parameter="until")],
        )
    query = AuditQuery(
        target=catalog.resolve(q["connector"]) if q["connector"] else None,
        result=q["result"],
        action=q["action"],
        ticket=q["ticket"],
        since=q["since"],
        until=q["until"],
    )
    s = services()
    entries, last = trail.page(s.store, s.settings.tenant_id, query, q["limit"], q.after)
    token = q.next_token(last) if last else None
    return json_response(views.audit_page(s.settings.tenant_id, entries, token))
