"""What each kind of finding is, in one table: title, default severity, remediation, permission, docs.

Shaped after Prowler's check metadata: the facts about a kind of finding that do not depend on
the situation live here once, and the rules that raise findings (heartbeat/, conditional_access/,
alerting/) add only what the situation says (which connector, which policy, since when). The
findings API serves ``title`` and ``docs`` beside each finding (``kindTitle``, ``docs``).

``permission`` is the Graph permission the check needs to run at all (from shared/permissions.py,
the one registry), None when it reads no Graph data or when it depends on the call (graphAccess
names the missing permission in its message). ``docs`` is the Microsoft Learn page that explains
the setting or behaviour the finding is about, None when only MTD Guard's own docs do.

Docs links were checked against Microsoft's documentation sources (MicrosoftDocs/memdocs for
Intune, MicrosoftDocs/entra-docs for Entra, microsoft-graph-docs for Graph). Intune pages moved
from ``/mem/intune/...`` to ``/intune/intune-service/...``; where only the source file was found,
the live path is that mapping and says "unconfirmed" beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from shared import permissions
from shared.findings.model import FindingKind, Severity
from shared.permissions import GraphPermission

_INTUNE = "https://learn.microsoft.com/en-us/intune/intune-service/protect"
_ENTRA = "https://learn.microsoft.com/en-us/entra/identity"


@dataclass(frozen=True)
class KindInfo:
    """The constant facts of one finding kind."""

    title: str  # what a list of findings calls the kind, e.g. "MTD connector heartbeat"
    severity: Severity  # the default; a rule may raise or lower it for the situation
    remediation: str  # the constant part; rules append what the situation adds
    permission: GraphPermission | None  # Graph permission the check needs (see module docstring)
    docs: str | None  # Microsoft Learn URL, None when no Microsoft page explains it


_KINDS: dict[FindingKind, KindInfo] = {
    FindingKind.HEARTBEAT: KindInfo(
        title="MTD connector heartbeat",
        severity=Severity.WARNING,  # by health: high when Intune ignores the partner (health.SEVERITY)
        remediation=(
            "Check the connector in Intune admin center > Tenant administration > Connectors and tokens "
            "> Mobile Threat Defense, and the partner's own console."
        ),
        permission=permissions.CONNECTORS_READ,
        docs=f"{_INTUNE}/mobile-threat-defense",  # confirmed (live URL and memdocs source)
    ),
    FindingKind.GRAPH_ACCESS: KindInfo(
        title="Microsoft Graph access",
        severity=Severity.WARNING,  # high when no connector can be read at all (heartbeat.plan)
        remediation="Fix the access problem named in the message",
        permission=None,  # the message names the permission the failing call needs
        docs="https://learn.microsoft.com/en-us/graph/permissions-reference",  # confirmed
    ),
    FindingKind.CLASSIC_POLICY_DRIFT: KindInfo(
        title="Classic MTD Conditional Access policy changed",
        severity=Severity.HIGH,  # info for an announced removal (classic.changes)
        remediation=(
            "Classic MTD policies must not be edited, disabled or deleted; remove them only the "
            "supported way (announce with POST /api/ca/planned-removals, then delete)."
        ),
        permission=permissions.AUDIT_LOG_READ,  # or none with CA_CLASSIC_SOURCE=import
        # "Classic conditional access policies for MTD apps": memdocs source confirmed; live path unconfirmed
        docs=f"{_INTUNE}/mtd-connector-enable",
    ),
    FindingKind.CLASSIC_POLICY_HYGIENE: KindInfo(
        title="Classic MTD Conditional Access policies remain",
        severity=Severity.INFO,
        remediation=(
            "Classic MTD policies are obsolete: Intune stopped creating them for Defender for Endpoint "
            "in service release 2308 (August 2023) and, since 2404 (April 2024), they are not needed "
            "for any partner and can be deleted. Remove them safely: (1) make sure an enabled modern "
            "Conditional Access policy requires a compliant device on every platform your connectors "
            "enable (MTD Guard's caCoverage findings list any gap); (2) announce each removal with "
            "POST /api/ca/planned-removals (or the ticket webhook) so MTD Guard records it as planned; "
            "(3) delete the policy in Entra admin center > Protection > Conditional Access > Classic "
            "policies - delete, never disable: a disabled classic policy cannot be re-enabled; "
            "(4) import the new inventory (PUT /api/ca/classic-baseline)."
        ),
        permission=None,  # judged from the stored baseline (audit log or imported inventory)
        docs=f"{_INTUNE}/mtd-connector-enable",  # memdocs source confirmed; live path unconfirmed
    ),
    FindingKind.AUDIT_LOG_GAP: KindInfo(
        title="Directory audit log not read within its retention",
        severity=Severity.WARNING,
        remediation=(
            "Re-export the classic policy inventory from the Entra portal and import it "
            "(PUT /api/ca/classic-baseline): the import re-baselines and closes this finding. Keep the "
            "monitor running more often than the retention (AUDIT_LOG_RETENTION_DAYS), or stream the "
            "audit log to Log Analytics for longer retention."
        ),
        permission=permissions.AUDIT_LOG_READ,
        # entra-docs source confirmed; live path by the docs/ -> /entra/ mapping
        docs=f"{_ENTRA}/monitoring-health/reference-reports-data-retention",
    ),
    FindingKind.CA_POLICY_DRIFT: KindInfo(
        title="Conditional Access policy stopped requiring a compliant device",
        severity=Severity.HIGH,
        remediation=(
            "Make the policy require a compliant device again (Entra admin center > Protection > "
            "Conditional Access), or acknowledge this finding if another policy now enforces compliance."
        ),
        permission=permissions.POLICY_READ,
        # entra-docs source confirmed; live path by the docs/ -> /entra/ mapping
        docs=f"{_ENTRA}/conditional-access/policy-all-users-device-compliance",
    ),
    FindingKind.CA_COVERAGE: KindInfo(
        title="Platform with MTD but no policy requiring a compliant device",
        severity=Severity.WARNING,
        remediation=(
            "Create (or fix) a Conditional Access policy for the platform that grants access only with "
            "'Require device to be marked as compliant', and use the Device Threat Level rule in the "
            "platform's compliance policy."
        ),
        permission=permissions.POLICY_READ,  # and CONNECTORS_READ for the platforms
        docs=f"{_INTUNE}/create-conditional-access-intune",  # memdocs source confirmed; live path unconfirmed
    ),
    FindingKind.ALERT_DELIVERY: KindInfo(
        title="Alert channel gave up on an alert",
        severity=Severity.WARNING,  # high when the dead alert was high (alerting.outbox)
        remediation=(
            "Check the channel's settings (docs/alerts.md) and the receiving system, then send the "
            "dead alerts again (POST /api/alerts/{alertId}/redeliver)."
        ),
        permission=None,
        docs=None,  # MTD Guard's own docs/alerts.md; no Microsoft page
    ),
    FindingKind.GRAPH_DATA: KindInfo(
        title="Microsoft Graph returned data MTD Guard cannot judge",
        severity=Severity.WARNING,
        remediation=(
            "Every other entry was still judged. Check the named entries in the Intune admin center "
            "(Tenant administration > Connectors and tokens > Mobile Threat Defense) or Entra; if "
            "Graph keeps sending them, open a Microsoft support case quoting the message. A paging "
            "anomaly means the list may be incomplete: entries on unread pages keep their last "
            "known state until a sweep reads the whole list."
        ),
        permission=None,
        docs="https://learn.microsoft.com/en-us/graph/paging",  # Graph's paging behaviour
    ),
    FindingKind.CONNECTOR_DRIFT: KindInfo(
        title="MTD connector settings differ from their baseline",
        severity=Severity.WARNING,  # high when a difference weakens enforcement (configure.drift)
        remediation=(
            "If the change was intended, acknowledge this finding with accept (POST "
            '/api/findings/{id}/ack with {"accept": true}): the current settings become the baseline. '
            "Otherwise put the baseline back: POST /api/connectors/{partner}/restore (a dry run unless "
            "?dryRun=false), or set it again in Intune admin center > Tenant administration > "
            "Connectors and tokens > Mobile Threat Defense."
        ),
        permission=permissions.CONNECTORS_READ,
        docs=f"{_INTUNE}/mtd-connector-enable",  # memdocs source confirmed; live path unconfirmed
    ),
    FindingKind.COMPLIANCE_THREAT_LEVEL: KindInfo(
        title="Compliance policies do not use the Device Threat Level rule",
        severity=Severity.WARNING,  # info when the rule is on but its level was relaxed (posture.findings)
        remediation=(
            "In Intune admin center > Devices > Compliance, open (or create) the platform's compliance "
            "policy, under Device Health set 'Require the device to be at or under the Device Threat "
            "Level' to Secured, Low or Medium (not 'Not configured'), and assign it to the users or "
            "devices the MTD connector covers. Without it the partner's risk verdicts change nothing."
        ),
        permission=permissions.COMPLIANCE_READ,
        # memdocs source confirmed ("Create device compliance policies for MTD"); live path unconfirmed
        docs=f"{_INTUNE}/mtd-device-compliance-policy-create",
    ),
    FindingKind.APP_PROTECTION_THREAT_LEVEL: KindInfo(
        title="App protection policies set no maximum device threat level",
        severity=Severity.WARNING,  # info when the level was relaxed (posture.findings)
        remediation=(
            "In Intune admin center > Apps > App protection policies, open (or create) the platform's "
            "policy, under Conditional launch > Device conditions add 'Max allowed device threat level' "
            "(Secured, Low or Medium) with the action Block access or Wipe data, and assign it. The "
            "connector's app protection toggle must be on for the platform."
        ),
        permission=permissions.APP_PROTECTION_READ,
        # memdocs source confirmed ("Create MTD app protection policy"); live path unconfirmed
        docs=f"{_INTUNE}/mtd-app-protection-policy",
    ),
}

KINDS: Mapping[FindingKind, KindInfo] = MappingProxyType(_KINDS)
"""Every FindingKind -> its KindInfo (read-only; tests check no kind is missing)."""


DEFENDER_CONNECTOR_ID = "fc780465-2017-40d4-a0c5-307022471b92"
DEFENDER_STEPS = (
    " For Microsoft Defender for Endpoint: in the Microsoft Defender portal open Settings > Endpoints > "
    "Advanced features, set 'Microsoft Intune connection' to On and select Save preferences (if it is "
    "already On, switch it Off, save, then On again and save); then check the connector in the Intune "
    "admin center > Tenant administration > Connectors and tokens > Microsoft Defender for Endpoint "
    "(Connection status, Last synchronized). Defender and Intune sync at least once every 24 hours."
)
_DEFENDER_HEALTH = frozenset({"unresponsive", "notSetUp", "error"})


def heartbeat_remediation(connector_id: str, health: str, remediation: str) -> str:
    """A heartbeat finding's remediation for ``connector_id`` at ``health`` (a Health value):
    for the Defender for Endpoint connector unresponsive, not set up or in error, the Defender
    portal setting and the admin-center page are named after ``remediation``."""
    if connector_id.lower() == DEFENDER_CONNECTOR_ID and health in _DEFENDER_HEALTH:
        return remediation + DEFENDER_STEPS
    return remediation


def info(kind: str) -> KindInfo | None:
    """The metadata of a stored finding's ``kind`` (a FindingKind value); None for a kind this
    version does not know (a row written by a newer version), never an error."""
    try:
        return KINDS[FindingKind(kind)]
    except ValueError:
        return None


def title_of(kind: str) -> str | None:
    """The kind's title for a stored ``kind`` value (findings API ``kindTitle``); None if unknown."""
    found = info(kind)
    return found.title if found else None


def docs_of(kind: str) -> str | None:
    """The kind's Microsoft Learn URL for a stored ``kind`` value (findings API ``docs``); None when
    the kind is unknown or no Microsoft page explains it."""
    found = info(kind)
    return found.docs if found else None
