"""shared/deadline.py: the invocation's time budget as the calls below it see it (pure; the clock is
``time.monotonic``, read here through the module's own results, never slept on)."""

from __future__ import annotations

import math
import threading

import pytest

from shared import deadline


def test_without_a_budget_each_call_has_its_own_cap_only() -> None:
    assert deadline.remaining(30.0) == 30.0
    assert deadline.remaining_for_storage() == math.inf


def test_a_budget_keeps_a_reserve_from_work_calls_and_a_tail_from_every_call() -> None:
    with deadline.budget(100.0):
        work, storage = deadline.remaining(), deadline.remaining_for_storage()
    assert 79.0 < work <= 80.0  # 20 s reserve for recording the outcome
    assert 98.0 < storage <= 99.0  # 1 s tail for the answer
    with deadline.budget(4.0):  # a small budget: a quarter and a twentieth of it
        assert 2.9 < deadline.remaining() <= 3.0
        assert 3.7 < deadline.remaining_for_storage() <= 3.8
    assert deadline.remaining(7.0) == 7.0  # gone after the block


def test_an_inner_budget_or_call_never_outlasts_the_outer_one() -> None:
    with deadline.budget(10.0):
        with deadline.budget(1000.0):
            assert deadline.remaining() <= 7.5
        with deadline.within(1000.0):
            assert deadline.remaining() <= 7.5
        with deadline.within(2.0):
            assert 1.9 < deadline.remaining() <= 2.0
            assert 9.0 < deadline.remaining_for_storage() <= 9.5  # storage keeps the budget's end


def test_a_spent_budget_leaves_nothing() -> None:
    with deadline.budget(10.0), deadline.within(0.0):
        assert deadline.remaining() <= 0


@pytest.mark.parametrize("seconds", [5.0, 300.0])
def test_another_thread_does_not_see_this_invocations_budget(seconds: float) -> None:
    seen: list[float] = []
    with deadline.budget(seconds):
        thread = threading.Thread(target=lambda: seen.append(deadline.remaining(1234.0)))
        thread.start()
        thread.join()
    assert seen == [1234.0]
