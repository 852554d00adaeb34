"""`make bench`: what a cold start, a slow network and a large tenant cost, measured, not asserted.

Run by ``make bench`` in its own virtualenv (.venv-bench) holding requirements.txt only: the
deployed package set (the dev virtualenv's httpx also loads its command-line tool, rich and
pygments, which slows the baseline and flatters every ratio).

(a) Cold start, two framings, interleaved rounds, each ratio the median of the per-round ratios:
    - whole process: spawn -> work done (interpreter start, every import, the work);
    - worker preloaded: the child first imports what a running Python worker already has
      (``azure.functions``), says "ready", and the clock starts when the parent says "go".
    The work: ``function_app`` imported and one heartbeat sweep of a 5-connector tenant through the
    real timer function (Graph simulator + Azurite). Baseline: a plain-httpx script doing the same
    Graph GET (following @odata.nextLink) in the same framing. It does LESS work than the product:
    no token, no Table Storage (one read, one write), no judging, no SDK middleware. Both run with
    bytecode caches written by a warm-up round (Flex Consumption may compile the app's own modules
    on each cold start: about 60 ms more, docs/deploy.md).
    A managed-identity variant runs the app child with IDENTITY_ENDPOINT / IDENTITY_HEADER set as
    App Service sets them, against a local fake token endpoint: azure-identity's
    DefaultAzureCredential -> ManagedIdentityCredential is imported and asked for Graph's token
    before the sweep (Graph and Table calls themselves stay token-free: the simulator and Azurite
    are plain http, where the SDKs refuse bearer tokens).
(b) Latency: the warm app's steady run of the heartbeat timer function (sweep, record and the job's
    success, as in Azure), in a process of its own, through local proxies in this process that
    delay each answer (Graph 50 ms, Table Storage 20 ms): requests and sequential round trips per
    sweep, and the wall time against the ideal (the delays along the chain of round trips waited
    for one after another).
(c) Large tenants: a fresh process per size (10, 100, 1,000 connectors) sweeps once to create its
    state, then three steady sweeps: requests per sweep (counted by proxies in this process), CPU
    time of the sweep (in the child), peak RSS of the child.

The simulator runs in its own process so its work is not counted in the children's RSS or CPU.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from scripts.azurite import ACCOUNT, Azurite
from tests.support.proxy import CountingProxy, Forwarded, sequential

ROOT = Path(__file__).resolve().parent.parent
TENANT = "00000000-0000-0000-0000-0000000000be"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "10,100,1000").split(","))
GRAPH_DELAY, TABLE_DELAY = 0.050, 0.020
TARGETS = {"preloaded": 1.5, "whole": 2.5, "rss": 1.6, "latency": 1.2, "round_trips": 3, "cpu_1000": 0.3}

# Every child: PRELOAD, then "ready", then waits for "go" on stdin, then WORK, then one JSON line.
CHILD = """
import json, sys, time
{preload}
print("ready", flush=True)
sys.stdin.readline()
{work}
print(json.dumps(result), flush=True)
"""

APP_PRELOAD = "import azure.functions\nfrom azure.functions.timer import TimerRequest"
APP_WORK = """
import function_app
fns = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
fns["heartbeat_monitor"](TimerRequest(past_due=False))
result = {}
"""
MI_WORK = """
import function_app
from shared import context
context._azure_credential(None).get_token("https://graph.microsoft.com/.default")
fns = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
fns["heartbeat_monitor"](TimerRequest(past_due=False))
result = {}
"""
HTTPX_WORK = """
import os, httpx
url = os.environ["GRAPH_ENDPOINT"] + "/v1.0/deviceManagement/mobileThreatDefenseConnectors"
connectors = []
with httpx.Client() as client:
    while url:
        page = client.get(url).json()
        connectors += page["value"]
        url = page.get("@odata.nextLink")
