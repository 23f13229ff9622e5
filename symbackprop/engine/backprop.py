"""The forward pass and the memoised reverse pass. Both return steps; neither prints.

Reverse pass: start from dL/dL = 1 and walk the nodes in reverse forward order. A node's gradient is
complete once every node that consumes it has been visited (reverse topological order guarantees it),
so each gradient is derived exactly once and then reused by every input of that node, the delta of the
lecture notes. A node or symbol that feeds several nodes gets one chain step per path and a sum step.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
from dataclasses import dataclass
from itertools import chain

import sympy as sp
from flint import fmpq

from ..arithmetic import numeric
from ..errors import ProblemError
from ..model import rules
from ..model.definitions import name_terms
from ..model.graph import Graph, Node
from ..model.steps import ChainStep, ForwardStep, Gradient, Steps, SumStep, Through, WeightedInput, chain_step
from ..model.symbols import symbol
from .reduction import reduce_logit

#: General forms with more tree nodes than this are not shown (None); the values are still exact.
MAX_GENERAL_SIZE = 60


class Known:
    """A mapping of names to values read by symbol, as xreplace and substitution read it: the symbols
    of a network's 26,000 weights are not made for a dict keyed by symbols (5 MiB on 64-128-128-10)."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, sp.Expr]):
        self.values = values

    def __contains__(self, key) -> bool:
        # An exact Symbol, the type symbol() makes: a Dummy of the same name is another symbol.
        return type(key) is sp.Symbol and key.name in self.values

    def __getitem__(self, key: sp.Basic) -> sp.Expr:
        if type(key) is sp.Symbol:
            return self.values[key.name]
        raise KeyError(key)

    def get(self, key: sp.Basic, default=None):
        return self.values.get(key.name, default) if type(key) is sp.Symbol else default

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class ForwardPass:
    steps: dict[str, ForwardStep]
    #: Every symbol and node that has a value mapped to it, read by symbol (`values` by name).
    known: Known
    #: What given values reveal about kink inputs (see rules.kink_facts).
    facts: dict[sp.Expr, tuple[sp.Expr, str]]
    #: `known` by name, for the symbols and nodes that have a value (a name's hash is Python's own).
    values: dict[str, sp.Expr]


def forward(graph: Graph, values: dict[str, sp.Expr], given: dict[str, sp.Expr]) -> ForwardPass:
    """Evaluate every node in order; a node in `given` takes that value instead of its own."""
    by_name = dict(values)          # by name: a layer's units read the same inputs, by name
    known = Known(by_name)          # the same values, read by symbol
    steps: dict[str, ForwardStep] = {}
    facts: dict[sp.Expr, tuple[sp.Expr, str]] = {}
    exact: dict[str, fmpq] = {}
    made: dict[int, fmpq] = {}      # _flint's, by id: the values are held by `by_name` meanwhile
    for node in graph.nodes.values():
        try:
            computed = _sum_value(node, by_name, exact, made)
            if computed is None:
                numeric.check_magnitude(node.expr, known)
                computed = numeric.substitute(node.expr, known)
            computed = numeric.settle(computed)
        except numeric.NumericError as exc:
            if node.name in given:
                computed = None
            else:
                raise ProblemError(f"node '{node.name}' = {node.expr} cannot be evaluated at the given "
                                   f"values: {exc}", key=f"nodes.{node.name}") from None
        # The step reads its definition from the graph's when asked: a weighted sum read from text
        # is then built into a SymPy sum only if someone reads it (a renderer; not the answer key).
        if node.name in given:
            value = given[node.name]
            facts.update(rules.kink_facts(node.expr, value, node.name))
            steps[node.name] = ForwardStep(node.name, node.definitions, node.inputs, by_name, value, True,
                                           computed)
        else:
            value = computed
            steps[node.name] = ForwardStep(node.name, node.definitions, node.inputs, by_name, value)
        by_name[node.name] = value
    return ForwardPass(steps, known, facts, by_name)


