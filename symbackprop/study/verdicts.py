"""A run's verdict from its loss history alone (plus, for a level loss, whether the parameters move):

- diverges: the values overflowed, or the final loss is DIVERGENCE_FACTOR times the initial or more;
- oscillates: the loss went up at some step (overshoot; the increases are counted), or it stayed
  level while the parameters jumped (a cycle such as w = 0, 6, 0, 6 around the minimum w = 3);
- crawls: the loss decreased at every step but ends far above the best rate's final loss;
- converges: the loss decreased at every step and its last change is small;
- still decreasing: the loss decreased at every step and was still falling fast at the end.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

import sympy as sp
from flint import arb

from ..arithmetic import certified
from ..engine import training

DIVERGES, OSCILLATES, CRAWLS, CONVERGES, DECREASING = (
    "diverges", "oscillates", "crawls", "converges", "still decreasing")


#: A final loss at least this many times the initial one has diverged.
DIVERGENCE_FACTOR = Decimal(10)


#: Changes smaller than this fraction of the largest loss of a run are rounding, not changes.
NOISE = Decimal("1e-30")


#: The parameters "move" at a step where one changes by more than this (relative to max(1, |p|)).
MOVE = Decimal("1e-9")


#: A run has converged when its last step lowered the loss by at most this fraction of the initial.
SETTLED = Decimal("1e-3")


#: A run crawls when it is still more than this share of the best rate's drop above the best final
#: loss, or ...
CRAWL_SHARE = Decimal("0.1")


#: ... when its final loss is more than CRAWL_RATIO times the best one and not yet negligible (more
#: than NEGLIGIBLE times its initial loss).
CRAWL_RATIO = Decimal(1000)


NEGLIGIBLE = Decimal("1e-6")


@dataclass(frozen=True)
class RunVerdict:
    kind: str
    #: Steps at which the loss went up.
    increases: int = 0
    #: Steps at which the loss stayed level while the parameters moved.
    level_jumps: int = 0
    #: The step (counting from 1) at which the run overflowed, or None: its gradient, its update or
    #: the loss after it could not be evaluated.
    overflow_step: int | None = None
    #: The last step's decrease as a fraction of the initial loss (runs that decrease throughout).
    last_change: Decimal | None = None
    #: The first step whose change of the loss is 0 or too small for the run's values to tell its
    #: sign (less than one part in 10^29), the parameters moving less than MOVE: the minimum reached.
    settled_at: int | None = None


@dataclass(frozen=True)
class Curve:
    """One learning rate's run: the loss before each update and after the last, as far as it got."""

    learning_rate: sp.Expr
    #: The losses as Decimals (a ball's midpoint), for the verdicts' comparisons.
    history: tuple[Decimal, ...]
    parameters: tuple[dict[str, Decimal], ...] = ()
    #: The step (counting from 1) at which the run overflowed, or None for a complete run; the
    #: history then ends with the loss before that step (len(history) == overflow_step).
    overflow_step: int | None = None
    #: The run's balls of the same losses, from which they are printed (every digit certain).
    balls: tuple[arb, ...] = ()

    def shown(self, step: int) -> Decimal | arb:
        """The loss at `step` as it is printed: the certain ball where there is one."""
        return self.balls[step] if self.balls else self.history[step]

    @property
    def initial(self) -> Decimal:
        return self.history[0]

    @property
    def final(self) -> Decimal:
        return self.history[-1]

    @property
    def minimum(self) -> tuple[Decimal, int]:
        """The lowest loss and the first step (0 = before the first update) where it occurred."""
        if self.balls:
            at = 0
            for t in range(1, len(self.balls)):
                if certified.compare(self.balls[t], self.balls[at]) == -1:
                    at = t
            return self.history[at], at
        low = min(self.history)
        return low, self.history.index(low)


def best_index(curves, verdicts) -> int | None:
    candidates = [i for i, v in enumerate(verdicts) if v.kind != DIVERGES]
    return min(candidates, key=lambda i: curves[i].final) if candidates else None


