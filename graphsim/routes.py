"""Graph's REST semantics for every registered collection: list (paged), get, create,
update, delete, with Graph's status codes and OData errors.

Pure request-in, reply-out: no sockets here, so the HTTP layer stays thin and the fault
injection in front of it cannot change what a healthy answer looks like.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

from graphsim import querying
from graphsim.odata import GraphError, Reply, decode_skiptoken, encode_skiptoken, json_reply
from graphsim.registry import BY_PATH
from graphsim.resources import BOOLEAN, ResourceType
from graphsim.state import Store

DEFAULT_PAGE_SIZE = 100
PATCH_MERGE = "merge"
PATCH_REPLACE = "replace"
BAD_JSON_MESSAGE = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and "
    "payload is of valid JSON format."
)
# System query options we implement; any other "$option" is refused loudly (400) rather
# than ignored, so a consumer relying on, say, $filter cannot pass against the simulator
# and then behave differently against Graph. $filter/$orderby only where a collection declares
# them (ResourceType.filterable / orderable), as Graph supports them per collection.
_SUPPORTED_OPTIONS = {"$top", "$skiptoken", "$select"}


@dataclass(frozen=True)
class GraphRequest:
    """The parts of an HTTP request the Graph routes look at."""

    method: str
    version: str  # "v1.0" | "beta"
    path: str  # raw (percent-encoded) path without the version prefix
    query: dict[str, list[str]]
    body: bytes
    origin: str  # "http://host:port", for absolute nextLinks


@dataclass(frozen=True)
class _Target:
    resource_type: ResourceType
    item_id: str | None  # None: the collection itself


class GraphApi:
    """Answers Graph requests from a ``Store``.

    ``page_size`` and ``patch_returns_body`` are plain attributes the simulator may change
    at any time (a scenario load); reading an attribute is atomic, so no lock is needed.
    """

    def __init__(
        self, store: Store, page_size: int = DEFAULT_PAGE_SIZE, patch_returns_body: bool = False
    ) -> None:
        self.store = store
        self.page_size = page_size
        self.patch_returns_body = patch_returns_body
        # UNCONFIRMED whether Graph's PATCH of a connector merges (only the properties sent change)
        # or replaces (booleans not sent fall back to their default, false): "merge" or "replace".
        self.patch_mode = PATCH_MERGE
        # Properties the "service" refuses to change: property -> the value it keeps, whatever a
        # POST or PATCH sends (an Intune rule MTD Guard does not know about, or a partner's lock).
        self.server_keeps: dict[str, Any] = {}

    def handle(self, request: GraphRequest) -> Reply:
        target = _resolve(request.path)
        allowed = (
            target.resource_type.collection_methods
            if target.item_id is None
            else target.resource_type.item_methods
        )
        if request.method not in allowed:
            raise GraphError(
                405,
                f"The HTTP method '{request.method}' is not allowed on this resource.",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        _check_query_options(request.query, target.resource_type)
        if target.item_id is None:
            if request.method == "GET":
                return self._list(request, target.resource_type)
            return self._create(request, target.resource_type)
        if request.method == "GET":
            return self._get(request, target.resource_type, target.item_id)
        if request.method == "PATCH":
            return self._update(request, target.resource_type, target.item_id)
        return self._delete(target.resource_type, target.item_id)

    def _list(self, request: GraphRequest, rt: ResourceType) -> Reply:
        select = _select(request, rt)
        top = _top(request.query)
        size = self.page_size if top is None else min(top, self.page_size)
        token = _single(request.query, "$skiptoken")
        offset = 0 if token is None else decode_skiptoken(token)
        entities = querying.apply(
            rt,
            self.store.list_all(rt.collection_path),
            _single(request.query, "$filter"),
            _single(request.query, "$orderby"),
        )
        page = entities[offset : offset + size]
        payload: dict[str, Any] = {}
        # No "@odata.context": msgraph-sdk's collection models have no field for it, so it
        # would land in additional_data; consumers gain nothing from it, and an empty
        # additional_data is how the fidelity test proves we invent no fields.
        if offset + size < len(entities):
            # Graph (odata.streaming=true) writes control information before "value".
            payload["@odata.nextLink"] = _next_link(request, offset + size)
        expand = _expand(request, rt)
        payload["value"] = [rt.render(e, request.version, select, expand) for e in page]
        return json_reply(200, payload)

    def _get(self, request: GraphRequest, rt: ResourceType, item_id: str) -> Reply:
        select = _select(request, rt)
        entity = self.store.get(rt.collection_path, item_id)
        if entity is None:
            raise _not_found(rt, item_id)
        return json_reply(200, rt.render(entity, request.version, select, _expand(request, rt)))

    def _create(self, request: GraphRequest, rt: ResourceType) -> Reply:
        values = self._kept(rt.validate_write(_parse_body(request.body), request.version))
        # UNCONFIRMED whether Graph assigns an id when none is given; we do, as for most
        # entity sets, so a POST without one still yields an addressable entity.
        entity = rt.with_defaults({**values, "id": values.get("id") or str(uuid.uuid4())})
        if not self.store.insert(rt.collection_path, entity):
            raise GraphError(409, f"An entity with id '{entity['id']}' already exists.")
        return json_reply(201, rt.render(entity, request.version))

    def _update(self, request: GraphRequest, rt: ResourceType, item_id: str) -> Reply:
        values = rt.validate_write(_parse_body(request.body), request.version)
        if "id" in values and str(values["id"]).lower() != item_id.lower():
            raise GraphError(400, "The id in the request body does not match the id in the URL.")
        # msgraph-sdk sends only the properties that were set; "replace" resets the unsent booleans.
        if self.patch_mode == PATCH_REPLACE:
            values = {**_boolean_defaults(rt, request.version), **values}
        updated = self.store.merge(rt.collection_path, item_id, self._kept(values))
        if updated is None:
            raise _not_found(rt, item_id)
        if self.patch_returns_body:
            return json_reply(200, rt.render(updated, request.version))
        return Reply(204, content_type=None)

    def _kept(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with every property the service keeps set back to the value it keeps."""
        return {k: self.server_keeps.get(k, v) for k, v in values.items()}

    def _delete(self, rt: ResourceType, item_id: str) -> Reply:
        if not self.store.delete(rt.collection_path, item_id):
            raise _not_found(rt, item_id)
        return Reply(204, content_type=None)