assert len(connectors) == 5, connectors
result = {}
"""
# The floor of any build that keeps the two SDKs the issue keeps: the baseline's work after
# importing what a sweep cannot do without (msgraph-sdk's client and kiota's httpx adapter,
# azure-data-tables and azure-core's requests transport), doing nothing with them.
SDK_IMPORTS = (
    "from msgraph.graph_service_client import GraphServiceClient\n"
    "from kiota_http.httpx_request_adapter import HttpxRequestAdapter\n"
    "import azure.data.tables, azure.core.pipeline.transport._requests_basic\n"
)
FLOOR_WORK = SDK_IMPORTS + HTTPX_WORK

SIZE_WORK = """
import logging, os
logging.disable(logging.CRITICAL)
from shared import context
from shared.heartbeat.sweep import run_heartbeat_sweep
try:
    from shared.startup import first_invocation
except ImportError:  # code from before shared/startup.py, when comparing versions with this harness
    from contextlib import nullcontext as first_invocation
s = context.services()
def sweep():
    r = run_heartbeat_sweep(s.settings, s.graph, s.store, s.channels, tenant_id=s.settings.tenant_id)
    assert r.recorded and len(r.statuses) == int(os.environ["BENCH_COUNT"]), r.problems
with first_invocation():  # as every trigger wraps its process's first run
    sweep()  # the first sweep creates the tenant's state
print("warm", flush=True)
sys.stdin.readline()
cpu, wall = [], []
for _ in range(3):
    c, w = time.process_time(), time.perf_counter()
    sweep()
    cpu.append(time.process_time() - c)
    wall.append(time.perf_counter() - w)
result = {"cpu": sorted(cpu)[1], "wall": sorted(wall)[1]}
"""


@dataclass(frozen=True)
class Run:
    """One child: seconds until its work was done (from spawn, or from "go" when preloaded), peak
    RSS in MB, CPU seconds of the whole process, and what it reported."""

    done: float
    rss: float
    cpu: float
    report: dict[str, Any]


def child(
    work: str,
    env: dict[str, str],
    *,
    preload: str = "",
    preloaded: bool = False,
    before_go: Callable[[], None] = lambda: None,
) -> Run:
    """A fresh interpreter running ``preload`` then ``work`` (see CHILD). Timed from spawn, or
    (``preloaded``) from the moment it is ready and told to go; ``before_go`` runs between."""
    code = CHILD.format(preload=preload, work=work)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin and process.stdout and process.stderr
    try:
        line = process.stdout.readline()
        if line.strip() == b"ready":  # the parent answers at once (the pipe costs microseconds)
            if preloaded:
                started = time.perf_counter()
            process.stdin.write(b"go\n")
            process.stdin.flush()
            line = process.stdout.readline()
        if line.strip() == b"warm":
            before_go()
            process.stdin.write(b"go\n")
            process.stdin.flush()
            line = process.stdout.readline()
        done = time.perf_counter() - started
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not line.startswith(b"{"):
            raise RuntimeError(f"benchmark child failed: {process.stderr.read().decode()[-3000:]}")
        return Run(done, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, json.loads(line))
    finally:
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()


def scenario(count: int, tenant: str = TENANT) -> dict[str, Any]:
    states = ["now-20m", "now-30h", "now-9d", "now-2h", None]
    return {
        "tenantId": tenant,
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


@contextmanager
def simulator(count: int, tenant: str = TENANT) -> Iterator[str]:
    """The Graph simulator in its own process, serving ``count`` connectors; yields its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.json"
        path.write_text(json.dumps(scenario(count, tenant)))
        process = subprocess.Popen(
            [sys.executable, "-m", "graphsim", "--port", "0", "--scenario", str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        try:
            if "listening on" not in line:
                raise RuntimeError(f"graphsim did not start: {line!r}")
            yield line.rsplit(" ", 1)[-1]
        finally:
            process.terminate()
            process.wait()
            process.stdout.close()


@contextmanager
def token_endpoint() -> Iterator[dict[str, str]]:
    """A fake App Service managed-identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER): answers
    any resource with a token valid for an hour, only when the secret header is sent."""
    secret = "bench-identity-header"  # noqa: S105 - a local fake's header, not a credential

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body are two writes (see tests/support/proxy.py)

        def do_GET(self) -> None:
            if self.headers.get("X-IDENTITY-HEADER") != secret:
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps(
                {
                    "access_token": "bench-token",
                    "expires_on": str(int(time.time()) + 3600),
                    "resource": "https://graph.microsoft.com",
                    "token_type": "Bearer",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield {
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}/msi/token",
            "IDENTITY_HEADER": secret,
        }
    finally:
        server.shutdown()
        server.server_close()


def base_env(graph_url: str, storage: str, tenant: str = TENANT) -> dict[str, str]:
    env = {
        **os.environ,
        "TENANT_ID": tenant,
        "GRAPH_ENDPOINT": graph_url,
        "AzureWebJobsStorage": storage,
        "HEARTBEAT_SCHEDULE": "0 */30 * * * *",
    }
    for name in ("ALERT_WEBHOOK_URL", "PYTHONDONTWRITEBYTECODE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        env.pop(name, None)
    return env


def proxied_storage(azurite: Azurite, proxy: CountingProxy) -> str:
    return azurite.connection_string.replace(f"http://127.0.0.1:{azurite.port}/{ACCOUNT}", proxy.url)


# -- (a) cold start ----------------------------------------------------------------------------


def cold_start(azurite: Azurite) -> dict[str, list[float]]:
    """Per-round figures and ratios of the app and the baseline in both framings."""
    rounds: dict[str, list[float]] = {}
    with simulator(5) as url, token_endpoint() as identity:
        env = base_env(url, azurite.connection_string)
        mi_env = {**env, **identity}
        variants: dict[str, Callable[[], Run]] = {
            "app_whole": lambda: child(APP_WORK, env, preload=APP_PRELOAD),
            "base_whole": lambda: child(HTTPX_WORK, env),
            "app_pre": lambda: child(APP_WORK, env, preload=APP_PRELOAD, preloaded=True),
            "base_pre": lambda: child(HTTPX_WORK, env, preloaded=True),
            "mi_whole": lambda: child(MI_WORK, mi_env, preload=APP_PRELOAD),
            "floor_whole": lambda: child(FLOOR_WORK, env, preload=APP_PRELOAD),
            "floor_pre": lambda: child(FLOOR_WORK, env, preload=APP_PRELOAD, preloaded=True),
        }
        for run in variants.values():  # warm the file cache (and bytecode)
            run()
        for _ in range(RUNS):
            got = {name: run() for name, run in variants.items()}
            for name, r in got.items():
                rounds.setdefault(name, []).append(r.done)
                rounds.setdefault(name + "_rss", []).append(r.rss)
                rounds.setdefault(name + "_cpu", []).append(r.cpu)
            rounds.setdefault("ratio_whole", []).append(got["app_whole"].done / got["base_whole"].done)
            rounds.setdefault("ratio_pre", []).append(got["app_pre"].done / got["base_pre"].done)
            rounds.setdefault("ratio_rss", []).append(got["app_whole"].rss / got["base_whole"].rss)
            rounds.setdefault("ratio_mi", []).append(got["mi_whole"].done / got["base_whole"].done)
            for framing in ("whole", "pre"):
                floor, app = got[f"floor_{framing}"].done, got[f"app_{framing}"].done
                rounds.setdefault(f"floor_ratio_{framing}", []).append(floor / got[f"base_{framing}"].done)
                rounds.setdefault(f"over_floor_{framing}", []).append(app / floor)
            rounds.setdefault("floor_ratio_rss", []).append(got["floor_whole"].rss / got["base_whole"].rss)
    return rounds


# -- (b) latency -------------------------------------------------------------------------------


def critical_path(requests: list[tuple[Forwarded, float]]) -> float:
    """The ideal time of the requests: the largest sum of delays along a chain of requests each
    sent after the previous one was answered (overlapping requests cost only the slower one)."""
    ordered = sorted(requests, key=lambda r: r[0].started)
    best: list[float] = []
    for i, (request, delay) in enumerate(ordered):
        before = [best[j] for j in range(i) if ordered[j][0].ended <= request.started]
        best.append(delay + max(before, default=0.0))
    return max(best, default=0.0)


LATENCY_WORK = """
import logging, os
logging.disable(logging.CRITICAL)
import function_app
from azure.functions.timer import TimerRequest
fns = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
from shared import context
from shared.heartbeat.sweep import last_sweep
def sweep():  # the timer function itself: the sweep, its record and the job's success
    fns["heartbeat_monitor"](TimerRequest(past_due=False))
def succeeded():  # the timer swallows failures (it logs them, off here): ask its record
    s = context.services()
    record = last_sweep(s.store, s.settings.tenant_id)
    assert record and not record.problems and record.succeeded_at == record.checked_at, record
for _ in range(2):  # create the state, then one steady sweep to open the connections
    sweep()
spans = []
for _ in range(int(os.environ["BENCH_RUNS"])):
    started = time.monotonic()  # the proxies' clock (system-wide): their requests fall in a span
    sweep()
    spans.append((started, time.monotonic()))
    succeeded()  # after the span: its read is not counted
result = {"spans": spans}
"""


def latency(azurite: Azurite) -> dict[str, list[float]]:
    """The timer's steady runs in a child process, as the app runs in Azure: alone in its
    interpreter, not sharing it with the proxies' threads; then the same without the delays."""
    tenant = "00000000-0000-0000-0000-0000000000bd"
    figures: dict[str, list[float]] = {}
    with (
        simulator(5, tenant) as url,
        CountingProxy(url, delay=GRAPH_DELAY) as graph,
        CountingProxy(f"http://127.0.0.1:{azurite.port}/{ACCOUNT}", delay=TABLE_DELAY) as table,
    ):
        env = {**base_env(graph.url, proxied_storage(azurite, table), tenant), "BENCH_RUNS": str(RUNS)}
        for started, ended in child(LATENCY_WORK, env).report["spans"]:
            graph_requests = [r for r in graph.requests if started <= r.started <= ended]
            table_requests = [r for r in table.requests if started <= r.started <= ended]
            both = [(r, GRAPH_DELAY) for r in graph_requests] + [(r, TABLE_DELAY) for r in table_requests]
            wall, ideal = ended - started, critical_path(both)
            if not graph_requests or not table_requests:
                raise RuntimeError("a timed run reached neither Graph nor Table Storage through the proxies")
            # The same chain, each request counted as long as the proxy held it: the added delay
            # plus the server's own time (Azurite, the simulator), which the ideal leaves out.
            served = critical_path([(r, r.ended - r.started) for r, _ in both])
            figures.setdefault("served", []).append(served)
            figures.setdefault("graph", []).append(len(graph_requests))
            figures.setdefault("table", []).append(len(table_requests))
            figures.setdefault("sequential", []).append(sequential([r for r, _ in both]))
            figures.setdefault("wall", []).append(wall)
            figures.setdefault("ideal", []).append(ideal)
            figures.setdefault("ratio", []).append(wall / ideal)
        graph.delay = table.delay = 0.0
        for started, ended in child(LATENCY_WORK, env).report["spans"]:
            figures.setdefault("undelayed", []).append(ended - started)
    return figures


# -- (c) large tenants -------------------------------------------------------------------------


def large(azurite: Azurite, count: int) -> dict[str, float]:
    tenant = f"00000000-0000-0000-0000-{count:012d}"
    with (
        simulator(count, tenant) as url,
        CountingProxy(url) as graph,
        CountingProxy(f"http://127.0.0.1:{azurite.port}/{ACCOUNT}") as table,
    ):
        env = {**base_env(graph.url, proxied_storage(azurite, table), tenant), "BENCH_COUNT": str(count)}

        def counting() -> None:
            graph.clear()
            table.clear()

        run = child(SIZE_WORK, env, before_go=counting)
        return {
            "cpu": run.report["cpu"],
            "wall": run.report["wall"],
            "rss": run.rss,
            "graph": len(graph.requests) / 3,
            "table": len(table.requests) / 3,
            "sequential": sequential(graph.requests + table.requests) / 3,  # the three sweeps alike
        }


# -- report ------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def verdict(value: float, target: float) -> str:
    return (
        f"within {target:g}x"
        if value <= target
        else f"ABOVE {target:g}x by {(value / target - 1) * 100:.0f}%"
    )


def report_cold(c: dict[str, list[float]]) -> None:
    print("(a) cold start: import function_app + one heartbeat sweep of 5 connectors (medians)")
    print("    framing          MTD Guard | baseline (plain httpx GET) | ratio (median of per-round ratios)")
    whole, pre = median(c["ratio_whole"]), median(c["ratio_pre"])
    print(
        f"    whole process    {median(c['app_whole']):.3f} s | {median(c['base_whole']):.3f} s"
        f" | {whole:.2f}x ({verdict(whole, TARGETS['whole'])})"
    )
    print(
        f"    worker preloaded {median(c['app_pre']):.3f} s | {median(c['base_pre']):.3f} s"
        f" | {pre:.2f}x ({verdict(pre, TARGETS['preloaded'])})"
    )
    rss = median(c["ratio_rss"])
    print(
        f"    peak RSS         {median(c['app_whole_rss']):.0f} MB | {median(c['base_whole_rss']):.0f} MB"
        f" | {rss:.2f}x ({verdict(rss, TARGETS['rss'])})"
    )
    print(f"    CPU (process)    {median(c['app_whole_cpu']):.3f} s | {median(c['base_whole_cpu']):.3f} s")
    mi = median(c["ratio_mi"])
    print(
        f"    managed identity {median(c['mi_whole']):.3f} s whole process, {mi:.2f}x the baseline"
        f" (+{(median(c['mi_whole']) - median(c['app_whole'])) * 1000:.0f} ms: azure-identity and one token,"
        " Graph's; in Azure the Table Storage client asks for a second)"
    )
    print("    The baseline does less than the product: one GET, no token, no Table Storage (one read and")
    print("    one write), no judging, no msgraph-sdk middleware; 'worker preloaded' starts the clock once")
    print("    azure.functions is imported, as a running Python worker has it before loading the app.")
    print("    Both with bytecode caches written by a warm-up round (in Azure the app's own modules may be")
    print("    compiled on each cold start: about 60 ms more, docs/deploy.md).")
    print("    The SDK import floor (not the httpx baseline): the baseline's GET after importing only what")
    print("    a sweep cannot do without (msgraph-sdk's client, kiota's httpx adapter, azure-data-tables,")
    print("    azure-core's requests transport), with azure.functions loaded as for the app:")
    for framing, label in (("whole", "whole process   "), ("pre", "worker preloaded")):
        floor, app = median(c[f"floor_{framing}"]), median(c[f"app_{framing}"])
        below, above = c[f"floor_ratio_{framing}"], c[f"over_floor_{framing}"]
        print(
            f"    {label} SDK floor {floor:.3f} s, {median(below):.2f}x the baseline"
            f" (rounds {min(below):.2f}-{max(below):.2f}); MTD Guard {app:.3f} s,"
            f" {median(above):.2f}x the SDK floor (rounds {min(above):.2f}-{max(above):.2f})"
        )
    print("    (each ratio is the median of per-round ratios, not the ratio of the medians shown)")
    print(
        f"    peak RSS         SDK floor {median(c['floor_whole_rss']):.0f} MB ="
        f" {median(c['floor_ratio_rss']):.2f}x the baseline\n"
    )


def report_latency(f: dict[str, list[float]]) -> None:
    ratio = median(f["ratio"])
    print(
        "(b) latency: the heartbeat timer's steady run (own process), an unchanged 5-connector tenant,"
        f" Graph answers +{GRAPH_DELAY * 1000:.0f} ms,"
        f" Table Storage +{TABLE_DELAY * 1000:.0f} ms"
    )
    print(
        f"    requests per sweep: {median(f['graph']):.0f} Graph + {median(f['table']):.0f} Table;"
        f" {median(f['sequential']):.0f} sequential round trips (target {TARGETS['round_trips']})"
    )
    wall, ideal = median(f["wall"]) * 1000, median(f["ideal"]) * 1000
    print(
        f"    {wall:.0f} ms per sweep against an ideal of {ideal:.0f} ms (the delays along the sequential"
        f" round trips): {ratio:.2f}x ({verdict(ratio, TARGETS['latency'])})"
    )
    served = median(f["served"]) * 1000
    print(
        f"    of the {wall - ideal:.0f} ms above the ideal, {served - ideal:.0f} ms is the servers' own time"
        f" along the same chain (measured at the proxies: Azurite, the simulator, the proxies);"
        f" the sweep itself (CPU, threads, the SDKs) adds {wall - served:.0f} ms: {wall / served:.2f}x"
        " the chain as served"
    )
    print(
        f"    the same sweep without added delays: {median(f['undelayed']) * 1000:.0f} ms"
        " (Azurite, the proxies and the sweep's own CPU: what the ideal leaves out)\n"
    )


def report_sizes(sizes: dict[int, dict[str, float]]) -> None:
    print("(c) steady sweeps of large unchanged tenants (fresh process per size, median of 3 sweeps)")
    print("    the best case: nothing changed between sweeps; each connector whose heartbeat moved adds a")
    print("    written status and observation (about 0.35 ms of CPU each, docs/development.md)")
    print(
        "    connectors | requests per sweep (Graph + Table) | sequential round trips | CPU per sweep"
        " | per connector | wall | peak RSS"
    )
    for count, f in sizes.items():
        print(
            f"    {count:>10} | {f['graph']:.0f} + {f['table']:.0f} | {f['sequential']:.0f}"
            f" | {f['cpu']:.3f} s | {f['cpu'] / count * 1000:.2f} ms | {f['wall']:.3f} s | {f['rss']:.0f} MB"
        )
    if 1000 in sizes:
        cpu = sizes[1000]["cpu"]
        target = TARGETS["cpu_1000"]
        state = "within" if cpu <= target else f"ABOVE by {(cpu / target - 1) * 100:.0f}%"
        print(f"    1,000 connectors: {cpu:.3f} s of CPU per steady sweep ({state} the {target} s target)")
        print(
            "    round trips: Graph pages one after another (100 connectors a page here), the state's read"
            " pages\n    beside them; the 3-round-trip target holds while the connectors fit one Graph page"
        )
        print("    peak RSS: the process's, its first sweep (which creates the tenant's state) included\n")


# -- issue 14: what the status page and the log export add, loaded only when used -----------------

OPTIONAL_IMPORTS = {
    "jinja2 (GET /api/status, first call only)": "import jinja2",
    "Azure Monitor log exporter (only with APPLICATIONINSIGHTS_CONNECTION_STRING)": (
        "import azure.monitor.opentelemetry.exporter, opentelemetry.sdk._logs, azure.identity"
    ),
}


def report_optional_imports() -> None:
    """(d) Each lazily imported library's cost: a fresh interpreter importing it against an empty
    one, in interleaved rounds; the median of the per-round differences."""

    def took(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    print("(d) libraries loaded only when used: fresh interpreter importing it vs an empty one")
    for label, code in OPTIONAL_IMPORTS.items():
        took(code)  # warm the file cache
        rounds = [took(code) - took("pass") for _ in range(RUNS)]
        print(f"    {label}: +{median(rounds) * 1000:.0f} ms")


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    logging.disable(logging.WARNING)  # the sweeps log one line per alert
    if Path(sys.prefix).name != ".venv-bench":
        print(f"note: running in {sys.prefix}, not .venv-bench (the deployed package set): `make bench`\n")
    print(f"MTD Guard benchmarks ({RUNS} interleaved rounds; machine: {os.cpu_count()} cores)\n")
    with Azurite() as azurite:
        report_cold(cold_start(azurite))
        report_latency(latency(azurite))
        report_sizes({n: large(azurite, n) for n in SIZES})
    report_optional_imports()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
