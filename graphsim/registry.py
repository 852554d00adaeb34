"""Every collection the simulator serves, keyed by collection path.

To add a collection: write its ``ResourceType`` in its own module and list it here.
Graph matches URL segments case-insensitively, so lookups use lower-cased paths.
"""

from __future__ import annotations

from graphsim.app_protection import ANDROID_APP_PROTECTIONS, IOS_APP_PROTECTIONS
from graphsim.compliance_policies import COMPLIANCE_POLICIES
from graphsim.conditional_access import CONDITIONAL_ACCESS_POLICIES
from graphsim.directory_audits import DIRECTORY_AUDITS
from graphsim.intune_audit_events import INTUNE_AUDIT_EVENTS
from graphsim.mtd_connectors import MTD_CONNECTORS
from graphsim.resources import ResourceType

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    MTD_CONNECTORS,
    DIRECTORY_AUDITS,
    CONDITIONAL_ACCESS_POLICIES,
    INTUNE_AUDIT_EVENTS,
    COMPLIANCE_POLICIES,
    IOS_APP_PROTECTIONS,
    ANDROID_APP_PROTECTIONS,
)

BY_PATH: dict[str, ResourceType] = {rt.collection_path.lower(): rt for rt in RESOURCE_TYPES}
BY_SCENARIO_KEY: dict[str, ResourceType] = {rt.scenario_key: rt for rt in RESOURCE_TYPES}
