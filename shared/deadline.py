"""The time budget of one invocation, handed down to every Graph, Table Storage and channel call.

A trigger opens a budget (``budget(seconds)``: the timers from TIMER_BUDGET_SECONDS, well inside
host.json's ``functionTimeout``; HTTP routes from HTTP_BUDGET_SECONDS, well inside the ~230 s the
platform's front end waits for an answer). Everything below asks how long it may still take:

- ``remaining(cap)``: for the calls that do the work (Graph, alert channels). They end ``reserve``
  seconds before the budget does, so the run can still record what happened.
- ``remaining_for_storage(cap)``: for Table Storage, which may use that reserve.

Held in a ``ContextVar``, so concurrent invocations (threads, asyncio tasks) each see their own; a
thread started for one invocation must be given a copy of the caller's context
(``contextvars.copy_context().run``). Without any budget (scripts, a test calling a capability
directly) only each call's own ``cap`` applies. Pure: standard library only.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

RESERVE_SECONDS = 20.0  # the most kept back from the work calls for recording the outcome
RESERVE_SHARE = 0.25  # ... and never more than this share of a (small) budget
TAIL_SECONDS = 1.0  # the most kept back from every call for shaping the answer after the last one
TAIL_SHARE = 0.05  # ... and never more than this share of a (small) budget


@dataclass(frozen=True)
class Deadline:
    """Monotonic clock instants (``time.monotonic()`` seconds): ``work_end`` for Graph and channel
    calls, ``end`` for everything, storage included (``work_end <= end``)."""

    work_end: float
    end: float


_CURRENT: ContextVar[Deadline | None] = ContextVar("mtd_guard_deadline", default=None)


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[Deadline]:
    """Run the block with ``seconds`` in total (never past an enclosing budget). Storage calls get
    all but a tail (``min(TAIL_SECONDS, TAIL_SHARE * seconds)``, for the answer after the last
    call); work calls, also the reserve (``min(RESERVE_SECONDS, RESERVE_SHARE * seconds)``)."""
    now = time.monotonic()
    reserve = min(RESERVE_SECONDS, RESERVE_SHARE * seconds)
    tail = min(TAIL_SECONDS, TAIL_SHARE * seconds)
    mine = Deadline(work_end=now + seconds - reserve, end=now + seconds - tail)
    outer = _CURRENT.get()
    if outer is not None:
        mine = Deadline(min(mine.work_end, outer.work_end), min(mine.end, outer.end))
    token = _CURRENT.set(mine)
    try:
        yield mine
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Narrow the work calls of the block to ``seconds`` from now (e.g. one alert delivery, one
    Graph call); storage keeps the enclosing end."""
    now = time.monotonic()
    outer = _CURRENT.get()
    work_end = now + seconds if outer is None else min(outer.work_end, now + seconds)
    end = max(work_end, now + seconds) if outer is None else outer.end
    token = _CURRENT.set(Deadline(work_end, end))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def remaining(cap: float = math.inf) -> float:
    """Seconds a Graph or channel call may still take: ``cap``, less when the budget ends sooner;
    0 or less when it is spent."""
    found = _CURRENT.get()
    return cap if found is None else min(cap, found.work_end - time.monotonic())


def remaining_for_storage(cap: float = math.inf) -> float:
    """Seconds a Table Storage call may still take (the reserve included); 0 or less when spent."""
    found = _CURRENT.get()
    return cap if found is None else min(cap, found.end - time.monotonic())
