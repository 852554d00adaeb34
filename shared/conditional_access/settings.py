"""The Conditional Access drift job's settings, as one typed value (read in shared/settings.py).

The audit-log matching settings exist because Microsoft does not document how changes to classic
Conditional Access policies appear in the directory audit log: the defaults are the documented
pattern for directory policy objects (service "Core Directory", category "Policy", activities
"Add/Update/Delete policy") plus policy names that mention an MTD partner. README: "Classic CA
policies: what can and cannot be seen".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shared.conditional_access.classic.matching import (
    AuditMatching,
    PropertyRule,
    parse_activities,
    parse_name_patterns,
)

SOURCES = ("audit", "import")

DEFAULTS: dict[str, str | None] = {
    "CA_DRIFT_SCHEDULE": "0 7 * * * *",
    "CA_CLASSIC_SOURCE": "audit",
    "AUDIT_LOG_RETENTION_DAYS": "30",
    "CA_AUDIT_OVERLAP_MINUTES": "60",
    "CA_AUDIT_SERVICES": "Core Directory",
    "CA_AUDIT_CATEGORIES": "Policy",
    "CA_AUDIT_ACTIVITIES": "Add policy=added, Update policy=modified, Delete policy=deleted",
    "CA_CLASSIC_NAME_PATTERNS": "@partners",
    "CA_CLASSIC_POLICY_TYPE": None,
    "CA_CLASSIC_DISABLED_WHEN": "State=Disabled",
}

Get = Callable[[str], str | None]


def _matching(get: Get) -> AuditMatching:
    def text(name: str) -> str:
        return get(name) or DEFAULTS[name] or ""

    return AuditMatching.parse(
        services=text("CA_AUDIT_SERVICES"),
        categories=text("CA_AUDIT_CATEGORIES"),
        activities=text("CA_AUDIT_ACTIVITIES"),
        name_patterns=text("CA_CLASSIC_NAME_PATTERNS"),
        policy_type=get("CA_CLASSIC_POLICY_TYPE"),
        disabled_when=get("CA_CLASSIC_DISABLED_WHEN"),
    )


@dataclass(frozen=True)
class CaDriftSettings:
    schedule: str = "0 7 * * * *"
    classic_source: str = "audit"  # "audit": read the audit log; "import": inventories only
    audit_retention_days: int = 30
    audit_overlap_minutes: int = 60
    matching: AuditMatching = field(default_factory=lambda: _matching(DEFAULTS.get))

    @property
    def reads_audit_log(self) -> bool:
        return self.classic_source == "audit"


def load(get: Get) -> CaDriftSettings:
    def text(name: str) -> str:
        value = get(name) or DEFAULTS[name]
        assert value is not None
        return value

    return CaDriftSettings(
        schedule=text("CA_DRIFT_SCHEDULE"),
        classic_source=text("CA_CLASSIC_SOURCE"),
        audit_retention_days=int(text("AUDIT_LOG_RETENTION_DAYS")),
        audit_overlap_minutes=int(text("CA_AUDIT_OVERLAP_MINUTES")),
        matching=_matching(get),
    )


# -- validators for the registry ---------------------------------------------------------------------


def _problem(check: Callable[[], object]) -> str | None:
    try:
        check()
    except ValueError as exc:
        return str(exc)
    return None


def activities_problem(value: str) -> str | None:
    return _problem(lambda: parse_activities(value))


def rule_problem(name: str) -> Callable[[str], str | None]:
    return lambda value: _problem(lambda: PropertyRule.parse(name, value))


def patterns_problem(value: str) -> str | None:
    return None if parse_name_patterns(value) else "CA_CLASSIC_NAME_PATTERNS names no pattern"


def list_problem(name: str) -> Callable[[str], str | None]:
    return lambda value: None if any(p.strip() for p in value.split(",")) else f"{name} names nothing"
