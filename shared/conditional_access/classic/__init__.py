"""Classic Conditional Access policies of MTD connectors: baseline, evidence, drift. Pure rules.

``rows``: what is stored; ``matching``: which audit events are classic-policy changes;
``changes``: what one change does (finding, alert, remediation); ``hygiene``: obsolete policies and
the audit log's retention; ``inventory``: the imported inventory; ``removals``: planned removals.

Microsoft offers NO supported API that lists classic policies (the Entra portal reads them through
an undocumented internal API that needs an interactive user's token; MTD Guard does not use it).
What MTD Guard can know comes from two sources, both turned into the same ``ClassicChange`` records
and judged by the same rules here:

* ``audit``: events of the Entra directory audit log (``/auditLogs/directoryAudits``). Which events
  are changes to classic policies is UNCONFIRMED by Microsoft, so the matching is configurable
  (``AuditMatching``, from app settings) with documented defaults.
* ``import``: an inventory the admin copied from the Entra portal (``parse_inventory``); a later
  import is compared with the baseline (``diff_inventory``).

Severities follow Microsoft's guidance for classic MTD policies: never edit, disable or delete
them (a disabled one cannot be re-enabled; a deleted one means the connector must be deleted and
re-created if the tenant still depends on it), so an unplanned edit, disable or deletion is
``high``; since service release 2404 they are obsolete (2308 for Defender for Endpoint) and may be
deleted, so a deletion announced beforehand is ``info``, and a tenant that still has them gets one
``info`` hygiene finding saying how to remove them safely.
"""
