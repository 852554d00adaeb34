"""Print the chaos figures of the last test session: ``python -m tests.chaos.report``."""

from __future__ import annotations

import sys

from tests.chaos.figures import FIGURES_FILE, Figures, read


def lines(figures: Figures) -> list[str]:
    """The figures block, one line per figure."""
    worst = max(figures.invocations, key=lambda i: i.seconds / i.budget, default=None)
    slowest = (
        f"{worst.seconds:.2f} s of a {worst.budget:.0f} s budget ({worst.function}, {worst.test})"
        if worst
        else "no invocation timed"
    )
    return [
        "==> chaos figures (counted by tests/chaos as they ran)",
        f"  faults injected            {len(figures.faults)}",
        f"  bad inputs tried           {figures.bad_inputs}",
        f"  alerts recorded            {figures.alerts_recorded}",
        f"  alerts lost                {figures.alerts_lost}",
        f"  duplicate deliveries       {figures.duplicate_deliveries}",
        f"  invocations timed          {len(figures.invocations)}",
        f"  worst invocation time      {slowest}",
        f"  secrets found in logs      {figures.secrets_found}",
    ]


def main() -> int:
    figures = read()
    if figures is None:
        print(f"no chaos figures: {FIGURES_FILE.name} is missing (run the tests of tests/chaos)")
        return 1
    print("\n".join(lines(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