def judge(history, *, overflow_step: int | None = None, parameters=(),
          best_final: Decimal | None = None, balls=()) -> RunVerdict:
    """The verdict on one loss history (see the module's docstring for the rules).

    `parameters` (one mapping per entry of history) tells a cycle from a standstill where the loss
    stays level; `best_final` is the best rate's final loss, against which a run may crawl. With
    `balls` (the run's own values, exact or balls), whether the loss went up or stayed level at a
    step is decided with certainty from them, and the last change, which is printed, computed."""
    with decimal.localcontext(_WIDE):
        history = [h if isinstance(h, Decimal) else Decimal(str(h)) for h in history]
        if not history:
            raise ValueError("a history has at least the initial loss")
        if overflow_step is not None:
            return RunVerdict(DIVERGES, overflow_step=overflow_step)
        changes = _changes(history, balls)
        first, last = history[0], history[-1]
        if last > first and last - first >= (DIVERGENCE_FACTOR - 1) * abs(first):
            return RunVerdict(DIVERGES, increases=changes.count(1))
        level = [t for t, c in enumerate(changes, start=1) if c == 0]
        jumps = sum(1 for t in level if t < len(parameters) and _moved(parameters[t - 1], parameters[t]))
        if changes.count(1) or jumps:
            return RunVerdict(OSCILLATES, increases=changes.count(1), level_jumps=jumps)
        scale = abs(first) or max(abs(h) for h in history)
        last_change = (history[-2] - last) / scale if len(history) > 1 and scale else Decimal(0)
        shown_change = last_change
        if len(balls) > 1 and scale:
            # The change is printed: from the run's values, as the difference of two close losses
            # cancels.
            top = balls[0] if first else max(balls, key=lambda b: abs(training.approximate(b)))
            shown_change = certified.quotient(certified.difference(balls[-2], balls[-1]), abs(top))
        settled_at = level[0] if level else None    # level without moving: the minimum reached
        if best_final is not None and _far_above(last, best_final, first):
            return RunVerdict(CRAWLS, last_change=shown_change, settled_at=settled_at)
        if last_change <= SETTLED:
            return RunVerdict(CONVERGES, last_change=shown_change, settled_at=settled_at)
        return RunVerdict(DECREASING, last_change=shown_change, settled_at=settled_at)


#: Decimal arithmetic on the 40-digit approximations without rounding them to the default 28.
_WIDE = decimal.Context(prec=100, Emax=10**9, Emin=-10**9)


def _changes(history: list[Decimal], balls) -> list[int]:
    """For each step, whether the loss went up (1), down (-1) or stayed level (0): from the run's
    own values where there are some (level where the balls cannot tell), else from the Decimals
    with changes below NOISE taken as level."""
    if balls:
        return [{1: 1, -1: -1}.get(certified.compare(balls[t], balls[t - 1]), 0)
                for t in range(1, len(balls))]
    noise = NOISE * max(abs(h) for h in history)
    return [1 if history[t] > history[t - 1] + noise else 0 if abs(history[t] - history[t - 1]) <= noise
            else -1 for t in range(1, len(history))]


def _moved(before: dict[str, Decimal], after: dict[str, Decimal]) -> bool:
    return any(abs(after[name] - before[name]) > MOVE * max(Decimal(1), abs(before[name]))
               for name in before)


def _far_above(final: Decimal, best: Decimal, initial: Decimal) -> bool:
    gap = final - best
    if gap <= 0:
        return False
    if gap > CRAWL_SHARE * (initial - best):
        return True
    return final > CRAWL_RATIO * best and final > NEGLIGIBLE * initial


def judge_all(curves) -> tuple[RunVerdict, ...]:
    """Verdicts for all curves: first without the crawl test, to find the best rate, then with."""
    first = [judge(c.history, overflow_step=c.overflow_step, parameters=c.parameters)
             for c in curves]
    best = best_index(curves, first)
    best_final = None if best is None else curves[best].final
    return tuple(judge(c.history, overflow_step=c.overflow_step, parameters=c.parameters,
                       best_final=None if i == best else best_final, balls=c.balls)
                 for i, c in enumerate(curves))
