"""The Bicep Graph module grants exactly the permissions in shared/permissions.py."""

from __future__ import annotations

import re

from shared import permissions
from shared.permissions import ConnectorAccess
from tests.infra import bicep

_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")


def roles(value: bicep.Value) -> tuple[str, str]:
    assert isinstance(value, dict), value
    name, role_id = value.get("name"), value.get("id")
    assert isinstance(name, bicep.Str) and isinstance(role_id, bicep.Str), value
    return name.value, role_id.value


def granted_by_bicep(graph: bicep.BicepFile, access: ConnectorAccess) -> set[tuple[str, str]]:
    always = graph.var("alwaysGranted")
    assert isinstance(always, list)
    per_access = graph.object_var("connectorGrants")
    return {roles(v) for v in always} | {roles(per_access[access.value])}


def registry_grants(access: ConnectorAccess) -> set[tuple[str, str]]:
    return {(p.name, p.app_role_id) for p in permissions.granted(access)}


def test_registry_is_well_formed():
    names = [p.name for p in permissions.PERMISSIONS]
    assert len(names) == len(set(names))
    for p in permissions.PERMISSIONS:
        assert _GUID.match(p.app_role_id), p
        assert p.feature and p.why, p
    assert permissions.by_name("Policy.Read.All").app_role_id.startswith("246dd0d5")


def test_read_only_and_read_write_differ_only_in_the_connector_permission():
    read_only = {p.name for p in permissions.granted(ConnectorAccess.READ_ONLY)}
    read_write = {p.name for p in permissions.granted(ConnectorAccess.READ_WRITE)}
    assert read_only - read_write == {"DeviceManagementServiceConfig.Read.All"}
    assert read_write - read_only == {"DeviceManagementServiceConfig.ReadWrite.All"}


def test_bicep_grants_exactly_the_registry(graph_bicep):
    for access in ConnectorAccess:
        in_bicep, in_registry = granted_by_bicep(graph_bicep, access), registry_grants(access)
        assert in_bicep == in_registry, (
            f"connectorAccess={access.value}: Bicep grants {sorted(in_bicep - in_registry)} "
            f"beyond the registry and misses {sorted(in_registry - in_bicep)}"
        )


def test_bicep_and_registry_agree_on_connector_access_values(graph_bicep, main_bicep):
    expected = [bicep.Str(a.value) for a in ConnectorAccess]
    for file in (graph_bicep, main_bicep):
        assert file.params["connectorAccess"].decorators["allowed"] == expected, file.path
    assert main_bicep.params["connectorAccess"].default == bicep.Str("ReadOnly"), (
        "least privilege by default: the configure API is opt-in"
    )


def test_graph_module_is_isolated_and_targets_microsoft_graph(graph_bicep, main_bicep):
    assert graph_bicep.var("graphAppId") == bicep.Str(permissions.GRAPH_APP_ID)
    text = graph_bicep.text
    assert re.search(r"^extension microsoftGraphV1$", text, re.M)
    assert "'Microsoft.Graph/servicePrincipals@v1.0' existing" in text
    assert "'Microsoft.Graph/appRoleAssignedTo@v1.0'" in text
    # No other file needs the extension (so checkov can scan them all).
    assert "extension " not in main_bicep.text
    flat = re.sub(r"\s+", " ", main_bicep.text)
    assert "module graphPermissions 'modules/graph-permissions.bicep' = if (grantGraphPermissions)" in flat
    assert main_bicep.params["grantGraphPermissions"].default is True
