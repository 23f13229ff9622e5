"""Many gradient-descent steps: batches, epochs, and the history of the loss.

The first update is derived exactly and shown in full (solution.py); a run of many steps is computed
by the compiled graph at `compiled.DIGITS` significant digits, never as growing exact expressions.
The loss recorded before each update and after the last is the loss over the whole data set (all
examples, reduced by the problem's mean or sum), so that runs with different batch sizes compare.
"""

from __future__ import annotations

from dataclasses import dataclass
import decimal
from decimal import Decimal
from typing import Callable

import sympy as sp

from .compiled import CONTEXT, DIGITS, CompiledGraph, Env, NumericRunError, to_decimal
from .errors import ProblemError

MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class Run:
    """The result of N updates."""

    #: Loss over all examples before each update, and after the last: N + 1 numbers.
    history: tuple[Decimal, ...]
    #: Parameter values before each update, and after the last: N + 1 mappings.
    parameters: tuple[dict[str, Decimal], ...]
    learning_rate: Decimal
    #: Every node's value after the last update (one example), or None with a data set.
    final_nodes: dict[str, Decimal] | None
    epochs: int | None = None
    digits: int = DIGITS

    @property
    def steps(self) -> int:
        return len(self.history) - 1

    @property
    def stopped_decreasing(self) -> int | None:
        """The first update (counting from 1) after which the loss did not decrease, or None."""
        for step in range(1, len(self.history)):
            if self.history[step] >= self.history[step - 1]:
                return step
        return None


def steps_for(problem, steps: int | None, epochs: int | None) -> tuple[int, int | None]:
    """The number of updates asked for by --steps or --epochs (an epoch is one pass over the data)."""
    if steps is not None and epochs is not None:
        raise ProblemError("give --steps or --epochs, not both", key="--epochs")
    if epochs is not None:
        if problem.data is None:
            raise ProblemError("--epochs needs a data set (data:); use --steps", key="--epochs")
        steps = epochs * problem.data.batches_per_epoch
    steps = 1 if steps is None else steps
    if not 1 <= steps <= MAX_STEPS:
        raise ProblemError(f"the number of steps must be from 1 to {MAX_STEPS}", key="--steps")
    if problem.learning_rate is None:
        raise ProblemError("training needs learning_rate: and parameters:", key="learning_rate")
    data_symbols = set(problem.data.symbols) if problem.data else set()
    missing = [s for s in problem.graph.symbols if s not in problem.values and s not in data_symbols]
    if missing:
        raise ProblemError(f"a run of many steps needs a number for every symbol; {', '.join(missing)} "
                           "has none", key="values")
    if problem.given:
        raise ProblemError("given forward values hold for the first weights only; a run of many steps "
                           "recomputes every node, so it cannot use given:", key="given")
    return steps, epochs


def run(problem, steps: int, kink: sp.Expr, *, learning_rate: sp.Expr | None = None,
        epochs: int | None = None, progress: Callable[[int], None] | None = None) -> Run:
    """Take `steps` gradient-descent steps from the problem's values."""
    graph = CompiledGraph(problem.graph, problem.loss, kink)
    eta = to_decimal(problem.learning_rate if learning_rate is None else learning_rate)
    constants = {name: to_decimal(v) for name, v in problem.values.items()
                 if name not in problem.parameters}
    parameters = {name: to_decimal(problem.values[name]) for name in problem.parameters}
    examples = _examples(problem)
    with decimal.localcontext(CONTEXT):
        try:
            return _run(graph, problem, constants, parameters, examples, eta, steps, epochs, progress)
        except (decimal.Overflow, decimal.InvalidOperation, decimal.DivisionByZero):
            # An update or a mean too large for the precision: the run has diverged.
            raise NumericRunError("the parameters grew too large to represent: the run diverged "
                                  "(try a smaller learning rate)", key="learning_rate") from None


def _run(graph: CompiledGraph, problem, constants: Env, parameters: Env, examples: list[Env],
         eta: Decimal, steps: int, epochs: int | None, progress) -> Run:
    # Every operation here, the updates and the means included, runs at the compiled precision.
    history, snapshots = [], []
    for step in range(steps):
        snapshots.append(dict(parameters))
        batch = range(len(examples)) if problem.data is None else problem.data.batch(step)
        if len(batch) == len(examples):
            # Full batch: one forward pass per example gives both the loss and the gradient.
            loss, gradient = _loss_and_gradient(graph, problem, constants, parameters, examples)
        else:
            loss = _data_loss(graph, problem, constants, parameters, examples)
            _, gradient = _loss_and_gradient(graph, problem, constants, parameters,
                                             [examples[i] for i in batch])
        history.append(loss)
        parameters = {name: value - eta * gradient[name] for name, value in parameters.items()}
        if progress:
            progress(1)
    history.append(_data_loss(graph, problem, constants, parameters, examples))
    snapshots.append(dict(parameters))
    final_nodes = None
    if problem.data is None:
        final_nodes = {n: v for n, v in graph.forward({**constants, **parameters}).items()
                       if n in problem.graph.nodes}
    return Run(tuple(history), tuple(snapshots), eta, final_nodes, epochs)


def _examples(problem) -> list[Env]:
    if problem.data is None:
        return [{}]
    return [{name: to_decimal(v) for name, v in row.items()} for row in problem.data.rows]


def _reduce(problem, terms: list[Decimal]) -> Decimal:
    total = sum(terms, Decimal(0))
    if problem.data is not None and problem.data.reduction == "mean":
        return total / len(terms)
    return total


def _data_loss(graph: CompiledGraph, problem, constants: Env, parameters: Env,
               examples: list[Env]) -> Decimal:
    return _reduce(problem, [graph.forward({**constants, **parameters, **example})[problem.loss]
                             for example in examples])


def _loss_and_gradient(graph: CompiledGraph, problem, constants: Env, parameters: Env,
                       batch: list[Env]) -> tuple[Decimal, Env]:
    """The batch's reduced loss and the reduced gradient of every parameter."""
    losses, per_example = [], []
    for example in batch:
        values = graph.forward({**constants, **parameters, **example})
        gradients = graph.gradients(values)
        losses.append(values[problem.loss])
        per_example.append({name: gradients.get(name, Decimal(0)) for name in parameters})
    return (_reduce(problem, losses),
            {name: _reduce(problem, [g[name] for g in per_example]) for name in parameters})
