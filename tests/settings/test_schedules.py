"""*_SCHEDULE settings are checked as the Functions host's NCRONTAB (shared/ncrontab.py, croniter):
a schedule the host would refuse, or one that never fires, is a settings problem, so /api/health
says "misconfigured" instead of "ok" while the timer is dead."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from croniter import croniter
from hypothesis import given
from hypothesis import strategies as st

from shared import ncrontab, settings
from tests.conftest import Host, body

BASE = {"TENANT_ID": "contoso.onmicrosoft.com", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
SCHEDULES = [spec.name for spec in settings.SETTINGS if spec.name.endswith("_SCHEDULE")]


def test_every_schedule_setting_is_checked_as_ncrontab() -> None:
    assert SCHEDULES == ["HEARTBEAT_SCHEDULE", "PRUNE_SCHEDULE", "CA_DRIFT_SCHEDULE", "ALERT_OUTBOX_SCHEDULE"]
    for name in SCHEDULES:
        assert settings.problems({**BASE, name: "0 0 25 * * *"}) == [
            f"{name} '0 0 25 * * *' is not an NCRONTAB expression: its hour field '25' is not valid "
            "(use 0-23, *, a range a-b, a step /n or a list a,b)"
        ]


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ("0 61 * * * *", "minute field '61'"),
        ("0 0 25 * * *", "hour field '25'"),
        ("0 0 0 0 * *", "day field '0'"),
    ],
)
def test_a_value_out_of_range_is_a_problem_naming_the_setting_and_the_field(
    schedule: str, field: str
) -> None:
    found = settings.problems({**BASE, "HEARTBEAT_SCHEDULE": schedule})
    assert len(found) == 1, found
    assert found[0].startswith(f"HEARTBEAT_SCHEDULE {schedule!r} is not an NCRONTAB expression: its {field} ")


@pytest.mark.parametrize(
    "schedule",
    [
        "0 */30 * * * *",
        "0 0 8 * * Mon-Fri",
        "0 0 0 1 Jan *",
        "0 0 0 1 January *",  # the host matches names by prefix
        "0 30 9 * jan,JUL mon",
        "0,30 * 9-17/2 * * 1-5",
        "0 0 0 29 Feb *",  # leap days happen
        "0 0 0 13 * Fri",  # day and weekday must both match, and do some months
        "30 5/10 * * * *",
    ],
)
def test_schedules_the_host_runs_pass(schedule: str) -> None:
    assert settings.problems({**BASE, "HEARTBEAT_SCHEDULE": schedule}) == []
    assert settings.load({**BASE, "HEARTBEAT_SCHEDULE": schedule}).heartbeat_schedule == schedule


@pytest.mark.parametrize(
    ("schedule", "why"),
    [
        ("00:05:00", "is a TimeSpan, which the Functions host runs only on an App Service plan"),
        ("0 0 0 L * *", "its day field 'L' uses syntax the Functions host does not support"),
        ("0 0 0 ? * *", "its day field '?' uses syntax"),
        ("0 0 0 * * 1#2", "its day-of-week field '1#2' uses syntax"),
        ("0 0 0 * * 7", "its day-of-week field '7' uses 7, which the Functions host refuses"),
        ("0 0 22-2 * * *", "its hour field '22-2' has a reversed range 22-2"),
        ("0 0 0 1 Ju *", "its month field 'Ju' names no month"),
        ("0 0 0 1 Foo *", "its month field 'Foo' names no month"),
        ("0 */0 * * * *", "its minute field '*/0' is not valid"),
        ("0 0 0 30 Feb *", "never fires"),
        ("0 0 0 * * * *", "is not an NCRONTAB expression with six fields"),
    ],
)
def test_schedules_the_host_refuses_or_never_fires_are_problems(schedule: str, why: str) -> None:
    found = settings.problems({**BASE, "CA_DRIFT_SCHEDULE": schedule})
    assert len(found) == 1, found
    assert found[0].startswith(f"CA_DRIFT_SCHEDULE {schedule!r} ") and why in found[0], found


def test_health_says_misconfigured_for_a_schedule_the_host_would_refuse(host: Host, env: Any) -> None:
    env(HEARTBEAT_SCHEDULE="0 61 * * * *")
    answer = host.http("health", "GET", "/api/health")
    assert answer.status_code == 503
    assert body(answer) == {
        "status": "misconfigured",
        "configurationProblems": 1,
        "storage": "notChecked",
        "jobs": {},
    }


# -- properties -------------------------------------------------------------------------------------

_VALUE = st.one_of(
    st.integers(min_value=0, max_value=70).map(str),
    st.sampled_from(["Jan", "feb", "March", "Mon", "FRIDAY", "sun", "L", "W", "?", "1#2", "H"]),
)
_ITEM = st.one_of(
    st.just("*"),
    _VALUE,
    st.tuples(_VALUE, _VALUE).map("-".join),
    st.tuples(st.sampled_from(["*", "0", "5", "1-10"]), st.integers(min_value=0, max_value=70)).map(
        lambda p: f"{p[0]}/{p[1]}"
    ),
)
_FIELD = st.lists(_ITEM, min_size=1, max_size=3).map(",".join)
_EXPRESSION = st.lists(_FIELD, min_size=5, max_size=7).map(" ".join)


@given(_EXPRESSION)
def test_any_schedule_the_validator_accepts_has_a_next_occurrence_in_croniter(expression: str) -> None:
    try:
        normalized = ncrontab.normalize(expression)
    except ncrontab.ScheduleError:
        return
    start = datetime(2027, 6, 15, 12, 34, 56)
    found = croniter(normalized, start, second_at_beginning=True, day_or=False).get_next(datetime)
    assert found > start


@given(st.text(max_size=40))
def test_any_text_is_a_schedule_or_a_problem_sentence_never_a_crash(value: str) -> None:
    found = settings.problems({**BASE, "ALERT_OUTBOX_SCHEDULE": value})
    assert all(isinstance(p, str) for p in found)
