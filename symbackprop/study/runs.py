"""The learning-rate study's runs: the same problem trained with several learning rates, side by side.

Every rate starts from the problem's values and takes the same number of steps; the loss over all
examples is recorded before each update and after the last (`training.run`). A run whose values
overflow (or reach the log of 0) is kept as far as it got, for verdicts.py to judge "diverges";
report.py writes the report and plots.py the loss curves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from ..engine import training
from ..engine.compiled import NumericRunError
from ..errors import ProblemError
from ..parsing.expressions import parse_number
from .verdicts import Curve, RunVerdict, best_index, judge_all

#: At most this many learning rates in one study (one colour each).
MAX_RATES = 10


@dataclass(frozen=True)
class Study:
    """The same problem run once per learning rate for the same steps: a curve and a verdict each."""

    problem: object
    steps: int
    epochs: int | None
    curves: tuple[Curve, ...]
    verdicts: tuple[RunVerdict, ...]

    @property
    def best(self) -> int | None:
        """The index of the rate with the lowest final loss among those that did not diverge."""
        return best_index(self.curves, self.verdicts)


# --- runs ----------------------------------------------------------------------------------------

def check_learning_rates(rates) -> tuple[sp.Expr, ...]:
    """Exact positive learning rates, each once, in increasing order."""
    rates = [r if isinstance(r, sp.Basic) else parse_number(r) for r in rates]
    if not rates:
        raise ProblemError("give at least one learning rate", key="learning_rates")
    if len(rates) > MAX_RATES:
        raise ProblemError(f"at most {MAX_RATES} learning rates in one study, got {len(rates)}",
                           key="learning_rates")
    for rate in rates:
        if not (isinstance(rate, sp.Expr) and rate.is_number and rate.is_positive):
            raise ProblemError(f"a learning rate must be a number greater than 0, got {rate}",
                               key="learning_rates")
    for i, rate in enumerate(rates):
        if any(sp.simplify(rate - other) == 0 for other in rates[:i]):
            raise ProblemError(f"the learning rate {rate} is given twice", key="learning_rates")
    return tuple(sorted(rates, key=lambda r: sp.N(r, 30)))


def prepare(problem, learning_rates, steps: int | None = None, epochs: int | None = None):
    """Check a study before running it: (problem, rates in increasing order, steps, epochs)."""
    rates = check_learning_rates(learning_rates)
    if problem.learning_rate is None:   # the problem's own rate is not needed: the study gives them
        problem = dataclasses.replace(problem, learning_rate=rates[0])
    count, epochs = training.steps_for(problem, steps, epochs)
    return problem, rates, count, epochs


def run_study(problem, learning_rates, steps: int | None = None, *, epochs: int | None = None,
              kink: sp.Expr | None = None,
              progress: Callable[[int], None] | None = None) -> Study:
    """Train `problem` once per learning rate for the same number of steps (or epochs), each from
    the problem's values. `progress(n)` is called after every n updates (steps times rates, in
    all)."""
    original = problem
    problem, rates, count, epochs = prepare(problem, learning_rates, steps, epochs)
    kink = problem.kink if kink is None else kink
    try:
        curves = tuple(_curve(problem, count, kink, rate, epochs, progress) for rate in rates)
    except ProblemError as exc:
        raise exc.located(source=original.source,
                          line=original.lines.get(exc.key or "")) from None
    return Study(problem, count, epochs, curves, judge_all(curves))


UNEVALUABLE = ("the loss cannot be evaluated at the problem's values (division by zero or the log "
               "of a number that is not positive)")


def _curve(problem, steps: int, kink, rate, epochs, progress) -> Curve:
    try:
        run = training.run(problem, steps, kink, learning_rate=rate, epochs=epochs, progress=progress)
        diverged = None
    except training.Diverged as exc:
        # Kept as far as it got: the history ends with the loss before the step that went past the
        # bound, which is the step the verdict names.
        run, diverged = exc.run, len(exc.run.history)
        if progress and diverged < steps:
            progress(steps - diverged)
    except NumericRunError as exc:
        raise ProblemError(f"{UNEVALUABLE}: {exc.message}", key="values") from None
    if not run.history:
        raise ProblemError(UNEVALUABLE, key="values")
    history = tuple(training.approximate(h) for h in run.history)
    parameters = tuple({n: training.approximate(v) for n, v in p.items()} for p in run.parameters)
    return Curve(rate, history, parameters, overflow_step=diverged, balls=run.history)

