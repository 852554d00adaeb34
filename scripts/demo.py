"""`make demo`: one real monitoring sweep, locally, and a report a person can read.

Starts Azurite (Table Storage) and the Graph simulator with scenarios/demo.json, points MTD Guard at
them, runs the real ``heartbeat_monitor`` timer function as the Functions host would, then prints
what the API serves (GET /api/connectors) and the alerts a webhook receiver got. A second sweep
shows that an unchanged state raises no new alert. Everything started here is stopped at the end.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from scripts.azurite import Azurite

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "demo.json"
TENANT = "00000000-0000-0000-0000-0000000000aa"

_COLOURS = {
    "healthy": "32",
    "warning": "33",
    "unresponsive": "31",
    "error": "31",
    "notSetUp": "36",
    "unknown": "35",
}


def _paint(text: str, health: str) -> str:
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return text
    return f"\033[{_COLOURS.get(health, '0')}m{text}\033[0m"


class _Inbox:
    """A stand-in for Teams/ServiceNow: a local webhook that keeps what it is sent."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                inbox.alerts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _age(hours: float | None) -> str:
    if hours is None:
        return "never"
    if hours < 1:
        return f"{round(hours * 60)} min ago"
    if hours < 48:
        return f"{hours:.1f} h ago"
    return f"{hours / 24:.1f} d ago"


_ORDER = {"unresponsive": 0, "error": 1, "warning": 2, "unknown": 3, "notSetUp": 4, "healthy": 5}


def _table(connectors: list[dict[str, Any]]) -> str:
    """Worst first; each connector's reason on its own line, so nothing is cut off."""
    ordered = sorted(connectors, key=lambda c: (_ORDER.get(c["health"], 9), c["partner"].lower()))
    rows = [("HEALTH", "PARTNER", "STATE", "LAST HEARTBEAT", "THRESHOLD")]
    for c in ordered:
        threshold = f"{c['thresholdDays']} d" + ("" if c["thresholdSource"] == "connector" else " (default)")
        rows.append(
            (c["health"], c["partner"], c["partnerState"] or "-", _age(c["heartbeatAgeHours"]), threshold)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(rows[0], widths, strict=True)).rstrip()]
    for row, c in zip(rows[1:], ordered, strict=True):
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        cells[0] = _paint(cells[0], row[0])
        lines.append("  ".join(cells).rstrip())
        lines.append(" " * (widths[0] + 2) + "> " + c["reason"])
    return "\n".join(lines)


def main() -> int:
    # Alerts are shown below as the webhook received them; the log would only repeat them.
    logging.basicConfig(level=logging.ERROR, format="  log: %(message)s")
    from graphsim import GraphSimulator

    print("MTD Guard demo: Azurite + Graph simulator, one heartbeat sweep through the real timer function\n")
    with Azurite() as azurite, GraphSimulator(scenario=SCENARIO) as graph:
        inbox = _Inbox()
        os.environ.update(
            {
                "TENANT_ID": TENANT,
                "GRAPH_ENDPOINT": graph.base_url,
                "AzureWebJobsStorage": azurite.connection_string,
                "HEARTBEAT_SCHEDULE": "0 */30 * * * *",
                "ALERT_WEBHOOK_URL": inbox.url,
            }
        )
        print(f"  Azurite (Table Storage)  127.0.0.1:{azurite.port}")
        print(f"  Graph simulator          {graph.base_url}  (scenario {SCENARIO.relative_to(ROOT)})")
        print(f"  alert webhook            {inbox.url}\n")

        from azure.functions import HttpRequest
        from azure.functions.timer import TimerRequest

        from function_app import app

        fns = {f.get_function_name(): f.get_user_function() for f in app.get_functions()}
        fns["heartbeat_monitor"](TimerRequest(past_due=False))
        listed = fns["connectors_list"](HttpRequest("GET", "http://localhost/api/connectors", body=b""))
        data = json.loads(listed.get_body())

        print(f"Tenant {data['tenantId']}, checked {data['checkedAt']}\n")
        print(_table(data["connectors"]))
        for problem in data["problems"]:
            print(f"\n  problem: {problem}")

        print(f"\nAlerts delivered to the webhook ({len(inbox.alerts)}):")
        severity_first = {"high": 0, "warning": 1, "info": 2}
        for alert in sorted(inbox.alerts, key=lambda a: (severity_first.get(a["severity"], 3), a["title"])):
            print(f"  [{alert['severity']:>7}] {alert['title']}")
        fns["heartbeat_monitor"](TimerRequest(past_due=False))
        print(f"\nSecond sweep, nothing changed: {len(inbox.alerts)} alert(s) in total, no duplicates.")
        inbox.server.shutdown()
        inbox.server.server_close()
    print("\nStopped Azurite and the simulator. Next: `make test`, or see README 'Run it for real'.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
