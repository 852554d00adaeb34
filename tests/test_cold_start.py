"""Cold start: importing function_app loads nothing heavy, in each configuration it starts in.

Why it matters: on Flex Consumption any HTTP call or timer may land on a new instance, and the
Python worker imports function_app before the first invocation runs. Everything that import
loads is paid by every cold start, whichever function is called; a job's libraries (msgraph-sdk,
azure-data-tables, httpx, Jinja2, ...) and its capability's modules load when that job first runs
(docs/architecture.md, "Imports"). The check is what a fresh interpreter holds in sys.modules
after the import, not a timing: figures are for `make bench`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Libraries the triggers use when they run, never at import (azure.functions itself is the
# worker's; "azure.functions" is not in this list). Matched as module-name prefixes.
HEAVY = (
    "azure.core",
    "azure.data",  # azure-data-tables
    "azure.identity",
    "azure.monitor",  # the Application Insights log exporter
    "msal",
    "requests",
    "urllib3",
    "msgraph",  # msgraph and msgraph_core
    "kiota",  # kiota_abstractions, kiota_http, kiota_serialization_*, ...
    "httpx",
    "httpcore",
    "jinja2",
    "msgspec",
    "croniter",
    "dateutil",
    "opentelemetry",
    "yarl",
)

# Our modules that may load at import: the triggers and the HTTP toolkit, the settings registry
# (function_app checks the settings once at import), the composition root's accessor (it builds
# the adapters on first call), what every invocation wraps itself in, and the light vocabulary the
# route declarations name (query parameters' enums, the errors the toolkit maps to problem+json).
# A module not listed is a capability's rules or I/O, or an adapter: import it in the body that
# uses it. Listed here only when it is small and loads nothing of HEAVY.
LIGHT = {
    "function_app",
    # the settings registry
    "shared",
    "shared.settings",
    "shared.setting_spec",
    "shared.ncrontab",  # its croniter loads only when a schedule other than the default is checked
    "shared.logs",
    # invocation plumbing
    "shared.context",
    "shared.deadline",
    "shared.clock",
    "shared.principal",
    "shared.json_pointer",
    "shared.startup",
    # vocabulary of the route declarations and of the toolkit's error mapping
    "shared.job_runs",
    "shared.findings.model",
    "shared.findings.query",
    "shared.alerting.alerts",
    "shared.audit.entries",
    "shared.configure.refusal",
    "shared.store",
    "shared.store.errors",
    "shared.store.rows",
    "shared.store.codec",
}
CAPABILITIES = ("alerting", "audit", "conditional_access", "configure", "findings", "heartbeat", "tickets")
# Each capability's package (a docstring) and settings module: parts of the registry.
LIGHT |= {f"shared.{c}" for c in CAPABILITIES} | {f"shared.{c}.settings" for c in CAPABILITIES}
# functions/: every trigger module and the toolkit, but not the answers' shapes and the OpenAPI
# document, which only the bodies need.
NOT_AT_IMPORT = ("functions.views", "functions.openapi_doc", "functions.models")


IDENTITY = "00000000-0000-0000-0000-0000000000c6"  # a user-assigned managed identity's client id
AZURE = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING": (
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
    ),
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": f"ClientId={IDENTITY};Authorization=AAD",
    "AZURE_CLIENT_ID": IDENTITY,
}


def _loaded_by_import(env: dict[str, str]) -> list[str]:
    """The modules a fresh interpreter adds by ``import function_app`` (after ``azure.functions``,
    which the worker has loaded before it)."""
    code = (
        "import json, sys\n"
        "import azure.functions\n"
        "before = set(sys.modules)\n"
        "import function_app\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith((h + ".", h + "_")) for h in HEAVY))


def _ours_not_light(modules: list[str]) -> list[str]:
    def light(module: str) -> bool:
        if module == "functions" or module.startswith("functions."):
            return not module.startswith(NOT_AT_IMPORT)
        return module in LIGHT

    ours = [m for m in modules if m.split(".")[0] in ("shared", "functions", "function_app")]
    return sorted(m for m in ours if not light(m))


def _configured(**extra: str) -> dict[str, str]:
    """A configured app as the tests run it (Azurite's connection string, the simulator's URL),
    with the environment's own variables for the interpreter."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APPLICATIONINSIGHTS_", "ALERT_", "SERVICENOW_", "JIRA_", "TEAMS_"))
    }
    return {
        **env,
        "TENANT_ID": "00000000-0000-0000-0000-0000000000c5",
        "GRAPH_ENDPOINT": "http://127.0.0.1:9",
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        **extra,
    }


@pytest.mark.parametrize(
    "env",
    [
        pytest.param(_configured(), id="configured"),
        pytest.param(_configured(TENANT_ID="", AzureWebJobsStorage=""), id="misconfigured"),
        # As infra/modules/functionapp.bicep sets it: the log export to Application Insights, signed
        # in with the managed identity (its exporter loads on the first record, not at import).
        pytest.param(_configured(**AZURE), id="application-insights"),
    ],
)
def test_importing_the_app_loads_no_heavy_library_and_no_capability(env: dict[str, str]) -> None:
    loaded = _loaded_by_import(env)
    assert _heavy(loaded) == [], "import function_app loads libraries a job should load"
    assert _ours_not_light(loaded) == [], "import function_app loads a capability's modules"