def _sum_value(node: Node, values: dict[str, sp.Expr], exact: dict[str, fmpq],
               made: dict[int, fmpq]) -> sp.Rational | None:
    """The value of a sum of names and products of two names whose values are all rational, added
    up in flint's rationals (`exact` keeps each name's, as a layer reads its inputs once per unit);
    None for any other node or value. The same number SymPy's substitution gives (it has no power,
    exp or log for check_magnitude to refuse), without building a SymPy sum of products: that took
    most of the forward pass of 64-128-128-10. A weighted sum read from text is read from its names,
    its SymPy sum not built."""
    read = node.weighted_sum
    terms = read.terms if read is not None else name_terms(node.expr)
    if terms is None:
        return None
    names = set(chain.from_iterable(terms))
    if not exact.keys() >= names:
        try:
            _add_exact(names.difference(exact), values, exact, made)
        except _NotRational:
            return None
    total = fmpq(0)
    for term in terms:
        if len(term) == 1:
            total += exact[term[0]]
        else:
            total += exact[term[0]] * exact[term[1]]
    return _sympy_rational(total)


class _NotRational(Exception):
    pass


def _add_exact(names: set[str], values: dict[str, sp.Expr], exact: dict[str, fmpq],
               made: dict[int, fmpq]) -> None:
    """Each name's value in flint's rationals, into `exact`; _NotRational where one is not rational."""
    for name in names:
        number = _flint(values.get(name), made)
        if number is None:
            raise _NotRational
        exact[name] = number


def _flint(value: sp.Expr | None, made: dict[int, fmpq]) -> fmpq | None:
    """value in flint's rationals, None where it is not rational; made once per SymPy number and
    kept in `made` by its id, for as long as the numbers live (a pass's values: a network's weights
    are a few dozen numbers, its reverse pass's values one SymPy number per value)."""
    number = made.get(id(value))
    if number is None and isinstance(value, sp.Rational):
        number = made[id(value)] = fmpq(int(value.p), int(value.q))
    return number


def _sympy_rational(value: fmpq) -> sp.Rational:
    return sp.Rational(int(value.p), int(value.q))


def _rational_sum(values: list[sp.Expr], made: dict[int, fmpq]) -> sp.Rational | None:
    """sp.Add(*values) where every value is rational, added in flint's rationals; else None."""
    total = fmpq(0)
    for value in values:
        number = _flint(value, made)
        if number is None:
            return None
        total += number
    return _sympy_rational(total)


def backward(graph: Graph, loss: str, fwd: ForwardPass, kink: sp.Expr) -> tuple[dict[str, Gradient], Steps]:
    """Gradients of the loss for every node and symbol it depends on, and the steps that made them."""
    order = graph.ancestors(loss)
    relevant = set(order)
    gradients: dict[str, Gradient] = {loss: Gradient(sp.S.One, sp.S.One)}
    steps: list[ChainStep | SumStep | WeightedInput] = []
    reader_names = _ReaderNames(graph)
    weighted_inputs: dict[str, dict[str, tuple[sp.Expr | str, tuple[str, ...]]]] = {}
    numbers: dict[tuple[int, int], sp.Rational] = {}
    made: dict[int, fmpq] = {}          # _flint's, by id: the values are held by the steps meanwhile
    throughs: dict[tuple[str, tuple[str, ...]], Through] = {}
    for name in order[1:]:
        paths: list[ChainStep | WeightedInput] = []
        for via in graph.consumers[name]:
            if via not in relevant:
                continue
            if via not in weighted_inputs:
                node = graph.nodes[via]
                weighted_inputs[via] = rules.weighted_inputs(node.weighted_sum or node.expr)
            direct = weighted_inputs[via].get(name)
            if direct is not None:
                local, rule_keys = direct
                # One Through per unit and rules, shared by the steps through it.
                through = throughs.get((via, rule_keys))
                if through is None:
                    through = throughs[via, rule_keys] = Through(via, rule_keys, gradients[via], via != loss)
                paths.append(_weighted_input(name, through, local, fwd, numbers))
            else:
                paths.append(_chain_step(graph, name, via, gradients[via], fwd, kink, reader_names,
                                         reused=via != loss))
        if len(paths) == 1:
            path = paths[0]
            general, value = (path[4], path[5]) if type(path) is tuple else (path.general, path.value)
            reduction = reduce_logit(name, general, graph, fwd.known)
            if reduction is not None:
                general = reduction.reduced
                step = chain_step(path) if type(path) is tuple else path
                path = dataclasses.replace(step, general=general, reduction=reduction)
            steps.append(path)
            gradients[name] = Gradient(general, value)
        else:
            steps.extend(paths)
            generals = [p[4] if type(p) is tuple else p.general for p in paths]
            values = [p[5] if type(p) is tuple else p.value for p in paths]
            general = None
            if all(g is not None for g in generals):
                general = sp.Add(*generals)
                general = general if numeric.size(general, MAX_GENERAL_SIZE) <= MAX_GENERAL_SIZE else None
            reduction = reduce_logit(name, general, graph, fwd.known)
            general = general if reduction is None else reduction.reduced
            value = _rational_sum(values, made)
            value = _settled(sp.Add(*values) if value is None else value, name)
            vias = tuple(p[1].via if type(p) is tuple else p.via for p in paths)
            steps.append(SumStep(name, vias, general, value, reduction))
            gradients[name] = Gradient(general, value)
    return gradients, Steps(steps)


