"""Kill rate per module after `mutmut run` (issue 16): `python -m tests.mutation.report`.

mutmut 3 keeps one ``mutants/<module>.py.meta`` JSON file per mutated module, mapping each mutant
to the exit code of its test run (1 or 3: a test failed, the mutant is killed; 0: every test
passed, it survived; 5/33: no selected test runs that code; 36/24/...: timeout, which counts as
killed because the mutant hung a test). This prints one line per module and lists the survivors
(`mutmut show NAME` prints the diff of one). Exit status 1 when a module is under ``--target``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

KILLED = {1, 3}
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {24, -24, 36, 152, 255}


@dataclass(frozen=True)
class ModuleScore:
    module: str
    counts: Counter[str]
    survivors: list[str]

    @property
    def judged(self) -> int:
        return sum(self.counts[s] for s in ("killed", "timeout", "survived", "no tests"))

    @property
    def kill_rate(self) -> float:
        """Killed (timeouts included) over every mutant a test could have caught; 1.0 when none."""
        return (self.counts["killed"] + self.counts["timeout"]) / self.judged if self.judged else 1.0


def _status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in TIMEOUT:
        return "timeout"
    return "suspicious"


def scores(root: Path) -> list[ModuleScore]:
    found = []
    for meta in sorted(root.rglob("*.py.meta")):
        codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        counts: Counter[str] = Counter(_status(c) for c in codes.values())
        survivors = sorted(k for k, c in codes.items() if _status(c) in {"survived", "no tests"})
        module = meta.relative_to(root).as_posix().removesuffix(".meta")
        found.append(ModuleScore(module, counts, survivors))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--target", type=float, default=0.90, help="lowest kill rate per module")
    args = parser.parse_args(argv)
    found = scores(args.mutants)
    if not found:
        print(f"no mutmut results under {args.mutants}/: run `make mutate`", file=sys.stderr)
        return 2
    print(f"{'module':<48} {'mutants':>7} {'killed':>6} {'survived':>8} {'no test':>7} {'kill rate':>9}")
    for s in found:
        killed = s.counts["killed"] + s.counts["timeout"]
        print(
            f"{s.module:<48} {s.judged:>7} {killed:>6} {s.counts['survived']:>8} "
            f"{s.counts['no tests']:>7} {s.kill_rate:>9.1%}"
        )
    total_killed = sum(s.counts["killed"] + s.counts["timeout"] for s in found)
    total = sum(s.judged for s in found)
    print(f"{'all':<48} {total:>7} {total_killed:>6} {'':>8} {'':>7} {total_killed / total:>9.1%}")
    survivors = [name for s in found for name in s.survivors]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}; `mutmut show NAME` prints one):")
        for name in survivors:
            print(f"  {name}")
    below = [s.module for s in found if s.kill_rate < args.target]
    if below:
        print(f"\nunder the {args.target:.0%} target: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
