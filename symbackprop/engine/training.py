"""Many gradient-descent steps: batches, epochs, and the history of the loss.

The first update is derived exactly and shown in full (solution.py); a run of many steps is computed
by the compiled graph on arb balls, never as growing exact expressions. Every value a run records is
certain: the run is made at a working precision, and made again at a higher one (raised from how many
bits the first attempt lost, at least doubled) until every recorded loss and parameter holds
`REQUIRED_BITS` correct bits and every kink's side is decided. Long runs lose bits to cancellation
(a loss of 1e-100 is a difference of two numbers near 1) and to ball arithmetic's own widening, so
the precision a run needs is found, not fixed.

The loss recorded before each update and after the last is the loss over the whole data set (all
examples, reduced by the problem's mean or sum), so that runs with different batch sizes compare.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import sympy as sp
from flint import arb, fmpq

from ..arithmetic import certified
from ..arithmetic.certified import (
    MAX_EXP_ARGUMENT,
    NeedMorePrecision,
    TooLarge,
    working_precision,
)
from ..errors import ProblemError
from .compiled import CompiledGraph, Env, NumericRunError, Value, capped, to_ball

MAX_STEPS = 1_000_000
#: Correct bits every recorded value must have: 15 digits (50 bits) for the answer key, and room so
#: that rounding them to fewer digits is decided too.
REQUIRED_BITS = 100
#: The first working precision of a run, in bits (certified.START_BITS is that of single values).
RUN_START_BITS = 128
#: A run stops as diverged once the loss or a parameter exceeds this in magnitude. Exact arithmetic
#: never overflows, so this bound is what "grows without bound" means here.
DIVERGENCE_BOUND = 10 ** 100


@dataclass(frozen=True)
class Run:
    """The result of N updates: exact rationals, or balls holding REQUIRED_BITS correct bits or more."""

    #: Loss over all examples before each update, and after the last: N + 1 numbers.
    history: tuple[Value, ...]
    #: Parameter values before each update, and after the last: N + 1 mappings.
    parameters: tuple[dict[str, Value], ...]
    learning_rate: sp.Expr
    #: Every node's value after the last update (one example), or None with a data set.
    final_nodes: dict[str, Value] | None
    epochs: int | None = None
    #: The working precision the run needed, in bits.
    bits: int = RUN_START_BITS

    @property
    def steps(self) -> int:
        return len(self.history) - 1

    @property
    def exact(self) -> bool:
        """Whether every recorded value is an exact rational (no ball was needed)."""
        return all(isinstance(v, fmpq) for v in self.history) and all(
            isinstance(v, fmpq) for values in self.parameters for v in values.values())

    @property
    def stopped_decreasing(self) -> int | None:
        """The first update (counting from 1) after which the loss certainly did not decrease (it
        went up, or stayed exactly the same), or None."""
        for step in range(1, len(self.history)):
            if certified.compare(self.history[step], self.history[step - 1]) in (0, 1):
                return step
        return None

    @property
    def too_small_to_tell(self) -> int | None:
        """The first update (counting from 1) whose change of the loss is too small for the balls
        to tell its sign (less than 1 part in 2^REQUIRED_BITS), before any certain stop; or None."""
        stopped = self.stopped_decreasing
        for step in range(1, len(self.history) if stopped is None else stopped):
            if certified.compare(self.history[step], self.history[step - 1]) is None:
                return step
        return None


class Diverged(NumericRunError):
    """The loss or a parameter grew past DIVERGENCE_BOUND; `run` holds the steps before it."""

    def __init__(self, message: str, run: Run):
        super().__init__(message, key="learning_rate")
        self.run = run


class _Imprecise(Exception):
    """A run attempt whose values lost too many bits by `step` (`lost` bits)."""

    def __init__(self, step: int, lost: int):
        self.step, self.lost = step, lost


def approximate(value: Value, digits: int = 40) -> Decimal:
    """A value (a ball by its midpoint) as a Decimal of `digits` digits: for comparing runs, never
    for printing."""
    context = decimal.Context(prec=digits, Emax=10**9, Emin=-10**9)
    if isinstance(value, fmpq):
        return context.divide(Decimal(int(value.p)), Decimal(int(value.q)))
    man, exp = (int(part) for part in value.mid().man_exp())
    return context.multiply(Decimal(man), context.power(Decimal(2), exp))


def steps_for(problem, steps: int | None, epochs: int | None) -> tuple[int, int | None]:
    """The number of updates asked for by --steps or --epochs (an epoch is one pass over the data)."""
    if steps is not None and epochs is not None:
        raise ProblemError("give a number of steps or of epochs, not both", key="epochs")
    if epochs is not None:
        if problem.data is None:
            raise ProblemError("epochs need a data set (data:); give a number of steps instead", key="epochs")
        steps = epochs * problem.data.batches_per_epoch
    steps = 1 if steps is None else steps
    if not 1 <= steps <= MAX_STEPS:
        raise ProblemError(f"the number of steps must be from 1 to {MAX_STEPS}", key="steps")
    if problem.learning_rate is None:
        raise ProblemError("training needs learning_rate: and parameters:", key="learning_rate")
    check_trainable(problem)
    if problem.given:
        raise ProblemError("given forward values hold for the first weights only; a run of many steps "
                           "recomputes every node, so it cannot use given:", key="given")
    return steps, epochs


def check_trainable(problem) -> None:
    """Training needs parameters and a number for every symbol the loss depends on (one it does
    not use may stay without)."""
    if not problem.parameters:
        raise ProblemError("training needs parameters: the symbols to update", key="parameters")
    graph = problem.graph
    data = set(problem.data.symbols) if problem.data is not None else set()
    symbols = set(graph.symbols)
    needed = [s for s in graph.ancestors(problem.loss) if s in symbols]
    missing = [s for s in needed if s not in problem.values and s not in data]
    if missing:
        raise ProblemError("a run of many steps needs a number for every symbol the loss depends "
                           f"on; no value for {', '.join(missing)}", key="values")


def run(problem, steps: int, kink: sp.Expr, *, learning_rate: sp.Expr | None = None,
        epochs: int | None = None, progress: Callable[[int], None] | None = None) -> Run:
    """Take `steps` gradient-descent steps from the problem's values, every recorded value certain.

    Raises Diverged when the values grow past DIVERGENCE_BOUND, NumericRunError when a value is not
    a real number (the log of a negative number) or cannot be made certain within certified.MAX_BITS.
    """
    graph = CompiledGraph(problem.graph, problem.loss, kink)
    eta = problem.learning_rate if learning_rate is None else learning_rate
    reported = [0]

    def advance(step: int) -> None:
        # A run made again at a higher precision reports only the steps it had not reached before.
        if progress and step > reported[0]:
            progress(step - reported[0])
            reported[0] = step

    bits = RUN_START_BITS
    while True:
        try:
            with working_precision(bits):
                return _run(graph, problem, eta, steps, epochs, bits, advance)
        except NeedMorePrecision as undecided:
            needed, reason = 2 * bits, str(undecided)
        except _Imprecise as short:
            # Bits lost so far, spread over the steps taken, projected over the whole run.
            rate = short.lost / max(short.step, 1)
            needed = max(2 * bits, int(REQUIRED_BITS + 64 + 1.25 * rate * (steps + 1)))
            reason = f"by update {short.step} the values had lost {short.lost} bits"
        if bits >= certified.MAX_BITS:
            raise NumericRunError(f"the run's values could not be made certain within "
                                  f"{certified.MAX_BITS} bits of working precision ({reason}; a "
                                  "kink's input that is exactly 0 is one cause)", key="learning_rate")
        bits = min(-(-needed // 64) * 64, certified.MAX_BITS)


def _run(graph: CompiledGraph, problem, eta: sp.Expr, steps: int, epochs: int | None, bits: int,
         advance: Callable[[int], None]) -> Run:
    learning_rate = to_ball(eta)
    constants = {name: to_ball(v) for name, v in problem.values.items() if name not in problem.parameters}
    parameters = {name: to_ball(problem.values[name]) for name in problem.parameters}
    examples = _examples(problem)
    history, snapshots = [], []

    def so_far() -> Run:
        """The run up to the last value recorded: what a study keeps of one that diverged."""
        return Run(tuple(history), tuple(snapshots), eta, None, epochs, bits)

    def record(loss: Value, step: int) -> None:
        _check(loss, parameters, step, bits, so_far)
        history.append(loss)
        snapshots.append(dict(parameters))

    for step in range(steps):
        batch = range(len(examples)) if problem.data is None else problem.data.batch(step)
        try:
            if len(batch) == len(examples):
                # Full batch: one forward pass per example gives both the loss and the gradient.
                loss, gradient = _loss_and_gradient(graph, problem, constants, parameters, examples)
            else:
                loss = _data_loss(graph, problem, constants, parameters, examples)
                _, gradient = _loss_and_gradient(graph, problem, constants, parameters,
                                                 [examples[i] for i in batch])
        except TooLarge as exc:
            raise Diverged(f"the run diverged: a value grew past e^{MAX_EXP_ARGUMENT} at update "
                           f"{step} ({exc}; try a smaller learning rate)", so_far()) from None
        record(loss, step)
        parameters = {name: capped(value - learning_rate * gradient[name])
                      for name, value in parameters.items()}
        advance(step + 1)
    try:
        final_loss = _data_loss(graph, problem, constants, parameters, examples)
    except TooLarge as exc:
        raise Diverged(f"the run diverged: a value grew past e^{MAX_EXP_ARGUMENT} after update "
                       f"{steps} ({exc})", so_far()) from None
    record(final_loss, steps)
    final_nodes = None
    if problem.data is None:
        final_nodes = {n: v for n, v in graph.forward({**constants, **parameters}).items()
                       if n in problem.graph.nodes}
        for name, value in final_nodes.items():
            if _inaccurate(value, may_be_zero=name != problem.loss):
                raise _Imprecise(steps, bits - max(value.rel_accuracy_bits(), 0))
    return Run(tuple(history), tuple(snapshots), eta, final_nodes, epochs, bits)


def _check(loss: Value, parameters: Env, step: int, bits: int, so_far: Callable[[], Run]) -> None:
    """Stop a run whose values grew past DIVERGENCE_BOUND, or whose balls grew too wide."""
    for name, value in (("the loss", loss), *parameters.items()):
        if abs(value) > DIVERGENCE_BOUND:
            bound = f"1e{len(str(DIVERGENCE_BOUND)) - 1}"
            if step == 0:
                raise Diverged(f"{name} is past {bound} before the first update: a run from these "
                               "values cannot be told from one that diverges", so_far())
            raise Diverged(f"the run diverged: {name} grew past {bound} at update {step} (try a "
                           "smaller learning rate)", so_far())
    wide = [v for v in parameters.values() if _inaccurate(v)]
    if _inaccurate(loss, may_be_zero=False):
        wide.append(loss)
    if wide:
        raise _Imprecise(step, bits - max(min(v.rel_accuracy_bits() for v in wide), 0))


def _inaccurate(value: Value, may_be_zero: bool = True) -> bool:
    """Whether a value has fewer than REQUIRED_BITS correct bits. A ball within 2^-100 of 0 passes
    where `may_be_zero` (a parameter that symmetry keeps at exactly 0 cannot be proven 0 by balls;
    it is written 0), never for the loss, whose tiny values are the end of every good run."""
    if isinstance(value, fmpq) or value.is_zero():
        return False
    if may_be_zero and certified.negligible(value):
        return False
    return value.rel_accuracy_bits() < REQUIRED_BITS


def _examples(problem) -> list[Env]:
    if problem.data is None:
        return [{}]
    return [{name: to_ball(v) for name, v in row.items()} for row in problem.data.rows]


def _reduce(problem, terms: list[Value]) -> Value:
    total = sum(terms, fmpq(0))
    if problem.data is not None and problem.data.reduction == "mean":
        total = total / len(terms)
    return capped(total)


def _data_loss(graph: CompiledGraph, problem, constants: Env, parameters: Env,
               examples: list[Env]) -> arb:
    return _reduce(problem, [graph.forward({**constants, **parameters, **example})[problem.loss]
                             for example in examples])


def _loss_and_gradient(graph: CompiledGraph, problem, constants: Env, parameters: Env,
                       batch: list[Env]) -> tuple[arb, Env]:
    """The batch's reduced loss and the reduced gradient of every parameter."""
    losses, per_example = [], []
    for example in batch:
        values = graph.forward({**constants, **parameters, **example})
        gradients = graph.gradients(values)
        losses.append(values[problem.loss])
        per_example.append({name: gradients.get(name, fmpq(0)) for name in parameters})
    return (_reduce(problem, losses),
            {name: _reduce(problem, [g[name] for g in per_example]) for name in parameters})
