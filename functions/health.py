"""Liveness: anonymous, cheap, touches no dependency (a dead Graph must not restart the app)."""

from __future__ import annotations

import azure.functions as func

from functions import views
from functions.http import json_response
from shared import settings

bp = func.Blueprint()


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/health (anonymous, no function key): Liveness, ``ok`` or ``misconfigured`` with the
    number of settings problems; always 200, touches no dependency.
    """
    problems = settings.problems()
    if auth := settings.authentication_problem():
        problems.append(auth)
    # Configuration problems are counted, not listed: this route is anonymous.
    return json_response(views.liveness(problems))
