"""The JSON shapes of MTD Guard's HTTP API, written once: views build them, the OpenAPI document
is generated from them (functions/openapi_doc.py, with msgspec's JSON Schema generator).

Answers are ``TypedDict``s with the wire (camelCase) names, so mypy checks that each view in
functions/views.py builds exactly the documented keys and value types, and the answer itself is a
plain dict: nothing here runs when a route answers. Request bodies are ``msgspec.Struct``s with
``forbid_unknown_fields`` (their schemas say ``additionalProperties: false``, as the parsers do).
Enum-valued fields are typed with the Python enums (Severity, Health, DeliveryStatus, ...), so
their documented values are the enums' values.

Cold start: these modules import msgspec (about 25 ms). Only the OpenAPI route imports them at
run time; views import them for type checking only, so the timer functions never load msgspec
(tests/api/test_openapi.py checks that importing function_app does not).
"""

from functions.models.alerts import Alert, AlertDelivery, AlertPage, AlertRedelivery, ChannelRouting
from functions.models.audit import AuditEntry, AuditPage
from functions.models.common import DeliveryReport, JobHealth, Liveness, Problem, ProblemError
from functions.models.conditional_access import (
    AuditLogRead,
    CaDriftResult,
    ClassicBaseline,
    ClassicChange,
    ClassicImportResult,
    ClassicInventory,
    ClassicPolicy,
    ClassicSummary,
    LastImport,
    ModernSummary,
    PlannedRemoval,
    PlannedRemovalBody,
    PlannedRemovalRequest,
    Source,
)
from functions.models.configure import Change, ConfigureResult, HookPayload, HookReply
from functions.models.drift import Baseline, BaselineNote, ConnectorDeletion, ConnectorExport, DriftChange
from functions.models.findings import Finding, FindingAcknowledgement, FindingPage
from functions.models.heartbeat import (
    ConnectorDetail,
    ConnectorList,
    ConnectorStatus,
    ConnectorView,
    Observation,
    SweepResult,
)
from functions.models.posture import PlatformPosture, Posture

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertPage",
    "AlertRedelivery",
    "AuditEntry",
    "AuditLogRead",
    "AuditPage",
    "Baseline",
    "BaselineNote",
    "CaDriftResult",
    "Change",
    "ChannelRouting",
    "ClassicBaseline",
    "ClassicChange",
    "ClassicImportResult",
    "ClassicInventory",
    "ClassicPolicy",
    "ClassicSummary",
    "ConfigureResult",
    "ConnectorDeletion",
    "ConnectorDetail",
    "ConnectorExport",
    "ConnectorList",
    "ConnectorStatus",
    "ConnectorView",
    "DeliveryReport",
    "DriftChange",
    "Finding",
    "FindingAcknowledgement",
    "FindingPage",
    "HookPayload",
    "HookReply",
    "JobHealth",
    "LastImport",
    "Liveness",
    "ModernSummary",
    "Observation",
    "PlannedRemoval",
    "PlannedRemovalBody",
    "PlannedRemovalRequest",
    "PlatformPosture",
    "Posture",
    "Problem",
    "ProblemError",
    "Source",
    "SweepResult",
]
