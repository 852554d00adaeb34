"""docs/deploy.md and docs/permissions.md say what the registries and templates do."""

from __future__ import annotations

import json
import re
import uuid

from shared import permissions
from shared import settings as registry
from shared.permissions import ConnectorAccess
from shared.principal import Role
from tests.infra.layout import INFRA, ROOT
from tests.infra.test_settings_sync import secret_name

PAGES = {"Microsoft Graph permissions": "permissions.md", "Deploy to Azure": "deploy.md"}


def section(title: str) -> str:
    """The docs page that holds what the README's section of this title used to (the whole page)."""
    text = (ROOT / "docs" / PAGES[title]).read_text(encoding="utf-8")
    assert text.startswith(f"# {title}\n")
    return text


def test_permissions_table_lists_the_registry():
    text = section("Microsoft Graph permissions")
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `([A-Za-z.]+)` \| `([0-9a-f-]{36})` \|", text, re.M)}
    assert rows == {p.name: p.app_role_id for p in permissions.PERMISSIONS}


def test_printed_grant_commands_grant_the_read_only_set():
    text = section("Microsoft Graph permissions")
    expected = [p.app_role_id for p in permissions.granted(ConnectorAccess.READ_ONLY)]
    loops = re.findall(r"for ROLE in ([0-9a-f -]+); do", text)
    assert [loop.split() for loop in loops] == [expected], "the az rest loop"
    powershell = re.findall(r'foreach \(\$role in ("[^)]+")\)', text)
    assert [re.findall(r'"([0-9a-f-]+)"', p) for p in powershell] == [expected], "PowerShell"
    write = permissions.by_name("DeviceManagementServiceConfig.ReadWrite.All").app_role_id
    assert f"replace the first id with `{write}`" in text
    assert expected[0] == permissions.by_name("DeviceManagementServiceConfig.Read.All").app_role_id


def test_every_secret_is_documented_with_its_key_vault_name():
    text = section("Deploy to Azure")
    for spec in registry.SETTINGS:
        if spec.secret:
            row = f"| `{spec.name}` | `{secret_name(spec.name)}` |"
            assert row in text, f"docs/deploy.md 'Secrets and rotating them' needs the row {row}"


def test_deploy_section_covers_the_issue():
    text = section("Deploy to Azure")
    for needle in (
        "Privileged Role Administrator",
        "Role Based Access Control",
        "azd up",
        "azd down --purge",
        "Expected monthly cost (estimate)",
        "az keyvault secret set",
        "MTDGUARD_GRANT_GRAPH_PERMISSIONS",
    ):
        assert needle in text, needle


def test_entra_app_roles_are_the_roles_the_api_checks():
    roles = json.loads((INFRA / "entra-app-roles.json").read_text(encoding="utf-8"))
    assert sorted(r["value"] for r in roles) == sorted(role.value for role in Role)
    ids = [uuid.UUID(r["id"]) for r in roles]
    assert len(set(ids)) == len(ids)
    for r in roles:
        assert r["isEnabled"] is True
        assert set(r["allowedMemberTypes"]) == {"User", "Application"}
