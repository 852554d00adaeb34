"""The Conditional Access drift job's settings: their specs (registry: shared/settings.py) and one
typed value, ``CaDriftSettings``.

The audit-log matching settings exist because Microsoft does not document how changes to classic
Conditional Access policies appear in the directory audit log: the defaults are the documented
pattern for directory policy objects (service "Core Directory", category "Policy", activities
"Add/Update/Delete policy") plus policy names that mention an MTD partner (docs/conditional-access.md
says what can and cannot be seen).

The rules that read these values live in ``shared.conditional_access.classic.matching``, imported
only when a value is checked or loaded, so importing the registry does not load the CA rules (nor,
through them, the Graph read models).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from shared.setting_spec import Reader, SettingProblem, SettingSpec, choice, integer, listing, schedule

if TYPE_CHECKING:
    from shared.conditional_access.classic.matching import AuditMatching


class ClassicSource(StrEnum):
    """Where MTD Guard learns of classic policies (CA_CLASSIC_SOURCE), and where it learned of each."""

    AUDIT = "audit"  # the Entra directory audit log, read incrementally
    IMPORT = "import"  # inventories an admin copies from the Entra portal and PUTs


SOURCES = tuple(ClassicSource)


def _activities(name: str, value: str) -> str:
    """'activity name=change' pairs (``matching.parse_activities``), as set."""
    from shared.conditional_access.classic.matching import parse_activities

    parse_activities(value)  # ValueError with its sentence
    return value


def _property_rule(name: str, value: str) -> str:
    """'Property=value|value' (``matching.PropertyRule``), as set."""
    from shared.conditional_access.classic.matching import PropertyRule

    PropertyRule.parse(name, value)  # ValueError with its sentence
    return value


def _name_patterns(name: str, value: str) -> str:
    """Comma-separated glob patterns of policy names (``matching.parse_name_patterns``), as set."""
    from shared.conditional_access.classic.matching import parse_name_patterns

    if not parse_name_patterns(value):
        raise SettingProblem(f"{name} names no pattern")
    return value


SCHEDULE = SettingSpec(
    "CA_DRIFT_SCHEDULE",
    "NCRONTAB schedule of the Conditional Access drift monitor (read by the host). Hourly: a "
    "policy that stops enforcing MTD is high severity, and a run costs two or three Graph calls.",
    schedule,
    default="0 7 * * * *",
)
CLASSIC_SOURCE = SettingSpec(
    "CA_CLASSIC_SOURCE",
    "Where changes to classic CA policies come from: audit (read the directory audit log; needs "
    "AuditLog.Read.All) or import (only inventories PUT to /api/ca/classic-baseline are compared).",
    choice(*SOURCES),
    default="audit",
)
AUDIT_LOG_RETENTION_DAYS = SettingSpec(
    "AUDIT_LOG_RETENTION_DAYS",
    "How many days Entra ID keeps directory audit events (30 with Entra ID P1/P2, 7 with Free). "
    "A monitor that has not read the log for longer says it may have missed changes.",
    integer(1, 30),
    default="30",
)
AUDIT_OVERLAP_MINUTES = SettingSpec(
    "CA_AUDIT_OVERLAP_MINUTES",
    "Each audit-log read starts this long before the previous one ended, for events Entra ID "
    "logs late; events already processed are skipped by id.",
    integer(0, 1440),
    default="60",
)
AUDIT_SERVICES = SettingSpec(
    "CA_AUDIT_SERVICES",
    "Comma-separated loggedByService values whose audit events can be classic-policy changes "
    "(* = any). Unconfirmed by Microsoft: configurable.",
    listing,
    default="Core Directory",
)
AUDIT_CATEGORIES = SettingSpec(
    "CA_AUDIT_CATEGORIES",
    "Comma-separated audit categories that can hold classic-policy changes (* = any).",
    listing,
    default="Policy",
)
AUDIT_ACTIVITIES = SettingSpec(
    "CA_AUDIT_ACTIVITIES",
    "Comma-separated 'activity name=change' pairs; change is added, modified, disabled or deleted.",
    _activities,
    default="Add policy=added, Update policy=modified, Delete policy=deleted",
)
CLASSIC_NAME_PATTERNS = SettingSpec(
    "CA_CLASSIC_NAME_PATTERNS",
    "Comma-separated, case-insensitive glob patterns of classic MTD policy names (for policies not "
    "yet in the baseline); @partners = any MTD partner name, 'Mobile Threat Defense' or 'MTD'.",
    _name_patterns,
    default="@partners",
)
CLASSIC_POLICY_TYPE = SettingSpec(
    "CA_CLASSIC_POLICY_TYPE",
    "Optional 'Property=value|value': a modified property (or key inside its JSON) that marks a "
    "classic policy, e.g. PolicyType=18. Unset: not used (the value classic policies carry is "
    "undocumented).",
    _property_rule,
)
CLASSIC_DISABLED_WHEN = SettingSpec(
    "CA_CLASSIC_DISABLED_WHEN",
    "'Property=value|value' that, found in an update's new values and not its old ones, makes the "
    "update a disable (searched inside the modified properties' JSON).",
    _property_rule,
    default="State=Disabled",
)

SPECS = (
    SCHEDULE,
    CLASSIC_SOURCE,
    AUDIT_LOG_RETENTION_DAYS,
    AUDIT_OVERLAP_MINUTES,
    AUDIT_SERVICES,
    AUDIT_CATEGORIES,
    AUDIT_ACTIVITIES,
    CLASSIC_NAME_PATTERNS,
    CLASSIC_POLICY_TYPE,
    CLASSIC_DISABLED_WHEN,
)


@dataclass(frozen=True)
class CaDriftSettings:
    """The drift job's configuration. ``classic_source``: "audit" reads the directory audit log,
    "import" compares inventories only; retention in days, overlap in minutes."""

    schedule: str
    classic_source: str
    audit_retention_days: int
    audit_overlap_minutes: int
    matching: AuditMatching

    @property
    def reads_audit_log(self) -> bool:
        """True when classic-policy changes come from the directory audit log."""
        return self.classic_source == "audit"


def load(read: Reader) -> CaDriftSettings:
    """The typed settings; values are assumed valid (``shared.settings.problems`` found nothing).
    ``load(Reader.defaults())`` gives the defaults."""
    from shared.conditional_access.classic.matching import AuditMatching

    return CaDriftSettings(
        schedule=read(SCHEDULE),
        classic_source=read(CLASSIC_SOURCE),
        audit_retention_days=read(AUDIT_LOG_RETENTION_DAYS),
        audit_overlap_minutes=read(AUDIT_OVERLAP_MINUTES),
        matching=AuditMatching.parse(
            services=read(AUDIT_SERVICES),
            categories=read(AUDIT_CATEGORIES),
            activities=read(AUDIT_ACTIVITIES),
            name_patterns=read(CLASSIC_NAME_PATTERNS),
            policy_type=read.optional(CLASSIC_POLICY_TYPE),
            disabled_when=read.optional(CLASSIC_DISABLED_WHEN),
        ),
    )
