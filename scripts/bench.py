"""`make bench`: what a cold start and a large tenant cost, measured, not asserted.

(a) Cold start. A fresh Python process imports ``function_app`` and runs one heartbeat sweep of a
    5-connector tenant through the real timer function (Graph simulator + Azurite), as a new Flex
    Consumption instance would. Baseline, named here: a fresh process running a plain-httpx script
    that does the same Graph GET (following @odata.nextLink) on the same simulator. For each: time
    from spawn until the work is done (each child prints a line the moment it is), time until the
    process has exited, peak RSS; medians over several runs, and the ratios app / baseline. The
    ratio that counts is to work done: a Functions worker does not exit after an invocation.
    The line after it: the import cost of msgspec, which generates the OpenAPI document (only
    GET /api/openapi.json loads it; the timer path does not): a fresh process that imports it
    against a fresh process that imports nothing.
(b) A 200-connector sweep, warm (in this process, after one sweep to create state), median time.

The simulator runs in its own process so its work is not counted in the children's RSS.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scripts.azurite import Azurite

ROOT = Path(__file__).resolve().parent.parent
TENANT = "00000000-0000-0000-0000-0000000000be"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
TARGET_RATIO = 2.0

APP_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import azure.functions
from azure.functions.timer import TimerRequest
t1 = time.perf_counter()
import function_app
t2 = time.perf_counter()
fns = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
fns["heartbeat_monitor"](TimerRequest(past_due=False))
t3 = time.perf_counter()
print(json.dumps({"azure.functions": t1 - t0, "function_app": t2 - t1, "sweep": t3 - t2}), flush=True)
"""

HTTPX_CHILD = """
import os, httpx
url = os.environ["GRAPH_ENDPOINT"] + "/v1.0/deviceManagement/mobileThreatDefenseConnectors"
connectors = []
with httpx.Client() as client:
    while url:
        page = client.get(url).json()
        connectors += page["value"]
        url = page.get("@odata.nextLink")
assert len(connectors) == 5, connectors
print("{}", flush=True)
"""

EMPTY_CHILD = 'print("{}", flush=True)'
IMPORT_CHILD = 'import msgspec\nprint("{}", flush=True)'  # the OpenAPI document's schema generator

SDK_MODELS_CHILD = """
import asyncio, os
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient

async def main():
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider())
    adapter.base_url = os.environ["GRAPH_ENDPOINT"] + "/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    connectors = client.device_management.mobile_threat_defense_connectors
    page = await connectors.get()
    found = list(page.value)
    while page.odata_next_link:
        page = await connectors.with_url(page.odata_next_link).get()
        found += page.value
    assert len(found) == 5

asyncio.run(main())
print("{}", flush=True)
"""


def scenario(count: int) -> dict[str, Any]:
    states = ["now-20m", "now-30h", "now-9d", "now-2h", None]
    return {
        "tenantId": TENANT,
        "connectors": [
            {
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "partnerState": "enabled",
                "lastHeartbeatDateTime": states[n % len(states)],
                "partnerUnresponsivenessThresholdInDays": 7,
            }
            for n in range(count)
        ],
    }


def start_simulator(path: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "graphsim", "--port", "0", "--scenario", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"graphsim did not start: {line!r}")
    return process, line.rsplit(" ", 1)[-1]


PHASES: list[dict[str, float]] = []  # the app child's own account of where its time went


