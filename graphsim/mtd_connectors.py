"""Schema of ``microsoft.graph.mobileThreatDefenseConnector`` (Intune MTD connectors).

Property lists follow msgraph-sdk 1.65 (v1.0) and msgraph-beta-sdk 1.66 (beta); the
payload-fidelity test fails if a v1.0 property here is unknown to the SDK's model.
"""

from __future__ import annotations

from graphsim.resources import (
    BOOLEAN,
    DATETIME,
    INT32,
    STRING,
    UNKNOWN_FUTURE_VALUE,
    Property,
    ResourceType,
)

BETA_ONLY = frozenset({"beta"})

# Microsoft's current v1.0 reference lists notSetUp (4) and error (5) before unknownFutureValue (6),
# so v1.0 serves them by name; beta's newer neverConfigured (beta SDK) reaches v1.0 clients as
# unknownFutureValue.
_V1_STATES = frozenset(
    {"unavailable", "available", "enabled", "unresponsive", "notSetUp", "error", UNKNOWN_FUTURE_VALUE}
)
PARTNER_STATES = {
    "v1.0": _V1_STATES,
    "beta": _V1_STATES | {"neverConfigured"},
}

# UNCONFIRMED what the service reports for a connector it has just created; the reference
# says it "stays notSetUp/available" until the partner's console finishes its side. We pick
# notSetUp ("no provisioning, no heartbeat yet"), which v1.0 and beta both name.
DEFAULT_PARTNER_STATE = "notSetUp"
# Intune's default for "Number of days until partner is unresponsive".
DEFAULT_THRESHOLD_DAYS = 7


def _flag(name: str, versions: frozenset[str] | None = None) -> Property:
    """Every connector toggle is a non-nullable boolean defaulting to false."""
    if versions is None:
        return Property(name, BOOLEAN, default=False)
    return Property(name, BOOLEAN, default=False, versions=versions)


MTD_CONNECTORS = ResourceType(
    type_name="microsoft.graph.mobileThreatDefenseConnector",
    collection_path="/deviceManagement/mobileThreatDefenseConnectors",
    scenario_key="connectors",
    properties=(
        Property("id", STRING),
        # Null until the partner's first heartbeat (the admin center shows "never").
        Property("lastHeartbeatDateTime", DATETIME, nullable=True),
        Property(
            "partnerState",
            "microsoft.graph.mobileThreatPartnerTenantState",
            default=DEFAULT_PARTNER_STATE,
            enum_members=PARTNER_STATES,
        ),
        Property("partnerUnresponsivenessThresholdInDays", INT32, default=DEFAULT_THRESHOLD_DAYS),
        _flag("androidEnabled"),
        _flag("iosEnabled"),
        _flag("windowsEnabled"),
        _flag("androidDeviceBlockedOnMissingPartnerData"),
        _flag("iosDeviceBlockedOnMissingPartnerData"),
        _flag("windowsDeviceBlockedOnMissingPartnerData"),
        _flag("androidMobileApplicationManagementEnabled"),
        _flag("iosMobileApplicationManagementEnabled"),
        _flag("partnerUnsupportedOsVersionBlocked"),
        _flag("allowPartnerToCollectIOSApplicationMetadata"),
        _flag("allowPartnerToCollectIOSPersonalApplicationMetadata"),
        _flag("microsoftDefenderForEndpointAttachEnabled"),
        _flag("macEnabled", BETA_ONLY),
        _flag("macDeviceBlockedOnMissingPartnerData", BETA_ONLY),
        _flag("windowsMobileApplicationManagementEnabled", BETA_ONLY),
        # Beta's undocumented read-only partner facts (msgraph-beta-sdk has them; some tenants send
        # them): served only when a scenario sets them.
        *(
            Property(f"partnerSupports{p}Mam", BOOLEAN, nullable=True, versions=BETA_ONLY, optional=True)
            for p in ("Android", "Ios", "Windows")
        ),
        *(
            Property(
                f"partnerMinimumSupported{p}Version", STRING, nullable=True, versions=BETA_ONLY, optional=True
            )
            for p in ("Android", "Ios", "Mac", "Windows")
        ),
    ),
)
