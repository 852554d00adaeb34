"""Offline checks of infra/ (no Bicep compiler, no Azure): `make infra-check` runs this.

1. checkov scans every Bicep file it can parse (`--framework bicep --skip-download`). Zero failed
   checks; every skip is an inline `// checkov:skip=ID: reason` with a real reason, and no skip
   comment is stale; any parsing error or crashed check fails the run (checkov itself only
   reports those on the side).
2. Every .bicep file parses with pycep-parser 0.5.1 (the one checkov bundles, so checkov really
   saw it) except the files listed in NEWER_SYNTAX, and every file parses with 0.7.1.
3. pycep's view of the app settings keys equals what tests/infra/bicep.py reads, so the settings
   sync test cannot drift from the real grammar.

Usage: python -m scripts.infra_check --checkov CHECKOV --pycep-old PYTHON --pycep-new PYTHON
       (each PYTHON is the interpreter of a venv with that pycep-parser installed)
The same file, run as `PYTHON scripts/infra_check.py --dump FILE...` inside a tool venv, prints
what pycep-parser makes of the files; it imports only the standard library and pycep.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
# Files with syntax checkov's pycep-parser 0.5.1 cannot read (`extension`). checkov skips them; they
# hold no Azure resources (only Microsoft.Graph ones, which checkov has no checks for).
NEWER_SYNTAX = {"infra/modules/graph-permissions.bicep"}
MIN_REASON = 25  # characters: "false positive" alone is not a reason
_SKIP_COMMENT = re.compile(r"//\s*checkov:skip=([A-Z0-9_]+):?(.*)$", re.M)


def dump(files: list[str]) -> int:
    """Runs inside a tool venv: parse each file with its pycep-parser and print JSON."""
    pycep = importlib.import_module("pycep")
    from importlib.metadata import version  # only needed in this mode

    out: dict[str, Any] = {"version": version("pycep-parser"), "files": {}}
    for name in files:
        try:
            parsed = pycep.BicepParser().parse(file_path=Path(name))
        except Exception as error:
            out["files"][name] = {"error": f"{type(error).__name__}: {str(error).splitlines()[0]}"}
            continue
        variables = {
            var: sorted(body["value"])
            for var, body in (parsed.get("variables") or {}).items()
            if isinstance(body.get("value"), dict)
        }
        out["files"][name] = {"object_vars": variables}
    print(json.dumps(out))
    return 0


def run_pycep(python: str, files: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [python, str(Path(__file__).resolve()), "--dump", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"pycep-parser run with {python} failed:\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def check_checkov(checkov: str, bicep_files: list[str]) -> list[str]:
    skip_paths = [arg for path in sorted(NEWER_SYNTAX) for arg in ("--skip-path", re.escape(path))]
    started = time.monotonic()
    result = subprocess.run(
        [checkov, "-d", "infra", "--framework", "bicep", "--skip-download", "-o", "json", *skip_paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"checkov printed no JSON report (exit {result.returncode}):\n{result.stderr}"]
    reports = report if isinstance(report, list) else [report]
    bicep_reports = [r for r in reports if r.get("check_type") == "bicep"]
    if len(bicep_reports) != 1:
        return [f"expected one bicep report from checkov, got: {report}"]
    summary, results = bicep_reports[0]["summary"], bicep_reports[0]["results"]
    problems = []
    print(
        f"checkov {summary['checkov_version']}: {summary['passed']} passed, "
        f"{summary['failed']} failed, {summary['skipped']} skipped, "
        f"{summary['parsing_errors']} parsing errors, {summary['resource_count']} resources "
        f"({time.monotonic() - started:.0f} s)"
    )
    for check in results.get("failed_checks", []):
        problems.append(
            f"checkov FAILED {check['check_id']} {check['check_name']}: "
            f"infra{check['file_path']}:{check['file_line_range'][0]} {check['resource']}"
        )
    for path in results.get("parsing_errors", []):
        problems.append(f"checkov could not parse {path} (so it checked nothing in it)")
    for line in result.stderr.splitlines():
        if "Failed to run check" in line:
            problems.append(f"checkov crashed on a check, so it was not evaluated: {line}")
    skipped: set[tuple[str, str]] = set()
    for check in results.get("skipped_checks", []):
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        where = f"infra{check['file_path']}"
        skipped.add((where, check["check_id"]))
        print(f"  skip {check['check_id']} on {check['resource']} ({where}): {reason}")
        if len(reason) < MIN_REASON:
            problems.append(f"skip of {check['check_id']} in {where} needs a written reason")
    for name in bicep_files:
        for match in _SKIP_COMMENT.finditer((ROOT / name).read_text(encoding="utf-8")):
            if (name, match[1]) not in skipped:
                problems.append(f"stale or misplaced skip comment for {match[1]} in {name}")
    return problems


def check_pycep(old_python: str, new_python: str, bicep_files: list[str]) -> list[str]:
    problems = []
    old = run_pycep(old_python, [f for f in bicep_files if f not in NEWER_SYNTAX])
    new = run_pycep(new_python, bicep_files)
    for report in (old, new):
        for name, outcome in report["files"].items():
            status = outcome.get("error") or "ok"
            print(f"pycep-parser {report['version']}: {name}: {status}")
            if "error" in outcome:
                problems.append(f"pycep-parser {report['version']} cannot parse {name}: {status}")
    for name in NEWER_SYNTAX:
        if name not in bicep_files:
            problems.append(f"NEWER_SYNTAX lists {name}, which no longer exists")

    sys.path.insert(0, str(ROOT))
    from tests.infra import bicep  # the repo's own reader

    pairs = {
        "infra/main.bicep": "appSettings",
        "infra/modules/functionapp.bicep": "platformSettings",
    }
    for name, var in pairs.items():
        theirs = new["files"].get(name, {}).get("object_vars", {}).get(var)
        ours = sorted(bicep.read(ROOT / name).object_var(var))
        if theirs != ours:
            problems.append(
                f"{name} `var {var}`: pycep-parser reads keys {theirs}, tests/infra/bicep.py "
                f"reads {ours}; fix the reader before trusting the settings sync test"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--checkov")
    parser.add_argument("--pycep-old", help="python of a venv with pycep-parser 0.5.1 (checkov's)")
    parser.add_argument("--pycep-new", help="python of a venv with pycep-parser 0.7.1")
    args = parser.parse_args()
    if args.dump:
        return dump(args.dump)
    if not (args.checkov and args.pycep_old and args.pycep_new):
        parser.error("--checkov, --pycep-old and --pycep-new are required")
    bicep_files = sorted(str(p.relative_to(ROOT)) for p in INFRA.rglob("*.bicep"))
    problems = check_checkov(args.checkov, bicep_files)
    problems += check_pycep(args.pycep_old, args.pycep_new, bicep_files)
    if problems:
        print("\ninfra-check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"infra-check passed: {len(bicep_files)} Bicep files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