class _ReaderNames:
    """A derivative written in the reader's names: each node's expression replaced by the node
    (sigmoid(z)*(1 - sigmoid(z)) is h*(1 - h)). A weighted sum read from text is built into its SymPy
    sum only when a derivative holds a sum of as many terms: a network's 266 sums are not built to
    be looked for in the derivatives of its activations and loss."""

    def __init__(self, graph: Graph):
        #: expression -> (position, node's symbol): where two nodes have the same expression, the
        #: later one names it, as a dict built in the nodes' order would.
        self.names: dict[sp.Expr, tuple[int, sp.Symbol]] = {}
        self.sums: dict[int, list[tuple[int, Node]]] = {}
        for position, node in enumerate(graph.nodes.values()):
            if node.weighted_sum is not None:
                self.sums.setdefault(len(node.weighted_sum.terms), []).append((position, node))
            elif not node.expr.is_Atom:
                self.names[node.expr] = (position, node.symbol)
        self.replacements = {expr: named for expr, (_, named) in self.names.items()}

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        for total in expr.atoms(sp.Add) if self.sums else ():
            for position, node in self.sums.pop(len(total.args), ()):
                if self.names.get(node.expr, (-1,))[0] < position:
                    self.names[node.expr] = (position, node.symbol)
                    self.replacements[node.expr] = node.symbol
        return expr.xreplace(self.replacements)


def _chain_step(graph: Graph, name: str, via: str, upstream: Gradient, fwd: ForwardPass,
                kink: sp.Expr, reader_names: _ReaderNames, reused: bool) -> ChainStep:
    consumer = graph.nodes[via]
    wrt = symbol(name)
    local_general = rules.local_derivative(consumer.expr, wrt, kink)
    local, branches = rules.settle_branches(local_general, consumer.expr, fwd.known, fwd.facts, kink)
    # Write the derivative in the reader's names: sigmoid(z)*(1 - sigmoid(z)) becomes h*(1 - h).
    local = reader_names(local)
    local_general = reader_names(local_general)
    local_value = _settled(local.xreplace(fwd.known), via)
    general = None
    if upstream.general is not None:
        # The general form keeps the kinks' steps (true for any input), not the branch taken here.
        general = upstream.general * local_general
        if numeric.size(general, MAX_GENERAL_SIZE) > MAX_GENERAL_SIZE:
            general = None
    value = _settled(upstream.value * local_value, via)
    return ChainStep(
        target=name, via=via, rules=tuple(r.key for r in rules.gate_rules(consumer.expr, wrt)),
        local=local, local_value=local_value, upstream=upstream.general,
        upstream_value=upstream.value, general=general, value=value, branches=branches,
        reused=reused, local_general=None if local_general == local else local_general,
    )


