"""The backward pass as a lecturer writes it: one short block per gradient, in teaching order.

Where the step printer (equations.py) writes each chain-rule step on its own, with the upstream
gradient recalled and the whole general form grown, a block here names what it builds on
(delta_o1, dE/dout_o1) and multiplies numbers that stand a few lines above:

    dout_o1/dnet_o1 = out_o1*(1 - out_o1) ≈ 0.751365*(1 - 0.751365) ≈ 0.186816
    delta_o1 = dE/dout_o1 * dout_o1/dnet_o1 ≈ 0.741365 * 0.186816 ≈ 0.138499
    dE/dw5 = delta_o1 * out_h1 ≈ 0.138499 * 0.593270 ≈ 0.0821670

A local derivative that is a single name or number (out_h1, w5, 1) is written inside the product;
any other gets its own line first. A gradient that adds several paths is one line, the sum of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

from ..engine.teaching import Plan
from ..model.notation import DELTA_PREFIX
from ..model.steps import ChainStep, SumStep
from .equations import Equation, StepPrinter, equation
from .formats import Format


class DerivationPrinter(StepPrinter):
    """Blocks of equations for the gradients of one pass, named as the plan names them."""

    def __init__(self, fmt: Format, loss: str, plan: Plan, known: Mapping[str, sp.Expr], *,
                 symbolic: bool = False):
        super().__init__(fmt, loss, symbolic=symbolic)
        self.plan = plan
        #: Every symbol's and node's value, to write a local derivative with its numbers in.
        self.known = known

    def name(self, target: str) -> str:
        """dE/dout_o1, or a unit's delta: delta_o1."""
        subscript = self.plan.deltas.get(target)
        if subscript is None:
            return self.f.partial(self.loss, target)
        return self.f.noted(DELTA_PREFIX + target) or self.f.delta(subscript)

    def block(self, target: str, paths: Sequence[ChainStep], total: SumStep | None) -> list[Equation]:
        f = self.f
        lhs = self.name(target)
        definition = [(f.eq, f.partial(self.loss, target))] if target in self.plan.deltas else []
        if len(paths) == 1 and paths[0].via == self.loss:
            step = paths[0]
            return [equation(lhs, definition, self.general(step.local_general), (f.eq, f.expr(step.local)),
                             self._with_numbers(step.local), self.values(step.value))]
        last = total if total is not None else paths[0]
        reduction = last.reduction
        equations, chain, named, numbers, values = [], [], [], [], []
        for step in paths:
            inline = written_inline(step)
            # A local derivative of its own line, unless a single name or number (out_h1, w5, 1), or
            # a cross-entropy reduction, whose sum of paths shows each one in general form.
            if not inline and reduction is None:
                equations.append(self.local(step))
            local = f.partial(step.via, target)
            chain.append(f.product(self.name(step.via), local))
            named.append(f.product(self.name(step.via), f.expr(step.local) if inline else local))
            numbers.append(f.product(f.factor(step.upstream_value), f.factor(step.local_value)))
            values.extend((step.upstream_value, step.local_value))
        segments = [(f.eq, " + ".join(chain))]
        if named != chain:       # dE/dw5 = delta_o1 * dnet_o1/dw5 = delta_o1 * out_h1
            segments.append((f.eq, " + ".join(named)))
        if reduction is not None:
            # Cross-entropy through a softmax or sigmoid: the paths add up to y - t, with its numbers.
            terms = [f.product(f.expr(p.upstream), f.expr(p.local_general or p.local))
                     for p in paths if p.upstream is not None]
            if len(terms) == len(paths):
                segments.append((f.eq, " + ".join(terms)))
            segments += [*self.general(reduction.collected), *self.general(reduction.reduced),
                         *self._with_numbers(reduction.reduced)]
        else:
            # The general form, in SymPy's order, would not read in the order of the numbers after
            # it; a symbolic derivation has no numbers and shows it.
            segments += self.general(last.general) if self.symbolic else \
                self._numbers(" + ".join(numbers), *values)
        equations.append(equation(lhs, definition, segments, self.values(last.value)))
        return equations

    def local(self, step: ChainStep) -> Equation:
        """d via/d target = its general form = on this side of a kink = with numbers = its value."""
        f = self.f
        return equation(f.partial(step.via, step.target), self.general(step.local_general),
                        (f.eq, f.expr(step.local)), self._with_numbers(step.local),
                        self.values(step.local_value))

    def _with_numbers(self, expr: sp.Expr) -> list[tuple[str, str]]:
        """The expression with the known values of its names written in, where it has names."""
        if self.symbolic or expr.is_Atom:
            return []
        names = {s.name: self.known[s.name] for s in expr.free_symbols if s.name in self.known}
        if not names:
            return []
        return self._numbers(self.f.substituted(expr, names), *names.values())


def written_inline(step: ChainStep) -> bool:
    """Whether a local derivative is written inside the product (out_h1, w5, 1), not on its own
    line: a single name or number, with no kink to settle."""
    return step.local_general is None and (step.local.is_Symbol or step.local.is_number)
