"""Alert routing, pure, at its edges: severity thresholds and kinds with the notes an operator reads
in GET /api/alerts, quiet hours at their exact start and end (across midnight and daylight saving),
the digest sent after them, how channels describe their rules, and the settings' problem texts.
The main decisions and retry timing: test_rules.py."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.alerting.alerts import Alert, Thread
from shared.alerting.routing import (
    Action,
    ChannelRules,
    Decision,
    QuietHours,
    RetryPolicy,
    Route,
    decide,
    digest,
    kinds_problem,
    parse_kinds,
    parse_quiet_hours,
    quiet_hours_problem,
    zone,
    zone_problem,
)
from shared.findings.model import Severity

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KINDS = (
    "alertDelivery, appProtectionThreatLevel, auditLogGap, caCoverage, caPolicyDrift, classicPolicyDrift, "
    "classicPolicyHygiene, complianceThreatLevel, connectorDrift, graphAccess, graphData, heartbeat"
)


def alert(
    severity: Severity = Severity.HIGH,
    kind: str = "heartbeat",
    alert_id: str = "a1",
    at: datetime = NOW,
    **details: object,
) -> Alert:
    return Alert(alert_id, "t", kind, "heartbeat.x", severity, "title", "reason", at, dict(details))


@pytest.mark.parametrize(
    ("minimum", "severity", "note"),
    [
        (Severity.INFO, Severity.INFO, None),
        (Severity.WARNING, Severity.WARNING, None),
        (Severity.WARNING, Severity.INFO, "severity info is below this channel's minimum warning"),
        (Severity.HIGH, Severity.HIGH, None),
        (Severity.HIGH, Severity.WARNING, "severity warning is below this channel's minimum high"),
    ],
)
def test_a_channel_takes_alerts_at_or_above_its_minimum_severity(
    minimum: Severity, severity: Severity, note: str | None
) -> None:
    decided = decide(alert(severity), "teams", ChannelRules(route=Route(minimum)), None, NOW)
    assert decided == (Decision(Action.SEND) if note is None else Decision(Action.SKIP, note))


def test_a_channel_listing_kinds_names_them_all_when_it_refuses_one() -> None:
    rules = ChannelRules(route=Route(kinds=frozenset({"heartbeat", "caCoverage"})))
    assert decide(alert(kind="graphAccess"), "jira", rules, None, NOW) == Decision(
        Action.SKIP, "kind graphAccess is not among this channel's kinds (caCoverage, heartbeat)"
    )
    assert decide(alert(kind="caCoverage"), "jira", rules, None, NOW) == Decision(Action.SEND)


def test_a_channel_following_a_finding_hears_everything_until_its_thread_closes() -> None:
    rules = ChannelRules(route=Route(Severity.HIGH, frozenset({"caCoverage"})), tickets=True)
    recovery = alert(Severity.INFO, health="healthy")
    following = Thread("t", "servicenow", "heartbeat.x", True, NOW, NOW, "a0")
    assert decide(recovery, "servicenow", rules, following, NOW) == Decision(Action.SEND)
    closed = Thread("t", "servicenow", "heartbeat.x", False, NOW, NOW, "a0")
    assert decide(recovery, "servicenow", rules, closed, NOW) == Decision(
        Action.SKIP, "no open ticket for this finding: nothing to resolve"
    )
    # A message channel (no tickets) does say a finding is over; a ticket channel opens on problems.
    assert decide(recovery, "teams", ChannelRules(), None, NOW) == Decision(Action.SEND)
    assert decide(alert(), "servicenow", ChannelRules(tickets=True), None, NOW) == Decision(Action.SEND)


def test_a_channel_skips_alerts_about_its_own_failures_and_sends_digests_unconditionally() -> None:
    own = alert(kind="alertDelivery", channel="teams")
    assert decide(own, "teams", ChannelRules(), None, NOW) == Decision(
        Action.SKIP, "about this channel's own failures: reported on the other channels"
    )
    quiet_and_strict = ChannelRules(
        route=Route(Severity.HIGH, frozenset({"heartbeat"})), quiet_hours=QuietHours(time(11), time(14))
    )
    held_digest = alert(Severity.INFO, kind="alertDigest")
    assert decide(held_digest, "teams", quiet_and_strict, None, NOW) == Decision(Action.SEND)


def test_an_info_alert_in_quiet_hours_is_held_until_they_end_even_on_a_followed_finding() -> None:
    rules = ChannelRules(route=Route(Severity.HIGH), quiet_hours=QuietHours(time(11), time(14)))
    following = Thread("t", "teams", "heartbeat.x", True, NOW, NOW, "a0")
    held = decide(alert(Severity.INFO), "teams", rules, following, NOW)
    assert held == Decision(
        Action.HOLD,
        "quiet hours 11:00-14:00 UTC: sent in the digest after them",
        datetime(2026, 3, 1, 14, 0, tzinfo=UTC),
    )
    assert held.until is not None and held.until.tzinfo is UTC  # the API writes it with a Z


def test_quiet_hours_include_their_start_and_exclude_their_end() -> None:
    day = QuietHours(time(12), time(13))
    assert day.contains(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    assert day.contains(datetime(2026, 3, 1, 12, 59, 59, tzinfo=UTC))
    assert not day.contains(datetime(2026, 3, 1, 13, 0, tzinfo=UTC))
    assert not day.contains(datetime(2026, 3, 1, 11, 59, 59, tzinfo=UTC))
    night = QuietHours(time(22), time(7))
    assert night.contains(datetime(2026, 3, 1, 22, 0, tzinfo=UTC))
    assert night.contains(datetime(2026, 3, 2, 6, 59, tzinfo=UTC))
    assert not night.contains(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    assert not night.contains(datetime(2026, 3, 1, 21, 59, 59, tzinfo=UTC))


def test_quiet_hours_starting_this_very_minute_end_tomorrow_morning() -> None:
    berlin = QuietHours(time(22), time(7), zone("Europe/Berlin"), "Europe/Berlin")
    at_start = datetime(2026, 1, 14, 21, 0, tzinfo=UTC)  # 22:00 CET
    end = berlin.end_after(at_start)
    assert end == datetime(2026, 1, 15, 6, 0, tzinfo=UTC) and end.tzinfo is UTC
    autumn = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # 22:00 CEST; clocks go back that night
    assert berlin.end_after(autumn) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)  # 07:00 CET
    morning = QuietHours(time(1), time(6), zone("Europe/Berlin"), "Europe/Berlin")
    assert morning.end_after(datetime(2026, 1, 15, 0, 0, tzinfo=UTC)) == datetime(
        2026, 1, 15, 5, 0, tzinfo=UTC
    )


def test_a_retry_never_waits_less_than_retry_after_nor_more_than_the_cap() -> None:
    policy = RetryPolicy(max_attempts=5, base=timedelta(minutes=1), cap=timedelta(minutes=3))
    assert [policy.delay(n) for n in (0, 1, 2, 3, 4)] == [
        timedelta(0),
        timedelta(0),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=3),
    ]
    assert policy.next_attempt(NOW, 3) == NOW + timedelta(minutes=2)
    assert policy.next_attempt(NOW, 3, retry_after=30) == NOW + timedelta(minutes=2)  # the backoff is longer
    assert policy.next_attempt(NOW, 3, retry_after=150) == NOW + timedelta(seconds=150)
    assert policy.next_attempt(NOW, 1, retry_after=600) == NOW + timedelta(minutes=3)  # capped


def test_held_alerts_go_out_oldest_first_in_one_digest() -> None:
    late = alert(Severity.INFO, alert_id="c", at=datetime(2026, 3, 1, 5, 30, tzinfo=UTC))
    tie_b = alert(Severity.INFO, alert_id="b", at=datetime(2026, 3, 1, 1, 0, tzinfo=UTC))
    tie_a = alert(Severity.INFO, alert_id="a", at=datetime(2026, 3, 1, 1, 0, tzinfo=UTC))
    middle = alert(Severity.INFO, alert_id="m", at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    sent = digest("teams", "t", [late, tie_b, middle, tie_a], NOW)
    assert (sent.tenant_id, sent.kind, sent.finding_id, sent.severity, sent.detected_at) == (
        "t",
        "alertDigest",
        "alertDigest.teams",
        Severity.INFO,
        NOW,
    )
    assert sent.title == "4 info alerts held during quiet hours"
    assert sent.reason == (
        "Held between 2026-03-01 01:00 and 2026-03-01 05:30 UTC; each item carries its own alert id."
    )
    assert list(sent.details) == ["channel", "alerts"] and sent.details["channel"] == "teams"
    assert [a["alertId"] for a in sent.details["alerts"]] == ["a", "b", "m", "c"]
    assert sent.details["alerts"][0]["detectedAt"] == "2026-03-01T01:00:00Z"
    assert list(sent.deliveries) == ["teams"]
    assert sent.resolves is False and not sent.resolves_finding
    one = digest("webhook", "t", [middle], NOW)
    assert one.title == "1 info alert held during quiet hours"
    assert one.reason == (
        "Held between 2026-03-01 03:00 and 2026-03-01 03:00 UTC; each item carries its own alert id."
    )
    two = digest("webhook", "t", [late, middle], NOW)
    assert two.title == "2 info alerts held during quiet hours"
    assert two.reason.startswith("Held between 2026-03-01 03:00 and 2026-03-01 05:30 UTC;")


def test_a_channel_describes_its_rules_as_the_api_shows_them() -> None:
    assert Route().describe() == {"minSeverity": "info", "kinds": "*"}
    assert ChannelRules(
        route=Route(Severity.WARNING, frozenset({"heartbeat", "caCoverage"})),
        quiet_hours=QuietHours(time(22), time(7), zone("Europe/Berlin"), "Europe/Berlin"),
        retry=RetryPolicy(max_attempts=3),
        tickets=True,
    ).describe() == {
        "minSeverity": "warning",
        "kinds": ["caCoverage", "heartbeat"],
        "quietHours": "22:00-07:00 Europe/Berlin",
        "tickets": True,
        "maxAttempts": 3,
    }
    assert ChannelRules().describe() == {
        "minSeverity": "info",
        "kinds": "*",
        "quietHours": None,
        "tickets": False,
        "maxAttempts": 10,
    }


def test_kinds_are_read_as_every_kind_or_a_set() -> None:
    assert parse_kinds("*") is None
    assert parse_kinds(" , ") is None
    assert parse_kinds(" heartbeat , caCoverage,") == frozenset({"heartbeat", "caCoverage"})


def test_each_bad_kinds_value_is_explained_with_the_list_of_kinds() -> None:
    assert kinds_problem("TEAMS_KINDS", " heartbeat , caCoverage") is None
    assert kinds_problem("TEAMS_KINDS", "*") is None
    assert kinds_problem("TEAMS_KINDS", "heartbeat,*") == (
        "TEAMS_KINDS 'heartbeat,*' mixes '*' with kinds: use one or the other"
    )
    assert kinds_problem("TEAMS_KINDS", "HEARTBEAT, bogus, heartbeat") == (
        "TEAMS_KINDS: unknown finding kind(s) HEARTBEAT (did you mean heartbeat?), bogus; "
        f"use '*' or a comma-separated list of {KINDS}"
    )
    assert kinds_problem("TEAMS_KINDS", " , ") == (
        f"TEAMS_KINDS: unknown finding kind(s) ' , '; use '*' or a comma-separated list of {KINDS}"
    )


def test_quiet_hours_are_read_to_the_minute_in_their_zone() -> None:
    window = parse_quiet_hours(" 22:30-7:15 ", "Europe/Berlin")
    assert window == QuietHours(time(22, 30), time(7, 15), ZoneInfo("Europe/Berlin"), "Europe/Berlin")
    assert str(window) == "22:30-07:15 Europe/Berlin"
    assert quiet_hours_problem("TEAMS_QUIET_HOURS", "22:30-07:15") is None
    for bad in ("22-7", "24:00-07:00", "22:00-07:60", "08:00-08:00", "22:00 - 07:00"):
        assert quiet_hours_problem("TEAMS_QUIET_HOURS", bad) == (
            f"TEAMS_QUIET_HOURS {bad!r} is not a daily window HH:MM-HH:MM with two different times, e.g. "
            "22:00-07:00 (it may span midnight; the zone is ALERT_TIMEZONE)"
        )


def test_utc_is_accepted_in_any_case_and_other_zones_by_their_iana_name() -> None:
    assert zone("UTC") is UTC and zone("utc") is UTC
    assert zone("America/New_York") == ZoneInfo("America/New_York")
    assert zone_problem("ALERT_TIMEZONE", "utc") is None
    assert zone_problem("ALERT_TIMEZONE", "CET+1") == (
        "ALERT_TIMEZONE 'CET+1' is not an IANA time zone such as Europe/Berlin or America/New_York (or UTC)"
    )