def _weighted_input(name: str, through: Through, local: sp.Expr | str, fwd: ForwardPass,
                    numbers: dict) -> WeightedInput:
    """_chain_step where the local derivative is 1 or another input's symbol, given by its name
    (rules.weighted_inputs): no kink to settle, nothing for the reader's names to replace, no general
    form apart from it. Recorded as a WeightedInput, made into its ChainStep when read
    (model.steps.Steps). `numbers` keeps one SymPy number per rational value, by its two integers:
    52,000 steps of a network have 7,500 values."""
    via, upstream = through.via, through.upstream
    local_value = local if local is sp.S.One else fwd.values.get(local)
    if local_value is None:
        local_value = symbol(local)
    if not isinstance(local_value, sp.Rational):
        # A rational value in `known` is settled already: computed by the forward pass, or given
        # in the problem, whose numbers are refused past MAX_DIGITS where they are read.
        local_value = _settled(local_value, via)
    general = None
    if upstream.general is not None:
        general = _times(upstream.general, local if local is sp.S.One else symbol(local))
        if numeric.size(general, MAX_GENERAL_SIZE) > MAX_GENERAL_SIZE:
            general = None
    # A unit that is off passes 0 to each of its inputs: SymPy's 0 * x is a tenth of these steps.
    if upstream.value is sp.S.Zero and local_value.is_Rational:
        value = sp.S.Zero
    elif upstream.value.is_Rational and local_value.is_Rational:
        value = _rational_product(upstream.value, local_value, numbers)
        if value is None:
            value = _settled(upstream.value * local_value, via)     # too long to carry: its error
    else:
        value = upstream.value * local_value
        if not isinstance(value, sp.Rational) or numeric.too_long(value):
            value = _settled(value, via)        # what carried() does to a short rational: nothing
        if isinstance(value, sp.Rational):
            value = numbers.setdefault((value.p, value.q), value)
    return (name, through, local, local_value, general, value)


def _rational_product(a: sp.Rational, b: sp.Rational, numbers: dict) -> sp.Rational | None:
    """a * b, made from their integers and given as the one SymPy number kept for that value
    (`numbers`, by its two integers), made only for a value not met before: SymPy's product makes a
    new number each time, and 27,000 of a network's steps have 7,500 values. None where it is too
    long to carry (numeric.too_long)."""
    p, q = int(a.p) * int(b.p), int(a.q) * int(b.q)
    common = math.gcd(p, q)
    if common != 1:
        p, q = p // common, q // common
    value = numbers.get((p, q))
    if value is None:
        if p.bit_length() > numeric.MAX_EXACT_BITS or q.bit_length() > numeric.MAX_EXACT_BITS:
            return None
        value = numbers[p, q] = sp.Rational.from_coprime_ints(p, q)
    return value


def _times(general: sp.Expr, local: sp.Expr) -> sp.Expr:
    """general * local, where local is 1 or a symbol: SymPy's product, built directly where general is
    a product none of whose factors has local as its base (2*(y_3 - t_3) * h2_5). Mul.flatten then
    only sorts local in among the factors, after the number; building the 2,600 general forms near
    the loss of a 64-128-128-10 network that way took a fifth of its reverse pass.
    tests/test_lazy_steps.py checks the two are the same expression."""
    if local is sp.S.One:
        return general                      # what Mul(general, 1) returns: general itself
    if not (general.is_Mul and general.is_commutative and local.is_Symbol):
        return general * local
    factors = list(general.args)
    start = 1 if factors[0].is_Number else 0
    for factor in factors[start:]:
        if (factor.base if factor.is_Pow else factor) == local:
            return general * local          # powers of local combine: h * h = h**2
    bisect.insort(factors, local, lo=start, key=_ORDER)
    return sp.Mul._from_args(factors, True)


#: The canonical order of a product's factors (sympy.core.mul._mulsort).
_ORDER = functools.cmp_to_key(sp.Basic.compare)


def _settled(expr: sp.Expr, node: str) -> sp.Expr:
    try:
        return numeric.carried(expr)
    except numeric.NumericError as exc:
        raise ProblemError(f"the gradient through node '{node}' cannot be evaluated: {exc}",
                           key=f"nodes.{node}") from None
