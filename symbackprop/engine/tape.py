"""Exact gradients without steps: the graph compiled once to a tape of slots, then one forward and
one reverse pass of plain loops over python-flint numbers (Problem.gradients, `--gradients-only`).

The worked solution keeps every chain step as SymPy data; an autograder or a large network needs only
the values. Here a rational stays an exact `fmpq` (a ReLU network on decimal data never leaves them)
and an irrational one is an `arb` ball, the computation repeated at doubled precision until every
gradient asked is certain to the digits asked. SymPy is used while compiling only: a weighted sum
(w1*x1 + w2*x2 + b) needs none, since its local derivatives are its other factors (one read from
text is read off its names, its SymPy expression never built: model/definitions.py); any other node
has its local derivatives derived once per kind of node (sigmoid(_0), (_0 - _1)**2), by the same rules
as the exact engine, and evaluated by the same certified operations (compiled.compile_expr).
Where the tape cannot decide (a given node value, a value within its ball of a kink or of zero even at
MAX_BITS) or cannot compute (a value that is not a real number: the exact engine words the error in
the problem's names), the exact engine solves the problem and its values are returned instead.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp
from flint import arb, fmpq

from ..arithmetic import certified
from ..errors import ProblemError
from ..model import rules
from ..model.graph import Graph, Node
from ..model.symbols import symbol
from .compiled import Closure, checked, compile_expr, to_ball
from .teaching import asked_names

#: A gradient's value: exact where rational, else a ball certified to the digits asked.
Value = fmpq | arb
#: Working precisions tried in turn; beyond the last, the exact engine decides.
FIRST_BITS, MAX_BITS = 128, 4096


@dataclass(frozen=True)
class _Linear:
    """A weighted sum: constant + sum of coefficient * a (* b), by slots (b is -1 for a lone a),
    + sum of a * b: the products of coefficient 1 (nine in ten of a network's terms) apart, as they
    need no multiplication by it."""

    slot: int
    constant: fmpq
    terms: tuple[tuple[fmpq, int, int], ...]
    products: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _General:
    """Any other node: its value, and d node / d input for each distinct input, as closures of the
    input values (an environment of _0, _1, ... in the order of `inputs`)."""

    slot: int
    inputs: tuple[int, ...]
    value: Closure
    derivatives: tuple[Closure, ...]


class Tape:
    """The forward and reverse pass of `loss` over numbered slots: the symbols, then the nodes."""

    def __init__(self, graph: Graph, order: list[str], kink: sp.Expr):
        """`order`: graph.ancestors(loss), the loss first."""
        loss = order[0]
        if len(order) == len(graph.symbols) + len(graph.nodes):      # all relevant: a network
            self.symbols, nodes = list(graph.symbols), list(graph.nodes.values())
        else:
            relevant = set(order)
            self.symbols = [s for s in graph.symbols if s in relevant]
            nodes = [n for n in graph.nodes.values() if n.name in relevant]
        self.names = [*self.symbols, *(n.name for n in nodes)]
        self.slot = dict(zip(self.names, range(len(self.names))))
        self.loss = self.slot[loss]
        self.program = [self._compiled(node, kink) for node in nodes]

    def _compiled(self, node: Node, kink: sp.Expr) -> _Linear | _General:
        at = self.slot
        slot, sum_ = at[node.name], node.weighted_sum
        if sum_ is not None:            # read as a weighted sum: its names, no SymPy (the most nodes)
            names = [t for t in sum_.terms if len(t) == 1]
            products = sum_.terms[len(names):]                     # names come first, then products
            return _Linear(slot, _ZERO, tuple([(_ONE, at[a], -1) for (a,) in names]),
                           tuple([(at[a], at[b]) for a, b in products]))
        call = node.call
        if call is not None:            # relu(z1_1) read as its function and name: a kind, unbuilt
            value, derivatives = _kind(call.function(_INPUT), 1, kink)
            return _General(slot, (at[call.argument],), value, derivatives)
        expr = node.expr
        linear = _linear_terms(expr)
        if linear is not None:
            constant, terms = linear
            return _Linear(slot, constant, tuple((c, at[a], -1 if b is None else at[b]) for c, a, b in terms
                                                 if b is None or c != 1),
                           tuple((at[a], at[b]) for c, a, b in terms if b is not None and c == 1))
        inputs = sorted(expr.free_symbols, key=lambda s: s.name)
        kind = expr.xreplace({s: symbol(f"_{i}") for i, s in enumerate(inputs)})
        value, derivatives = _kind(kind, len(inputs), kink)
        return _General(slot, tuple(at[s.name] for s in inputs), value, derivatives)

    def gradients(self, inputs: list[Value]) -> tuple[list[Value], list[Value]]:
        """Every slot's value and d loss / d slot, at the current working precision, from the values
        of the symbols (`inputs`, in their order: the first slots)."""
        v: list = inputs + [None] * (len(self.names) - len(inputs))
        envs: dict[int, dict] = {}          # a general node's inputs, read again by the reverse pass
        for step in self.program:
            if type(step) is _Linear:
                total = step.constant
                for c, a, b in step.terms:
                    total += c * v[a] if b < 0 else c * v[a] * v[b]
                for a, b in step.products:
                    total += v[a] * v[b]
                v[step.slot] = total
            else:
                env = envs[step.slot] = {f"_{k}": v[s] for k, s in enumerate(step.inputs)}
                v[step.slot] = checked(step.value, env, self.names[step.slot])
        g: list = [fmpq(0)] * len(self.names)
        g[self.loss] = fmpq(1)
        for step in reversed(self.program):
            upstream = g[step.slot]
            if type(step) is _Linear:
                if type(upstream) is fmpq and not upstream:
                    continue       # an exact 0 (a ReLU unit off) adds 0 to every input's gradient
                for c, a, b in step.terms:
                    scaled = upstream * c
                    if b < 0:
                        g[a] += scaled
                    else:
                        g[a] += scaled * v[b]
                        g[b] += scaled * v[a]
                for a, b in step.products:
                    g[a] += upstream * v[b]
                    g[b] += upstream * v[a]
            else:
                for s, local in zip(step.inputs, step.derivatives):
                    g[s] += upstream * checked(local, envs[step.slot], self.names[step.slot])
        return v, g


def _linear_terms(expr: sp.Expr) -> tuple[fmpq, list[tuple[fmpq, str, str | None]]] | None:
    """A sum of names and products of two names, each with a rational coefficient, read off its
    terms' arguments (SymPy puts a product's number first); None for anything else."""
    if not expr.is_Add:
        return None
    constant, terms = fmpq(0), []
    for term in expr.args:
        if term.is_Symbol:
            terms.append((_ONE, term.name, None))
            continue
        if term.is_Rational:
            constant += fmpq(int(term.p), int(term.q))
            continue
        if not term.is_Mul:
            return None
        factors = term.args
        coefficient = _ONE
        if factors[0].is_Rational:
            coefficient = fmpq(int(factors[0].p), int(factors[0].q))
            factors = factors[1:]
        if not (1 <= len(factors) <= 2 and all(f.is_Symbol for f in factors)):
            return None
        terms.append((coefficient, factors[0].name, factors[1].name if len(factors) == 2 else None))
    return constant, terms


_ONE, _ZERO = fmpq(1), fmpq(0)
#: The input of a kind of node of one input.
_INPUT = symbol("_0")


@functools.lru_cache(maxsize=1024)
def _kind(expr: sp.Expr, count: int, kink: sp.Expr) -> tuple[Closure, tuple[Closure, ...]]:
    """A kind of node (its inputs renamed _0, _1, ...): its value and its local derivatives, derived
    once however many nodes share it (a layer of 128 sigmoids is one kind)."""
    inputs = [symbol(f"_{i}") for i in range(count)]
    return compile_expr(expr), tuple(_local(expr, x, kink) for x in inputs)


def _local(expr: sp.Expr, x: sp.Symbol, kink: sp.Expr) -> Closure:
    """d expr / d x, compiled. Of a sum whose terms share no input (the loss (y1 - t1)**2 + ... +
    (y10 - t10)**2), the derivative of x's own term, derived as a kind of its own: once for the ten
    terms rather than once per input, twenty SymPy derivatives of the whole sum. rules.local_derivative
    gives the same, as it differentiates only the terms that hold x, whose kinks are theirs alone. As
    SymPy gives it (rules.value_derivative): its values are what is needed, not a reader's form."""
    term = rules.own_terms(expr).get(x)
    if term is None:
        return compile_expr(rules.value_derivative(expr, x, kink))
    names = sorted(term.free_symbols, key=lambda s: s.name)
    _, derivatives = _kind(term.xreplace({s: symbol(f"_{i}") for i, s in enumerate(names)}), len(names), kink)
    local, renamed = derivatives[names.index(x)], [(f"_{i}", s.name) for i, s in enumerate(names)]
    return lambda env: local({own: env[name] for own, name in renamed})


