"""``python -m graphsim``: run the simulator as a process (demo, benchmarks, other languages).

Prints exactly one line, ``graphsim listening on http://HOST:PORT``, on stdout once it
accepts connections (scripts wait for it), logs one line per request on stderr, and exits
0 on SIGTERM/SIGINT. A scenario that cannot be loaded is one stderr line and exit code 2,
never a traceback; a port that cannot be bound is exit code 1.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from graphsim.scenario import ScenarioError
from graphsim.server import GraphSimulator

EXIT_BAD_SCENARIO = 2
EXIT_CANNOT_LISTEN = 1


class _Stop(Exception):
    """Raised in the main thread by the signal handler to leave the wait loop."""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m graphsim", description="Local Microsoft Graph simulator for MTD Guard."
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--scenario", help="scenario JSON file (default: an empty tenant)")
    parser.add_argument("--page-size", type=int, help="server page size (overrides the scenario)")
    parser.add_argument(
        "--patch-returns-body",
        action="store_true",
        help="answer PATCH with 200 and the entity instead of Graph's usual 204",
    )
    parser.add_argument(
        "--patch-mode",
        choices=("merge", "replace"),
        help="how PATCH treats connector booleans it is not sent: kept (merge, the default) or reset "
        "to false (replace); beats the scenario's patchMode. Which one Graph does is unconfirmed",
    )
    return parser.parse_args(argv)


_log_lock = threading.Lock()


def _log(line: str) -> None:
    # Handler threads log concurrently; one lock keeps lines whole.
    with _log_lock:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.page_size is not None and args.page_size < 1:
        _log(f"graphsim: --page-size must be >= 1, not {args.page_size}")
        return EXIT_BAD_SCENARIO
    try:
        sim = GraphSimulator(
            scenario=args.scenario,
            page_size=args.page_size,
            host=args.host,
            port=args.port,
            patch_returns_body=args.patch_returns_body,
            log=_log,
            patch_mode=args.patch_mode,
        )
    except ScenarioError as exc:
        _log(f"graphsim: {exc}")
        return EXIT_BAD_SCENARIO
    try:
        sim.start()
    except OSError as exc:
        _log(f"graphsim: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_CANNOT_LISTEN

    try:
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)
        print(f"graphsim listening on {sim.base_url}", flush=True)
        # The server runs on its own thread; the main thread only waits for a signal.
        # time.sleep-style waits are interrupted by the handler's exception.
        threading.Event().wait()
    except _Stop:
        pass
    finally:
        # A second signal while stopping must not interrupt the clean shutdown.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sim.stop()
    _log("graphsim: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
