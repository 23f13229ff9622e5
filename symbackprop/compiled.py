"""The graph compiled to ball-arithmetic closures, for runs of many gradient-descent steps.

A long run must not build growing exact expressions, so after the first (exact, fully shown) step the
forward and reverse passes are evaluated with arb balls (certified.py) at a working precision the
caller chooses and raises until every recorded value is certain (training.py). Each expression is
turned once into a tree of closures (no `eval`, no generated code), and each local derivative is
derived once, symbolically, by the same rules as the exact engine.

Values (relu, max, min, abs) are continuous and computed on the whole ball; only a step function (a
kink's slope) needs the side of 0, and raises certified.NeedMorePrecision where the ball straddles it.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
from flint import arb, ctx, fmpq

from . import certified, functions as fn, rules
from .certified import NeedMorePrecision, certain_sign, require_nonzero
from .errors import ProblemError
from .graph import Graph
from .parse import symbol

Env = dict[str, arb]
Closure = Callable[[Env], arb]


#: exp(x) of a larger x is a value past any sensible bound (e^10000 has 4,343 digits): the run has
#: diverged. The same limit as for exact values (numeric.MAX_EXP_ARGUMENT).
MAX_EXP_ARGUMENT = 10_000


class NumericRunError(ProblemError):
    """A run that cannot go on: a value that is not a real number, or one that grew without bound."""


class TooLarge(NumericRunError):
    """A value past what a run carries: the exp of more than MAX_EXP_ARGUMENT."""


def to_ball(value: sp.Expr) -> arb:
    """A SymPy number as a ball at the current working precision (exact where dyadic)."""
    if value.is_Rational:
        return arb(fmpq(int(value.p), int(value.q)))
    return certified.ball(value, ctx.prec)


def compile_expr(expr: sp.Expr) -> Closure:
    """A closure computing expr from an environment of balls, by name (at the current precision)."""
    if expr.is_Symbol:
        name = expr.name
        return lambda env: env[name]
    if expr.is_Rational:
        p, q = int(expr.p), int(expr.q)
        # Made at each call: a ball of 1/10 depends on the working precision of the run.
        return (lambda env: arb(p)) if q == 1 else (lambda env: arb(fmpq(p, q)))
    if expr is sp.pi:
        return lambda env: arb.pi()
    if expr is sp.E:
        return lambda env: arb(1).exp()
    parts = [compile_expr(a) for a in expr.args]
    if expr.is_Add:
        return lambda env: _sum(p(env) for p in parts)
    if expr.is_Mul:
        return lambda env: _product(p(env) for p in parts)
    if expr.is_Pow:
        base, exponent = parts
        if expr.exp.is_Integer:
            n = int(expr.exp)
            return lambda env: _power_int(base(env), n)
        return lambda env: _power(base(env), exponent(env))
    if expr.func is fn.softmax:
        k = int(expr.args[0])
        inputs = parts[1:]
        return lambda env: _softmax(k, [p(env) for p in inputs])
    if expr.func is sp.Heaviside:
        argument = parts[0]
        at_zero = compile_expr(expr.args[1]) if len(expr.args) > 1 else (lambda env: arb(fmpq(1, 2)))
        return lambda env: _step(argument(env), at_zero, env)
    operation = _FUNCTIONS.get(expr.func)
    if operation is None:
        raise ProblemError(f"{expr.func.__name__} cannot be evaluated numerically")
    return lambda env: operation(*(p(env) for p in parts))


class CompiledGraph:
    """Forward and reverse pass of a graph on balls, for the node `loss`."""

    def __init__(self, graph: Graph, loss: str, kink: sp.Expr):
        self.loss = loss
        self.order = graph.ancestors(loss)
        relevant = set(self.order)
        self.nodes = [(n.name, compile_expr(n.expr)) for n in graph.nodes.values() if n.name in relevant]
        # For each name, its consumers' local derivatives: (consumer, d consumer / d name).
        self.locals: dict[str, list[tuple[str, Closure]]] = {}
        for name in self.order[1:]:
            self.locals[name] = [
                (via, compile_expr(rules.local_derivative(graph.nodes[via].expr, symbol(name), kink)))
                for via in graph.consumers[name] if via in relevant]

    def forward(self, env: Env) -> Env:
        """env extended with every node's value."""
        values = dict(env)
        for name, closure in self.nodes:
            values[name] = _checked(closure, values, name)
        return values

    def gradients(self, values: Env) -> Env:
        """d loss / d name for every node and symbol the loss depends on (values from forward)."""
        gradients = {self.loss: arb(1)}
        for name in self.order[1:]:
            gradients[name] = _sum(gradients[via] * _checked(local, values, via)
                                   for via, local in self.locals[name])
        return gradients


def _checked(closure: Closure, env: Env, node: str) -> arb:
    try:
        value = closure(env)
    except (ValueError, ZeroDivisionError) as exc:
        raise NumericRunError(f"node '{node}' cannot be evaluated at the current values: {exc}",
                              key=f"nodes.{node}") from None
    if not value.is_finite():
        raise NeedMorePrecision(f"node '{node}'")
    return value


def _sum(values) -> arb:
    total = arb(0)
    for v in values:
        total += v
    return total


def _product(values) -> arb:
    total = arb(1)
    for v in values:
        total *= v
    return total


def _power_int(base: arb, exponent: int) -> arb:
    if exponent >= 0:
        return base ** exponent
    require_nonzero(base)
    return 1 / base ** (-exponent)


def _power(base: arb, exponent: arb) -> arb:
    if certain_sign(base) <= 0:
        raise ValueError("a power of a number that is not positive")
    return base ** exponent


def _log(x: arb) -> arb:
    if certain_sign(x) <= 0:
        raise ValueError("the log of a number that is not positive")
    return x.log()


def _exp(x: arb) -> arb:
    if x > MAX_EXP_ARGUMENT:
        raise TooLarge(f"exp of more than {MAX_EXP_ARGUMENT}")
    return x.exp()


def _sigmoid(x: arb) -> arb:
    # Either form is exact; this one never takes the exp of a large positive number.
    if x < 0:
        e = x.exp()
        return e / (1 + e)
    return 1 / (1 + (-x).exp())


def _softmax(k: int, zs: list[arb]) -> arb:
    # Shifted by the largest input, so that no exp is of a large positive number.
    top = max(zs, key=lambda z: z.mid())
    exps = [(z - top).exp() for z in zs]
    return exps[k - 1] / _sum(exps)


def _step(x: arb, at_zero: Closure, env: Env) -> arb:
    side = certain_sign(x)
    return arb(1) if side > 0 else arb(0) if side < 0 else at_zero(env)


def _leaky_relu(x: arb, alpha: arb) -> arb:
    if x > 0:
        return x
    if x < 0:
        return alpha * x
    return x.union(alpha * x)      # both sides hold the value where the ball straddles 0


_FUNCTIONS: dict[type, Callable] = {
    fn.relu: lambda x: x.max(arb(0)),
    fn.leaky_relu: _leaky_relu,
    fn.sigmoid: _sigmoid,
    sp.tanh: lambda x: x.tanh(),
    sp.exp: _exp,
    sp.log: _log,
    sp.Max: lambda *xs: _fold(arb.max, xs),
    sp.Min: lambda *xs: _fold(arb.min, xs),
    sp.Abs: abs,
    sp.sign: lambda x: arb(certain_sign(x)),
}


def _fold(operation, xs):
    result = xs[0]
    for x in xs[1:]:
        result = operation(result, x)
    return result

