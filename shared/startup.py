"""A process's first invocation, without the garbage collector's full passes over what it loads.

Each trigger imports what it uses when it first runs (docs/architecture.md, "Imports"), so the
first invocation of a process loads most of the app's libraries: hundreds of thousands of objects
(modules, classes, functions) that live as long as the process. Python's cyclic garbage collector
runs its passes by allocation counts, so a cold start triggers many of them, the older
generations' passes each longer than the last, over objects that can never be garbage: about
50 ms of a cold heartbeat sweep on the development machine (``make bench``, section a).

So during the first invocation only the youngest generation is collected, and less often: the
work's own cyclic garbage is still freed as it goes (a first sweep of a large tenant keeps its
usual peak memory), while what survives, the loaded modules above all, is left alone. At the end
everything alive is moved to the permanent generation (``gc.freeze``: later passes skip it) and
the thresholds are restored, also when the invocation failed.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# While the first invocation runs: the youngest generation is collected every _YOUNG allocations
# net of frees (the default is 700), the older ones practically never (every _RARELY passes of
# the one below). 10,000 keeps the peak memory of a 1,000-connector first sweep where it is
# without this (50,000 added 18 MB) and most of the time saved.
_YOUNG = 10_000
_RARELY = 1_000
_lock = threading.Lock()
_started = False  # the process's first invocation has begun


@contextmanager
def first_invocation() -> Iterator[None]:
    """Around every trigger's body: for the process's first invocation only (when collection is
    on), older generations are not collected while it runs, what is alive at its end is frozen
    and the thresholds are restored. Others, even one overlapping it, run as they are."""
    global _started
    with _lock:
        first, _started = not _started, True
    if not first or not gc.isenabled():
        yield
        return
    thresholds = gc.get_threshold()
    gc.set_threshold(_YOUNG, _RARELY, _RARELY)
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*thresholds)
