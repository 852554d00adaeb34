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

READ_INTUNE_AUDIT_EVENTS: Hints = hints(permissions.INTUNE_AUDIT_READ)
"""Reading Intune's audit log to say who changed a connector (optional)."""

READ_COMPLIANCE_POLICIES: Hints = hints(permissions.COMPLIANCE_READ)
"""Listing the device compliance policies with their assignments."""

READ_APP_PROTECTION: Hints = hints(permissions.APP_PROTECTION_READ)
"""Listing the iOS/iPadOS and Android app protection policies with their assignments."""


TRANSIENT_STATUSES = frozenset({429, 503, 504})
"""Throttling and service faults: Graph will answer again without anyone fixing anything."""
TRANSIENT_CODES = frozenset({"Timeout", "ConnectionFailed"})
"""Our labels for a call Graph never answered (timeout, dropped or refused connection)."""


class GraphError(Exception):
    """A Graph call that failed, with what an operator needs to fix it.

    ``status`` is the HTTP status (None when Graph never answered: timeout, connection refused),
    ``code`` Graph's OData error code or our own label (``Timeout``, ``MalformedResponse``),
    ``detail`` Graph's message. ``attempts`` is how many times the call was sent (the SDK retries
    429/503/504), ``retry_after`` whether the last answer carried a ``Retry-After`` header and
    ``retry_after_seconds`` the wait it asked for (None when absent or unreadable).
    ``describe`` turns it into one readable sentence; ``transient`` tells throttling and service
    faults (retry next time) from failures someone must fix (401, 403, 404, ...).
    """

    def __init__(
        self,
        operation: str,
        status: int | None,
        code: str | None,
        message: str,
        *,
        attempts: int = 1,
        retry_after: bool = False,
        retry_after_seconds: float | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = message
        self.attempts = attempts
        self.retry_after = retry_after
        self.retry_after_seconds = retry_after_seconds
        super().__init__(self.describe())

    @property
    def transient(self) -> bool:
        """Throttled (429), unavailable (503), gateway timeout (504), or no answer at all."""
        if self.status is not None:
            return self.status in TRANSIENT_STATUSES
        return self.code in TRANSIENT_CODES

    def transient_summary(self, subject: str) -> str:
        """E.g. 'Microsoft Graph throttled the connector list (429, no Retry-After) 4 times;
        retrying next sweep'; ``subject`` names what was read ('the connector list')."""
        if self.status == 429:
            what = f"throttled {subject} (429, {'with' if self.retry_after else 'no'} Retry-After)"
        elif self.status is not None:
            what = f"failed on {subject} ({self.status} {_reason(self.status)})"
        elif self.code == "Timeout":
            what = f"did not answer {subject} in time (timeout)"
        else:
            what = f"dropped the connection reading {subject} ({self.code})"
        times = "once" if self.attempts == 1 else f"{self.attempts} times"
        return f"Microsoft Graph {what} {times}; retrying next sweep"

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
