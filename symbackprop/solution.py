"""A solved problem: forward values, chain-rule steps, gradients, the update and the loss after it.

`Solution.to_dict()` is the JSON answer key. Rendering to text, Markdown or LaTeX lives in
`render.py`; this module only derives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from . import backprop, numeric
from .parse import symbol
from .printers import text
from .errors import ProblemError
from .steps import ChainStep, ForwardStep, Gradient, SumStep, UpdateStep

if TYPE_CHECKING:
    from .problem import Problem


@dataclass(frozen=True)
class Solution:
    problem: "Problem"
    kink: sp.Expr
    forward: dict[str, ForwardStep]
    gradients: dict[str, Gradient]
    steps: list[ChainStep | SumStep]
    updates: list[UpdateStep]
    #: Every node's value in a second forward pass with the updated parameters (empty without one).
    after_update: dict[str, sp.Expr]

    @property
    def loss(self) -> str:
        return self.problem.loss

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer key: every value as an exact SymPy string and a decimal string."""
        problem = self.problem
        return {
            "title": problem.title,
            "loss": problem.loss,
            "learning_rate": None if problem.learning_rate is None else text(problem.learning_rate),
            "kink": text(self.kink),
            "forward": {
                name: {"expr": text(step.definition), **_number(step.value), "given": step.given}
                for name, step in self.forward.items()
            },
            "gradients": {
                name: {"symbolic": None if g.general is None else text(g.general), **_number(g.value)}
                for name, g in self.gradients.items()
            },
            "updated": {u.parameter: _number(u.new) for u in self.updates},
            "after_update": {name: _number(value) for name, value in self.after_update.items()},
            "steps": [_step_dict(step) for step in self.steps],
        }

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


def solve(problem: "Problem", kink: sp.Expr) -> Solution:
    graph = problem.graph
    fwd = backprop.forward(graph, problem.values, problem.given)
    gradients, steps = backprop.backward(graph, problem.loss, fwd, kink)
    updates: list[UpdateStep] = []
    after_update: dict[str, sp.Expr] = {}
    if problem.learning_rate is not None:
        eta = problem.learning_rate
        new_values = dict(problem.values)
        for name in problem.parameters:
            gradient = gradients.get(name, Gradient(sp.S.Zero, sp.S.Zero)).value
            old = problem.values.get(name, symbol(name))
            new = numeric.settle(sp.expand(old - eta * gradient))
            updates.append(UpdateStep(name, old, eta, gradient, new))
            new_values[name] = new
        # Given values belong to the old weights, so the second pass recomputes every node.
        try:
            second = backprop.forward(graph, new_values, {})
        except ProblemError as exc:
            raise ProblemError(f"after the update: {exc.message}", key=exc.key) from None
        after_update = {name: step.value for name, step in second.steps.items()}
    return Solution(problem, kink, fwd.steps, gradients, steps, updates, after_update)


def _number(value: sp.Expr) -> dict[str, str | None]:
    return {"exact": numeric.exact_string(value), "decimal": numeric.decimal_string(value)}


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
