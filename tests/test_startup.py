"""The first invocation of a process runs without the garbage collector's older passes
(shared/startup.py), still frees its own garbage, and leaves collection as it was. Each case runs
in a fresh interpreter: the first invocation is per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def test_the_first_invocation_skips_older_passes_and_collection_is_restored_with_what_it_loaded_frozen() -> (
    None
):
    seen = _run(
        """
import gc, json
from shared import startup
before = gc.get_threshold()
with startup.first_invocation():
    full = gc.get_stats()[2]["collections"]
    modules = [type(f"Loaded{n}", (), {}) for n in range(20_000)]  # long-lived, as imports are
    full = gc.get_stats()[2]["collections"] - full
after, frozen = gc.get_threshold(), gc.get_freeze_count()
with startup.first_invocation():
    second = gc.get_threshold()
print(json.dumps({"full passes": full, "restored": after == before, "frozen": frozen >= 20_000,
                  "second as usual": second == before}))
"""
    )
    assert seen == {"full passes": 0, "restored": True, "frozen": True, "second as usual": True}


def test_the_first_invocations_own_cyclic_garbage_is_still_freed_as_it_goes() -> None:
    seen = _run(
        """
import gc, json, weakref
from shared import startup
freed = []
class Node:
    pass
with startup.first_invocation():
    for _ in range(50_000):  # a large first run's garbage: each a cycle, which only the collector frees
        a, b = Node(), Node()
        a.other, b.other = b, a
        weakref.finalize(a, freed.append, 1)
    during = len(freed)
print(json.dumps({"freed during": during > 40_000}))
"""
    )
    assert seen == {"freed during": True}


def test_collection_is_restored_when_the_first_invocation_fails() -> None:
    seen = _run(
        """
import gc, json
from shared import startup
before = gc.get_threshold()
try:
    with startup.first_invocation():
        raise RuntimeError("the first run failed")
except RuntimeError:
    pass
print(json.dumps({"restored": gc.get_threshold() == before, "enabled": gc.isenabled()}))
"""
    )
    assert seen == {"restored": True, "enabled": True}


def test_a_process_that_turned_collection_off_itself_is_left_alone() -> None:
    seen = _run(
        """
import gc, json
from shared import startup
gc.disable()
before = gc.get_threshold()
with startup.first_invocation():
    inside = gc.get_threshold()
print(json.dumps({"enabled": gc.isenabled(), "untouched": inside == before, "frozen": gc.get_freeze_count()}))
"""
    )
    assert seen == {"enabled": False, "untouched": True, "frozen": 0}