def gradients(problem, names: str | Sequence[str] | None = None, digits: int = 15,
              kink: sp.Expr | None = None) -> dict[str, Value]:
    """d loss / d name for the names asked ("all", a name, a list, or None for the problem's
    `gradients:`, else its parameters'): exact `fmpq` where rational, else an `arb` ball that decides
    `digits` significant digits; where a symbol has no value, a SymPy expression in it. A problem
    with data gets its first batch's gradient (mean or sum), of the symbols that are not data."""
    if digits < 1:
        raise ValueError(f"digits must be at least 1, got {digits}")
    kink = problem.kink if kink is None else kink
    order = problem.graph.ancestors(problem.loss)
    data = problem.data.symbols if problem.data is not None else ()
    symbols = problem.graph.symbols
    # By a map first: a network's 26,000 symbols all have values.
    missing = [] if all(map(problem.values.__contains__, symbols)) else [
        s for s in symbols if s not in problem.values and s not in data]
    if missing:                         # of those the loss depends on
        relevant = set(order)
        missing = [s for s in missing if s in relevant]
    derived = order[1:]
    if problem.data is not None:
        # A batch's gradient is the examples' mean or sum, which only a symbol that is not data has.
        plain = set(symbols)
        derived = [n for n in derived if n in plain and n not in data]
    asked = _asked(problem, names, derived)
    if problem.given or missing:
        return _from_solution(problem, asked, kink, digits)
    try:
        tape = Tape(problem.graph, order, kink)
        rows = [{}] if problem.data is None else [problem.data.rows[i] for i in problem.data.batch(0)]
        bits = FIRST_BITS
        while bits <= MAX_BITS:
            with certified.working_precision(bits):
                try:
                    found = _batch(tape, problem, rows, asked)
                except certified.NeedMorePrecision:
                    found = None
            if found is not None and (set(map(type, found.values())) == {fmpq} or all(
                    _decided(value, digits) for value in found.values() if type(value) is not fmpq)):
                return found
            bits *= 2
    except (ProblemError, certified.TooLarge):
        # A value that cannot be computed, or a node the tape cannot take: the exact engine says
        # which node and why in the problem's own names (the tape's kinds are written in _0, _1).
        pass
    return _from_solution(problem, asked, kink, digits)


