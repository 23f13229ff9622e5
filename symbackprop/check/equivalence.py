"""Whether a formula a student wrote is the right formula, not merely the right number here.

A formula is judged as a function of what it names. Its node names are written out in the problem's
symbols (h1 is tanh(b1 + w1*x)); the symbols it then uses vary, and every other symbol keeps the
problem's value. `5*h1` for dE/dv1 = h1*(y - t) is not equivalent although both are 0 where h1 = 0;
`2*x_n` for dE/dw3 of a problem where x_n alone has no value is. The correct formula comes from the
solution's own reverse pass, so it takes the same side of every kink (ReLU, max, abs) as the
solution; the claim's ReLUs are put on the side their input takes at the problem's values too.

Equivalence is decided symbolically where SymPy's expansion cancels the difference to 0, and
otherwise by evaluating the difference at a few points near the problem's values (identity testing):
an identity of analytic functions that fails is nonzero almost everywhere, so a difference whose
certified sign (certified.sign, from balls) is not 0 at a point proves the formulas differ: `x` for
x*sigmoid(w*x) at w*x = 400 differs by 7.7e-174, which a 40-digit evaluation called 0.
"Equivalent" therefore means "agrees at every point tried": a difference that is 0 there, or within
2^-65536 of 0 so that its sign cannot be established (an exact 0 SymPy cannot simplify), is taken as
agreement; a point outside a function's domain decides nothing.
"""

from __future__ import annotations

import random

import sympy as sp

from ..arithmetic import certified, numeric
from ..engine.answers import AFTER, FORWARD, GRADIENT, UPDATED, Quantity
from ..model import functions as fn
from ..model import operations
from ..model.symbols import symbol
from .mistakes import replay_backward

#: Points at which a difference SymPy cannot cancel is evaluated.
POINTS = 3
#: The operations a node may use whose value has two sides (operations.py): relu, max, abs...
_KINKS = tuple(f for f, row in operations.BY_FUNCTION.items()
               if issubclass(row, operations.Kinked) and row.in_nodes)


