"""``python -m graphsim``: the ready line, request logging, clean exits, bad scenarios;
and the startup budget that the cold-start benchmark relies on."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from graphsim import GraphSimulator

from .conftest import DEMO_SCENARIO, REPO, V1


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "graphsim", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_serves_logs_and_exits_on_sigterm() -> None:
    process = spawn("--port", "0", "--scenario", str(DEMO_SCENARIO), "--page-size", "5")
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("graphsim listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1]
        assert not base_url.endswith(":0")
        body = httpx.get(base_url + V1, timeout=5).json()
        assert len(body["value"]) == 5  # --page-size overrides the scenario's 3
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=5)
    finally:
        process.kill()
    assert process.returncode == 0
    assert stdout == ""  # the ready line is the only stdout output
    assert f'"GET {V1}" 200' in stderr
    assert "Traceback" not in stderr


def test_cli_exits_on_sigint() -> None:
    process = spawn("--port", "0")
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("graphsim listening on ")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=5)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in stderr


def test_bad_scenarios_exit_2_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"connectors": [{"id": "a", "iosEnabeld": True}]}), encoding="utf-8")
    for path, fragment in [
        (broken, "is not valid JSON"),
        (typo, "unknown key 'iosEnabeld'"),
        (tmp_path / "missing.json", "cannot read scenario"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "graphsim", "--scenario", str(path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert fragment in lines[0]
        assert str(path.name) in lines[0]


def test_import_is_standard_library_only() -> None:
    code = (
        "import sys; before = set(sys.modules); import graphsim; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(new - set(sys.stdlib_module_names) - {'graphsim'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_started_simulator_answers_at_once() -> None:
    # start() returns a listening server: the first request needs no wait or retry. How long a
    # start takes is a figure for `make bench`, not an assertion a slow CI machine could break.
    sim = GraphSimulator(scenario=DEMO_SCENARIO).start()
    try:
        response = httpx.get(sim.base_url + V1)
    finally:
        sim.stop()
    assert response.status_code == 200
    demo = json.loads(DEMO_SCENARIO.read_text(encoding="utf-8"))
    served = [c["id"] for c in response.json()["value"]]  # the first page of the demo's connectors
    assert served and served == [c["id"] for c in demo["connectors"]][: len(served)]


def test_cli_patch_mode_replace_resets_unsent_booleans() -> None:
    process = spawn("--port", "0", "--patch-mode", "replace", "--scenario", str(DEMO_SCENARIO))
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip().rsplit(" ", 1)[1]
        lookout = "2c7790de-8b02-4814-85cf-e0c59380dee8"
        assert httpx.get(f"{base_url}{V1}/{lookout}", timeout=5).json()["iosEnabled"] is True
        assert httpx.patch(f"{base_url}{V1}/{lookout}", json={"androidEnabled": True}, timeout=5).is_success
        assert httpx.get(f"{base_url}{V1}/{lookout}", timeout=5).json()["iosEnabled"] is False
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=5)
    finally:
        process.kill()
    assert process.returncode == 0
