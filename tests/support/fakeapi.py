"""Local stand-ins for the systems alerts go to, strict the way the real APIs are.

Each fake is a real HTTP server on a loopback port. It checks what the real service checks (path,
authentication, content type, required fields) and answers with the real service's shapes, so a
request MTD Guard gets wrong fails here as it would in production. Every fake records its calls and
can fail on demand:

- ``fail_with = 503`` (and optionally ``retry_after``): every request answers that status;
- ``lose_answers = n``: the next n writes are *carried out* but the connection is then dropped
  without an answer (the lost-response case that must not open a second ticket).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int  # what the fake answered (0: the answer was dropped)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Reject(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.answer = Answer(status, body)


class FakeApi:
    """Base: routing of requests to ``handle``, failure injection, the call log."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail_with: int | None = None
        self.retry_after: str | None = None
        self.lose_answers = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                outer._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        raise NotImplementedError

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length", "0"))
        body = http.rfile.read(length)
        parts = urlsplit(http.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in http.headers.items()}
        method = http.command
        with self._lock:
            if self.fail_with is not None:
                answer = Answer(self.fail_with, {"error": {"message": "injected failure"}})
                if self.retry_after is not None:
                    answer.headers["Retry-After"] = self.retry_after
            else:
                try:
                    answer = self.handle(method, parts.path, query, headers, body)
                except Reject as rejected:
                    answer = rejected.answer
            lost = method != "GET" and answer.status < 300 and self.lose_answers > 0
            if lost:
                self.lose_answers -= 1
            self.calls.append(Call(method, parts.path, query, headers, body, 0 if lost else answer.status))
        if lost:
            http.close_connection = True  # carried out, but the caller never hears back
            return
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        http.send_response(answer.status)
        if answer.body is not None:
            http.send_header("Content-Type", "application/json")
        for name, value in answer.headers.items():
            http.send_header(name, value)
        http.send_header("Content-Length", str(len(payload)))
        http.end_headers()
        http.wfile.write(payload)

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method != "GET" and c.status and c.status < 300]


def _require_json(headers: dict[str, str], error: Any) -> None:
    if not headers.get("content-type", "").startswith("application/json"):
        raise Reject(415, error)


def _basic(headers: dict[str, str]) -> tuple[str, str] | None:
    value = headers.get("authorization", "")
    if not value.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    return user, password


# -- Microsoft Teams (Workflows webhook trigger) -------------------------------------------------


