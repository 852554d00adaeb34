"""A process's first invocation, without the garbage collector's passes over what it loads.

Each trigger imports what it uses when it first runs (docs/architecture.md, "Imports"), so the
first invocation of a process loads most of the app's libraries: hundreds of thousands of objects
(modules, classes, functions) that live as long as the process. Python's cyclic garbage collector
runs its passes by allocation counts, so a cold start triggers many of them, each full pass longer
than the last, over objects that can never be garbage: about 50 ms of a cold heartbeat sweep on the
development machine (``make bench``, section a).

So the first invocation runs with the collector paused; at its end everything still alive is moved
to the permanent generation (``gc.freeze``: later passes skip it) and collection resumes, also when
the invocation failed. Reference counting frees all else as usual while paused; only cyclic garbage
made during that one invocation is kept (about 340 objects after a first sweep).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_started = False  # the process's first invocation has begun


@contextmanager
def first_invocation() -> Iterator[None]:
    """Around every trigger's body: pauses collection for the process's first invocation only (if
    collection was on), freezes what is alive and resumes it when that invocation ends. Others,
    even one overlapping it, run as they are."""
    global _started
    with _lock:
        first, _started = not _started, True
    if not first or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
