"""Finding answers: GET /api/findings, POST /api/findings/{id}/ack (and its optional body)."""

from __future__ import annotations

from typing import Annotated, TypedDict

import msgspec
from msgspec import Meta

from functions.models.common import Time, Token
from shared.findings.model import FindingStatus, Severity


class Finding(TypedDict):
    """Something that needs attention, of any kind, and where it stands."""

    id: str
    kind: Annotated[str, Meta(description="e.g. heartbeat, graphAccess, classicPolicyDrift, caPolicyDrift")]
    kindTitle: Annotated[
        str | None, Meta(description="what this kind of finding is about; null for a kind unknown here")
    ]
    docs: Annotated[
        str | None, Meta(description="Microsoft Learn page that explains this kind, when one exists")
    ]
    resourceId: str
    resourceName: str
    severity: Severity
    status: FindingStatus
    message: str
    remediation: str
    firstSeen: Time
    lastSeen: Annotated[
        Time,
        Meta(
            description="when a run last changed it; an open heartbeat or drift finding with "
            "nothing new is not rewritten"
        ),
    ]
    resolvedAt: Time | None
    note: Annotated[str | None, Meta(description="the acknowledging person's note")]
    acknowledgedBy: str | None
    acknowledgedAt: Time | None


class FindingPage(TypedDict):
    """A page of this tenant's findings, what needs attention first; continuationToken is null on the
    last page.
    """

    tenantId: str
    findings: list[Finding]
    continuationToken: Token


class FindingAcknowledgement(msgspec.Struct, forbid_unknown_fields=True):
    """The optional body of POST /api/findings/{id}/ack."""

    note: Annotated[str, Meta(max_length=1000)] | msgspec.UnsetType = msgspec.UNSET
    accept: (
        Annotated[
            bool,
            Meta(
                description="connectorDrift only: adopt the settings the last sweep saw as the "
                "connector's baseline, and resolve the finding"
            ),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
