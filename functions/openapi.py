"""GET /api/openapi.json: the OpenAPI 3 description of every route (functions/openapi_doc.py)."""

from __future__ import annotations

import azure.functions as func

from functions.http import endpoint, json_response
from shared.principal import Role

bp = func.Blueprint()


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"])
@endpoint(Role.READER)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/openapi.json (Reader): the OpenAPI 3.1 document of every route, built on the first
    call. 400 for any query parameter.
    """
    # Imported here: the document's generator (msgspec, the models) is no part of any other cold start.
    from functions import openapi_doc

    return json_response(openapi_doc.document())
