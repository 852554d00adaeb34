"""The heartbeat health rules, judged on readings exactly as Graph could send them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import catalog
from shared.graph.connectors import MalformedConnector, reading_from_graph
from shared.heartbeat.health import Health, HealthPolicy, describe_age, judge, warning_point_hours

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = HealthPolicy(default_threshold_days=7, early_warning_hours=24)


def graph_item(age: timedelta | None = None, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "2c7790de-8b02-4814-85cf-e0c59380dee8",
        "partnerState": "enabled",
        "partnerUnresponsivenessThresholdInDays": 7,
        "lastHeartbeatDateTime": None if age is None else (NOW - age).isoformat().replace("+00:00", "Z"),
    }
    item.update(fields)
    return item


def verdict(age: timedelta | None = None, **fields: Any):
    return judge(reading_from_graph(graph_item(age, **fields)), NOW, POLICY)


def test_recent_heartbeat_is_healthy_with_a_readable_reason() -> None:
    v = verdict(timedelta(minutes=20))
    assert v.health is Health.HEALTHY
    assert v.reason == "last heartbeat 20 minutes ago; threshold 7 days"


def test_past_the_connectors_own_threshold_is_unresponsive() -> None:
    v = verdict(timedelta(days=8.2))
    assert v.health is Health.UNRESPONSIVE
    assert v.reason == (
        "last heartbeat 8.2 days ago; threshold 7 days: Intune is ignoring this partner's compliance data"
    )


def test_exactly_at_the_threshold_is_unresponsive() -> None:
    assert verdict(timedelta(days=7)).health is Health.UNRESPONSIVE
    assert verdict(timedelta(days=7) - timedelta(seconds=1)).health is Health.WARNING


def test_threshold_is_taken_per_connector() -> None:
    # The same 10-day-old heartbeat: past a 7-day threshold, well within a 30-day one.
    assert verdict(timedelta(days=10)).health is Health.UNRESPONSIVE
    thirty = verdict(timedelta(days=10), partnerUnresponsivenessThresholdInDays=30)
    assert thirty.health is Health.WARNING
    assert thirty.threshold_days == 30
    assert "at 30 days (in 20.0 days)" in thirty.reason


@pytest.mark.parametrize(
    ("threshold_days", "warn_after_hours"),
    [(7, 24.0), (30, 24.0), (2, 24.0), (1, 12.0), (3, 24.0)],
)
def test_warning_point_is_the_lesser_of_24_hours_and_half_the_threshold(
    threshold_days: int, warn_after_hours: float
) -> None:
    assert warning_point_hours(threshold_days, POLICY) == warn_after_hours
    just_before = timedelta(hours=warn_after_hours) - timedelta(minutes=1)
    just_after = timedelta(hours=warn_after_hours) + timedelta(minutes=1)
    fields = {"partnerUnresponsivenessThresholdInDays": threshold_days}
    assert verdict(just_before, **fields).health is Health.HEALTHY
    assert verdict(just_after, **fields).health is Health.WARNING


def test_early_warning_hours_setting_moves_the_warning_point() -> None:
    reading = reading_from_graph(graph_item(timedelta(hours=7)))
    assert judge(reading, NOW, HealthPolicy(7, early_warning_hours=6)).health is Health.WARNING
    assert judge(reading, NOW, HealthPolicy(7, early_warning_hours=8)).health is Health.HEALTHY


@pytest.mark.parametrize("threshold", [None, 0, -3, "7", True])
def test_missing_or_meaningless_threshold_falls_back_to_the_default(threshold: Any) -> None:
    v = verdict(timedelta(days=8), partnerUnresponsivenessThresholdInDays=threshold)
    assert v.health is Health.UNRESPONSIVE
    assert v.threshold_days == 7
    assert not v.threshold_from_connector
    assert "default of 7 days applied" in v.reason


def test_default_threshold_setting_is_used_when_the_connector_has_none() -> None:
    reading = reading_from_graph(graph_item(timedelta(days=8), partnerUnresponsivenessThresholdInDays=None))
    assert judge(reading, NOW, HealthPolicy(default_threshold_days=14)).health is Health.WARNING


@pytest.mark.parametrize("state", ["unresponsive"])
def test_partner_state_unresponsive_wins_over_a_recent_heartbeat(state: str) -> None:
    v = verdict(timedelta(hours=1), partnerState=state)
    assert v.health is Health.UNRESPONSIVE
    assert "partner state is 'unresponsive'" in v.reason


@pytest.mark.parametrize("state", ["notSetUp", "available", "neverConfigured"])
def test_partner_side_not_provisioned_is_not_set_up(state: str) -> None:
    v = verdict(None, partnerState=state)
    assert v.health is Health.NOT_SET_UP
    assert "no heartbeat yet" in v.reason


@pytest.mark.parametrize("state", ["error", "unavailable"])
def test_error_states(state: str) -> None:
    v = verdict(timedelta(hours=1), partnerState=state)
    assert v.health is Health.ERROR
    assert v.severity == "high"


@pytest.mark.parametrize("state", ["bogusState", None, 42])
def test_partner_state_it_cannot_read_is_unknown(state: Any) -> None:
    v = verdict(timedelta(hours=1), partnerState=state)
    assert v.health is Health.UNKNOWN
    assert "not one MTD Guard knows" in v.reason


def test_unknown_future_value_points_to_the_beta_endpoint() -> None:
    v = verdict(timedelta(hours=1), partnerState="unknownFutureValue")
    assert v.health is Health.UNKNOWN
    assert "GRAPH_API_VERSION=beta" in v.reason


def test_an_unreadable_state_still_reports_a_heartbeat_past_the_threshold() -> None:
    assert verdict(timedelta(days=9), partnerState="unknownFutureValue").health is Health.UNRESPONSIVE


@pytest.mark.parametrize("raw", ["not-a-date", "2026-13-45T00:00:00Z", 12345])
def test_timestamp_it_cannot_read_is_unknown(raw: Any) -> None:
    v = verdict(None, lastHeartbeatDateTime=raw)
    assert v.health is Health.UNKNOWN
    assert "is not a timestamp" in v.reason


def test_enabled_without_any_heartbeat_is_a_warning_not_a_crash() -> None:
    for never in (None, "0001-01-01T00:00:00Z"):
        v = verdict(None, lastHeartbeatDateTime=never)
        assert v.health is Health.WARNING
        assert "never sent a heartbeat" in v.reason
        assert v.heartbeat_age_hours is None


def test_small_clock_skew_counts_as_now() -> None:
    v = verdict(-timedelta(minutes=10))
    assert v.health is Health.HEALTHY
    assert v.heartbeat_age_hours == 0.0
    assert "clock skew" in v.reason


def test_heartbeat_far_in_the_future_cannot_be_judged() -> None:
    v = verdict(-timedelta(hours=5))
    assert v.health is Health.UNKNOWN
    assert "in the future" in v.reason


def test_seven_fraction_digits_and_offsets_are_read() -> None:
    reading = reading_from_graph(graph_item(None, lastHeartbeatDateTime="2026-11-23T13:30:00.1234567+02:00"))
    assert reading.last_heartbeat == datetime(2026, 11, 23, 11, 30, 0, 123456, tzinfo=UTC)
    assert judge(reading, NOW, POLICY).health is Health.HEALTHY


@pytest.mark.parametrize("item", [{"partnerState": "enabled"}, {"id": ""}, "a string", None])
def test_an_entry_without_an_id_is_rejected_on_its_own(item: Any) -> None:
    with pytest.raises(MalformedConnector):
        reading_from_graph(item)


def test_catalog_names_known_partners_and_keeps_unknown_ids() -> None:
    assert catalog.by_id("2C7790DE-8B02-4814-85CF-E0C59380DEE8").name == "Lookout for Work"
    unknown = catalog.by_id("7d9a6c1e-0000-4000-8000-00000000beef")
    assert unknown.name == "unknown partner 7d9a6c1e-0000-4000-8000-00000000beef"
    assert not unknown.known
    assert catalog.resolve("lookout") == "2c7790de-8b02-4814-85cf-e0c59380dee8"
    assert catalog.resolve("7D9A6C1E-0000-4000-8000-00000000BEEF") == "7d9a6c1e-0000-4000-8000-00000000beef"


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (0.75, "45 minutes"),
        (59 / 60, "59 minutes"),
        (1.0, "1.0 hours"),
        (1.5, "1.5 hours"),
        (47.9, "47.9 hours"),
        (48.0, "2.0 days"),
        (48.5, "2.0 days"),
        (60.0, "2.5 days"),
    ],
)
def test_an_age_reads_in_minutes_under_an_hour_in_hours_under_two_days_else_in_days(
    hours: float, text: str
) -> None:
    assert describe_age(hours) == text


@pytest.mark.parametrize(
    ("age", "fields", "reason"),
    [
        (
            timedelta(minutes=20),
            {"partnerUnresponsivenessThresholdInDays": 1},
            "last heartbeat 20 minutes ago; threshold 1 day",
        ),
        (
            timedelta(minutes=20),
            {"partnerUnresponsivenessThresholdInDays": None},
            "last heartbeat 20 minutes ago; threshold 7 days "
            "(connector reports no threshold; default of 7 days applied)",
        ),
        (
            timedelta(hours=24),
            {},
            "last heartbeat 24.0 hours ago; threshold 7 days",
        ),  # the warning point itself
        (timedelta(0), {}, "last heartbeat 0 minutes ago; threshold 7 days"),
        (timedelta(milliseconds=500), {}, "last heartbeat 0 minutes ago; threshold 7 days"),
        (
            -timedelta(hours=1),  # the largest skew still taken as now
            {},
            "last heartbeat 0 minutes ago (slightly in the future: clock skew, taken as now); "
            "threshold 7 days",
        ),
        (
            timedelta(hours=30),
            {"partnerUnresponsivenessThresholdInDays": 2},
            "last heartbeat 30.0 hours ago; Intune stops trusting this partner at 2 days (in 18.0 hours)",
        ),
        (
            timedelta(days=1),
            {"partnerUnresponsivenessThresholdInDays": 1},
            "last heartbeat 24.0 hours ago; threshold 1 day: "
            "Intune is ignoring this partner's compliance data",
        ),
        (
            -timedelta(seconds=4860),
            {},
            "last heartbeat 2026-11-23T13:21:00Z is 1.4 hours in the future: "
            "clocks disagree, the age cannot be judged",
        ),
        (
            timedelta(hours=2),
            {"partnerState": "error"},
            "partner state is 'error': last heartbeat 2.0 hours ago",
        ),
        (None, {"partnerState": "unavailable"}, "partner state is 'unavailable': no heartbeat yet"),
        (
            timedelta(hours=3),
            {"partnerState": "available"},
            "partner state is 'available': the partner side is not set up yet (last heartbeat 3.0 hours ago)",
        ),
        (
            timedelta(hours=2),
            {"partnerState": "unresponsive"},
            "partner state is 'unresponsive' (last heartbeat 2.0 hours ago): "
            "Intune is ignoring this partner's compliance data",
        ),
        (timedelta(hours=1), {"partnerState": None}, "partner state missing is not one MTD Guard knows"),
        (timedelta(hours=1), {"partnerState": "paused"}, "partner state 'paused' is not one MTD Guard knows"),
        (
            timedelta(hours=1),
            {"partnerState": "unknownFutureValue"},
            "partner state 'unknownFutureValue' is not one MTD Guard knows (Graph v1.0 has no name for it; "
            "GRAPH_API_VERSION=beta shows it)",
        ),
        (
            None,
            {},
            "partner is enabled but has never sent a heartbeat: Intune has no compliance data from it yet",
        ),
    ],
)
def test_each_verdict_gives_its_reason_in_words(
    age: timedelta | None, fields: dict[str, Any], reason: str
) -> None:
    assert verdict(age, **fields).reason == reason
