"""Steps written as equations, in any Format: one printer for the worked solution and the check report.

Dispatch is SymPy's (sympy/printing/printer.py, Printer._print): the first `_print_<Class>` along the
step's MRO. A new kind of step is a new method here (or in a subclass), not a branch in two modules.
An equation is `{"lhs": str, "rhs": [[relation, str], ...]}`: the templates write `lhs = a = b ≈ c`
on one line (text) or one segment per line (`align*` / `aligned`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from ..model.steps import ChainStep, ForwardStep, SumStep, UpdateStep
from .formats import Format

Equation = dict[str, Any]
Segments = list[tuple[str, str]]


def equation(lhs: str, *segments: tuple[str, str] | Segments) -> Equation:
    rhs: list[list[str]] = []
    for segment in segments:
        for relation, text in (segment if isinstance(segment, list) else [segment]):
            if not rhs or rhs[-1][1] != text:       # never "= 2 = 2"
                rhs.append([relation, text])
    return {"lhs": lhs, "rhs": rhs}


class StepPrinter:
    """Equations for the steps of one pass. `steps` is the pass's reverse steps, where a SumStep
    finds the paths it adds up; `symbolic` leaves every number out; `recall_upstream` (the worked
    solution) repeats in a chain step the upstream gradient derived steps earlier, which a list
    of consecutive steps (the check report) leaves out: its own step stands just above."""

    def __init__(self, fmt: Format, loss: str, steps: Sequence = (), *, symbolic: bool = False,
                 recall_upstream: bool = True):
        self.f = fmt
        self.loss = loss
        self.steps = steps
        self.symbolic = symbolic
        self.recall_upstream = recall_upstream

    def equations(self, step: object) -> list[Equation]:
        for cls in type(step).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(step)
        raise TypeError(f"{type(self).__name__} has no equations for a {type(step).__name__}: "
                        f"define _print_{type(step).__name__}")

    def all_equations(self, steps: Sequence) -> list[Equation]:
        return [e for step in steps for e in self.equations(step)]

    # --- segments --------------------------------------------------------------------------------
    def general(self, e: sp.Expr | None) -> Segments:
        """'= general form', or nothing where it is missing or too long for the format to show."""
        if e is None:
            return []
        text = self.f.expr(e)
        limit = self.f.max_shown_length
        return [] if limit is not None and len(text) > limit else [(self.f.eq, text)]

    def values(self, value: sp.Expr, closed: bool = False) -> Segments:
        """'= 2/5 = 0.4', or nothing in a symbolic derivation; with closed, a sigmoid's value
        evaluated as 1/(1 + e^{-z}) before its number (Format.closed_form)."""
        return [] if self.symbolic else self.f.value_chain(value, closed)

    def _numbers(self, text: str, *values: sp.Expr) -> Segments:
        """'= the formula with numbers in', or '≈' where a number in it is rounded (as written, a
        sigmoid's value is its decimal)."""
        return [] if self.symbolic else [(self.f.relation(*values), text)]

    # --- steps -----------------------------------------------------------------------------------
    def _print_ForwardStep(self, step: ForwardStep) -> list[Equation]:
        """y = definition = definition with numbers in = value; a given value as given: y = 2/5 = 0.4."""
        f = self.f
        evaluated = not step.given and not self.symbolic and f.closed_form(step.value) is not None
        # A sigmoid evaluated as 1/(1 + e^{-0.3775}) needs no line sigma(0.3775) before it.
        substituted = [] if step.given or not step.inputs or step.definition.is_Atom or evaluated else \
            self._numbers(f.substituted(step.definition, dict(step.inputs)), *(v for _, v in step.inputs))
        return [equation(f.symbol(step.node), (f.eq, f.expr(step.definition)), substituted,
                         self.values(step.value, closed=True))]

    def _print_ChainStep(self, step: ChainStep) -> list[Equation]:
        """Straight from the loss: one equation. Through a consumer: the chain rule, the local
        derivative, the upstream gradient, and their product."""
        f = self.f
        lhs = f.partial(self.loss, step.target)
        if step.via == self.loss:
            return [equation(lhs, self.general(step.local_general), (f.eq, f.expr(step.local)),
                             self.values(step.value))]
        local = f.partial(step.via, step.target)
        upstream = f.partial(self.loss, step.via)
        recalled = [equation(upstream, self.general(step.upstream), self.values(step.upstream_value))]
        return [
            equation(lhs, (f.eq, f.product(upstream, local))),
            equation(local, self.general(step.local_general), (f.eq, f.expr(step.local)),
                     self.values(step.local_value)),
            *(recalled if self.recall_upstream else []),
            equation(lhs, self.general(step.general),
                     self._numbers(f.product(f.factor(step.upstream_value), f.factor(step.local_value)),
                                   step.upstream_value, step.local_value),
                     self.values(step.value)),
        ]

    def _print_SumStep(self, step: SumStep) -> list[Equation]:
        """The paths through each consumer added up."""
        f = self.f
        paths = [s.value for s in self.steps if isinstance(s, ChainStep) and s.target == step.target]
        return [equation(f.partial(self.loss, step.target), self.general(step.general),
                         self._numbers(" + ".join(f.bracket(f.factor(p)) for p in paths), *paths),
                         self.values(step.value))]

    def _print_UpdateStep(self, step: UpdateStep) -> list[Equation]:
        """w+ = w - eta * dL/dw = the numbers = the new value."""
        f, w = self.f, step.parameter
        rule = f"{f.symbol(w)} - {f.product(f.symbol('eta'), f.partial(self.loss, w))}"
        change = f.product(f.factor(step.learning_rate), f.factor(step.gradient))
        return [equation(f.updated(w), (f.eq, rule),
                         self._numbers(f"{f.factor(step.old)} - {change}", step.old, step.learning_rate,
                                       step.gradient),
                         self.values(step.new))]
