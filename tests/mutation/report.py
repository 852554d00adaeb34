"""Kill rate per module after `mutmut run` (issue 16): `python -m tests.mutation.report`.

mutmut 3 keeps one ``mutants/<module>.py.meta`` JSON file per mutated module, mapping each mutant
to the exit code of its test run (1 or 3: a test failed, the mutant is killed; 0: every test
passed, it survived; 5/33: no selected test runs that code; 36/24/...: timeout, which counts as
killed because the mutant hung a test). This prints one line per module and lists the survivors
(`mutmut show NAME` prints the diff of one). A module none of whose mutants was checked (a
partial run: `mutmut run "shared.heartbeat.plan.*"`) is printed as "not run" and counts neither
toward the total nor as meeting the target. Exit status 1 when a module that was run is under
``--target``; 2 when no module was run.
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
    def killed(self) -> int:
        return self.counts["killed"] + self.counts["timeout"]

    @property
    def kill_rate(self) -> float | None:
        """Killed (timeouts included) over every mutant a test could have caught; None when no
        mutant of the module was checked (not run), so it is never read as 100%."""
        return self.killed / self.judged if self.judged else None


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
    run = [s for s in found if s.kill_rate is not None]
    if not run:
        print(f"no mutmut results under {args.mutants}/: run `make mutate`", file=sys.stderr)
        return 2
    print(f"{'module':<48} {'mutants':>7} {'killed':>6} {'survived':>8} {'no test':>7} {'kill rate':>9}")
    for s in found:
        if s.kill_rate is None:
            print(f"{s.module:<48} {'':>7} {'':>6} {'':>8} {'':>7} {'not run':>9}")
            continue
        print(
            f"{s.module:<48} {s.judged:>7} {s.killed:>6} {s.counts['survived']:>8} "
            f"{s.counts['no tests']:>7} {s.kill_rate:>9.1%}"
        )
    total_killed = sum(s.killed for s in run)
    total = sum(s.judged for s in run)
    label = "all" if len(run) == len(found) else f"all run ({len(run)} of {len(found)} modules)"
    print(f"{label:<48} {total:>7} {total_killed:>6} {'':>8} {'':>7} {total_killed / total:>9.1%}")
    survivors = [name for s in run for name in s.survivors]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}; `mutmut show NAME` prints one):")
        for name in survivors:
            print(f"  {name}")
    below = [s.module for s in run if s.kill_rate is not None and s.kill_rate < args.target]
    if below:
        print(f"\nunder the {args.target:.0%} target: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
