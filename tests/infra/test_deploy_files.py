"""The files around the Bicep that `azd up` and `func start` read: azure.yaml, host.json,
.funcignore, infra/main.parameters.json, infra/bicepconfig.json, local.settings.example.json."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys

from shared import settings as registry
from tests.infra import bicep
from tests.infra.layout import INFRA, ROOT

# Local-only settings Core Tools needs; in Azure the Flex plan takes the runtime from
# functionAppConfig.runtime and rejects FUNCTIONS_WORKER_RUNTIME as an app setting.
LOCAL_HOST_SETTINGS = {"FUNCTIONS_WORKER_RUNTIME"}


def azure_yaml_services() -> dict[str, dict[str, str]]:
    """The `services:` block of azure.yaml (two-level mapping; no YAML library in the app venv)."""
    services: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    in_services = False
    for line in (ROOT / "azure.yaml").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            in_services = line.rstrip() == "services:"
            continue
        if not in_services:
            continue
        if match := re.fullmatch(r"  ([A-Za-z0-9_-]+):\s*", line):
            current = services.setdefault(match[1], {})
        elif (match := re.fullmatch(r"    ([A-Za-z]+):\s*(\S+)\s*", line)) and current is not None:
            current[match[1]] = match[2]
    return services


def test_azure_yaml_has_one_python_function_service(main_bicep):
    services = azure_yaml_services()
    assert list(services) == ["api"], services
    assert services["api"] == {"project": ".", "language": "python", "host": "function"}
    flat = re.sub(r"\s+", " ", main_bicep.text)
    assert "'azd-service-name': 'api'" in flat, "the Function App must carry azd-service-name: api"
    assert "'azd-env-name': environmentName" in flat


def test_host_json_suits_flex_consumption():
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {
        "id": "Microsoft.Azure.Functions.ExtensionBundle",
        "version": "[4.*, 5.0.0)",
    }
    sampling = host["logging"]["applicationInsights"]["samplingSettings"]
    assert sampling["isEnabled"] is True
    assert "Request" in sampling["excludedTypes"].split(";"), "requests must never be sampled away"
    # The watchdog (infra/modules/watchdog.bicep) counts the success trace: a sampled-out line would fire it.
    assert "Trace" in sampling["excludedTypes"].split(";"), "traces must never be sampled away"
    hours, minutes, seconds = (int(x) for x in host["functionTimeout"].split(":"))
    total = hours * 3600 + minutes * 60 + seconds
    # Flex Consumption allows longer, but a sweep that runs 10 minutes is stuck, and the next
    # 30-minute run must not overlap it.
    assert 60 <= total <= 30 * 60, host["functionTimeout"]


def test_main_parameters_map_azd_environment(main_bicep):
    document = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    parameters = document["parameters"]
    assert parameters["environmentName"] == {"value": "${AZURE_ENV_NAME}"}
    assert parameters["location"] == {"value": "${AZURE_LOCATION}"}
    assert parameters["principalId"] == {"value": "${AZURE_PRINCIPAL_ID}"}
    for name, entry in parameters.items():
        assert name in main_bicep.params, f"main.parameters.json sets unknown param {name}"
        value = str(entry["value"])
        match = re.fullmatch(r"\$\{[A-Z0-9_]+=(.*)\}", value)
        if match:  # an azd default must not become a second source of truth
            param = main_bicep.params[name]
            default = param.default
            rendered = (
                default.value
                if isinstance(default, bicep.Str)
                else str(default).lower()
                if isinstance(default, bool)
                else str(default)
            )
            assert match[1] == rendered, f"{name}: azd default {match[1]!r} != Bicep {rendered!r}"


def test_bicepconfig_enables_the_graph_extension():
    config = json.loads((INFRA / "bicepconfig.json").read_text(encoding="utf-8"))
    reference = config["extensions"]["microsoftGraphV1"]
    assert re.fullmatch(
        r"br:mcr\.microsoft\.com/bicep/extensions/microsoftgraph/v1\.0:\d+\.\d+\.\d+", reference
    ), reference


def test_local_settings_example_lists_every_setting():
    values = json.loads((ROOT / "local.settings.example.json").read_text(encoding="utf-8"))["Values"]
    names = {spec.name for spec in registry.SETTINGS}
    assert set(values) == names | LOCAL_HOST_SETTINGS, (
        f"missing {sorted(names - set(values))}, unknown {sorted(set(values) - names - LOCAL_HOST_SETTINGS)}"
    )
    for spec in registry.SETTINGS:
        if spec.secret:
            assert values[spec.name] == "", f"{spec.name}: never put a secret in an example"
        elif spec.default is not None:
            assert values[spec.name] == spec.default, f"{spec.name}: not the registry default"
    env = {k: v for k, v in values.items() if k not in LOCAL_HOST_SETTINGS}
    assert registry.problems(env) == [], "the example must be a working local configuration"


def _ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        if pattern.endswith("/"):
            if any(fnmatch.fnmatch(part, pattern[:-1]) for part in parts[:-1]):
                return True
        elif any(fnmatch.fnmatch(part, pattern) for part in parts) or fnmatch.fnmatch(relative, pattern):
            return True
    return False


def test_funcignore_keeps_everything_function_app_imports():
    patterns = [
        line.strip()
        for line in (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # A clean interpreter: other tests' imports must not hide a module the app needs.
    listing = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, function_app; "
            "print('\\n'.join(sorted(filter(None, (getattr(m, '__file__', None) "
            "for m in list(sys.modules.values()))))))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TENANT_ID": "contoso.onmicrosoft.com"},
    ).stdout.splitlines()
    local = [
        p[len(str(ROOT)) + 1 :]
        for p in listing
        if p.startswith(f"{ROOT}/") and "/.venv" not in p and "site-packages" not in p
    ]
    assert "function_app.py" in local
    dropped = [p for p in local if _ignored(p, patterns)]
    assert not dropped, f".funcignore drops modules function_app imports: {dropped}"
    for required in ("host.json", "requirements.txt", "function_app.py"):
        assert not _ignored(required, patterns), f".funcignore drops {required}"
    for unwanted in ("tests/test_x.py", "infra/main.bicep", ".venv/bin/python", "local.settings.json"):
        assert _ignored(unwanted, patterns), f".funcignore should drop {unwanted}"


def test_the_deployment_creates_every_table_the_app_stores_rows_in():
    # The app never creates tables in Azure on a cold start (one round trip per table saved):
    # a table the code writes that the template does not create would fail every run there.
    from shared.store.rows import CHANGES_TABLE, HISTORY_TABLE, STATE_TABLE

    storage = bicep.read(INFRA / "modules" / "storage.bicep")
    names = storage.var("tableNames")
    assert isinstance(names, list)
    assert sorted(n.value for n in names if isinstance(n, bicep.Str)) == sorted(
        [STATE_TABLE, HISTORY_TABLE, CHANGES_TABLE]
    )
    assert len(names) == 3