def _asked(problem, names, derived: list[str]) -> list[str]:
    """The names asked, as the answer key asks them where they come from the problem; names passed
    by the caller must each have a gradient here (an autograder would rather hear of a typo)."""
    if names is None:
        return asked_names(problem.asked_gradients, problem.parameters, problem.graph, derived)
    if isinstance(names, str) and names != "all":
        names = [names]
    asked = asked_names(names, problem.parameters, problem.graph, derived, key=None)
    if names != "all":
        without = [n for n in names if n not in asked]
        if without:
            raise ProblemError(f"'{without[0]}' has no gradient to give: it is the loss, or data of a "
                               "batch, or the loss does not depend on it")
    return asked


def _batch(tape: Tape, problem, rows: list[dict], asked: list[str]) -> dict[str, Value]:
    """The gradients of the names asked: of the one example, or the batch's reduction of its rows'."""
    # Maps and zips rather than comprehensions: these run over a network's 26,000 weights, and the
    # passes themselves take little more.
    where = list(map(tape.slot.get, asked, itertools.repeat(-1)))     # -1: not on the tape, so 0
    per_example = []
    for row in rows:
        values = {**problem.values, **row} if row else problem.values
        numbers = list(map(values.__getitem__, tape.symbols))
        # Each SymPy number made a ball once: a network's weights are a few dozen numbers many times
        # over (parse_number keeps one per text). By id: the numbers live in the problem meanwhile.
        ids = list(map(id, numbers))
        balls = {key: to_ball(number) for key, number in dict(zip(ids, numbers)).items()}
        _, g = tape.gradients(list(map(balls.__getitem__, ids)))
        g.append(_ZERO)
        per_example.append(list(map(g.__getitem__, where)))
    reduced = per_example[0] if problem.data is None else list(map(_reduction(problem), zip(*per_example)))
    if set(map(type, reduced)) == {fmpq}:
        return dict(zip(asked, reduced))
    return {name: value if type(value) is fmpq else _exact_if_known(value)
            for name, value in zip(asked, reduced)}


def _exact_if_known(value: Value) -> Value:
    """A ball of radius 0 came from exact operations only (0 times a sigmoid, sigmoid(0)): its
    midpoint is the value, a rational, as the exact engine has it."""
    if isinstance(value, arb) and value.is_exact():
        exact = certified.exact_value(value)
        return fmpq(exact.numerator, exact.denominator)
    return value


def _reduction(problem) -> Callable[[Sequence[Value]], Value]:
    """How a problem with data combines its examples' gradients."""
    if problem.data.reduction == "mean":
        return lambda terms: sum(terms[1:], terms[0]) / len(terms)
    return lambda terms: sum(terms[1:], terms[0])


def _decided(value: Value, digits: int) -> bool:
    return isinstance(value, fmpq) or certified.rounded_ball(value, digits) is not None


def _from_solution(problem, asked: list[str], kink: sp.Expr, digits: int) -> dict[str, Value]:
    """The exact engine's values, as the tape's types: where a given value stands in for a node,
    where a symbol has no value (its gradients are then SymPy expressions in it), or where no working
    precision up to MAX_BITS decides a value (an exact zero not written as one, a kink met exactly
    by an irrational value)."""
    solution = problem.solve(kink=kink)
    result = {}
    for name in asked:
        value = solution.gradients[name].value if name in solution.gradients else sp.S.Zero
        if value.is_Rational:
            result[name] = fmpq(int(value.p), int(value.q))
        elif not value.is_number:
            result[name] = value
        else:
            result[name] = certified.refine(value, lambda ball: certified.rounded_ball(ball, digits)
                                            and ball, "cannot be rounded")
    return result
