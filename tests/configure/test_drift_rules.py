"""The pure drift rules (shared/configure/drift.py) over generated connector payloads as Graph
might send them: any property with any JSON value, the managed ones typed or not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.configure import drift
from shared.configure.baseline import Baseline, BaselineSource
from shared.configure.fields import FIELDS, connector_settings
from shared.findings.model import FindingStatus, Severity
from shared.graph.connectors import reading_from_graph
from tests.conftest import LOOKOUT

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
json_value = st.one_of(
    st.booleans(), st.integers(-5, 400), st.none(), st.text(max_size=5), st.floats(allow_nan=False)
)
managed = st.dictionaries(st.sampled_from([f.graph for f in FIELDS]), json_value)
payload = st.builds(
    lambda known, extra: {**extra, **known, "id": LOOKOUT},
    managed,
    st.dictionaries(st.text(min_size=1, max_size=12), json_value, max_size=3),
)


def settings_of(item: dict[str, Any]) -> dict[str, bool | int]:
    """What the sweep compares: the connector read as the gateway reads Graph's list."""
    reading = reading_from_graph(item)
    return connector_settings(reading.toggles, reading.threshold_days)


def baseline(values: dict[str, bool | int]) -> Baseline:
    return Baseline("t", LOOKOUT, values, "MTD Guard", NOW, BaselineSource.FIRST_SEEN)


@given(payload)
def test_a_connector_never_drifts_from_itself(item: dict[str, Any]) -> None:
    current = settings_of(item)
    assert drift.diff(current, current) == []
    plan = drift.plan_drift(
        LOOKOUT,
        current,
        baseline(current),
        None,
        None,
        tenant_id="t",
        partner="Lookout for Work",
        heartbeat_age_hours=1.0,
        first_seen=True,
        now=NOW,
        channels=[],
    )
    assert plan.finding is None and plan.alert is None and not plan.drifted


@given(payload, payload)
def test_the_diff_is_exactly_the_typed_settings_that_differ_with_its_severity(
    before_item: dict[str, Any], after_item: dict[str, Any]
) -> None:
    before, after = settings_of(before_item), settings_of(after_item)
    changes = drift.diff(before, after)
    expected = [
        f.graph
        for f in FIELDS
        if f.graph in before and f.graph in after and before[f.graph] != after[f.graph]
    ]
    assert [c.field.graph for c in changes] == expected
    for c in changes:
        assert (c.baseline, c.current) == (before[c.field.graph], after[c.field.graph])
        described = c.describe("Lookout for Work")
        assert described.startswith(c.field.label_for("Lookout for Work") + ": ") and " -> " in described
    # swapping the sides lists the same settings; a weakening one way is no weakening back
    back = drift.diff(after, before)
    assert [c.field.graph for c in back] == expected
    assert not any(a.weakens and b.weakens for a, b in zip(changes, back, strict=True))
    weakened = any(c.weakens for c in changes)
    assert drift.severity(changes) is (Severity.HIGH if weakened else Severity.WARNING)
    plan = drift.plan_drift(
        LOOKOUT,
        after,
        baseline(before),
        None,
        None,
        tenant_id="t",
        partner="Lookout for Work",
        heartbeat_age_hours=None,
        first_seen=False,
        now=NOW,
        channels=["w"],
    )
    assert plan.drifted is bool(changes)
    if changes:
        assert plan.finding is not None and plan.finding.status is FindingStatus.OPEN
        assert plan.finding.severity is drift.severity(changes) and plan.alert is not None
        assert all(c.describe("Lookout for Work") in plan.finding.message for c in changes)


@given(st.integers(1, 365), st.integers(1, 365), st.floats(0, 24 * 400, allow_nan=False))
def test_a_raised_threshold_is_called_out_exactly_when_the_silence_passed_the_old_one(
    before: int, after: int, age_hours: float
) -> None:
    said = drift.raised_while_silent(before, after, age_hours)
    assert (said is not None) is (after > before and age_hours / 24 >= before)
    if said:
        assert said.startswith(
            f"threshold raised from {before} to {after} days while the partner had been silent"
        )


def test_the_same_differences_do_not_alert_again_but_a_new_one_does() -> None:
    base = baseline({"iosEnabled": True, "androidEnabled": True})
    off = {"iosEnabled": False, "androidEnabled": True}
    args: dict[str, Any] = {
        "tenant_id": "t",
        "partner": "Lookout for Work",
        "heartbeat_age_hours": 1.0,
        "first_seen": True,
        "now": NOW,
        "channels": ["w"],
    }
    opened = drift.plan_drift(LOOKOUT, off, base, None, None, **args)
    assert opened.alert is not None and opened.finding is not None
    same = drift.plan_drift(LOOKOUT, off, base, opened.finding, off, **args)
    # Seen again unchanged: still drifted, but nothing to write (the stored finding stays open).
    assert (same.alert, same.finding, same.drifted) == (None, None, True)
    both = {"iosEnabled": False, "androidEnabled": False}
    more = drift.plan_drift(LOOKOUT, both, base, opened.finding, off, **args)
    assert more.alert is not None and "Connect Android devices to Lookout for Work" in more.alert.reason
