"""The chaos figures: what the fault tests injected and what came of it, counted as they run.

Each fault test takes the session's ``Figures`` (fixture ``figures`` in tests/chaos/conftest.py)
and records every fault it injects, every bad input it sends, every invocation's wall time against
its budget, and what it finds afterwards: alerts lost, deliveries received twice, secrets in logs
or answers. At the end of the session the figures are written to ``FIGURES_FILE``;
``python -m tests.chaos.report`` prints them (``make chaos``, and after ``make unit``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

FIGURES_FILE = Path(__file__).resolve().parents[2] / ".chaos-figures.json"


@dataclass
class Invocation:
    """One invocation of a real function under a fault: its wall time and its budget, seconds."""

    test: str
    function: str
    seconds: float
    budget: float


@dataclass
class Figures:
    """Counts of one test session (see the module docstring)."""

    faults: list[str] = field(default_factory=list)
    bad_inputs: int = 0
    alerts_recorded: int = 0
    alerts_lost: int = 0
    duplicate_deliveries: int = 0
    secrets_found: int = 0
    invocations: list[Invocation] = field(default_factory=list)

    def fault(self, what: str) -> None:
        """One fault injected (a sentence naming it)."""
        self.faults.append(what)

    def invocation(self, test: str, function: str, seconds: float, budget: float) -> None:
        """One invocation's wall time against its budget; printed as the test runs too."""
        self.invocations.append(Invocation(test, function, round(seconds, 2), budget))
        print(f"\n{test}: {function} took {seconds:.2f} s of its {budget:.0f} s budget")

    def deliveries(self, recorded: Iterable[str], received: Iterable[str]) -> None:
        """Alert ids recorded for one channel and those its receiver got: each recorded alert must
        arrive once; one that never arrived is lost, one that arrived again a duplicate."""
        wanted = set(recorded)
        got = Counter(received)
        self.alerts_recorded += len(wanted)
        self.alerts_lost += len(wanted - set(got))
        self.duplicate_deliveries += sum(n - 1 for n in got.values() if n > 1)

    def write(self, path: Path = FIGURES_FILE) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))


def read(path: Path = FIGURES_FILE) -> Figures | None:
    """The figures of the last session that ran fault tests, or None."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    data["invocations"] = [Invocation(**i) for i in data["invocations"]]
    return Figures(**data)
