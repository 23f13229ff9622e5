"""A solved problem: forward values, chain-rule steps, gradients, the update and the loss after it.

`Solution.to_dict()` is the JSON answer key. Rendering to text, Markdown or LaTeX lives in
`render.py`; this module only derives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import sympy as sp

from . import backprop, numeric, training
from .training import Run
from .parse import symbol
from .printers import text
from .errors import ProblemError
from .steps import ChainStep, ForwardStep, Gradient, SumStep, UpdateStep

if TYPE_CHECKING:
    from .problem import Problem


@dataclass(frozen=True)
class Example:
    """One example's forward and reverse pass (a problem without data has exactly one)."""

    #: Position in the data set, counting from 0.
    index: int
    #: This example's values of the data symbols (empty without data).
    inputs: dict[str, sp.Expr]
    forward: dict[str, ForwardStep]
    gradients: dict[str, Gradient]
    steps: list[ChainStep | SumStep]


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
    def steps(self) -> list[ChainStep | SumStep]:
        """The reverse pass of the (first) example."""
        return self.examples[0].steps

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer key: every value as an exact SymPy string and a decimal string."""
        problem = self.problem
        key: dict[str, Any] = {
            "title": problem.title,
            "loss": problem.loss,
            "learning_rate": None if problem.learning_rate is None else text(problem.learning_rate),
            "kink": text(self.kink),
        }
        if problem.data is None:
            key["forward"] = _forward_dict(self.forward)
        else:
            key["reduction"] = problem.data.reduction
            key["examples"] = [{"index": e.index, "inputs": {n: _number(v) for n, v in e.inputs.items()},
                                "forward": _forward_dict(e.forward),
                                "gradients": _gradients_dict(e.gradients)} for e in self.examples]
            key["batch_loss"] = _number(self.batch_loss)
        key["gradients"] = _gradients_dict(self.gradients)
        key["updated"] = {u.parameter: _number(u.new) for u in self.updates}
        key["after_update"] = {name: _number(value) for name, value in self.after_update.items()}
        if self.batch_loss_after is not None:
            key["after_update"]["batch_loss"] = _number(self.batch_loss_after)
        if self.run is not None:
            _add_run(key, self.run, problem)
        key["steps"] = [_step_dict(step) for step in self.steps]
        return key

    def render(self, format: str = "txt", **options) -> str:
        """The worked solution as txt, md, tex or json (see render.render for the options)."""
        from .render import render

        return render(self, format, **options)

    def _repr_markdown_(self) -> str:
        """Jupyter shows a Solution as its Markdown worked solution."""
        return self.render("md")

    def _repr_latex_(self) -> str:
        """Jupyter's LaTeX display is MathJax, which takes mathematics only: the gradients."""
        from .formats import MarkdownFormat
        from .render import align_lines
        from .view import view

        lines = align_lines(view(self, MarkdownFormat(6))["gradients"])
        return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"


def solve(problem: "Problem", kink: sp.Expr, steps: int | None = None, epochs: int | None = None,
          progress: Callable[[int], None] | None = None) -> Solution:
    """The first update in full (every example of the first batch); with `steps` (even 1), the run
    of that many updates too."""
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


def _forward_dict(forward: dict[str, ForwardStep]) -> dict[str, Any]:
    return {name: {"expr": text(step.definition), **_number(step.value), "given": step.given}
            for name, step in forward.items()}


def _gradients_dict(gradients: dict[str, Gradient]) -> dict[str, Any]:
    return {name: {"symbolic": None if g.general is None else text(g.general), **_number(g.value)}
            for name, g in gradients.items()}


def _add_run(key: dict[str, Any], run: Run, problem: "Problem") -> None:
    """A run of many steps: its history, and the state after its last update. `updated` and
    `after_update` keep describing the first update, the one the steps show."""
    final: dict[str, Any] = {
        "loss": _number(run.history[-1]),
        "parameters": {n: _number(v) for n, v in run.parameters[-1].items()},
    }
    if run.final_nodes is not None:
        final["nodes"] = {n: _number(v) for n, v in run.final_nodes.items()}
    key["run"] = {"steps": run.steps, "epochs": run.epochs, "exact": run.exact,
                  "working_precision_bits": None if run.exact else run.bits,
                  "stopped_decreasing": run.stopped_decreasing,
                  "change_too_small_to_tell": run.too_small_to_tell, "final": final}
    key["history"] = [numeric.decimal_string(v) for v in run.history]


_number = numeric.exact_and_decimal


def _step_dict(step: ChainStep | SumStep) -> dict[str, Any]:
    kind = {ChainStep: "chain", SumStep: "sum"}[type(step)]
    result: dict[str, Any] = {"kind": kind}
    for field in dataclasses.fields(step):
        value = getattr(step, field.name)
        if field.name == "branches":
            value = [{"kind": b.kind, "argument": text(b.argument), "value": _maybe_str(b.value),
                      "outcome": _maybe_str(b.outcome), "source": b.source} for b in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, sp.Basic):
            value = text(value)
        result[field.name] = value
    return result


def _maybe_str(value: sp.Basic | None) -> str | None:
    return None if value is None else text(value)
