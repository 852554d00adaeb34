"""GET /api/status: the status page, one HTML page of stored state for people (no Graph call)."""

from __future__ import annotations

import azure.functions as func

from functions.http import endpoint
from shared.clock import now_utc
from shared.context import services
from shared.principal import Role

bp = func.Blueprint()


@bp.function_name("status_page")
@bp.route(route="status", methods=["GET"])
@endpoint(Role.READER)
def status_page(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/status (Reader): the status page (text/html): the tenant, each job's last success
    and whether it is stale, connectors worst first with their settings drift and a chart of
    heartbeat age over the retention window, the enforcement chain per platform with its weakest
    link, open findings worst first, undelivered alerts per channel. Stored state
    only. Sent with a Content-Security-Policy that allows nothing but its own inline stylesheet.

    400 for any query parameter but ``code`` (the function key); 503 problem+json when storage is
    unreachable or the app is misconfigured.
    """
    from shared.status import render
    from shared.status.read import read_status

    s = services()
    page = read_status(s.settings, s.store, tenant_id=s.settings.tenant_id, now=now_utc())
    return func.HttpResponse(
        render.render(page),
        status_code=200,
        mimetype="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": render.content_security_policy(),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )
