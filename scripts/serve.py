"""`make serve`: MTD Guard on http://localhost:7071 without Core Tools, against Azurite and the
Graph simulator (scenarios/demo.json), until Ctrl-C.

A local stand-in for the Functions host (scripts/localhost.py): the real functions, routed from
their own metadata, timers on their schedules. ``func start`` (Azure Functions Core Tools) is the
real host; use it when you can install it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts import history
from scripts.azurite import Azurite
from scripts.localhost import FUNCTION_KEY, ApiServer, TimerScheduler

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "demo.json"
TENANT = "00000000-0000-0000-0000-0000000000aa"  # the demo scenario's tenant


@dataclass
class Local:
    azurite: Azurite
    graph: Any  # graphsim.GraphSimulator (imported late: it is not needed to print a usage error)
    functions: dict[str, Any]


@contextmanager
def local_app(extra_env: Mapping[str, str] | None = None) -> Iterator[Local]:
    """Azurite and the simulator started, the app settings pointing at them, the app loaded.

    Raises RuntimeError with one readable sentence when Azurite is missing or will not start.
    """
    from graphsim import GraphSimulator

    with Azurite() as azurite, GraphSimulator(scenario=SCENARIO) as graph:
        os.environ.update(
            {
                "TENANT_ID": TENANT,
                "GRAPH_ENDPOINT": graph.base_url,
                "AzureWebJobsStorage": azurite.connection_string,
                **(extra_env or {}),
            }
        )
        from function_app import app  # after the settings: the app validates them when loaded

        yield Local(azurite, graph, {str(f.get_function_name()): f for f in app.get_functions()})


def _print_request(method: str, path: str, status: int, seconds: float) -> None:
    print(f"  {method} {path.split('?', maxsplit=1)[0]} -> {status} ({seconds * 1000:.0f} ms)", flush=True)


def _banner(local: Local, server: ApiServer, scheduler: TimerScheduler, base: str) -> str:
    timers = "\n".join(
        f"  {name:<20} {scheduler.expressions[name]:<16} next {when:%H:%M:%S}"
        for name, when in sorted(scheduler.next_runs.items())
    )
    scenario = SCENARIO.relative_to(ROOT)
    return f"""MTD Guard on {base}: a LOCAL STAND-IN for the Functions host, to try the API.
The real host is `func start` (Azure Functions Core Tools); in Azure each app has its own keys.

  function key  {server.key}  (header x-functions-key, or ?code=)
  try           curl -H "x-functions-key: {server.key}" {base}/api/connectors
  status page   {base}/api/status?code={server.key}  (open it in a browser)
  every route   docs/api.http; the OpenAPI document is {base}/api/openapi.json
  Graph sim     {local.graph.base_url}  ({scenario}; change it: graphsim/README.md)
  Azurite       tables on 127.0.0.1:{local.azurite.port}  (in memory: gone when this stops)

Timers, on their NCRONTAB schedules from the app settings (UTC); run one now with
  curl -X POST {base}/admin/functions/<name> -d '{{}}'
{timers}

Ctrl-C stops everything. Requests and the app's log:"""


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "7071")))
    args = parser.parse_args(argv)
    # The function's own log lines (sweep summaries, problems) are what a developer watches here.
    logging.basicConfig(level=logging.INFO, format="  log: %(message)s")
    for noisy in ("azure", "httpx", "httpcore", "kiota", "msgraph"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = ExitStack()
    signal.signal(signal.SIGTERM, _terminate)  # `kill` stops Azurite and the simulator too
    try:
        local = stack.enter_context(local_app())
        # Two days of heartbeat sweeps first, so the status page has history to chart.
        print("make serve: two days of heartbeat sweeps for the status page's charts (a few seconds)")
        logging.disable(logging.WARNING)  # their alerts are the demo's story, not this log's
        try:
            history.fill(local.functions, local.graph, SCENARIO)
        finally:
            logging.disable(logging.NOTSET)
        try:
            server = ApiServer(local.functions, port=args.port, key=FUNCTION_KEY, on_request=_print_request)
        except OSError as exc:
            raise RuntimeError(
                f"port {args.port} is not free ({exc.strerror}): stop what uses it, "
                f"or run `make serve PORT={args.port + 1}`"
            ) from None
        stack.callback(server.stop)
        scheduler = TimerScheduler(list(server.timers.values())).start()
        stack.callback(scheduler.stop)
        server.start()
        print(_banner(local, server, scheduler, f"http://localhost:{args.port}"), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        stack.close()
        print("\nmake serve: stopped the app, the Graph simulator and Azurite.")
        return 0
    except (RuntimeError, ValueError) as exc:  # Azurite missing, port taken, a bad schedule
        stack.close()
        print(f"make serve: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.close()


if __name__ == "__main__":
    raise SystemExit(main())
