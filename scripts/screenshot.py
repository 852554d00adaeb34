"""`make screenshot`: the status page for the demo scenario, as Chromium shows it, saved as a PNG.

Azurite and the Graph simulator start (scripts/serve.py's ``local_app``), two days of heartbeat
sweeps run (scripts/history.py), then the Conditional Access drift check once; the page is served
by the real function through the local host stand-in and photographed by Debian's Chromium
(scripts/browser.py). Usage: ``python -m scripts.screenshot docs/img/status.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from azure.functions.timer import TimerRequest

from scripts import history
from scripts.browser import chromium, chromium_missing
from scripts.localhost import FUNCTION_KEY, ApiServer, invoke
from scripts.serve import SCENARIO, local_app


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "docs/img/status.png")
    if missing := chromium_missing():
        print(f"make screenshot: {missing}", file=sys.stderr)
        return 1
    try:
        with local_app() as local:
            sweeps = history.fill(local.functions, local.graph, SCENARIO)
            invoke(local.functions["ca_drift_monitor"].get_user_function(), TimerRequest())
            server = ApiServer(local.functions).start()
            try:
                with chromium(width=1100, height=1900) as browser:
                    page = browser.new_page()
                    page.goto(f"{server.url}/api/status?code={FUNCTION_KEY}")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(target))  # the first screenful: jobs, connectors, charts
            finally:
                server.stop()
    except RuntimeError as exc:  # Azurite missing or not starting
        print(f"make screenshot: {exc}", file=sys.stderr)
        return 1
    print(f"make screenshot: {target} (the demo scenario after {sweeps} heartbeat sweeps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
