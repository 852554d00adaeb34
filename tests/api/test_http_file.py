"""docs/api.http: every HTTP route of the app is in it, and each request works as written.

The file is parsed as REST Client / JetBrains HTTP Client read it (``###`` between requests,
``@name = value`` variables, ``# @name`` request names and REST Client's response variables) and
sent, top to bottom, to the app served over HTTP by the local host stand-in (scripts/localhost.py,
what ``make serve`` runs) with Azurite and the Graph simulator holding scenarios/demo.json.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from graphsim import GraphSimulator
from scripts.localhost import FUNCTION_KEY, ApiServer, routes
from tests.conftest import Host

ROOT = Path(__file__).resolve().parents[2]
HTTP_FILE = ROOT / "docs" / "api.http"
SCENARIO = ROOT / "scenarios" / "demo.json"
_VARIABLE = re.compile(r"\{\{\s*([^}\s]+)\s*\}\}")


@dataclass
class Request:
    title: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    name: str | None = None


def parse(text: str) -> tuple[dict[str, str], list[Request]]:
    """File variables and requests, in file order (variables unresolved)."""
    variables: dict[str, str] = {}
    requests = []
    for block in re.split(r"^###[^\n]*\n?", text, flags=re.MULTILINE):
        lines = block.splitlines()
        name = None
        while lines and (not lines[0].strip() or lines[0].lstrip().startswith(("#", "//", "@"))):
            line = lines.pop(0).strip()
            if match := re.fullmatch(r"@(\w+)\s*=\s*(.*)", line):
                variables[match.group(1)] = match.group(2).strip()
            elif match := re.fullmatch(r"(?:#|//)\s*@name\s+(\w+)", line):
                name = match.group(1)
        if not lines:
            continue
        method, url = lines.pop(0).split()[:2]
        request = Request(title=block.split("\n", 1)[0], method=method, url=url, name=name)
        while lines and lines[0].strip():
            header, value = lines.pop(0).split(":", 1)
            request.headers[header.strip()] = value.strip()
        request.body = "\n".join(lines).strip()
        requests.append(request)
    return variables, requests


def _json_path(document: Any, path: str) -> Any:
    """REST Client's ``$.a.b[0].c`` subset of JSONPath."""
    value = document
    for key, index in re.findall(r"\.(\w+)|\[(\d+)\]", path.removeprefix("$")):
        value = value[key] if key else value[int(index)]
    return value


def resolve(text: str, variables: dict[str, str], responses: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        reference = match.group(1)
        if reference in variables:
            return resolve(variables[reference], variables, responses)
        name, _, path = reference.partition(".response.body.")
        assert path, f"unknown variable {{{{{reference}}}}} in {HTTP_FILE.name}"
        return str(_json_path(responses[name], path))

    return _VARIABLE.sub(one, text)


def send(request: Request, variables: dict[str, str], responses: dict[str, Any]) -> tuple[int, bytes]:
    body = resolve(request.body, variables, responses).encode() or None
    sent = urllib.request.Request(
        resolve(request.url, variables, responses),
        data=body,
        method=request.method,
        headers={k: resolve(v, variables, responses) for k, v in request.headers.items()},
    )
    try:
        with urllib.request.urlopen(sent, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_every_registered_http_function_is_in_the_file(functions: dict[str, Any]) -> None:
    variables, requests = parse(HTTP_FILE.read_text())
    found = set()
    for request in requests:
        path = request.url.replace("{{host}}", "").split("?")[0]
        if not path.startswith("/api/"):
            continue
        # File variables as written; a response variable stands for whatever id it will hold.
        route_path = _VARIABLE.sub(lambda m: variables.get(m.group(1), "x"), path.removeprefix("/api/"))
        matched = [
            r.name for r in routes(functions) if request.method in r.methods and r.pattern.match(route_path)
        ]
        assert matched, f"{request.method} {path} in {HTTP_FILE.name} is no route of the app"
        found.update(matched)
    missing = sorted(
        f"{r.name}: {'/'.join(sorted(r.methods))} /api/{r.template}"
        for r in routes(functions)
        if r.name not in found
    )
    assert not missing, f"add to {HTTP_FILE.relative_to(ROOT)}: " + "; ".join(missing)


@pytest.fixture
def served(functions: dict[str, Any], host: Host, graph: GraphSimulator, tenant_id: str) -> Any:
    scenario = json.loads(SCENARIO.read_text())
    graph.load_scenario({**scenario, "tenantId": tenant_id})
    server = ApiServer(functions).start()
    yield server
    server.stop()


def test_every_request_of_the_file_is_answered_without_error(served: ApiServer) -> None:
    variables, requests = parse(HTTP_FILE.read_text())
    assert variables["key"] == FUNCTION_KEY, "the file's key is the one `make serve` prints"
    variables["host"] = served.url
    responses: dict[str, Any] = {}
    failures = []
    for request in requests:
        status, body = send(request, variables, responses)
        if request.name:
            responses[request.name] = json.loads(body)
        # 409 is an answer the file documents (redeliver: nothing left to redeliver); 400, 401,
        # 404 or 405 would mean the example itself is wrong, a 5xx that the app is.
        if not (200 <= status < 300 or status == 409):
            failures.append(f"{request.method} {request.url} -> {status} {body[:300]!r}")
    assert not failures, "\n".join(failures)
    assert len(requests) >= len(served.routes)


def test_the_parser_reads_variables_names_headers_and_bodies() -> None:
    variables, requests = parse(
        '@host = http://h\n\n### one\n# @name first\nPUT {{host}}/api/x?y=1\nA: b\n\n{"k": 1}\n\n'
        "### two\nGET {{host}}/api/{{first.response.body.$.items[1].id}}\n"
    )
    assert variables == {"host": "http://h"}
    assert [(r.method, r.name, r.headers, r.body) for r in requests] == [
        ("PUT", "first", {"A": "b"}, '{"k": 1}'),
        ("GET", None, {}, ""),
    ]
    responses = {"first": {"items": [{"id": "a"}, {"id": "b"}]}}
    assert resolve(requests[1].url, variables, responses) == "http://h/api/b"
