"""What an alert says, once for every channel: the headline, the facts, the admin-center link.

Teams turns these into an Adaptive Card, ServiceNow into plain text, Jira into an Atlassian
Document; the words are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.alerting.alerts import DIGEST_KIND, Alert
from shared.findings.model import FindingKind, Severity

INTUNE = "https://intune.microsoft.com"
# The Defender for Endpoint connector has its own blade (the address Maester's MTD connector test
# links to). For the third-party Mobile Threat Defense list no deep link could be confirmed, so the
# other partners link to Tenant administration > Connectors and tokens (the address Microsoft's
# Intune docs use), one click away from Mobile Threat Defense.
DEFENDER_CONNECTOR_ID = "fc780465-2017-40d4-a0c5-307022471b92"
DEFENDER_BLADE = (
    f"{INTUNE}/#view/Microsoft_Intune_DeviceSettings/TenantAdminConnectorsMenu/~/windowsDefenderATP"
)
CONNECTORS_BLADE = f"{INTUNE}/#view/Microsoft_Intune_DeviceSettings/TenantAdminMenu/~/connectorsAndTokens"


@dataclass(frozen=True)
class Link:
    """A labelled link to the Intune admin center, shown as a button or a link by each channel."""

    label: str
    url: str


def when(moment: datetime | str | None) -> str:
    """A moment as 'YYYY-MM-DD HH:MM UTC'; accepts an aware datetime or an ISO 8601 string (as in
    alert details, e.g. ``lastHeartbeatDateTime``). None is 'never'; a string that is not ISO 8601 is
    shown as it is."""
    if moment is None:
        return "never"
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
        return when(parsed)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def tone(alert: Alert) -> str:
    """high / warning / good (a recovery) / info: drives colours and ticket priority."""
    if alert.severity is Severity.INFO and alert.resolves_finding:
        return "good"
    return alert.severity.value


def headline(alert: Alert) -> str:
    """'[SEVERITY] title', e.g. '[WARNING] Lookout for Work heartbeat is getting old'."""
    return f"[{alert.severity.value.upper()}] {alert.title}"


def facts(alert: Alert) -> list[tuple[str, str]]:
    """The alert's facts as (label, value) pairs in display order: severity, partner, tenant, the
    health change, since when (UTC), last heartbeat, threshold in days, reason, remediation (not on a
    recovery), finding and alert ids. Pairs whose detail is absent are left out."""
    d = alert.details
    out: list[tuple[str, str]] = [("Severity", alert.severity.value)]
    if d.get("partner"):
        out.append(("Partner", str(d["partner"])))
    out.append(("Tenant", alert.tenant_id))
    if d.get("health"):
        before = d.get("previousHealth") or "not seen before"
        out.append(("What changed", f"{before} -> {d['health']}"))
    out.append(("Since", when(alert.detected_at)))
    if "lastHeartbeatDateTime" in d:
        out.append(("Last heartbeat", when(d.get("lastHeartbeatDateTime"))))
    if d.get("thresholdDays"):
        out.append(("Unresponsive after", f"{d['thresholdDays']} days"))
    out.append(("Reason", alert.reason))
    if alert.remediation and not alert.resolves_finding:
        out.append(("Remediation", alert.remediation))
    out.append(("Finding", alert.finding_id))
    out.append(("Alert id", alert.alert_id))
    return out


def portal_link(alert: Alert) -> Link | None:
    """Where in the Intune admin center to look: the Defender for Endpoint connector's own blade,
    or Connectors and tokens for other partners; None for alerts that are not about a connector's
    heartbeat (no ``connectorId`` in the details)."""
    connector = str(alert.details.get("connectorId") or "")
    if alert.kind != FindingKind.HEARTBEAT or not connector:
        return None
    if connector.lower() == DEFENDER_CONNECTOR_ID:
        return Link("Open the connector in the Intune admin center", DEFENDER_BLADE)
    return Link(
        "Open Connectors and tokens in the Intune admin center (then Mobile Threat Defense)", CONNECTORS_BLADE
    )


def digest_items(alert: Alert) -> list[dict[str, Any]]:
    """The payloads of the alerts a digest carries (``details["alerts"]``, oldest first); empty for
    an alert that is not a digest."""
    if alert.kind != DIGEST_KIND:
        return []
    items = alert.details.get("alerts") or []
    return [i for i in items if isinstance(i, dict)]


def plain_text(alert: Alert, lead: str | None = None) -> str:
    """The alert as plain text (ServiceNow fields, logs): headline, facts, link."""
    lines = [lead] if lead else []
    lines.append(headline(alert))
    lines += [f"{label}: {value}" for label, value in facts(alert)]
    if link := portal_link(alert):
        lines.append(f"{link.label}: {link.url}")
    return "\n".join(lines)
