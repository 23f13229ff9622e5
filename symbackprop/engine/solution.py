"""A solved problem: forward values, chain-rule steps, gradients, the update and the loss after it.

`Solution.to_dict()` (the JSON answer key, printing/answer_key.py) and `Solution.render()` (text,
Markdown or LaTeX, printing/rendering.py) are lazy facades; this module only derives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import sympy as sp

from ..arithmetic import numeric
from ..arithmetic.numeric import NumericError
from ..budget import collection_paused
from ..errors import ProblemError
from ..model.steps import ForwardStep, Gradient, Steps, UpdateStep
from ..model.symbols import symbol
from . import backprop, tape, training
from .training import Run, steps_for

if TYPE_CHECKING:
    from ..model.problem import Problem


@dataclass(frozen=True)
class Example:
    """One example's forward and reverse pass (a problem without data has exactly one)."""

    #: Position in the data set, counting from 0.
    index: int
    #: This example's values of the data symbols (empty without data).
    inputs: dict[str, sp.Expr]
    forward: dict[str, ForwardStep]
    gradients: dict[str, Gradient]
    #: The reverse pass, each step built when read.
    steps: Steps


@dataclass(frozen=True)
class Solution:
    problem: "Problem"
    kink: sp.Expr
    #: The examples of the first batch, each solved in full.
    examples: list[Example]
    #: The gradients the update uses: the example's own, or with data the batch's (mean or sum).
    gradients: dict[str, Gradient]
    updates: list[UpdateStep]
    #: Every node's value in a second forward pass with the updated parameters (one example only).
    after_update: dict[str, sp.Expr]
    #: With data: the batch loss before and after the update.
    batch_loss: sp.Expr | None = None
    batch_loss_after: sp.Expr | None = None
    #: With more than one step: the whole run, computed numerically after the first step.
    run: Run | None = None

    @property
    def loss(self) -> str:
        return self.problem.loss

    @property
    def forward(self) -> dict[str, ForwardStep]:
        """The forward pass of the (first) example."""
        return self.examples[0].forward

    @property
    def steps(self) -> Steps:
        """The reverse pass of the (first) example."""
        return self.examples[0].steps

    def to_dict(self, gradients: str | list[str] | None = None) -> dict[str, Any]:
        """The JSON answer key: every value as an exact SymPy string and a decimal string; the
        gradients asked (`gradients`: names or "all"; by default the problem's) and those they need."""
        return _printing().answer_key.build(self, gradients)

    def render(self, format: str = "txt", **options) -> str:
        """The worked solution as txt, md, tex or json (see printing.rendering for the options)."""
        return _printing().rendering.render(self, format, **options)

    def _repr_markdown_(self) -> str:
        """Jupyter shows a Solution as its Markdown worked solution."""
        return self.render("md")

    def _repr_latex_(self) -> str:
        """Jupyter's LaTeX display is MathJax, which takes mathematics only: the gradients."""
        return _printing().rendering.gradients_latex(self)


def solve_problem(problem: "Problem", kink: sp.Expr | None = None, *, steps: int | None = None,
                  epochs: int | None = None,
                  progress: Callable[[int], None] | None = None) -> Solution:
    """Problem.solve: the solution, with errors located in the problem's file, and a value that
    cannot be computed outside any node said as such."""
    try:
        if steps is not None or epochs is not None:
            steps, epochs = steps_for(problem, steps, epochs)
        return solve(problem, problem.kink if kink is None else kink, steps, epochs, progress)
    except ProblemError as exc:
        raise exc.located(source=problem.source, line=problem.lines.get(exc.key or "")) from None
    except NumericError as exc:
        # Values computed outside any node (an update, a batch's mean) are checked by the same
        # rules, but no node's key names them.
        key = "learning_rate" if problem.learning_rate is not None else None
        raise ProblemError(f"the update or a batch's loss cannot be computed: {exc}", key=key,
                           source=problem.source, line=problem.lines.get(key or "")) from None


def gradients_of(problem: "Problem", names=None, digits: int = 15, kink: sp.Expr | None = None) -> dict:
    """Problem.gradients: exact gradients without steps (tape.py), errors located in the file."""
    try:
        with collection_paused():               # the tape is tens of thousands of tuples
            return tape.gradients(problem, names, digits, kink)
    except ProblemError as exc:
        raise exc.located(source=problem.source, line=problem.lines.get(exc.key or "")) from None


def solve(problem: "Problem", kink: sp.Expr, steps: int | None = None, epochs: int | None = None,
          progress: Callable[[int], None] | None = None) -> Solution:
    """The first update in full (every example of the first batch); with `steps` (even 1), the run
    of that many updates too."""
    # The first update builds every step; the run after it is numeric, and long.
    with collection_paused():
        graph = problem.graph
        rows = [{}] if problem.data is None else [problem.data.rows[i] for i in problem.data.batch(0)]
        indices = [0] if problem.data is None else list(problem.data.batch(0))
        examples = []
        for index, row in zip(indices, rows):
            fwd = backprop.forward(graph, {**problem.values, **row}, problem.given)
            gradients, chain = backprop.backward(graph, problem.loss, fwd, kink)
            examples.append(Example(index, row, fwd.steps, gradients, chain))
        gradients = examples[0].gradients if problem.data is None else _batch_gradients(problem, examples)
        batch_loss = None if problem.data is None else numeric.carried(
            problem.data.reduce([e.forward[problem.loss].value for e in examples]))
        updates: list[UpdateStep] = []
        after_update: dict[str, sp.Expr] = {}
        batch_loss_after = None
        if problem.learning_rate is not None:
            eta = problem.learning_rate
            new_values = dict(problem.values)
            for name in problem.parameters:
                gradient = gradients.get(name, Gradient(sp.S.Zero, sp.S.Zero)).value
                old = problem.values.get(name, symbol(name))
                new = numeric.carried(old - eta * gradient)
                updates.append(UpdateStep(name, old, eta, gradient, new))
                new_values[name] = new
            # Given values belong to the old weights, so the second pass recomputes every node.
            try:
                seconds = [backprop.forward(graph, {**new_values, **row}, {}) for row in rows]
            except ProblemError as exc:
                raise ProblemError(f"after the update: {exc.message}", key=exc.key) from None
            if problem.data is None:
                after_update = {name: step.value for name, step in seconds[0].steps.items()}
            else:
                batch_loss_after = numeric.carried(problem.data.reduce(
                    [second.steps[problem.loss].value for second in seconds]))
    run = None
    if steps is not None:
        run = training.run(problem, steps, kink, epochs=epochs, progress=progress)
    return Solution(problem, kink, examples, gradients, updates, after_update, batch_loss,
                    batch_loss_after, run)


def _batch_gradients(problem: "Problem", examples: list[Example]) -> dict[str, Gradient]:
    """The batch's gradient of every symbol that is not data: the mean or sum of the examples'."""
    data_symbols = set(problem.data.symbols)
    names = [n for n in examples[0].gradients if n in problem.graph.symbols and n not in data_symbols]
    return {name: Gradient(None, numeric.carried(
                problem.data.reduce([e.gradients[name].value for e in examples])))
            for name in names}


def _printing():
    """The printing layer, which lies above this one (it reads Solutions): imported on first use,
    as SymPy's `Basic.simplify` imports the simplifier, so that deriving never loads it."""
    from .. import printing

    return printing
