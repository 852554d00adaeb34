"""The layers hold: pure rules load no SDK, and the adapters know no capability.

Why it matters: a pure rule module that drags in httpx or the Azure SDK costs cold-start time in
every function that only plans, and an adapter that imports a capability makes the capability
impossible to change without touching the adapter (and invites import cycles).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT / "shared"

# Top-level packages of the SDKs only the I/O modules may load.
SDKS = ("httpx", "azure", "msgraph", "msgraph_core", "kiota_abstractions", "kiota_http")

# Modules that do I/O (or build what does): everything else under shared/ is pure rules and data.
IO_MODULES = (
    "shared.context",
    "shared.heartbeat.sweep",
    "shared.configure.apply",
    "shared.configure.manage",
    "shared.configure.restore",
    "shared.conditional_access.drift",
    "shared.alerting.outbox",
    "shared.alerting.channels",  # and every module below it (HTTP channels)
    "shared.tickets.actions",
    "shared.store",  # and every module below it (Table Storage)
    "shared.graph.gateway",
    "shared.status.read",
    "shared.graph.retry",  # the SDK's retry middleware, loaded only by the gateway
    "shared.graph.leaving",  # the middleware chain's last link, loaded only by the gateway
)

CAPABILITIES = (
    "shared.heartbeat",
    "shared.configure",
    "shared.conditional_access",
    "shared.alerting",
    "shared.tickets",
    "shared.findings",
    "shared.audit",
    "shared.status",
    "shared.posture",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_io(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in IO_MODULES)


PURE_MODULES = sorted(
    m for m in (_module_name(p) for p in SHARED.rglob("*.py")) if m != "shared" and not _is_io(m)
)


def _loaded_sdks(module: str) -> list[str]:
    """The SDK packages importing ``module`` loads, in a fresh interpreter (nothing cached)."""
    code = (
        f"import json, sys, {module}\n"
        f"print(json.dumps(sorted({{n.split('.')[0] for n in sys.modules}} & set({list(SDKS)!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_the_pure_module_list_is_not_empty_and_holds_the_rule_modules() -> None:
    for rules in ("shared.heartbeat.plan", "shared.configure.fields", "shared.findings.kinds"):
        assert rules in PURE_MODULES


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_loads_no_sdk(module: str) -> None:
    assert _loaded_sdks(module) == [], f"importing {module} loads an SDK"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, TYPE_CHECKING blocks and function bodies included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from shared import catalog` imports the module shared.catalog
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _capabilities_imported(adapter: str) -> dict[str, list[str]]:
    leaks: dict[str, list[str]] = {}
    for path in sorted((SHARED / adapter).rglob("*.py")):
        bad = sorted(m for m in _imports(path) if any(m == c or m.startswith(c + ".") for c in CAPABILITIES))
        if bad:
            leaks[str(path.relative_to(ROOT))] = bad
    return leaks


def test_the_graph_adapter_imports_no_capability() -> None:
    assert _capabilities_imported("graph") == {}


def test_the_graph_adapter_imports_only_itself_the_permission_registry_and_the_catalog() -> None:
    # shared.deadline: the invocation's time budget (pure, standard library only), as every call needs.
    # shared.retry_after: reading a Retry-After header (pure: standard library and the clock).
    allowed = (
        "shared.graph",
        "shared.permissions",
        "shared.catalog",
        "shared.deadline",
        "shared.retry_after",
    )
    for path in sorted((SHARED / "graph").rglob("*.py")):
        ours = {m for m in _imports(path) if m == "shared" or m.startswith("shared.")}
        others = {
            m for m in ours if m != "shared" and not any(m == a or m.startswith(a + ".") for a in allowed)
        }
        assert others == set(), f"{path.relative_to(ROOT)} imports {sorted(others)}"


def test_the_table_storage_adapter_imports_no_capability() -> None:
    assert _capabilities_imported("store") == {}


def test_no_capability_imports_the_composition_root_at_run_time() -> None:
    """Imports point down: capabilities are given the built adapters; only the triggers (functions/)
    ask shared/context.py for them. A typing-only import (under TYPE_CHECKING) is fine."""
    offenders = []
    for path in sorted((ROOT / "shared").rglob("*.py")):
        if path.name == "context.py":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: TYPE_CHECKING blocks are `if` statements
            if isinstance(node, ast.ImportFrom) and node.module == "shared.context":
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"import shared.context at run time: {offenders}"


def test_nothing_in_shared_reads_the_tenant_id_from_the_settings() -> None:
    """Every entry point takes tenant_id: only the settings module itself defines it."""
    readers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "shared").rglob("*.py"))
        if path.name != "settings.py"
        and ".tenant_id" in path.read_text()
        and "settings.tenant_id" in path.read_text()
    ]
    assert not readers, f"read settings.tenant_id: {readers}"
