"""Pure: the geometry of a connector's heartbeat-age chart on the status page (no I/O, no markup).

The chart is drawn server-side as inline SVG (templates/status.html), so it needs no script, font
or network. Everything a template needs is computed here, in SVG user units:

* x is time, left to right, over ``[start, end]`` (the page's window, UTC);
* y is the heartbeat age in hours, 0 at the bottom of the plot; the top is the larger of
  ``Y_HEADROOM`` times the threshold and the largest age observed, so the threshold line always
  sits at ``1 / Y_HEADROOM`` (two thirds) of the plot's height unless an age goes above it;
* one polyline vertex per observation with an age, in time order; an observation without one (no
  heartbeat yet, an unreadable one) breaks the line and is marked on the time axis instead, so
  every stored observation appears exactly once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

WIDTH = 640.0
HEIGHT = 200.0
LEFT, RIGHT, TOP, BOTTOM = 56.0, 96.0, 12.0, 30.0  # margins: y labels left, line labels right
Y_HEADROOM = 1.5  # the y axis reaches 1.5 x the threshold: the threshold line at two thirds
_STEPS_HOURS = (1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2160, 4320, 8760)
_MAX_Y_TICKS = 6


@dataclass(frozen=True)
class Point:
    """One observation: when a sweep saw the connector, and its heartbeat age (None: no age)."""

    at: datetime
    age_hours: float | None


@dataclass(frozen=True)
class Tick:
    """An axis label at ``position`` (x for the time axis, y for the age axis)."""

    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    """A chart ready to draw: plot box, the polyline segments, gap marks, the two lines, axes."""

    plot_left: float
    plot_top: float
    plot_width: float
    plot_height: float
    y_max_hours: float
    segments: tuple[tuple[tuple[float, float], ...], ...]  # polylines: (x, y) per observation
    gaps: tuple[float, ...]  # x of each observation without an age
    threshold_y: float
    warning_y: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]

    @property
    def plot_bottom(self) -> float:
        """The y of age 0 (the time axis)."""
        return self.plot_top + self.plot_height

    @property
    def plot_right(self) -> float:
        """The x of the window's end (now)."""
        return self.plot_left + self.plot_width

    @property
    def point_count(self) -> int:
        """How many observations the chart shows (vertices and gap marks)."""
        return sum(len(s) for s in self.segments) + len(self.gaps)

    def points_attribute(self, segment: tuple[tuple[float, float], ...]) -> str:
        """A segment as an SVG ``points`` attribute: ``"x,y x,y"`` with one decimal."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)


def hours_label(hours: float) -> str:
    """An axis label: "12 h" under two days, else "3 d" (one decimal when not whole)."""
    if hours < 48:
        return f"{hours:g} h"
    days = hours / 24
    return f"{days:g} d" if days == int(days) else f"{days:.1f} d"


def y_top(threshold_hours: float, ages: list[float]) -> float:
    """The age at the top of the plot: ``Y_HEADROOM`` x the threshold, or the largest age if higher."""
    return max(threshold_hours * Y_HEADROOM, max(ages, default=0.0), 1.0)


def _step(top: float) -> int:
    """Hours between age labels: the smallest of ``_STEPS_HOURS`` giving at most ``_MAX_Y_TICKS``
    intervals, else whole years (a heartbeat years old is still drawn)."""
    year = _STEPS_HOURS[-1]
    return next(
        (s for s in _STEPS_HOURS if top / s <= _MAX_Y_TICKS), year * math.ceil(top / year / _MAX_Y_TICKS)
    )


def build(
    points: list[Point],
    *,
    start: datetime,
    end: datetime,
    threshold_hours: float,
    warning_hours: float,
) -> Chart:
    """The chart of ``points`` (any order) over ``[start, end]``; points outside are clamped to it.

    ``threshold_hours`` and ``warning_hours`` are the connector's unresponsive threshold and its
    early-warning point, both as heartbeat ages in hours. Raises ValueError when ``end <= start``.
    """
    if end <= start:
        raise ValueError("the chart's window must end after it starts")
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (end - start).total_seconds()
    top = y_top(threshold_hours, [p.age_hours for p in points if p.age_hours is not None])

    def x(at: datetime) -> float:
        fraction = min(max((at - start).total_seconds() / span, 0.0), 1.0)
        return LEFT + fraction * width

    def y(hours: float) -> float:
        return TOP + height - min(max(hours, 0.0), top) / top * height

    segments: list[tuple[tuple[float, float], ...]] = []
    current: list[tuple[float, float]] = []
    gaps: list[float] = []
    for p in sorted(points, key=lambda p: p.at):
        if p.age_hours is None:
            gaps.append(x(p.at))
            if current:
                segments.append(tuple(current))
                current = []
        else:
            current.append((x(p.at), y(p.age_hours)))
    if current:
        segments.append(tuple(current))
    step = _step(top)
    y_ticks = tuple(Tick(y(h), hours_label(h)) for h in range(0, int(top) + 1, step))
    middle = start + (end - start) / 2
    x_ticks = tuple(Tick(x(t), f"{t:%d %b %H:%M}") for t in (start, middle, end))
    return Chart(
        plot_left=LEFT,
        plot_top=TOP,
        plot_width=width,
        plot_height=height,
        y_max_hours=top,
        segments=tuple(segments),
        gaps=tuple(gaps),
        threshold_y=y(threshold_hours),
        warning_y=y(warning_hours),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )
