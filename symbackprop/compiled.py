"""The graph compiled to fast numeric closures, for runs of many gradient-descent steps.

A long run must not build growing exact expressions, so after the first (exact, fully shown) step the
forward and reverse passes are evaluated numerically with Python's `decimal` at `DIGITS` significant
digits: correctly rounded arithmetic, exp and ln, implemented in C. Each expression is turned once into
a tree of closures (no `eval`, no generated code), and each local derivative is derived once,
symbolically, by the same rules as the exact engine.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Callable

import sympy as sp

from . import functions as fn
from . import rules
from .errors import ProblemError
from .graph import Graph
from .parse import symbol

#: Significant digits carried by numeric runs; results are reported to fewer.
DIGITS = 40
CONTEXT = decimal.Context(prec=DIGITS, Emax=10**6, Emin=-10**6,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])

Env = dict[str, Decimal]
Closure = Callable[[Env], Decimal]


class NumericRunError(ProblemError):
    """A numeric step that cannot be taken: overflow, log of a non-positive number, division by 0."""


def to_decimal(value: sp.Expr) -> Decimal:
    """An exact or Float SymPy number as a Decimal correct to DIGITS digits."""
    if value.is_Integer:
        return Decimal(int(value))
    if value.is_Rational:
        return CONTEXT.divide(Decimal(int(value.p)), Decimal(int(value.q)))
    return CONTEXT.create_decimal(str(sp.N(value, DIGITS + 5)))


def compile_expr(expr: sp.Expr) -> Closure:
    """A closure computing expr from an environment of Decimals, by name."""
    if expr.is_Symbol:
        name = expr.name
        return lambda env: env[name]
    if expr.is_Number or expr.is_NumberSymbol:
        constant = to_decimal(expr)
        return lambda env: constant
    parts = [compile_expr(a) for a in expr.args]
    if expr.is_Add:
        return lambda env: _sum(p(env) for p in parts)
    if expr.is_Mul:
        return lambda env: _product(p(env) for p in parts)
    if expr.is_Pow:
        base, exponent = parts
        integer = int(expr.exp) if expr.exp.is_Integer else None
        if integer is not None:
            return lambda env: _power_int(base(env), integer)
        return lambda env: CONTEXT.power(base(env), exponent(env))
    if expr.func is fn.softmax:
        k = int(expr.args[0])
        inputs = parts[1:]
        return lambda env: _softmax(k, [p(env) for p in inputs])
    if expr.func is sp.Heaviside:
        argument = parts[0]
        at_zero = to_decimal(expr.args[1]) if len(expr.args) > 1 else Decimal("0.5")
        return lambda env: _step(argument(env), at_zero)
    operation = _FUNCTIONS.get(expr.func)
    if operation is None:
        raise ProblemError(f"{expr.func.__name__} cannot be evaluated numerically")
    return lambda env: operation(*(p(env) for p in parts))


class CompiledGraph:
    """Forward and reverse pass of a graph at DIGITS digits, for the node `loss`."""

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
        with decimal.localcontext(CONTEXT):
            for name, closure in self.nodes:
                values[name] = _checked(closure, values, name)
        return values

    def gradients(self, values: Env) -> Env:
        """d loss / d name for every node and symbol the loss depends on (values from forward)."""
        gradients = {self.loss: Decimal(1)}
        with decimal.localcontext(CONTEXT):
            for name in self.order[1:]:
                gradients[name] = _sum(gradients[via] * _checked(local, values, via)
                                       for via, local in self.locals[name])
        return gradients


def _checked(closure: Closure, env: Env, node: str) -> Decimal:
    try:
        value = closure(env)
        if not value.is_finite():           # log(0) is -Infinity without a trap
            raise decimal.Overflow
        return value
    except (decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, ZeroDivisionError):
        raise NumericRunError(f"node '{node}' cannot be evaluated at the current values (overflow, "
                              "division by zero or the log of a number that is not positive): the "
                              "run diverged", key=f"nodes.{node}") from None


def _sum(values) -> Decimal:
    total = Decimal(0)
    for v in values:
        total += v
    return total


def _product(values) -> Decimal:
    total = Decimal(1)
    for v in values:
        total *= v
    return total


def _power_int(base: Decimal, exponent: int) -> Decimal:
    return base ** exponent if exponent >= 0 else Decimal(1) / base ** (-exponent)


def _sigmoid(x: Decimal) -> Decimal:
    # Written so that exp never overflows: for x < 0, e^x / (1 + e^x).
    if x >= 0:
        return 1 / (1 + (-x).exp())
    e = x.exp()
    return e / (1 + e)


def _tanh(x: Decimal) -> Decimal:
    e = (-2 * abs(x)).exp()
    t = (1 - e) / (1 + e)
    return t if x >= 0 else -t


def _softmax(k: int, zs: list[Decimal]) -> Decimal:
    top = max(zs)
    exps = [(z - top).exp() for z in zs]
    return exps[k - 1] / _sum(exps)


def _step(x: Decimal, at_zero: Decimal) -> Decimal:
    return Decimal(1) if x > 0 else Decimal(0) if x < 0 else at_zero


def _sign(x: Decimal) -> Decimal:
    return Decimal((x > 0) - (x < 0))


_FUNCTIONS: dict[type, Callable] = {
    fn.relu: lambda x: x if x > 0 else Decimal(0),
    fn.leaky_relu: lambda x, alpha: x if x > 0 else alpha * x,
    fn.sigmoid: _sigmoid,
    sp.tanh: _tanh,
    sp.exp: lambda x: x.exp(),
    sp.log: lambda x: x.ln(),
    sp.Max: lambda *xs: max(xs),
    sp.Min: lambda *xs: min(xs),
    sp.Abs: abs,
    sp.sign: _sign,
}
