"""The graph compiled to ball-arithmetic closures, for runs of many gradient-descent steps.

A long run must not build growing exact expressions, so after the first (exact, fully shown) step the
forward and reverse passes are evaluated on arb balls at a working precision the caller chooses and
raises until every recorded value is certain (training.py). Each expression is turned once into a
tree of closures (no `eval`, no generated code) whose operations are certified.operation, the same
evaluation as for single values; each local derivative is derived once, symbolically, by the same
rules as the exact engine. Values stay exact rationals while they are short and every operation
keeps them rational (a ReLU network on decimal data), so that a value that is exactly a rounding
tie is printed as such.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
from flint import arb, ctx, fmpq

from ..arithmetic import certified
from ..errors import ProblemError
from ..model import rules
from ..model.graph import Graph
from ..model.symbols import symbol

#: A value of a run: an exact rational while it stays short, else a ball.
Value = arb | fmpq
Env = dict[str, Value]
Closure = Callable[[Env], Value]


class NumericRunError(ProblemError):
    """A run that cannot go on: a value that is not a real number, or one that grew without bound."""


def to_ball(value: sp.Expr) -> Value:
    """A SymPy number as a run's value: exact for a rational, else a ball at the working precision."""
    if value.is_Rational:
        return fmpq(int(value.p), int(value.q))
    return certified.ball(value, ctx.prec)


def capped(x: Value) -> Value:
    """An exact rational grown past certified.EXACT_BITS becomes a ball; anything else stays."""
    return x if isinstance(x, arb) or certified.short(x) else arb(x)


def compile_expr(expr: sp.Expr) -> Closure:
    """A closure computing expr from an environment of values, by name (at the current precision):
    exactly while its inputs are exact and its operation keeps them rational, else on balls."""
    if expr.is_Symbol:
        name = expr.name
        return lambda env: env[name]
    if expr.is_Rational:
        constant = fmpq(int(expr.p), int(expr.q))
        return lambda env: constant
    if expr.is_number and expr.is_Atom:
        # Made at each call: a ball of pi depends on the working precision of the run.
        return lambda env: to_ball(expr)
    parts = [compile_expr(a) for a in expr.args]
    operation = certified.operation(expr)       # resolved once, applied at every step
    exact = certified.exact_operation(expr)
    as_ball = certified.as_ball

    def evaluate(env: Env) -> Value:
        args = [p(env) for p in parts]
        if exact is not None and not any(isinstance(a, arb) for a in args):
            return capped(exact(args))
        return operation([as_ball(a) for a in args])
    return evaluate


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
            values[name] = checked(closure, values, name)
        return values

    def gradients(self, values: Env) -> Env:
        """d loss / d name for every node and symbol the loss depends on (values from forward)."""
        gradients: Env = {self.loss: fmpq(1)}
        for name in self.order[1:]:
            gradients[name] = capped(sum((gradients[via] * checked(local, values, via)
                                          for via, local in self.locals[name]), fmpq(0)))
        return gradients


def checked(closure: Closure, env: Env, node: str) -> Value:
    """closure(env), the value of (or a local derivative at) `node`: a value that is not a real
    number is the node's error; a ball that is not finite asks for more precision."""
    try:
        value = closure(env)
    except (ValueError, ZeroDivisionError) as exc:
        raise NumericRunError(f"node '{node}' cannot be evaluated at the current values: {exc}",
                              key=f"nodes.{node}") from None
    except certified.NeedMorePrecision as exc:
        raise certified.NeedMorePrecision(f"node '{node}': {exc}") from None
    if isinstance(value, arb) and not value.is_finite():
        raise certified.NeedMorePrecision(f"node '{node}' is not finite at this precision")
    return value

