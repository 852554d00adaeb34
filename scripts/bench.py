"""`make bench`: what a cold start and a large tenant cost, measured, not asserted.

(a) Cold start. A fresh Python process imports ``function_app`` and runs one heartbeat sweep of a
    5-connector tenant through the real timer function (Graph simulator + Azurite), as a new Flex
    Consumption instance would. Baseline, named here: a fresh process running a plain-httpx script
    that does the same Graph GET (following @odata.nextLink) on the same simulator. Wall time and
    peak RSS of each, medians over several runs, and the ratio app / baseline.
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
from azure.functions.timer import TimerRequest
import function_app
fns = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
fns["heartbeat_monitor"](TimerRequest(past_due=False))
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


def measure(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds from spawn to exit, and peak RSS in MB, of a fresh interpreter running code."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        err = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"benchmark child failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def cold_start(env: dict[str, str]) -> dict[str, float]:
    app_runs, base_runs = [], []
    measure(HTTPX_CHILD, env)  # warm the OS file cache for both, so neither pays it alone
    measure(APP_CHILD, env)
    for _ in range(RUNS):
        app_runs.append(measure(APP_CHILD, env))
        base_runs.append(measure(HTTPX_CHILD, env))
    app_wall = statistics.median(w for w, _ in app_runs)
    base_wall = statistics.median(w for w, _ in base_runs)
    return {
        "app_wall": app_wall,
        "app_rss": statistics.median(r for _, r in app_runs),
        "base_wall": base_wall,
        "base_rss": statistics.median(r for _, r in base_runs),
        "ratio": app_wall / base_wall,
    }


def large_sweep(env: dict[str, str], count: int = 200) -> tuple[float, int]:
    from graphsim import GraphSimulator
    from shared import context
    from shared.monitor import run_heartbeat_sweep

    with GraphSimulator(scenario=scenario(count)) as graph:
        os.environ.update({**env, "GRAPH_ENDPOINT": graph.base_url, "TENANT_ID": TENANT.replace("be", "bf")})
        context.reset()
        s = context.services()
        first = run_heartbeat_sweep(s.settings, s.graph, s.store, s.channels)
        assert len(first.statuses) == count, first.problems
        times = []
        for _ in range(5):
            started = time.perf_counter()
            result = run_heartbeat_sweep(s.settings, s.graph, s.store, s.channels)
            times.append(time.perf_counter() - started)
            assert result.ok and len(result.statuses) == count, result.problems
        return statistics.median(times), count


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
        for label, wall, rss in (
            ("MTD Guard (msgraph-sdk + Table Storage) ", cold["app_wall"], cold["app_rss"]),
            ("baseline: plain httpx GET, same simulator", cold["base_wall"], cold["base_rss"]),
        ):
            print(f"    {label} {wall:.3f} s   {rss:.0f} MB peak RSS")
        verdict = "within" if cold["ratio"] <= TARGET_RATIO else "ABOVE"
        print(
            f"    ratio {cold['ratio']:.2f}x wall, {cold['app_rss'] / cold['base_rss']:.2f}x RSS "
            f"({verdict} the {TARGET_RATIO:.1f}x target)\n"
        )
        median, count = large_sweep(env)
        print(
            f"(b) warm sweep of a {count}-connector tenant (Graph paging + judging + Table Storage batches)"
        )
        print(f"    {median:.3f} s per sweep, {median / count * 1000:.2f} ms per connector")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