def measure(code: str, env: dict[str, str]) -> tuple[float, float, float]:
    """A fresh interpreter running code: seconds from spawn until it reports its work done (the
    cold-start latency a caller sees), seconds until it has exited, and peak RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    line = process.stdout.readline()  # printed, flushed, as soon as the work is done
    done = time.perf_counter() - started
    _, status, usage = os.wait4(process.pid, 0)
    exited = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0 or not line.startswith(b"{"):
        raise RuntimeError(f"benchmark child failed: {process.stderr.read().decode()[-2000:]}")
    if line.strip() != b"{}":
        PHASES.append(json.loads(line))
    process.stdout.close()
    process.stderr.close()
    return done, exited, usage.ru_maxrss / 1024


def cold_start(env: dict[str, str]) -> dict[str, float]:
    app_runs, base_runs, sdk_runs, empty_runs, import_runs = [], [], [], [], []
    for code in (HTTPX_CHILD, APP_CHILD, SDK_MODELS_CHILD, EMPTY_CHILD, IMPORT_CHILD):  # warm the file cache
        measure(code, env)
    PHASES.clear()
    for _ in range(RUNS):
        app_runs.append(measure(APP_CHILD, env))
        base_runs.append(measure(HTTPX_CHILD, env))
        sdk_runs.append(measure(SDK_MODELS_CHILD, env))
        empty_runs.append(measure(EMPTY_CHILD, env))
        import_runs.append(measure(IMPORT_CHILD, env))

    def median(runs: list[tuple[float, float, float]], index: int) -> float:
        return statistics.median(run[index] for run in runs)

    return {
        "app_done": median(app_runs, 0),
        "app_exit": median(app_runs, 1),
        "app_rss": median(app_runs, 2),
        "base_done": median(base_runs, 0),
        "base_exit": median(base_runs, 1),
        "base_rss": median(base_runs, 2),
        "sdk_done": median(sdk_runs, 0),
        "sdk_exit": median(sdk_runs, 1),
        "sdk_rss": median(sdk_runs, 2),
        "empty_done": median(empty_runs, 0),
        "import_done": median(import_runs, 0),
    }


def large_sweep(env: dict[str, str], count: int = 200) -> tuple[float, int]:
    from graphsim import GraphSimulator
    from shared import context
    from shared.heartbeat.sweep import run_heartbeat_sweep

    with GraphSimulator(scenario=scenario(count)) as graph:
        os.environ.update({**env, "GRAPH_ENDPOINT": graph.base_url, "TENANT_ID": TENANT.replace("be", "bf")})
        context.reset()
        s = context.services()
        first = run_heartbeat_sweep(s.settings, s.graph, s.store, s.channels, tenant_id=s.settings.tenant_id)
        assert len(first.statuses) == count, first.problems
        times = []
        for _ in range(5):
            started = time.perf_counter()
            result = run_heartbeat_sweep(
                s.settings, s.graph, s.store, s.channels, tenant_id=s.settings.tenant_id
            )
            times.append(time.perf_counter() - started)
            assert result.ok and len(result.statuses) == count, result.problems
        return statistics.median(times), count


# -- issue 14: what the status page and the log export add, loaded only when used -----------------
# (kept in this one function so the bench rewrite of issue 15 can move it as a whole)

OPTIONAL_IMPORTS = {
    "jinja2 (GET /api/status, first call only)": "import jinja2",
    "Azure Monitor log exporter (only with APPLICATIONINSIGHTS_CONNECTION_STRING)": (
        "import azure.monitor.opentelemetry.exporter, opentelemetry.sdk._logs, azure.identity"
    ),
}


def optional_imports(env: dict[str, str]) -> None:
    """Print each lazily imported library's cost: a fresh interpreter importing it against an
    empty one (medians of RUNS)."""
    children = {label: f'{code}\nprint("{{}}", flush=True)' for label, code in OPTIONAL_IMPORTS.items()}
    for code in (EMPTY_CHILD, *children.values()):  # warm the file cache
        measure(code, env)
    empty = statistics.median(measure(EMPTY_CHILD, env)[0] for _ in range(RUNS))
    print("(c) libraries loaded only when used: fresh interpreter, import, vs an empty one")
    for label, code in children.items():
        took = statistics.median(measure(code, env)[0] for _ in range(RUNS))
        print(f"    {label}: +{(took - empty) * 1000:.0f} ms ({took:.3f} s vs {empty:.3f} s)")


def main() -> int:
    logging.basicConfig(level=logging.ERROR)  # the 200-connector sweep logs one line per alert
    print(f"MTD Guard benchmarks ({RUNS} runs each, medians; machine: {os.cpu_count()} cores)\n")
    with Azurite() as azurite, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "five.json"
        path.write_text(json.dumps(scenario(5)))
        simulator, url = start_simulator(path)
        try:
            env = {
                **os.environ,
                "TENANT_ID": TENANT,
                "GRAPH_ENDPOINT": url,
                "AzureWebJobsStorage": azurite.connection_string,
                "HEARTBEAT_SCHEDULE": "0 */30 * * * *",
                "PYTHONDONTWRITEBYTECODE": "",
            }
            env.pop("ALERT_WEBHOOK_URL", None)
            cold = cold_start(env)
        finally:
            simulator.terminate()
            simulator.wait()
        print("(a) cold start: fresh process, import function_app + one sweep of 5 connectors")
        print("    spawn -> work done (what a caller waits for) | spawn -> process exited | peak RSS")
        for label, prefix in (
            ("MTD Guard (msgraph-sdk + Table Storage) ", "app"),
            ("baseline: plain httpx GET, same simulator", "base"),
            ("reference: msgraph-sdk models, same GET  ", "sdk"),
        ):
            print(
                f"    {label} {cold[prefix + '_done']:.3f} s | {cold[prefix + '_exit']:.3f} s"
                f" | {cold[prefix + '_rss']:.0f} MB"
            )
        ratio = cold["app_done"] / cold["base_done"]
        verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
        exit_ratio = cold["app_exit"] / cold["base_exit"]
        print(
            f"    ratio {ratio:.2f}x to work done ({verdict} the {TARGET_RATIO:.1f}x target); "
            f"{exit_ratio:.2f}x to exit; {cold['app_rss'] / cold['base_rss']:.2f}x RSS"
        )
        naive = cold["sdk_done"] / cold["base_done"]
        print(
            f"    the naive SDK client alone (no storage, no app) is {naive:.2f}x the baseline:"
            " the gateway keeps the SDK's middleware but not its model import"
        )
        cost = cold["import_done"] - cold["empty_done"]
        print(
            f"    import msgspec (OpenAPI document only, not on the timer path): {cold['import_done']:.3f} s"
            f" vs {cold['empty_done']:.3f} s for an empty interpreter: +{cost * 1000:.0f} ms,"
            f" {cost / cold['base_done'] * 100:.0f}% of the baseline's {cold['base_done']:.3f} s"
        )
        phases = {k: statistics.median(p[k] for p in PHASES) for k in PHASES[0]}
        print("    inside the app process: " + ", ".join(f"{k} {v:.3f} s" for k, v in phases.items()))
        print("    (azure.functions is imported by the Functions worker itself before it loads the app;")
        print("     exit time is the interpreter's final garbage collection, never paid by a live worker)\n")
        median, count = large_sweep(env)
        print(
            f"(b) warm sweep of a {count}-connector tenant (Graph paging + judging + Table Storage batches)"
        )
        print(f"    {median:.3f} s per sweep, {median / count * 1000:.2f} ms per connector\n")
        optional_imports(env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