class FakeTeamsWorkflow(FakeApi):
    """A Workflows 'When a Teams webhook request is received' trigger URL: the signature in the
    query string is the only credential; the body must be a message with Adaptive Card attachments."""

    def __init__(self) -> None:
        super().__init__()
        self.signature = secrets.token_urlsafe(24)
        self.workflow = secrets.token_hex(16)
        self.path = (
            f"/powerautomate/automations/direct/workflows/{self.workflow}/triggers/manual/paths/invoke"
        )
        query = f"api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={self.signature}"
        self.url = f"{self.base_url}{self.path}?{query}"

    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards posted, in order."""
        return [c.json["attachments"][0]["content"] for c in self.calls if c.status == 202]

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        if path != self.path or method != "POST":
            raise Reject(
                404, {"error": {"code": "TriggerNotFound", "message": "The workflow was not found."}}
            )
        if query.get("sig") != self.signature or query.get("api-version") != "1":
            raise Reject(
                401,
                {
                    "error": {
                        "code": "DirectApiAuthorizationRequired",
                        "message": "The request must be authenticated.",
                    }
                },
            )
        _require_json(
            headers, {"error": {"code": "UnsupportedMediaType", "message": "Expected application/json."}}
        )
        try:
            message = json.loads(body)
            _check_message(message)
        except (ValueError, AssertionError, KeyError, TypeError) as exc:
            raise Reject(400, {"error": {"code": "InvalidRequestContent", "message": str(exc)}}) from exc
        return Answer(202)


def _check_message(message: dict[str, Any]) -> None:
    assert message["type"] == "message", "type must be message"
    attachments = message["attachments"]
    assert isinstance(attachments, list) and attachments, "attachments must be a non-empty list"
    for attachment in attachments:
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive", "not an Adaptive Card"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard" and re.fullmatch(r"1\.[0-6]", card["version"]), (
            "card type/version"
        )
        assert len(json.dumps(message)) <= 28 * 1024, "Teams refuses messages over 28 KB"
        _check_elements(card["body"])
        for action in card.get("actions", []):
            assert action["type"] == "Action.OpenUrl" and action["url"].startswith("https://"), "bad action"


def _check_elements(elements: list[dict[str, Any]]) -> None:
    assert isinstance(elements, list)
    for element in elements:
        kind = element["type"]
        if kind == "TextBlock":
            assert isinstance(element["text"], str) and element["text"], "TextBlock needs text"
        elif kind == "FactSet":
            for fact in element["facts"]:
                assert isinstance(fact["title"], str) and isinstance(fact["value"], str), "facts are strings"
        elif kind == "Container":
            _check_elements(element["items"])
        else:
            raise AssertionError(f"unexpected element {kind}")


# -- ServiceNow Table API ------------------------------------------------------------------------

CLOSE_CODES = (
    "Duplicate",
    "Known error",
    "No resolution provided",
    "Resolved by caller",
    "Resolved by change",
    "Resolved by problem",
    "Resolved by request",
    "Solution provided",
    "Workaround provided",
    "User error",
)


class FakeServiceNow(FakeApi):
    """The incident table of an instance: basic auth or OAuth client credentials, JSON only, and the
    data policy that a resolved incident needs a resolution code and notes."""

    def __init__(self, user: str = "mtdguard.integration", password: str = "pa55-w0rd!") -> None:
        super().__init__()
        self.user, self.password = user, password
        self.client_id, self.client_secret = "4f0c1d2e3b", "client-s3cret-value"
        self.mandatory: tuple[str, ...] = ()  # incident fields a data policy makes mandatory
        self.tokens: set[str] = set()
        self.incidents: dict[str, dict[str, Any]] = {}
        self._next = 10001

    def incident_list(self) -> list[dict[str, Any]]:
        return list(self.incidents.values())

    def _error(self, status: int, message: str, detail: str = "") -> Reject:
        return Reject(status, {"error": {"message": message, "detail": detail}, "status": "failure"})

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        if path == "/oauth_token.do" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            if form.get("grant_type") != "client_credentials" or (
                form.get("client_id"),
                form.get("client_secret"),
            ) != (self.client_id, self.client_secret):
                raise Reject(401, {"error_description": "access_denied", "error": "server_error"})
            token = secrets.token_urlsafe(16)
            self.tokens.add(token)
            return Answer(
                200, {"access_token": token, "token_type": "Bearer", "expires_in": 1799, "scope": ""}
            )
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        if _basic(headers) != (self.user, self.password) and bearer not in self.tokens:
            raise self._error(401, "User Not Authenticated", "Required to provide Auth information")
        if "application/json" not in headers.get("accept", ""):
            raise self._error(406, "Accept header must allow application/json")
        match = re.fullmatch(r"/api/now/table/incident(?:/([0-9a-f]{32}))?", path)
        if not match:
            raise self._error(400, "Invalid table")
        sys_id = match[1]
        if method == "GET" and sys_id is None:
            wanted = query.get("sysparm_query", "")
            found = [r for r in self.incidents.values() if wanted == f"correlation_id={r['correlation_id']}"]
            return Answer(
                200,
                {"result": [self._view(r, query) for r in found[: int(query.get("sysparm_limit", 10000))]]},
            )
        if method == "POST" and sys_id is None:
            fields = self._body(headers, body)
            missing = [f for f in ("short_description", *self.mandatory) if not fields.get(f)]
            if missing:
                raise self._error(
                    403, f"Data Policy Exception:\n  The following fields are mandatory: {', '.join(missing)}"
                )
            new_id = secrets.token_hex(16)
            number = f"INC{self._next:07d}"
            self._next += 1
            self.incidents[new_id] = {
                "sys_id": new_id,
                "number": number,
                "state": "1",
                "work_notes": [],
                "correlation_id": "",
                **{k: v for k, v in fields.items() if k != "work_notes"},
            }
            return Answer(201, {"result": self._view(self.incidents[new_id], query)})
        record = self.incidents.get(sys_id or "")
        if record is None:
            raise self._error(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        if method == "GET":
            return Answer(200, {"result": self._view(record, query)})
        if method == "PATCH":
            update = self._body(headers, body)
            if update.get("state") == "6":
                missing = [
                    n
                    for n, f in (("Resolution code", "close_code"), ("Resolution notes", "close_notes"))
                    if not update.get(f)
                ]
                if missing:
                    raise self._error(
                        403,
                        f"Data Policy Exception:\n  The following fields are mandatory: {', '.join(missing)}",
                    )
                if update["close_code"] not in CLOSE_CODES:
                    raise self._error(403, f"Invalid choice for Resolution code: {update['close_code']}")
            if note := update.pop("work_notes", None):
                record["work_notes"].append(note)
            record.update(update)
            return Answer(200, {"result": self._view(record, query)})
        raise self._error(405, "Method not supported")

    def _body(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        _require_json(
            headers, {"error": {"message": "Content-Type must be application/json"}, "status": "failure"}
        )
        try:
            data = json.loads(body)
        except ValueError:
            raise self._error(400, "Exception while reading request", "Invalid JSON") from None
        if not isinstance(data, dict):
            raise self._error(400, "Exception while reading request", "Expected an object")
        return data

    @staticmethod
    def _view(record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        fields = query.get("sysparm_fields")
        shown = {k: v for k, v in record.items() if k != "work_notes"}
        return {k: v for k, v in shown.items() if k in fields.split(",")} if fields else shown


# -- Jira Cloud REST API v3 ----------------------------------------------------------------------

WORKFLOW = {  # status -> (category, transitions available from it: id, name, to status)
    "To Do": ("new", [("11", "Start progress", "In Progress"), ("31", "Done", "Done")]),
    "In Progress": ("indeterminate", [("21", "Stop progress", "To Do"), ("31", "Done", "Done")]),
    "Done": ("done", [("41", "Reopen", "To Do")]),
}


RESOLUTIONS = ("Done", "Won't Do", "Duplicate")


class FakeJira(FakeApi):
    """A Jira Cloud site with one project: basic auth with email and API token, JSON bodies, ADF
    descriptions and comments, labels searchable with JQL, transitions per workflow status."""

    def __init__(self, email: str = "alerts@contoso.com", token: str = "ATATT3xFfGF0-token") -> None:
        super().__init__()
        self.email, self.token = email, token
        self.project = "SEC"
        self.issue_types = ("Task", "Bug")
        self.issues: dict[str, dict[str, Any]] = {}
        self.resolution_required = False  # the Done transition's screen requires a Resolution

    def _errors(self, status: int, *messages: str, **fields: str) -> Reject:
        return Reject(status, {"errorMessages": list(messages), "errors": fields})

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        if _basic(headers) != (self.email, self.token):
            raise self._errors(401, "Client must be authenticated to access this resource.")
        if "application/json" not in headers.get("accept", ""):
            raise self._errors(406, "Accept must allow application/json")
        if path == "/rest/api/3/search/jql" and method == "GET":
            match = re.fullmatch(r'project = "([A-Z0-9_]+)" AND labels = "([^"]+)"', query.get("jql", ""))
            if not match:
                raise self._errors(400, f"Error in the JQL Query: {query.get('jql')!r}")
            found = [i for i in self.issues.values() if i["project"] == match[1] and match[2] in i["labels"]]
            return Answer(
                200,
                {
                    "issues": [
                        {"id": i["id"], "key": i["key"], "fields": {"summary": i["summary"]}} for i in found
                    ],
                    "isLast": True,
                },
            )
        if path == "/rest/api/3/issue" and method == "POST":
            return self._create(self._body(headers, body))
        match = re.fullmatch(r"/rest/api/3/issue/([A-Z0-9_]+-\d+)(/comment|/transitions)?", path)
        issue = self.issues.get(match[1]) if match else None
        if issue is None or match is None:
            raise self._errors(404, "Issue does not exist or you do not have permission to see it.")
        tail = match[2]
        if tail is None and method == "GET":
            category, _ = WORKFLOW[issue["status"]]
            status = {"name": issue["status"], "statusCategory": {"key": category}}
            return Answer(200, {"id": issue["id"], "key": issue["key"], "fields": {"status": status}})
        if tail == "/comment" and method == "GET":  # newest first, as orderBy=-created asks
            recent = list(reversed(issue["comments"]))[: int(query.get("maxResults", "50"))]
            return Answer(200, {"comments": [{"id": str(i), "body": b} for i, b in enumerate(recent)]})
        if tail == "/comment" and method == "POST":
            comment = self._body(headers, body)
            _check_adf(comment.get("body"), "body")
            issue["comments"].append(comment["body"])
            return Answer(201, {"id": str(len(issue["comments"])), "body": comment["body"]})
        if tail == "/transitions" and method == "GET":
            _, moves = WORKFLOW[issue["status"]]
            with_fields = query.get("expand") == "transitions.fields"
            return Answer(
                200,
                {
                    "transitions": [
                        {"id": i, "name": n, "to": {"name": to}}
                        | ({"fields": self._screen(to)} if with_fields else {})
                        for i, n, to in moves
                    ]
                },
            )
        if tail == "/transitions" and method == "POST":
            data = self._body(headers, body)
            wanted = str((data.get("transition") or {}).get("id"))
            _, moves = WORKFLOW[issue["status"]]
            target = next((to for i, _, to in moves if i == wanted), None)
            if target is None:
                raise self._errors(400, f"Transition id '{wanted}' is not valid for this issue.")
            resolution = ((data.get("fields") or {}).get("resolution") or {}).get("name")
            if self._screen(target) and resolution not in RESOLUTIONS:
                raise self._errors(400, resolution="Field Resolution is required.")
            issue["status"] = target
            issue["resolution"] = resolution
            return Answer(204)
        raise self._errors(405, "Method not allowed")

    def _screen(self, to: str) -> dict[str, Any]:
        """The fields of the transition screen into status ``to``: a required Resolution into Done
        when ``resolution_required`` (Jira Service Management's workflows), else none."""
        if not (self.resolution_required and to == "Done"):
            return {}
        allowed = [{"id": str(10000 + n), "name": name} for n, name in enumerate(RESOLUTIONS)]
        return {"resolution": {"required": True, "name": "Resolution", "allowedValues": allowed}}

    def _body(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        _require_json(headers, {"errorMessages": ["Unsupported Media Type"], "errors": {}})
        try:
            data = json.loads(body)
        except ValueError:
            raise self._errors(400, "Unexpected character: the body is not JSON") from None
        if not isinstance(data, dict):
            raise self._errors(400, "The body must be an object")
        return data

    def _create(self, data: dict[str, Any]) -> Answer:
        fields = data.get("fields") or {}
        if (fields.get("project") or {}).get("key") != self.project:
            raise self._errors(400, project="valid project is required")
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            raise self._errors(400, issuetype="Specify a valid issue type")
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 255 or "\n" in summary:
            raise self._errors(400, summary="Summary must be one line of at most 255 characters.")
        try:
            _check_adf(fields.get("description"), "description")
        except Reject:
            raise self._errors(
                400, description="Operation value must be an Atlassian Document (see the ADF format)"
            ) from None
        labels = fields.get("labels") or []
        if any(not isinstance(label, str) or " " in label or len(label) > 255 for label in labels):
            raise self._errors(400, labels="Labels cannot contain spaces.")
        number = len(self.issues) + 1
        key = f"{self.project}-{number}"
        issue_id = str(10000 + number)
        self.issues[key] = {
            "id": issue_id,
            "key": key,
            "project": self.project,
            "summary": summary,
            "description": fields["description"],
            "labels": labels,
            "status": "To Do",
            "comments": [],
        }
        return Answer(
            201, {"id": issue_id, "key": key, "self": f"{self.base_url}/rest/api/3/issue/{issue_id}"}
        )


def _check_adf(doc: Any, name: str) -> None:
    def node(n: Any) -> None:
        if not isinstance(n, dict) or not isinstance(n.get("type"), str):
            raise Reject(400, {"errorMessages": [], "errors": {name: "invalid ADF node"}})
        if n["type"] == "text" and not (isinstance(n.get("text"), str) and n["text"]):
            raise Reject(400, {"errorMessages": [], "errors": {name: "ADF text nodes must not be empty"}})
        for child in n.get("content", []):
            node(child)

    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        raise Reject(400, {"errorMessages": [], "errors": {name: "must be an ADF doc, version 1"}})
    if not isinstance(doc.get("content"), list):
        raise Reject(400, {"errorMessages": [], "errors": {name: "doc content must be a list"}})
    for child in doc["content"]:
        node(child)


def adf_text(doc: dict[str, Any]) -> str:
    """All the text in an ADF document, for assertions."""
    out: list[str] = []

    def walk(n: dict[str, Any]) -> None:
        if n.get("type") == "text":
            out.append(n["text"])
        for child in n.get("content", []):
            walk(child)

    walk(doc)
    return "".join(out)