def _boolean_defaults(rt: ResourceType, version: str) -> dict[str, Any]:
    """Every boolean property of ``version`` at its default: what a replacing PATCH leaves unsent."""
    return {p.name: p.default for p in rt.properties if p.edm_type == BOOLEAN and version in p.versions}


def _resolve(raw_path: str) -> _Target:
    """Map a versionless path to a collection or one of its items, else 404."""
    segments = raw_path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()  # tolerate one trailing slash
    decoded = [unquote(s) for s in segments]
    if not decoded or "" in decoded:
        # e.g. "//deviceManagement" from a base URL with a trailing slash: Graph 404s too.
        raise GraphError(404, f"Resource not found for the segment '{raw_path}'.")
    whole = ("/" + "/".join(decoded)).lower()
    if whole in BY_PATH:
        return _Target(BY_PATH[whole], None)
    parent = ("/" + "/".join(decoded[:-1])).lower()
    if parent in BY_PATH:
        return _Target(BY_PATH[parent], decoded[-1])
    raise GraphError(404, f"Resource not found for the segment '{_first_unknown(decoded)}'.")


def _first_unknown(decoded: list[str]) -> str:
    """The segment Graph would name: the first one no registered path continues with."""
    known = [path.split("/")[1:] for path in BY_PATH]
    for index, segment in enumerate(decoded):
        prefix = [s.lower() for s in decoded[: index + 1]]
        if not any(k[: index + 1] == prefix for k in known):
            return segment
    return decoded[-1]


def _not_found(rt: ResourceType, item_id: str) -> GraphError:
    short = rt.type_name.rsplit(".", 1)[-1]
    return GraphError(404, f"The {short} with id '{item_id}' was not found.", "ResourceNotFound")


def _parse_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphError(400, BAD_JSON_MESSAGE) from exc


def _check_query_options(query: dict[str, list[str]], rt: ResourceType) -> None:
    supported = set(_SUPPORTED_OPTIONS)
    if rt.filterable:
        supported.add("$filter")
    if rt.orderable:
        supported.add("$orderby")
    if rt.navigation:
        supported.add("$expand")
    for name in query:
        if name.startswith("$") and name.lower() not in supported:
            raise GraphError(400, f"Query option '{name}' is not supported by graphsim.")


def _single(query: dict[str, list[str]], name: str) -> str | None:
    for key, values in query.items():
        if key.lower() == name:
            return values[-1]
    return None


def _top(query: dict[str, list[str]]) -> int | None:
    raw = _single(query, "$top")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise GraphError(400, f"Invalid value '{raw}' for $top query option.")
    return int(raw)


def _select(request: GraphRequest, rt: ResourceType) -> list[str] | None:
    raw = _single(request.query, "$select")
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    rt.check_select(names, request.version)
    return names


def _expand(request: GraphRequest, rt: ResourceType) -> list[str]:
    raw = _single(request.query, "$expand")
    if raw is None:
        return []
    names = [n.strip() for n in raw.split(",") if n.strip()]
    rt.check_expand(names)
    return names


def _next_link(request: GraphRequest, offset: int) -> str:
    """Absolute, like Graph's; keeps the caller's other options ($top, $select)."""
    pairs = [
        (key, value)
        for key, values in request.query.items()
        if key.lower() != "$skiptoken"
        for value in values
    ]
    pairs.append(("$skiptoken", encode_skiptoken(offset)))
    query = urlencode(pairs, safe="$,", quote_via=quote)
    return f"{request.origin}/{request.version}{request.path}?{query}"
