"""Building simulator scenarios in tests: one connector entry, and loading a tenant's connectors."""

from __future__ import annotations

from typing import Any

from graphsim import GraphSimulator


def connector(
    cid: str, heartbeat: str | None, state: str = "enabled", threshold: Any = 7, **extra: Any
) -> dict[str, Any]:
    return {
        "id": cid,
        "partnerState": state,
        "lastHeartbeatDateTime": heartbeat,
        "partnerUnresponsivenessThresholdInDays": threshold,
        **extra,
    }


def load(
    graph: GraphSimulator, tenant_id: str, *connectors: dict[str, Any], page_size: int | None = None
) -> None:
    scenario: dict[str, Any] = {"tenantId": tenant_id, "connectors": list(connectors)}
    if page_size:
        scenario["pageSize"] = page_size
    graph.load_scenario(scenario)
