"""Pure: what the status page says of each connector's settings against its baseline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from shared.configure.baseline import Baseline, BaselineSource
from shared.configure.drift import drift_finding_id
from shared.findings.model import Finding, FindingStatus, Severity
from shared.heartbeat.health import Health
from shared.heartbeat.plan import ConnectorStatus
from shared.status import view
from shared.status.settings_drift import drift_line
from tests.status.test_view import NOW, status, stored

SET_AT = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
ENFORCING: dict[str, bool | int] = {
    "androidEnabled": True,
    "iosEnabled": True,
    "partnerUnresponsivenessThresholdInDays": 7,
}


def with_settings(partner: str, **changed: bool | int) -> ConnectorStatus:
    return replace(status(partner, Health.HEALTHY, 2.0), settings={**ENFORCING, **changed})


def baseline_of(s: ConnectorStatus, source: BaselineSource = BaselineSource.ADOPTED) -> Baseline:
    return Baseline("t", s.id, dict(ENFORCING), "admin@contoso.com", SET_AT, source)


def test_a_connector_as_its_baseline_says_so_with_when_and_by_whom() -> None:
    s = with_settings("Lookout for Work")
    line = drift_line(s, baseline_of(s), None)
    assert (line.state, line.tone, line.changes) == ("Matches baseline", "good", ())
    assert line.baseline_set_at == SET_AT and line.baseline_set_by == "admin@contoso.com"
    assert line.baseline_how == "adopted from Intune's settings through the API"


def test_a_weakening_change_reads_in_the_admin_centers_words_with_high_severity() -> None:
    s = with_settings("Lookout for Work", iosEnabled=False)
    line = drift_line(s, baseline_of(s, BaselineSource.FIRST_SEEN), None)
    assert line.state == "Drifted, high severity: enforcement is weaker" and line.tone == "bad"
    assert line.changes == (
        "Connect iOS/iPadOS devices to Lookout for Work (compliance evaluation): On -> Off "
        "(weakens enforcement)",
    )
    assert line.baseline_how == "taken when a sweep first saw the connector"


def test_a_change_that_does_not_weaken_is_a_warning_and_not_marked_weakening() -> None:
    s = with_settings("Zimperium", partnerUnresponsivenessThresholdInDays=3)
    line = drift_line(s, baseline_of(s), None)
    assert line.state == "Drifted, warning: enforcement is not weaker" and line.tone == "warn"
    assert line.changes == ("Number of days until partner is unresponsive: 7 -> 3",)


def test_a_threshold_raised_while_the_partner_was_silent_is_said() -> None:
    s = replace(
        with_settings("Lookout for Work", partnerUnresponsivenessThresholdInDays=30),
        heartbeat_age_hours=240.0,
    )
    line = drift_line(s, baseline_of(s), None)
    assert line.note.startswith("Threshold raised from 7 to 30 days while the partner had been silent for 10")


def test_no_baseline_and_no_settings_are_never_shown_as_matching() -> None:
    s = with_settings("Lookout for Work")
    none = drift_line(s, None, None)
    assert (none.state, none.baseline_set_at) == ("No baseline yet", None)
    unread = drift_line(replace(s, settings={}), baseline_of(s), None)
    assert unread.state == "Settings not read yet" and unread.tone == "warn"


def test_an_acknowledged_drift_finding_is_said_only_while_the_connector_drifts() -> None:
    s = with_settings("Lookout for Work", androidEnabled=False)
    fid = drift_finding_id(s.id)
    ack = Finding(
        fid,
        "t",
        "connectorDrift",
        s.id,
        s.partner,
        Severity.HIGH,
        FindingStatus.ACKNOWLEDGED,
        "m",
        "r",
        NOW,
        NOW,
    )
    assert drift_line(s, baseline_of(s), ack).acknowledged
    back = with_settings("Lookout for Work")
    assert not drift_line(back, baseline_of(back), ack).acknowledged


def test_the_page_lists_drift_in_the_connectors_order_from_stored_baselines() -> None:
    healthy = with_settings("Microsoft Defender for Endpoint")
    bad = replace(with_settings("Lookout for Work", iosEnabled=False), health=Health.UNRESPONSIVE)
    new = replace(with_settings("Zimperium"), health=Health.WARNING)
    page = view.build(
        stored(
            statuses=(healthy, new, bad),
            baselines={healthy.id.lower(): baseline_of(healthy), bad.id.lower(): baseline_of(bad)},
        )
    )
    assert [d.partner for d in page.drift] == [c.partner for c in page.connectors]
    assert [d.state for d in page.drift] == [
        "Drifted, high severity: enforcement is weaker",
        "No baseline yet",
        "Matches baseline",
    ]
