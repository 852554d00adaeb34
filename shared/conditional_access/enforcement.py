"""Does a modern Conditional Access policy enforce MTD, and on which platform? Pure.

A policy enforces MTD for a platform only if EVERY way to satisfy it requires a compliant device
(the device MTD marks at risk is noncompliant, so it is kept out) for the people and apps it is
about. Graph's words (``conditionalAccessPolicy``):

* ``state``: only ``enabled`` enforces; ``enabledForReportingButNotEnforced`` (report-only) is
  evaluated and logged, never applied; ``disabled`` is off.
* ``grantControls.operator`` combines ALL grant controls: ``builtInControls``,
  ``customAuthenticationFactors``, ``termsOfUse`` and ``authenticationStrength``. Under ``OR`` (or
  no operator) any control other than ``compliantDevice`` is a way in without one. ``block`` lets
  no one in, so it is no alternative.
* ``conditions.platforms``: include/exclude, ``all`` on either side (``CaPolicy.covers``).
* ``conditions.clientAppTypes``: a device reaches apps through browsers and through mobile apps
  and desktop clients; a policy that names only one of these (or only Exchange ActiveSync /
  other clients) leaves the rest in. Absent or ``all``: every client.
* ``conditions.users`` and ``conditions.applications``: "None" (or nothing) means the policy is
  about no one or nothing; only user actions (registering security info) is not app access.
  Selected users, groups, roles or apps, exclusions and a device filter still enforce, for the
  part they cover: they are listed as the verdict's ``scope``, so people see what is left out.

A ``Verdict`` says which: ``enforces`` with its scope, or only seems to, with the reasons in plain
words. Sources: Microsoft Learn, "Building a Conditional Access policy" (grant controls: "Require
all the selected controls" / "Require one of the selected controls") and the Graph reference of
conditionalAccessGrantControls and conditionalAccessConditionSet. What Microsoft leaves
unsaid (e.g. how authentication contexts combine with a device's compliance) is counted as scope,
not as enforcement proven.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.graph.conditional_access_policies import DISABLED, ENABLED, REPORT_ONLY, CaPolicy

# clientAppTypes that reach apps from a device MTD judges: both must be asked for compliance.
BROWSER = "browser"
APPS = "mobileAppsAndDesktopClients"
_CLIENTS = {BROWSER: "browsers", APPS: "mobile apps and desktop clients"}


@dataclass(frozen=True)
class Verdict:
    """One policy on one platform (a CA platform name: "android", "iOS", "windows", "macOS")."""

    policy_id: str
    display_name: str
    enforces: bool
    reasons: tuple[str, ...]  # why it only seems to enforce (empty when it enforces)
    scope: tuple[str, ...]  # what an enforcing policy leaves out (selected users, exclusions...)

    @property
    def summary(self) -> str:
        """E.g. "'X' enforces (for selected users, groups or roles only)" or "'X' is report-only"."""
        if self.enforces:
            scope = f" ({'; '.join(self.scope)})" if self.scope else ""
            return f"'{self.display_name}' enforces{scope}"
        return f"'{self.display_name}' " + "; ".join(self.reasons)


def gaps(policy: CaPolicy) -> tuple[str, ...]:
    """Why ``policy`` does not enforce on any platform, in plain words (empty: it enforces where
    it applies). Only for a policy that offers ``compliantDevice`` at all: a policy without it is
    no MTD policy (``judge`` returns None for it)."""
    found: list[str] = []
    if policy.state == DISABLED:
        found.append("is off")
    elif policy.state == REPORT_ONLY:
        found.append("is report-only")
    elif policy.state != ENABLED:
        found.append(f"is in state {policy.state!r}, which does not enforce")
    if not policy.requires_compliant_device:
        found.append("also lets devices in with " + " or ".join(policy.alternatives))
    found += _void_conditions(policy)
    return tuple(found)


def _void_conditions(policy: CaPolicy) -> list[str]:
    found = []
    if policy.users.no_one:
        found.append("is assigned to no users")
    if policy.applications.no_one and not policy.auth_contexts:
        if policy.user_actions:
            found.append(f"targets user actions ({', '.join(policy.user_actions)}), not access to apps")
        else:
            found.append("targets no cloud apps")
    types = {t for t in policy.client_app_types}
    if types and "all" not in types:
        missing = [label for t, label in _CLIENTS.items() if t not in types]
        if missing:
            found.append(f"does not apply to {' or '.join(missing)}, which get in without a compliant device")
    return found


def scope(policy: CaPolicy) -> tuple[str, ...]:
    """What an enforcing ``policy`` leaves out: selected users or apps, exclusions, filters."""
    found = []
    if not policy.users.everyone:
        found.append("for selected users, groups or roles only")
    if policy.users.exclude:
        found.append(f"{len(policy.users.exclude)} user, group or role exclusion(s)")
    if policy.auth_contexts and policy.applications.no_one:
        found.append("only where an app asks for authentication context " + ", ".join(policy.auth_contexts))
    elif not policy.applications.everyone:
        found.append("for selected cloud apps only")
    if policy.applications.exclude:
        found.append(f"{len(policy.applications.exclude)} cloud app exclusion(s)")
    if policy.device_filter:
        found.append(f"device filter ({policy.device_filter})")
    return tuple(found)


def enforces(policy: CaPolicy) -> bool:
    """On, every way through requires a compliant device, and about someone and something."""
    return policy.has_compliant_device and not gaps(policy)


def judge(policy: CaPolicy, platform: str) -> Verdict | None:
    """``policy``'s verdict on ``platform``; None when it has nothing to do with MTD there (it
    offers no ``compliantDevice`` or its platform condition leaves the platform out)."""
    if not (policy.has_compliant_device and policy.covers(platform)):
        return None
    found = gaps(policy)
    return Verdict(
        policy_id=policy.id,
        display_name=policy.display_name,
        enforces=not found,
        reasons=found,
        scope=() if found else scope(policy),
    )
