"""Classic-baseline entries that are really modern policies: out of the baseline, their findings
closed. Pure.

Before issue 13 a modern policy edited under Core Directory ("Update policy", category Policy) with
an MTD-looking name was taken for a classic one: baselined, a high "was edited" finding, a hygiene
finding. Graph listing an object as a modern policy (or the modern audit events naming it) settles
it: such an entry leaves the classic baseline and its classic findings resolve, saying why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from shared.alerting.alerts import close_finding
from shared.conditional_access.classic.rows import CLASSIC_POLICY_ROWS, ClassicPolicy, Drift
from shared.findings.model import Finding, FindingKind, finding_id


def plan_not_classic(
    baseline: Mapping[str, ClassicPolicy],
    findings: Mapping[str, Finding],
    modern: Iterable[str],
    *,
    now: datetime,
    channels: list[str],
) -> list[list[object]]:
    """Per baseline entry whose policy id (case-insensitive) is in ``modern``: one batch deleting
    its row and resolving its open classicPolicyDrift findings (each with one alert)."""
    ids = {m.lower() for m in modern}
    groups: list[list[object]] = []
    for policy in baseline.values():
        if not policy.policy_id or policy.policy_id.lower() not in ids:
            continue
        group: list[object] = [CLASSIC_POLICY_ROWS.delete_of(policy)]
        for drift in Drift:
            resource = f"{policy.key}.{drift.value}"
            existing = findings.get(finding_id(FindingKind.CLASSIC_POLICY_DRIFT, resource))
            done, alert = close_finding(
                existing,
                f"'{policy.display_name}' is a modern Conditional Access policy (Graph lists it, or the "
                "modern audit events name it), not a classic one: Core Directory logs modern edits as "
                "'Update policy' too. Its changes are judged as a modern policy's.",
                f"'{policy.display_name}' is a modern policy, not classic",
                now,
                channels,
            )
            group += [x for x in (done, alert) if x is not None]
        groups.append(group)
    return groups
