"""GET /api/posture: the enforcement chain per platform, from the stored snapshot (no Graph call)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import endpoint, json_response
from shared.context import services
from shared.principal import Role

if TYPE_CHECKING:
    from functions import models as m
    from shared.posture.model import PlatformPosture as StoredPlatform
    from shared.posture.model import Posture

bp = func.Blueprint()


@bp.function_name("posture_get")
@bp.route(route="posture", methods=["GET"])
@endpoint(Role.READER)
def posture_get(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/posture (Reader): per platform (Android, iOS/iPadOS, Windows, macOS) the connectors
    evaluating it and their health, its compliance policies (Device Threat Level rule, assigned?),
    the Conditional Access policies that enforce and those that only seem to, its app protection
    policies, and ``weakestLink`` with the reason (Posture), as the last Conditional Access check
    stored them; ``platforms`` is empty before the first check. 400 for any query parameter.
    """
    from shared.posture.stored import stored_posture

    s = services()
    tenant = s.settings.tenant_id
    return json_response(posture_view(tenant, stored_posture(s.store, tenant)))


def posture_view(tenant_id: str, posture: Posture | None) -> m.Posture:
    """The stored posture as the API answers it."""
    return {
        "tenantId": tenant_id,
        "checkedAt": posture.checked_at if posture else None,
        "platforms": [_platform(p) for p in posture.platforms] if posture else [],
    }


def _platform(p: StoredPlatform) -> m.PlatformPosture:
    return {
        "platform": p.platform,
        "label": p.label,
        "checkedAt": p.checked_at,
        "weakestLink": p.weakest_link,
        "weakestReason": p.weakest_reason,
        "links": [{"name": link.name, "state": link.state, "reason": link.reason} for link in p.links],
        "connectors": [
            {
                "id": c.connector_id,
                "partner": c.partner,
                "evaluatesCompliance": c.compliance,
                "evaluatesAppProtection": c.app_protection,
                "health": c.health,
                "healthReason": c.health_reason,
                "minimumOsVersion": c.minimum_os_version,
            }
            for c in p.connectors
        ],
        "compliancePolicies": [
            {
                "id": c.policy_id,
                "displayName": c.display_name,
                "policyType": c.policy_type,
                "deviceThreatLevelRule": c.threat_rule,
                "requiredLevel": c.required_level,
                "assigned": c.assigned,
            }
            for c in p.compliance_policies
        ],
        "conditionalAccessPolicies": [
            {
                "id": c.policy_id,
                "displayName": c.display_name,
                "enforces": c.enforces,
                "onlySeemsBecause": list(c.reasons),
                "scope": list(c.scope),
            }
            for c in p.ca_policies
        ],
        "appProtectionPolicies": [
            {
                "id": a.policy_id,
                "displayName": a.display_name,
                "maximumAllowedDeviceThreatLevel": a.max_threat_level,
                "mobileThreatDefenseRemediationAction": a.remediation_action,
                "assigned": a.assigned,
            }
            for a in p.app_protection_policies
        ],
    }
