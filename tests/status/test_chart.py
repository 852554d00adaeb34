"""Pure: the status page's chart geometry and what the page says, without a store or a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.status import chart

START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(days=10)
# The plot box, from the module's documented margins: 640 x 200 with 56/96 left/right, 12/30 top/bottom.
LEFT, TOP, WIDTH, HEIGHT = 56.0, 12.0, 640.0 - 56.0 - 96.0, 200.0 - 12.0 - 30.0


def build(points: list[chart.Point], threshold: float = 168.0, warning: float = 24.0) -> chart.Chart:
    return chart.build(points, start=START, end=END, threshold_hours=threshold, warning_hours=warning)


def test_time_runs_left_to_right_and_age_bottom_to_top() -> None:
    drawn = build(
        [chart.Point(START, 0.0), chart.Point(START + timedelta(days=5), 126.0), chart.Point(END, 252.0)]
    )
    # The axis tops out at 1.5 x 168 h = 252 h: the last point is at the top right corner.
    assert drawn.segments == (
        ((LEFT, TOP + HEIGHT), (LEFT + WIDTH / 2, TOP + HEIGHT / 2), (LEFT + WIDTH, TOP)),
    )
    assert drawn.threshold_y == pytest.approx(TOP + HEIGHT / 3)  # 168 of 252 h: two thirds up
    assert drawn.warning_y == pytest.approx(TOP + HEIGHT - HEIGHT * 24 / 252)


def test_an_age_above_the_headroom_raises_the_axis_and_lowers_the_threshold_line() -> None:
    drawn = build([chart.Point(END, 336.0)])  # twice the threshold
    assert drawn.y_max_hours == 336.0
    assert drawn.threshold_y == pytest.approx(TOP + HEIGHT / 2)
    assert drawn.segments == (((LEFT + WIDTH, TOP),),)


def test_an_observation_without_an_age_breaks_the_line_and_is_marked_on_the_time_axis() -> None:
    day = timedelta(days=1)
    drawn = build(
        [
            chart.Point(START + 3 * day, 10.0),  # any order in, time order out
            chart.Point(START + day, 10.0),
            chart.Point(START + 2 * day, None),
            chart.Point(START + 4 * day, 20.0),
        ]
    )
    assert [len(s) for s in drawn.segments] == [1, 2]
    assert len(drawn.gaps) == 1 and drawn.gaps[0] == pytest.approx(LEFT + WIDTH * 0.2)
    assert drawn.point_count == 4


def test_points_outside_the_window_are_drawn_on_its_edges() -> None:
    drawn = build([chart.Point(START - timedelta(days=1), -5.0), chart.Point(END + timedelta(days=1), 1.0)])
    (segment,) = drawn.segments
    assert segment[0] == (LEFT, TOP + HEIGHT) and segment[1][0] == LEFT + WIDTH


def test_axis_labels_are_in_hours_then_days() -> None:
    assert [t.label for t in build([]).y_ticks] == ["0 h", "2 d", "4 d", "6 d", "8 d", "10 d"]
    assert [t.label for t in build([], threshold=4, warning=2).y_ticks] == [
        "0 h",
        "1 h",
        "2 h",
        "3 h",
        "4 h",
        "5 h",
        "6 h",
    ]
    assert [t.label for t in build([]).x_ticks] == ["01 Nov 00:00", "06 Nov 00:00", "11 Nov 00:00"]
    assert chart.hours_label(36) == "36 h" and chart.hours_label(60) == "2.5 d"


def test_a_window_that_does_not_move_forward_is_refused() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        chart.build([], start=END, end=END, threshold_hours=1, warning_hours=1)


@given(
    ages=st.lists(st.one_of(st.none(), st.floats(-1e3, 1e6, allow_nan=False)), max_size=60),
    threshold=st.integers(1, 365),
)
def test_every_observation_is_drawn_once_inside_the_plot(ages: list[float | None], threshold: int) -> None:
    points = [chart.Point(START + timedelta(hours=i), a) for i, a in enumerate(ages)]
    drawn = build(points, threshold=threshold * 24.0, warning=min(24.0, threshold * 12.0))
    assert drawn.point_count == len(points)
    for segment in drawn.segments:
        for x, y in segment:
            assert LEFT <= x <= LEFT + WIDTH and TOP - 1e-9 <= y <= TOP + HEIGHT + 1e-9
    assert TOP - 1e-9 <= drawn.threshold_y < drawn.warning_y <= TOP + HEIGHT
    assert len(drawn.y_ticks) <= 7
