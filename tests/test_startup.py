"""The first invocation of a process runs without the garbage collector's passes (shared/startup.py),
and collection always comes back. Each case runs in a fresh interpreter: the pause is per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def test_the_first_invocation_runs_paused_and_collection_resumes_with_what_it_loaded_frozen() -> None:
    seen = _run(
        """
import gc, json
from shared import startup
with startup.first_invocation():
    first = gc.isenabled()
    kept = [object() for _ in range(10)]  # alive at the end: frozen with the rest
after, frozen = gc.isenabled(), gc.get_freeze_count()
with startup.first_invocation():
    second = gc.isenabled()
print(json.dumps({"first": first, "after": after, "frozen": frozen > 0, "second": second}))
"""
    )
    assert seen == {"first": False, "after": True, "frozen": True, "second": True}


def test_collection_resumes_when_the_first_invocation_fails() -> None:
    seen = _run(
        """
import gc, json
from shared import startup
try:
    with startup.first_invocation():
        raise RuntimeError("the first run failed")
except RuntimeError:
    pass
print(json.dumps({"after": gc.isenabled()}))
"""
    )
    assert seen == {"after": True}


def test_a_process_that_turned_collection_off_itself_keeps_it_off() -> None:
    seen = _run(
        """
import gc, json
from shared import startup
gc.disable()
with startup.first_invocation():
    pass
print(json.dumps({"after": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""
    )
    assert seen == {"after": False, "frozen": 0}
