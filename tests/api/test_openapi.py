"""GET /api/openapi.json describes every HTTP route, and the API keeps to it under fuzzing.

The fuzzing test serves the real functions over HTTP (tests/support/api_server.py, standing in for
the Functions host) with Azurite and the Graph simulator behind them, and runs schemathesis
against the served document: no 5xx, no answer that breaks its own schema, every status,
content type and header documented, and invalid input rejected with a 4xx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from functions import openapi_doc
from graphsim import GraphSimulator
from shared.alerting.alerts import DeliveryStatus
from shared.audit.entries import AuditAction, Result
from shared.conditional_access.classic.rows import Drift, PolicyState
from shared.configure.fields import Action
from shared.findings.model import FindingStatus, Severity
from shared.heartbeat.health import Health
from shared.tickets.payloads import HookSource
from tests.conftest import DEFENDER, LOOKOUT, Host, body
from tests.support.api_server import FUNCTION_KEY, ApiServer

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)
# Per operation in the fuzzing phase (and the length budget of the stateful phase); CI runs the
# default, a developer may lower it for a quick run or raise it for a long one.
MAX_EXAMPLES = int(os.environ.get("MTDGUARD_FUZZ_EXAMPLES", "100"))
PHASES = os.environ.get("MTDGUARD_FUZZ_PHASES", "examples,coverage,fuzzing,stateful")


def http_routes(functions: dict[str, Any]) -> dict[str, tuple[set[str], str]]:
    """function name -> (methods, route) for every HTTP function, as the host indexes them."""
    found: dict[str, tuple[set[str], str]] = {}
    for name, fn in functions.items():
        for binding in json.loads(fn.get_function_json())["bindings"]:
            if binding.get("type") == "httpTrigger":
                methods = {m.lower() for m in binding.get("methods") or ["get", "post"]}
                found[name] = (methods, "/" + (binding.get("route") or name).strip("/"))
    return found


def test_every_registered_http_function_is_described(functions: dict[str, Any]) -> None:
    described: dict[str, list[openapi_doc.Operation]] = {}
    for op in openapi_doc.OPERATIONS:
        described.setdefault(op.function, []).append(op)
    problems = []
    for name, (methods, route) in sorted(http_routes(functions).items()):
        ops = described.pop(name, [])
        if not ops:
            method = sorted(methods)[0]
            problems.append(
                f"HTTP function {name!r} ({'/'.join(sorted(m.upper() for m in methods))} /api{route}) is not "
                "described in the OpenAPI document. Add to OPERATIONS in functions/openapi_doc.py:\n"
                f'    Operation("{name}", "{method}", "{route}", "<summary>", tag="<tag>", '
                "role=Role.READER or Role.OPERATOR (None if anonymous), parameters=(...), "
                'request="<schema>" if it takes a body, responses={200: "<schema in SCHEMAS>"}, '
                "problems=(<other problem statuses>,)),"
            )
            continue
        for op in ops:
            if op.path != route or op.method not in methods:
                problems.append(
                    f"{name}: openapi_doc says {op.method.upper()} {op.path}, the function is "
                    f"{'/'.join(sorted(m.upper() for m in methods))} {route}: make the Operation match "
                    "the @bp.route decorator."
                )
        if {op.method for op in ops} != methods:
            problems.append(f"{name}: describe every method of the route ({sorted(methods)})")
    for name in described:
        problems.append(f"openapi_doc describes {name!r}, but no HTTP function has that name: remove it")
    assert not problems, "\n".join(problems)


def test_anonymous_and_role_of_each_route_agree_with_the_document(functions: dict[str, Any]) -> None:
    anonymous = set()
    for name, fn in functions.items():
        for binding in json.loads(fn.get_function_json())["bindings"]:
            if binding.get("type") == "httpTrigger" and binding.get("authLevel", "").lower() == "anonymous":
                anonymous.add(name)
    assert {op.function for op in openapi_doc.OPERATIONS if op.role is None} == anonymous


def test_the_document_is_served_and_every_reference_resolves(host: Host) -> None:
    response = host.http("openapi", "GET", "/api/openapi.json")
    assert response.status_code == 200
    doc = body(response)
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    missing = {r for r in refs(doc) if r.rsplit("/", 1)[-1] not in schemas}
    assert not missing, f"unresolved $ref: {sorted(missing)}"
    settings = schemas["ConnectorSettings"]["properties"]
    assert settings["mac"]["properties"].keys() == {"complianceEvaluation", "blockOnMissingPartnerData"}
    assert "ReadWrite.All" in doc["paths"]["/connectors/{partner}"]["put"]["description"]


def test_every_parameter_entry_names_a_described_operation() -> None:
    unknown = set(openapi_doc.PARAMETERS) - {op.function for op in openapi_doc.OPERATIONS}
    assert not unknown, f"PARAMETERS names no Operation: {sorted(unknown)}"


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(openapi_doc.document())  # raises with the failing JSON path


def test_enum_values_are_the_python_enums_values() -> None:
    schemas = openapi_doc.document()["components"]["schemas"]
    enums = (
        Severity,
        FindingStatus,
        Health,
        DeliveryStatus,
        Result,
        AuditAction,
        Drift,
        PolicyState,
        HookSource,
    )
    for enum in (*enums, Action):
        assert sorted(schemas[enum.__name__]["enum"]) == sorted(e.value for e in enum), enum.__name__

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    assert schemas["ConnectorStatus"]["properties"]["health"] == ref("Health")
    assert schemas["ConnectorStatus"]["properties"]["severity"] == ref("Severity")
    assert schemas["Finding"]["properties"]["status"] == ref("FindingStatus")
    assert schemas["AlertDelivery"]["properties"]["status"] == ref("DeliveryStatus")
    assert schemas["AuditEntry"]["properties"]["result"] == ref("Result")
    assert schemas["ClassicChange"]["properties"]["drift"] == ref("Drift")


def test_the_timer_functions_cold_start_loads_no_document_generator() -> None:
    """Importing function_app (what every cold start does, a timer's too) loads neither msgspec nor
    the models and the document built from them: only GET /api/openapi.json does."""
    probe = (
        "import sys, function_app; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('msgspec', 'pydantic') or m.startswith('functions.models') or m == 'functions.openapi_doc'))"
    )
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout


# schemathesis itself may run 240 s (the subprocess timeout below): the suite-wide 120 s pytest
# timeout cut it short on a loaded machine once the connector drift routes were added (issue 12)
@pytest.mark.timeout(300)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    functions: dict[str, Any], host: Host, graph: GraphSimulator, tenant_id: str, tmp_path: Path
) -> None:
    graph.load_scenario(
        {
            "tenantId": tenant_id,
            "connectors": [
                {"id": LOOKOUT, "partnerState": "enabled", "lastHeartbeatDateTime": "now-2h"},
                {
                    "id": DEFENDER,
                    "partnerState": "enabled",
                    "androidMobileApplicationManagementEnabled": True,
                },
            ],
        }
    )
    host.http("checks_run", "POST", "/api/checks/heartbeat")  # so the read routes have data
    server = ApiServer(functions).start()
    started = time.monotonic()
    try:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{server.url}/api/openapi.json",
                "--header",
                f"x-functions-key: {FUNCTION_KEY}",
                "--checks",
                CHECKS,
                "--phases",
                PHASES,
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "20261123",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--no-color",
                "--no-shrink",
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    summary = run.stdout[-6000:]
    calls = ", ".join(f"{n} {c:.0f}x {t:.1f}s" for n, (c, t) in sorted(server.stats.items()))
    assert run.returncode == 0, f"schemathesis found problems:\n{summary}\n{run.stderr[-2000:]}\n{calls}"
    assert "No issues found" in run.stdout or "passed" in run.stdout, summary
    calls = ", ".join(f"{n} {c:.0f}x {t:.1f}s" for n, (c, t) in sorted(server.stats.items()))
    print(f"schemathesis: {elapsed:.1f} s; served {calls}\n{summary[-1500:]}")


def test_each_route_documents_exactly_the_query_parameters_it_parses(
    functions: dict[str, Any], host: Host
) -> None:
    """The query a route accepts (its QuerySpec) and the one the document describes are the same list:
    a parameter documented but refused, or accepted but undocumented, is a contract broken."""
    doc = body(host.http("openapi", "GET", "/api/openapi.json"))
    described = {
        op["operationId"]: [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for path in doc["paths"].values()
        for op in path.values()
    }
    for name, fn in functions.items():
        spec = getattr(fn.get_user_function(), "query", None)
        if spec is None or name not in described:
            continue
        assert described[name] == [p.name for p in spec.params], name


def test_the_findings_filters_are_documented_as_the_enums_they_accept(host: Host) -> None:
    doc = body(host.http("openapi", "GET", "/api/openapi.json"))
    params = {p["name"]: p for p in doc["paths"]["/findings"]["get"]["parameters"]}
    assert "graphAccess" in json.dumps(params["kind"]["schema"])
    assert "warning" in json.dumps(params["severity"]["schema"])
