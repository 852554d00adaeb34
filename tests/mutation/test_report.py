"""`tests/mutation/report.py` over mutmut's ``.meta`` files: what a per-module (partial) run prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.mutation.report import main


def meta(root: Path, module: str, codes: dict[str, int | None]) -> None:
    path = root / f"{module}.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")


def test_a_module_left_out_of_a_partial_run_is_not_run_and_not_in_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meta(tmp_path, "shared/heartbeat/plan.py", {"p__m_1": 1, "p__m_2": 1, "p__m_3": 3, "p__m_4": 0})
    meta(tmp_path, "shared/heartbeat/health.py", {"h__m_1": None, "h__m_2": None})
    assert main(["--mutants", str(tmp_path)]) == 1  # plan.py at 75% is under the 90% target
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["shared/heartbeat/health.py", "not", "run"]
    assert lines[2].split() == ["shared/heartbeat/plan.py", "4", "3", "1", "0", "75.0%"]
    assert lines[3].split() == ["all", "run", "(1", "of", "2", "modules)", "4", "3", "75.0%"]
    assert lines[6:] == ["  p__m_4"]


def test_only_the_modules_run_decide_the_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta(tmp_path, "shared/heartbeat/plan.py", {"p__m_1": 1, "p__m_2": 36})
    meta(tmp_path, "shared/heartbeat/health.py", {"h__m_1": None})
    assert main(["--mutants", str(tmp_path)]) == 0
    assert "all run (1 of 2 modules)" in capsys.readouterr().out


def test_nothing_run_is_no_result_rather_than_100_percent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meta(tmp_path, "shared/heartbeat/health.py", {"h__m_1": None})
    meta(tmp_path, "shared/findings/model.py", {})
    assert main(["--mutants", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "100.0%" not in captured.out
    assert "no mutmut results" in captured.err


def test_a_full_run_totals_every_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta(tmp_path, "shared/a.py", {"a__m_1": 1, "a__m_2": 5})
    meta(tmp_path, "shared/b.py", {"b__m_1": 1, "b__m_2": 1})
    assert main(["--mutants", str(tmp_path), "--target", "0.5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["shared/a.py", "2", "1", "0", "1", "50.0%"]
    assert lines[3].split() == ["all", "4", "3", "75.0%"]
    assert lines[6:] == ["  a__m_2"]
