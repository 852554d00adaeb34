"""Graph failures in an operator's words: the 403 hint of each call comes from the permission registry."""

from __future__ import annotations

import pytest

from shared import permissions
from shared.graph import errors
from shared.graph.errors import GraphError


def test_a_403_reading_connectors_says_which_permission_to_grant_as_the_readme_quotes_it() -> None:
    failure = GraphError("read connectors", 403, "Forbidden", "Insufficient privileges")
    assert failure.describe(errors.READ_CONNECTORS) == (
        "could not read connectors: 403 Forbidden: Insufficient privileges - grant the application "
        "permission DeviceManagementServiceConfig.Read.All and admin-consent it"
    )


@pytest.mark.parametrize(
    ("hints", "needed"),
    [
        (errors.READ_CONNECTORS, {permissions.CONNECTORS_READ}),
        (errors.WRITE_CONNECTORS, {permissions.CONNECTORS_WRITE}),
        (errors.READ_DIRECTORY_AUDITS, {permissions.AUDIT_LOG_READ, permissions.DIRECTORY_READ}),
        (errors.READ_CA_POLICIES, {permissions.POLICY_READ}),
    ],
)
def test_each_calls_403_hint_names_exactly_the_registry_permissions_it_needs(
    hints: errors.Hints, needed: set[permissions.GraphPermission]
) -> None:
    named = {p for p in permissions.PERMISSIONS if f" {p.name} " in f" {hints[403]} "}
    assert named == needed


def test_hints_say_how_to_get_a_permission_that_is_not_granted_by_default_or_not_needed_at_all() -> None:
    assert "deploy with connectorAccess=ReadWrite" in errors.WRITE_CONNECTORS[403]
    assert errors.READ_DIRECTORY_AUDITS[403].endswith("or set CA_CLASSIC_SOURCE=import")
    assert "connectorAccess" not in errors.READ_CONNECTORS[403]


def test_a_permission_renamed_in_the_registry_is_renamed_in_the_hint() -> None:
    renamed = permissions.GraphPermission("Example.Read.All", "0" * 36, feature="f", why="w")
    assert (
        errors.hints(renamed)[403] == "grant the application permission Example.Read.All and admin-consent it"
    )


def test_other_statuses_get_their_own_hint_and_unknown_ones_none() -> None:
    assert "GRAPH_ENDPOINT" in GraphError("read connectors", 404, None, "").describe(errors.READ_CONNECTORS)
    assert " - " not in GraphError("read connectors", 500, None, "boom").describe(errors.READ_CONNECTORS)
