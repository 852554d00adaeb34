"""Pure: what the status page says and in which order, from stored state given as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.alerting.alerts import Alert, Delivery, DeliveryStatus
from shared.findings.model import Finding, FindingStatus, Severity
from shared.heartbeat.health import Health, HealthPolicy
from shared.heartbeat.plan import ConnectorStatus, Observation
from shared.job_runs import Job
from shared.status import view

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def status(partner: str, health: Health, age: float | None, threshold: int = 7) -> ConnectorStatus:
    return ConnectorStatus(
        tenant_id="t",
        id=f"id-{partner}",
        partner=partner,
        partner_known=True,
        partner_state="enabled",
        last_heartbeat=None,
        threshold_days=threshold,
        threshold_from_connector=True,
        heartbeat_age_hours=age,
        health=health,
        reason="why",
        checked_at=NOW,
        health_since=NOW,
    )


def observation(s: ConnectorStatus, at: datetime, age: float | None) -> Observation:
    return Observation(s.id, at, s.health.value, "enabled", None, age, s.threshold_days, "why")


def finding(fid: str, severity: Severity, state: FindingStatus, seen: datetime) -> Finding:
    return Finding(fid, "t", "heartbeat", fid, fid, severity, state, "m", "r", seen, seen)


def alert(aid: str, detected: datetime, **deliveries: Delivery) -> Alert:
    return Alert(
        aid, "t", "heartbeat", "f", Severity.HIGH, f"alert {aid}", "why", detected, deliveries=deliveries
    )


def stored(**kw: object) -> view.Stored:
    values: dict[str, object] = {
        "tenant_id": "t",
        "now": NOW,
        "retention_days": 90,
        "policy": HealthPolicy(7, 24),
        "schedules": {Job.HEARTBEAT: "0 */30 * * * *"},
        "last_successes": {},
        "last_sweep_at": None,
        "sweep_problems": (),
        "statuses": (),
        "history": {},
        "findings": (),
        "alerts": (),
        **kw,
    }
    return view.Stored(**values)  # type: ignore[arg-type]


def test_connectors_come_worst_first_then_oldest_heartbeat_then_by_name() -> None:
    statuses = (
        status("b-healthy", Health.HEALTHY, 1),
        status("warn-young", Health.WARNING, 30),
        status("unresponsive", Health.UNRESPONSIVE, 200),
        status("a-healthy", Health.HEALTHY, 1),
        status("warn-old", Health.WARNING, 40),
        status("never", Health.NOT_SET_UP, None),
        status("broken", Health.ERROR, 2),
        status("odd", Health.UNKNOWN, 3),
    )
    page = view.build(stored(statuses=statuses))
    assert [c.partner for c in page.connectors] == [
        "unresponsive",
        "broken",
        "warn-old",
        "warn-young",
        "odd",
        "never",
        "a-healthy",
        "b-healthy",
    ]
    assert [c.health for c in page.connectors][:3] == ["Unresponsive", "Error", "Warning"]
    assert (
        page.connectors[5].last_heartbeat == "never" and page.connectors[0].last_heartbeat == "8.3 days ago"
    )


def test_the_time_axis_starts_at_the_oldest_observation_or_spans_the_retention_when_an_older_is_kept() -> (
    None
):
    s = status("p", Health.HEALTHY, 1)
    recent = stored(statuses=(s,), history={s.id.lower(): [observation(s, NOW - 5 * HOUR, 1.0)]})
    assert view.window_start(recent) == NOW - 5 * HOUR  # a new deployment's hours, not 90 days
    days = timedelta(days=1)
    old = [
        observation(s, NOW - 200 * days, 1.0),  # kept by the prune: what it was before the window
        observation(s, NOW - 10 * days, 1.0),
        observation(s, NOW, 1.0),
    ]
    page = view.build(stored(statuses=(s,), history={s.id.lower(): old}, retention_days=30))
    assert page.window_start == NOW - 30 * days  # the retention, never back to the 200-day-old row
    # The age the window opens with (grown from the older row), what it had grown to before each
    # newer observation, and the two observations: 5 points.
    chart = page.connectors[0].chart
    assert chart is not None and chart.point_count == 5


def test_the_chart_text_gives_the_key_figures() -> None:
    s = status("Lookout", Health.UNRESPONSIVE, 180, threshold=7)
    seen = [observation(s, NOW - k * HOUR, 150.0 + 10 * k) for k in range(4)]  # 150 .. 180 h
    (line,) = view.build(stored(statuses=(s,), history={s.id.lower(): seen})).connectors
    # Drawn: 180 h at 09:00 growing to 181 h by 10:00, where a new heartbeat had dropped it to
    # 170 h, growing to 171 h by 11:00 (160 h there), to 161 h by 12:00 (150 h). At or above the
    # 168 h threshold: 09:00-10:00 and 10:00-11:00, 2 hours.
    assert line.chart_description == (
        "4 observations (one per change) from 29 Nov 09:00 to 29 Nov 12:00 UTC. Latest heartbeat age "
        "7.5 days; largest 7.5 days. Threshold 7 days, warning from 24.0 hours; at or above the "
        "threshold for 2.0 hours of the time drawn."
    )
    assert line.threshold == "7 days (connector)"


def test_a_connector_without_history_has_no_chart() -> None:
    (line,) = view.build(stored(statuses=(status("p", Health.HEALTHY, 1),))).connectors
    assert line.chart is None


def test_open_findings_worst_first_and_resolved_ones_left_out() -> None:
    found = (
        finding("info-open", Severity.INFO, FindingStatus.OPEN, NOW),
        finding("high-acked", Severity.HIGH, FindingStatus.ACKNOWLEDGED, NOW),
        finding("high-resolved", Severity.HIGH, FindingStatus.RESOLVED, NOW),
        finding("high-open-old", Severity.HIGH, FindingStatus.OPEN, NOW - HOUR),
        finding("high-open-new", Severity.HIGH, FindingStatus.OPEN, NOW),
    )
    page = view.build(stored(findings=found))
    assert [f.resource for f in page.findings] == [
        "high-open-new",
        "high-open-old",
        "info-open",
        "high-acked",
    ]
    assert page.findings[0].kind == "MTD connector heartbeat"


def test_undelivered_alerts_are_counted_per_channel_dead_letters_first() -> None:
    dead = Delivery(DeliveryStatus.DEAD, attempts=6, last_error="HTTP 500")
    alerts = (
        alert(
            "1",
            NOW - 3 * HOUR,
            teams=Delivery(DeliveryStatus.PENDING),
            webhook=Delivery(DeliveryStatus.DELIVERED),
        ),
        alert("2", NOW - 2 * HOUR, teams=dead, webhook=Delivery(DeliveryStatus.HELD)),
        alert("3", NOW - HOUR, webhook=Delivery(DeliveryStatus.PENDING)),
    )
    page = view.build(stored(alerts=alerts))
    assert [(c.channel, c.pending, c.held, c.dead) for c in page.channels] == [
        ("teams", 1, 0, 1),
        ("webhook", 1, 1, 0),
    ]
    assert [(u.channel, u.status, u.title) for u in page.undelivered] == [
        ("teams", "dead", "alert 2"),
        ("teams", "pending", "alert 1"),
        ("webhook", "held", "alert 2"),
        ("webhook", "pending", "alert 3"),
    ]
    assert page.undelivered[0].last_error == "HTTP 500" and page.undelivered_total == 4


def test_each_job_says_whether_it_is_on_time() -> None:
    schedules = {Job.HEARTBEAT: "0 */30 * * * *", Job.OUTBOX: "0 */5 * * * *", Job.CA_DRIFT: "0 7 * * * *"}
    successes = {Job.HEARTBEAT: NOW - 10 * 60 * timedelta(seconds=1), Job.OUTBOX: NOW - HOUR}
    page = view.build(stored(schedules=schedules, last_successes=successes))
    assert [(j.name.split(" (")[0], j.state) for j in page.jobs] == [
        ("Heartbeat sweep", "On time"),
        ("Alert delivery", "Stale: two scheduled runs missed"),
        ("Conditional Access drift", "Never run"),
    ]


def test_the_age_grows_with_the_clock_between_stored_observations_and_up_to_the_last_sweep() -> None:
    # A sweep stores an observation only when something changed: 2 h old at T0; a new heartbeat
    # seen 10 h later (1 h old); the last sweep 6 h after that found nothing new.
    s = status("p", Health.HEALTHY, 7)
    seen = [observation(s, NOW, 2.0), observation(s, NOW + 10 * HOUR, 1.0)]
    points = [(p.at, p.age_hours) for p in view.age_points(seen, NOW + 16 * HOUR)]
    assert points == [
        (NOW, 2.0),
        (NOW + 10 * HOUR, 12.0),  # grown from 2 h until the new heartbeat was seen
        (NOW + 10 * HOUR, 1.0),
        (NOW + 16 * HOUR, 7.0),  # as old as the last sweep saw it
    ]
    # No heartbeat in between: the next observation (a change of health) continues the line.
    steady = [observation(s, NOW, 2.0), observation(s, NOW + 10 * HOUR, 12.0)]
    assert [p.age_hours for p in view.age_points(steady, NOW + 10 * HOUR)] == [2.0, 12.0]
    # Never a heartbeat: a gap, nothing grows.
    never = [observation(s, NOW, None)]
    assert [(p.at, p.age_hours) for p in view.age_points(never, NOW + 16 * HOUR)] == [(NOW, None)]


def test_the_window_opens_with_the_age_of_the_newest_observation_before_it() -> None:
    # The daily prune keeps each connector's newest observation older than the window: unchanged
    # since 10 h before the window opened (2 h old then), so 12 h old at its start; a new
    # heartbeat seen 5 h into the window; the last sweep 3 h later.
    s = status("p", Health.HEALTHY, 7)
    start = NOW
    before = observation(s, start - 10 * HOUR, 2.0)
    kept = [observation(s, start + 5 * HOUR, 0.5)]
    points = [(p.at, p.age_hours) for p in view.age_points(kept, start + 8 * HOUR, opened=(start, before))]
    assert points == [
        (start, 12.0),
        (start + 5 * HOUR, 17.0),
        (start + 5 * HOUR, 0.5),
        (start + 8 * HOUR, 3.5),
    ]
    # Nothing stored inside the window at all: the line still runs from its start to the last sweep.
    alone = [(p.at, p.age_hours) for p in view.age_points([], start + 8 * HOUR, opened=(start, before))]
    assert alone == [(start, 12.0), (start + 8 * HOUR, 20.0)]
