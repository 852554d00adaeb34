"""One source of truth for app settings: the registry in shared/settings.py (the concatenation of
the kernel's settings and each capability's shared/<capability>/settings.py).

Every setting the code reads must be set by the Bicep (infra/main.bicep `var appSettings`, or the
platform settings in infra/modules/functionapp.bicep), and every setting the Bicep sets must be
read by the code, except the platform-owned settings listed below with their reason. Defaults in
Bicep equal the registry's; secrets are Key Vault references, never template parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from shared import settings as registry
from shared.setting_spec import SettingSpec, schedule, text
from tests.infra import bicep
from tests.infra.layout import BICEP_FILES, INFRA

MAIN = "infra/main.bicep `var appSettings`"
PLATFORM = "infra/modules/functionapp.bicep `var platformSettings`"

# Set by the Bicep, read by the Functions host or the Azure SDK, never by our code.
PLATFORM_OWNED: dict[str, str] = {
    "AzureWebJobsStorage__credential": "host: use a managed identity for its storage connection",
    "AzureWebJobsStorage__clientId": "host: which user-assigned identity that is",
    "AzureWebJobsStorage__blobServiceUri": "host: leases, keys and the deployment package (blob)",
    "AzureWebJobsStorage__queueServiceUri": "host: queue endpoint of the identity-based connection",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "host and worker: where telemetry goes",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "host and worker: Entra auth for telemetry "
    "(the component has local auth disabled)",
}

# Read by the code, deliberately NOT set in Azure.
LOCAL_ONLY: dict[str, str] = {
    "AzureWebJobsStorage": "a connection string (Azurite) for local runs; in Azure shared keys are "
    "disabled and the identity-based AzureWebJobsStorage__* settings replace it",
}

_KEY_VAULT_REF = re.compile(
    r"@Microsoft\.KeyVault\(SecretUri=\$\{keyVault\.outputs\.uri\}secrets/(?P<name>[a-z0-9-]+)/\)"
)

Found = dict[str, tuple[str, bicep.Value, bicep.BicepFile]]


def secret_name(setting: str) -> str:
    """Key Vault secret name for a setting: lower case, '-' for '_' (Key Vault allows no '_')."""
    return setting.lower().replace("_", "-")


def bicep_settings(main: bicep.BicepFile, functionapp: bicep.BicepFile) -> Found:
    app = main.object_var("appSettings")
    platform = functionapp.object_var("platformSettings")
    both = set(app) & set(platform)
    assert not both, f"set in both {MAIN} and {PLATFORM} (the platform one wins): {sorted(both)}"
    found: Found = {k: (MAIN, v, main) for k, v in app.items()}
    found.update({k: (PLATFORM, v, functionapp) for k, v in platform.items()})
    return found


# -- the checks, as functions of (registry, Bicep) so they can be tested on made-up registries --


def missing_in_bicep(specs: Iterable[SettingSpec[Any]], found: Found) -> list[str]:
    return [
        f"{spec.name} is read by the code (shared/settings.py) but not set in {MAIN}: "
        + (
            f"set it to a Key Vault reference to secret '{secret_name(spec.name)}'"
            if spec.secret
            else f"add a param with @description('{spec.name}: ...')"
            + (f" and default {spec.default!r}" if spec.default is not None else "")
            + " and set it from that param"
        )
        for spec in specs
        if spec.name not in found and spec.name not in LOCAL_ONLY
    ]


def unread_by_code(specs: Iterable[SettingSpec[Any]], found: Found) -> list[str]:
    known = {spec.name for spec in specs}
    return [
        f"{name} is set in {where} but the code never reads it (not in shared/settings.py "
        "SETTINGS): register it there, remove it, or list it in PLATFORM_OWNED with a reason"
        for name, (where, _, _) in found.items()
        if name not in known and name not in PLATFORM_OWNED
    ]


def default_problems(specs: Iterable[SettingSpec[Any]], found: Found) -> list[str]:
    problems = []
    for spec in specs:
        if spec.name not in found or spec.secret:
            continue
        where, value, file = found[spec.name]
        source = bicep.param_source(value, file)
        param = source[0] if source else None
        if spec.default is not None:
            if source is None or source[1] is None:
                problems.append(
                    f"{spec.name} has registry default {spec.default!r} but {where} does not set "
                    "it from a param with a literal default"
                )
                continue
            if source[1] != spec.default:
                problems.append(
                    f"{spec.name}: param {source[0].name} in {file.path.name} gives "
                    f"{source[1]!r} by default, the registry default is {spec.default!r}"
                )
        elif source and source[1]:
            problems.append(
                f"{spec.name} has no registry default, but param {source[0].name} gives "
                f"{source[1]!r}; use '' (unset) or a deployment-time expression"
            )
        if where == MAIN and param and spec.name not in (param.description or ""):
            problems.append(
                f"the @description of param {param.name} (sets {spec.name}) must name {spec.name}"
            )
    return problems


def secret_problems(specs: Iterable[SettingSpec[Any]], found: Found) -> list[str]:
    problems = []
    for spec in specs:
        if spec.name not in found:
            continue
        _, value, _ = found[spec.name]
        match = _KEY_VAULT_REF.fullmatch(value.value) if isinstance(value, bicep.Str) else None
        if spec.secret and not (match and match["name"] == secret_name(spec.name)):
            problems.append(
                f"{spec.name} is a secret: set it to '@Microsoft.KeyVault(SecretUri="
                f"${{keyVault.outputs.uri}}secrets/{secret_name(spec.name)}/)'"
            )
        if not spec.secret and match:
            problems.append(f"{spec.name} is a Key Vault reference but not secret in the registry")
    return problems


# -- the real registry against the real Bicep --------------------------------------------------


@pytest.fixture(scope="module")
def found(main_bicep, functionapp_bicep) -> Found:
    return bicep_settings(main_bicep, functionapp_bicep)


def test_function_app_uses_both_setting_sets(functionapp_bicep):
    text = re.sub(r"\s+", "", functionapp_bicep.text)
    assert "appSettings:[forsettinginitems(union(appSettings,platformSettings)):" in text, (
        "functionapp.bicep must build siteConfig.appSettings from union(appSettings, "
        "platformSettings), or this test no longer sees what Azure gets"
    )


def test_every_setting_the_code_reads_is_set_by_bicep(found):
    missing = missing_in_bicep(registry.SETTINGS, found)
    assert not missing, "\n".join(missing)


def test_every_setting_bicep_sets_is_read_by_the_code(found):
    unread = unread_by_code(registry.SETTINGS, found)
    assert not unread, "\n".join(unread)


def test_defaults_match_the_registry(found):
    problems = default_problems(registry.SETTINGS, found)
    assert not problems, "\n".join(problems)


def test_secrets_are_key_vault_references(found):
    problems = secret_problems(registry.SETTINGS, found)
    assert not problems, "\n".join(problems)


def test_exception_lists_are_current(found):
    known = {spec.name for spec in registry.SETTINGS}
    assert not (set(PLATFORM_OWNED) & known), (
        f"now in the registry, remove from PLATFORM_OWNED: {sorted(set(PLATFORM_OWNED) & known)}"
    )
    assert set(LOCAL_ONLY) <= known, (
        f"no longer in the registry, remove from LOCAL_ONLY: {sorted(set(LOCAL_ONLY) - known)}"
    )
    assert set(PLATFORM_OWNED) <= set(found), (
        f"PLATFORM_OWNED lists settings Bicep no longer sets: {sorted(set(PLATFORM_OWNED) - set(found))}"
    )
    assert not (set(LOCAL_ONLY) & set(found)), (
        f"local-only settings must not be set in Azure: {sorted(set(LOCAL_ONLY) & set(found))}"
    )


def test_no_secret_ever_passes_through_a_template_parameter(main_bicep):
    secure = [p.name for p in main_bicep.params.values() if "secure" in p.decorators]
    assert not secure, f"secret values are set in Key Vault by the operator, not params: {secure}"
    secret_settings = {spec.name for spec in registry.SETTINGS if spec.secret}
    leaking = [
        p.name
        for p in main_bicep.params.values()
        if any((p.description or "").startswith(f"{name}:") for name in secret_settings)
    ]
    assert not leaking, f"params that carry a secret setting: {leaking}"


def test_every_param_is_described():
    undocumented = [
        f"{path.relative_to(INFRA)}: {name}"
        for path in BICEP_FILES
        for name, param in bicep.read(path).params.items()
        if not param.description
    ]
    assert not undocumented, f"params without @description: {undocumented}"


# -- the checks catch what they should (made-up registries) ------------------------------------


def test_a_new_setting_fails_until_bicep_sets_it(found):
    specs = (
        *registry.SETTINGS,
        SettingSpec("EXAMPLE_NEW_SCHEDULE", "x", schedule, default="0 0 * * * *"),
        SettingSpec("EXAMPLE_NEW_SECRET", "x", text, secret=True),
    )
    problems = missing_in_bicep(specs, found)
    real = missing_in_bicep(registry.SETTINGS, found)
    added = [p for p in problems if p not in real]
    assert len(added) == 2
    assert added[0].startswith("EXAMPLE_NEW_SCHEDULE is read by the code")
    assert "default '0 0 * * * *'" in added[0]
    assert added[1].startswith("EXAMPLE_NEW_SECRET is read by the code")
    assert "secret 'example-new-secret'" in added[1]


def test_a_setting_the_code_dropped_fails(found):
    specs = [s for s in registry.SETTINGS if s.name != "HISTORY_RETENTION_DAYS"]
    problems = unread_by_code(specs, found)
    assert len(problems) == 1
    assert problems[0].startswith("HISTORY_RETENTION_DAYS is set in infra/main.bicep")


def test_a_changed_registry_default_fails(found):
    specs = [
        replace(s, default="0 */5 * * * *") if s.name == "HEARTBEAT_SCHEDULE" else s
        for s in registry.SETTINGS
    ]
    problems = default_problems(specs, found)
    assert problems == [
        "HEARTBEAT_SCHEDULE: param heartbeatSchedule in main.bicep gives '0 */30 * * * *' by "
        "default, the registry default is '0 */5 * * * *'"
    ]


def test_a_secret_set_from_anything_but_key_vault_fails(found):
    specs = [replace(s, secret=True) if s.name == "ALERT_WEBHOOK_URL" else s for s in registry.SETTINGS]
    problems = secret_problems(specs, found)
    assert len(problems) == 1
    assert problems[0].startswith("ALERT_WEBHOOK_URL is a secret")
