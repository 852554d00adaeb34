"""The settings registry: the concatenation of each capability's specs, every default valid, and
importing it loads no capability's rules (only their settings specs)."""

from __future__ import annotations

import json
import subprocess
import sys

from shared import settings
from shared.alerting import settings as alert_settings
from shared.conditional_access import settings as ca_settings
from shared.heartbeat import settings as heartbeat_settings
from shared.setting_spec import Reader
from shared.tickets import settings as ticket_settings


def test_the_registry_is_each_capabilitys_specs_and_names_each_setting_once() -> None:
    names = [spec.name for spec in settings.SETTINGS]
    assert len(names) == len(set(names))
    for capability in (heartbeat_settings, ca_settings, alert_settings, ticket_settings):
        assert set(capability.SPECS) <= set(settings.SETTINGS), capability.__name__


def test_every_default_is_a_value_its_own_parser_accepts() -> None:
    # The parser itself: ``problem`` and ``read`` take a default as valid without parsing it,
    # on the strength of this test.
    bad = {}
    for spec in settings.SETTINGS:
        if spec.default is None:
            continue
        try:
            spec.parse(spec.name, spec.default)
        except ValueError as exc:
            bad[spec.name] = str(exc)
    assert not bad


def test_the_typed_defaults_are_the_registrys_defaults() -> None:
    loaded = settings.load({"TENANT_ID": "contoso.onmicrosoft.com", "AzureWebJobsStorage": "x"})
    assert (loaded.alerting.outbox_schedule, loaded.ca.schedule) == ("0 */5 * * * *", "0 7 * * * *")
    assert loaded.alerting.retry.max_attempts == 10 and loaded.alerting.retry.base.total_seconds() == 300
    assert (loaded.ca.classic_source, loaded.ca.audit_retention_days, loaded.ca.audit_overlap_minutes) == (
        "audit",
        30,
        60,
    )
    assert ca_settings.load(Reader.defaults()) == loaded.ca


def test_importing_the_registry_loads_no_capability_rules() -> None:
    code = "import json, sys, shared.settings; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    ours = {m for m in loaded if m.split(".")[0] == "shared"}
    capabilities = {
        "shared.alerting",
        "shared.conditional_access",
        "shared.configure",
        "shared.heartbeat",
        "shared.tickets",
    }
    # The capability packages (docstrings only) and their settings modules; no rules, no adapters.
    assert ours == {
        "shared",
        "shared.settings",
        "shared.setting_spec",
        "shared.ncrontab",
        "shared.logs",  # stdlib only: URLs in settings problems are shown redacted
        *capabilities,
        *(f"{c}.settings" for c in capabilities),
    }
    assert "croniter" not in loaded  # about 25 ms of cold start, paid only when a schedule is checked
