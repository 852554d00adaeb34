"""`make demo`: every MTD Guard job, run by the real functions, in well under a minute.

Azurite (Table Storage), the Graph simulator (scenarios/demo.json) and the local Functions host
stand-in (scripts/localhost.py) are started; a local webhook receives the alerts. Then:

1. a heartbeat sweep (the timer function, run on demand as the host does it);
2. the simulator's tenant changes (Lookout reconnects) and a second sweep reports the recovery;
3. a configure dry run and a real apply through the HTTP API, and their audit trail entries;
4. a Conditional Access drift check: a classic policy turned off (directory audit log) and a
   platform no modern policy enforces MTD on.

Every line fits in 100 columns. Ctrl-C or a missing Azurite ends in one line, not a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scripts.localhost import FUNCTION_KEY, ApiServer
from scripts.serve import SCENARIO, local_app

WIDTH = 100
LOOKOUT = "2c7790de-8b02-4814-85cf-e0c59380dee8"
CONFIGURE_BODY = {"ios": {"complianceEvaluation": True}}  # Zimperium: connect iOS devices too

_COLOURS = {
    "healthy": "32",
    "warning": "33",
    "unresponsive": "31",
    "error": "31",
    "high": "31",
    "notSetUp": "36",
    "unknown": "35",
}


def _paint(text: str, health: str) -> str:
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return text
    return f"\033[{_COLOURS.get(health, '0')}m{text}\033[0m"


def say(text: str, indent: int = 0, hang: int = 2) -> None:
    """Print wrapped to WIDTH columns; continuation lines indented a little more."""
    print(
        textwrap.fill(
            text,
            WIDTH,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + hang),
            break_on_hyphens=False,
        )
    )


def step(number: int, title: str) -> None:
    print()
    say(f"{number}. {title}")
    print("-" * min(WIDTH, len(f"{number}. {title}")))


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

    def take(self) -> list[dict[str, Any]]:
        """The alerts received since the last call, worst first."""
        taken, self.alerts = self.alerts, []
        first = {"high": 0, "warning": 1, "info": 2}
        return sorted(taken, key=lambda a: (first.get(a["severity"], 3), a["title"]))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Api:
    """Calls the app over HTTP as a person's script would: function key, JSON in and out."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - a loopback URL this script started
            self.url + path,
            data=data,
            method=method,
            headers={"x-functions-key": FUNCTION_KEY, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, json.loads(raw) if raw else None

    def run_timer(self, name: str) -> None:
        status, _ = self.call("POST", f"/admin/functions/{name}", {})
        if status != 202:
            raise RuntimeError(f"running {name} answered {status}")


def _age(hours: float | None) -> str:
    if hours is None:
        return "never"
    if hours < 1:
        return f"{round(hours * 60)} min ago"
    if hours < 48:
        return f"{hours:.1f} h ago"
    return f"{hours / 24:.1f} d ago"


_ORDER = {"unresponsive": 0, "error": 1, "warning": 2, "unknown": 3, "notSetUp": 4, "healthy": 5}


def _table(connectors: list[dict[str, Any]]) -> None:
    """Worst first; each connector's reason on its own wrapped line, so nothing is cut off."""
    ordered = sorted(connectors, key=lambda c: (_ORDER.get(c["health"], 9), c["partner"].lower()))
    rows = [("HEALTH", "PARTNER", "STATE", "LAST HEARTBEAT", "THRESHOLD")]
    for c in ordered:
        threshold = f"{c['thresholdDays']} d" + ("" if c["thresholdSource"] == "connector" else " (default)")
        partner = c["partner"] if len(c["partner"]) <= 31 else c["partner"][:30] + "~"
        rows.append((c["health"], partner, c["partnerState"] or "-", _age(c["heartbeatAgeHours"]), threshold))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    print("  " + "  ".join(cell.ljust(w) for cell, w in zip(rows[0], widths, strict=True)).rstrip())
    for row, c in zip(rows[1:], ordered, strict=True):
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        cells[0] = _paint(cells[0], row[0])
        print("  " + "  ".join(cells).rstrip())
        say("> " + c["reason"], indent=widths[0] + 4)


def _alerts(inbox: _Inbox, what: str) -> None:
    alerts = inbox.take()
    print(f"\n  {what} ({len(alerts)}):")
    for alert in alerts:
        say(f"[{_paint(alert['severity'], alert['severity']):>7}] {alert['title']}", indent=4, hang=10)


def heartbeat(api: Api, inbox: _Inbox) -> None:
    step(1, "Heartbeat sweep: the heartbeat_monitor timer, run now")
    say("POST /admin/functions/heartbeat_monitor, as the Functions host runs a timer on demand", 2)
    api.run_timer("heartbeat_monitor")
    _, data = api.call("GET", "/api/connectors")
    say(f"GET /api/connectors: tenant {data['tenantId']}, checked {data['checkedAt'][:19]} UTC", 2)
    print()
    _table(data["connectors"])
    for problem in data["problems"]:
        say(f"problem: {problem}", 2)
    _alerts(inbox, "Alerts the webhook received")


def recovery(api: Api, inbox: _Inbox, graph: Any) -> None:
    step(2, "Recovery: Lookout for Work reconnects in the simulated tenant; the next sweep sees it")
    lookout = graph.connector(LOOKOUT)
    graph.put_connector({**lookout, "partnerState": "enabled", "lastHeartbeatDateTime": "now-5m"})
    say("simulator: Lookout's partnerState enabled, last heartbeat 5 minutes ago (put_connector)", 2)
    api.run_timer("heartbeat_monitor")
    _, data = api.call("GET", f"/api/connectors/{LOOKOUT}")
    say(f"GET /api/connectors/lookout: {data['health']}, {data['reason']}", 2)
    _alerts(inbox, "Alerts from the second sweep (unchanged connectors raise none again)")


def _changes(changes: list[dict[str, Any]]) -> None:
    for change in changes:
        old, new = json.dumps(change["from"]), json.dumps(change["to"])
        say(f"{change['field']}: {old} -> {new}  ({change['label']})", indent=4)


def configure(api: Api, graph: Any) -> None:
    step(3, "Configure Zimperium through the HTTP API: PUT /api/connectors/zimperium")
    say(f"body {json.dumps(CONFIGURE_BODY)}: only the fields given are managed", 2)
    status, plan = api.call("PUT", "/api/connectors/zimperium?dryRun=true", CONFIGURE_BODY)
    say(
        f"?dryRun=true -> {status}: would {plan['action']}, {len(plan['changes'])} change(s), "
        "nothing written to Graph",
        2,
    )
    _changes(plan["changes"])
    status, done = api.call("PUT", "/api/connectors/zimperium", CONFIGURE_BODY)
    ios = graph.connector(done["connectorId"])["iosEnabled"]
    say(f"apply -> {status}: applied={done['applied']}; Graph now holds iosEnabled={ios}", 2)
    _, trail = api.call("GET", "/api/audit?connector=zimperium&limit=5")
    say("audit trail (GET /api/audit?connector=zimperium), newest first:", 2)
    for entry in trail["entries"]:
        say(f"{entry['at'][:19]}  {entry['result']:<8} {entry['who']}: {entry['detail']}", 4, hang=6)


def conditional_access(api: Api, inbox: _Inbox) -> None:
    step(4, "Conditional Access drift: POST /api/checks/ca-drift")
    _, result = api.call("POST", "/api/checks/ca-drift")
    audit = result["classic"]["auditLog"]
    say(
        f"classic policies (directory audit log, {audit['events']} event(s) read, "
        f"{audit['matched']} about MTD policies):",
        2,
    )
    for change in result["classic"]["changes"]:
        say(f"'{change['displayName']}' {change['drift']} by {change['by']} at {change['at'][:19]}", 4)
    modern = result["modern"]
    coverage = ", ".join(f"{p}: {'yes' if ok else 'NO'}" for p, ok in sorted(modern["coverage"].items()))
    say(
        f"modern policies: {modern['policies']} read; platforms with an MTD connector enforced by "
        f"an enabled policy: {coverage}",
        2,
    )
    _alerts(inbox, "Alerts the webhook received")
    _, found = api.call("GET", "/api/findings?kind=classicPolicyDrift")
    _, coverage_found = api.call("GET", "/api/findings?kind=caCoverage")
    _, chain_found = api.call("GET", "/api/findings?kind=complianceThreatLevel")
    _, posture = api.call("GET", "/api/posture")
    print("\n  The enforcement chain per platform (GET /api/posture):")
    for platform in posture["platforms"]:
        say(f"weakest link {platform['weakestLink'] or 'none'}: {platform['weakestReason']}", 4)
    print("\n  What the findings say (GET /api/findings?kind=...):")
    for finding in found["findings"] + coverage_found["findings"] + chain_found["findings"]:
        say(f"[{finding['severity']}] {finding['id']}", 4)
        say(finding["message"], 6, hang=0)


def main() -> int:
    # Alerts are shown as the webhook received them; the log would only repeat them.
    logging.basicConfig(level=logging.CRITICAL)
    started = time.monotonic()
    say(
        "MTD Guard demo: every job, run by the real functions against Azurite (Table Storage) and "
        f"the Graph simulator ({SCENARIO.parent.name}/{SCENARIO.name}), behind a local stand-in for "
        "the Functions host."
    )
    stack = ExitStack()
    try:
        inbox = _Inbox()
        stack.callback(inbox.stop)
        local = stack.enter_context(local_app({"ALERT_WEBHOOK_URL": inbox.url}))
        server = ApiServer(local.functions).start()
        stack.callback(server.stop)
        print(f"  Azurite (Table Storage)  127.0.0.1:{local.azurite.port}")
        print(f"  Graph simulator          {local.graph.base_url}")
        print(f"  MTD Guard (local host)   {server.url}")
        print(f"  alert webhook            {inbox.url}")
        api = Api(server.url)
        heartbeat(api, inbox)
        recovery(api, inbox, local.graph)
        configure(api, local.graph)
        conditional_access(api, inbox)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt clean-up
        stack.close()
        print("\nmake demo: interrupted; stopped Azurite, the Graph simulator and the app.")
        # 0, not 130: make got the SIGINT too and ends with it; a non-zero status here would only
        # add make's own "Error 130" line under this one.
        return 0
    except RuntimeError as exc:  # Azurite missing or not starting: one line says what to do
        stack.close()
        print(f"make demo: {exc}", file=sys.stderr)
        return 1
    stack.close()
    print()
    say(
        f"Done in {time.monotonic() - started:.0f} s; Azurite and the simulator are stopped. "
        "Try the API yourself:"
    )
    print("  make serve        # then, in another terminal:")
    print(f'  curl -H "x-functions-key: {FUNCTION_KEY}" http://localhost:7071/api/connectors')
    print("  (every route: docs/api.http; the health check needs no key: /api/health)")
    print("  The status page (jobs, connectors with their heartbeat history, findings, alerts):")
    print(f"  make serve, then open http://localhost:7071/api/status?code={FUNCTION_KEY}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