class Formulas:
    """The correct formula of each quantity, over the problem's symbols, for one solution."""

    def __init__(self, solution):
        self.solution = solution
        self.problem = solution.problem

    def equivalent(self, claim: sp.Expr, quantity: Quantity) -> bool | None:
        """Whether the claimed formula (over node names and symbols) is the quantity's; None where
        no point could decide (every evaluation left the real numbers)."""
        values = self._values(quantity)
        written = _settle_kinks(claim.xreplace(self._node_forms(quantity, values)), values)
        varied = written.free_symbols
        correct = self.form(quantity).xreplace({s: v for s, v in values.items() if s not in varied})
        if sp.expand(written - correct) == 0:
            return True
        return _same_at_points(written, correct, values)

    # --- the correct formula --------------------------------------------------------------------

    def form(self, q: Quantity) -> sp.Expr:
        """The quantity over the problem's symbols (the data's values put in for a batch's)."""
        data = self.problem.data
        if data is not None and q.example is None and q.kind in (FORWARD, GRADIENT, AFTER):
            return data.reduce([self.form(Quantity(q.kind, q.name, e.index)).xreplace(_symbols(e.inputs))
                                for e in self.solution.examples])
        if q.kind == UPDATED:
            return symbol(q.name) - self.problem.learning_rate * self.form(Quantity(GRADIENT, q.name))
        values = self._values(q)
        nodes = self._node_forms(q, values)
        if q.kind in (FORWARD, AFTER):
            return nodes[symbol(q.name)]
        example = _example(self.solution, q.example)
        gradients = replay_backward(example.steps, self.problem.loss, nodes, lambda v: v)
        return gradients.get(q.name, sp.S.Zero)

    def _values(self, q: Quantity) -> dict[sp.Symbol, sp.Expr]:
        """The problem's values where the quantity is taken: the example's data, the updated
        parameters after the update."""
        values = dict(self.problem.values)
        if q.example is not None or self.problem.data is None:
            values.update(_example(self.solution, q.example).inputs)
        if q.kind == AFTER:
            values.update({u.parameter: u.new for u in self.solution.updates})
        return _symbols(values)

    def _node_forms(self, q: Quantity, values: dict[sp.Symbol, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
        """Every node written out in the problem's symbols, its kinks on the side taken at `values`;
        after the update, the parameters are their updated formulas."""
        forms: dict[sp.Symbol, sp.Expr] = {}
        if q.kind == AFTER:
            forms.update({symbol(w): self.form(Quantity(UPDATED, w)) for w in self.problem.parameters})
        given = self.problem.given if q.kind != AFTER else {}
        for name, node in self.problem.graph.nodes.items():
            forms[node.symbol] = (given[name] if name in given
                                  else _settle_kinks(node.expr.xreplace(forms), values))
        return forms


def _example(solution, index: int | None):
    if index is None:
        return solution.examples[0]
    return next(e for e in solution.examples if e.index == index)


def _symbols(values: dict[str, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
    return {symbol(n): v for n, v in values.items()}


def _settle_kinks(expr: sp.Expr, values: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    """relu(a) as a or 0, abs(a) as a or -a, max(a, b) as the larger: the side each takes at
    `values` (operations.py knows each side). A kink at exactly 0 there (or a tie), or whose input
    is unknown, stays as it is."""
    def side_taken(kink):
        row = operations.row(type(kink))
        at = [a.xreplace(values) for a in kink.args]
        if issubclass(row, operations.Max):          # max and min: the chosen input
            if not all(a.is_number for a in at):
                return kink
            best = _extreme(at, row.chooses)
            return kink if best is None else kink.args[best]
        sign = fn.numeric_sign(at[0]) if at[0].is_number else None
        return row.side(kink, sign) if sign else kink
    return expr.replace(lambda e: isinstance(e, _KINKS), side_taken)


def _extreme(values: list[sp.Expr], direction: int) -> int | None:
    """The index of the largest value (direction 1) or the smallest (-1), each comparison a certified
    sign of a difference: SymPy's own ordering evaluates in floating point and mis-orders (or refuses)
    saturated values such as 1 - sigmoid(400). None on an exact tie for the extreme, or where a
    comparison cannot be decided: the kink then stays as it is."""
    best, tied = 0, False
    for i in range(1, len(values)):
        try:
            side = direction * numeric.sign(values[i] - values[best])
        except numeric.NumericError:
            return None
        if side > 0:
            best, tied = i, False
        elif side == 0:
            tied = True
    return None if tied else best


def _same_at_points(written: sp.Expr, correct: sp.Expr, values: dict[sp.Symbol, sp.Expr]) -> bool | None:
    """Whether the two agree at a few points near the problem's values (a symbol without a value is
    drawn from 1/2 to 3/2): the certified sign of their difference is 0 at each point, or cannot be
    established there. The points are the same on every run."""
    draw = random.Random(0)
    symbols = sorted(written.free_symbols | correct.free_symbols, key=lambda s: s.name)
    decided = False
    for _ in range(POINTS):
        point = {}
        for s in symbols:
            base = values.get(s)
            step = sp.Rational(draw.randint(-1000, 1000), 20_000)       # up to 1/20 either way
            point[s] = (sp.Rational(500 + draw.randint(0, 1000), 1000) if base is None
                        else base + step * (1 + abs(base)))
        try:
            difference = written.xreplace(point) - correct.xreplace(point)
            # certified.sign rather than numeric.sign, whose one NumericError would not tell the two
            # failures below apart, and they mean opposite things.
            differs = certified.sign(difference) != 0
        except certified.UncertainError:
            differs = False   # no sign within 2^-65536 (an exact 0 SymPy cannot simplify): agreeing
        except (ArithmeticError, TypeError, ValueError):
            continue          # outside a function's domain (the log of a negative number): no verdict
        decided = True
        if differs:
            return False
    return True if decided else None
