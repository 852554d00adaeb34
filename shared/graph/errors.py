"""What a failed Graph call says to an operator: ``GraphError`` and the per-call fix hints.

Import-light on purpose (standard library and the permission registry only): pure rule modules
name the hints of the calls they plan around without loading httpx or the Graph SDK. The hint for
a 403 is derived from shared/permissions.py, the one registry of the permissions MTD Guard asks
for, so a permission renamed there is renamed in every message.
"""

from __future__ import annotations

from http import HTTPStatus

from shared import permissions
from shared.permissions import GraphPermission

Hints = dict[int, str]
"""HTTP status of a failed call -> what the operator should do about it."""


def hints(*needed: GraphPermission, because: str | None = None) -> Hints:
    """The hints for a call that needs ``needed``: the same 401/404 advice for every call, and
    for 403 the permissions to grant (``permissions.grant_hint``; ``because`` says why)."""
    return {
        401: "check the managed identity / credential can get a token for Microsoft Graph",
        403: permissions.grant_hint(*needed, because=because),
        404: "check GRAPH_ENDPOINT and GRAPH_API_VERSION",
    }


READ_CONNECTORS: Hints = hints(permissions.CONNECTORS_READ)
"""Listing or reading the MTD connectors (heartbeat sweep, read API, coverage check)."""

WRITE_CONNECTORS: Hints = hints(
    permissions.CONNECTORS_WRITE, because="configuring connectors needs write access"
)
"""Configuring a connector: every call of a configure request, its reads included."""

READ_DIRECTORY_AUDITS: Hints = hints(
    permissions.AUDIT_LOG_READ,
    permissions.DIRECTORY_READ,
    because="Microsoft's reference requires both for this call",
)
"""Reading the directory audit log for classic Conditional Access policy changes."""

READ_CA_POLICIES: Hints = hints(permissions.POLICY_READ)
"""Listing the modern Conditional Access policies."""


class GraphError(Exception):
    """A Graph call that failed, with what an operator needs to fix it.

    ``status`` is the HTTP status (None when Graph never answered: timeout, connection refused),
    ``code`` Graph's OData error code or our own label (``Timeout``, ``MalformedResponse``),
    ``detail`` Graph's message. ``describe`` turns it into one readable sentence.
    """

    def __init__(self, operation: str, status: int | None, code: str | None, message: str) -> None:
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = message
        super().__init__(self.describe())

    def describe(self, hints: Hints | None = None) -> str:
        """E.g. 'could not read connectors: 403 Forbidden: ... - grant DeviceManagement...', the
        hint for this status appended when ``hints`` has one."""
        head = f"could not {self.operation}: "
        if self.status is not None:
            head += f"{self.status} {_reason(self.status)}"
            if self.code and self.code != _reason(self.status).replace(" ", ""):
                head += f" ({self.code})"
        else:
            head += self.code or "no answer"
        hint = (hints or {}).get(self.status or 0)
        text = f"{head}: {self.detail}" if self.detail else head
        return f"{text} - {hint}" if hint else text


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
