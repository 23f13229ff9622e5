"""Local derivatives: one table of the operations a node may use, with each one's rule.

The derivative itself comes from SymPy (each project function defines `fdiff`); this table says which
operations are allowed, what their derivative is in words, and which gate rule of the lecture notes
applies. The kink of ReLU, max and min is a `Heaviside(x, h0)` step whose value at exactly 0 is the
problem's `kink` convention (0 by default, as `torch.relu`; 1/2 is `torch.maximum`'s split of a tie).
Leaky ReLU's step keeps its own value 0 there whatever the convention, so its slope at exactly 0 is
alpha, as `torch.nn.functional.leaky_relu`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from ..errors import ProblemError
from . import functions as fn
from .steps import Branch


@dataclass(frozen=True)
class Rule:
    key: str
    #: The local derivative, as a formula a reader knows.
    formula: str
    #: What the rule does to the upstream gradient, in words (the gate rules of the lecture notes).
    gate: str


RULES: dict[type, Rule] = {
    sp.Add: Rule("add", "d(a + b)/da = 1",
                 "an add gate passes the upstream gradient unchanged to every input (negated for one "
                 "that is subtracted)"),
    sp.Mul: Rule("multiply", "d(a*b)/da = b",
                 "a multiply gate gives each input the upstream gradient times the other inputs' "
                 "forward values (the inputs swap)"),
    sp.Pow: Rule("power", "d(a**n)/da = n*a**(n-1)", "a power multiplies by n*a**(n-1)"),
    sp.Max: Rule("max", "d max(a, b)/da = 1 if a > b else 0",
                 "a max gate routes the upstream gradient to the larger input and 0 to the others"),
    sp.Min: Rule("min", "d min(a, b)/da = 1 if a < b else 0",
                 "a min gate routes the upstream gradient to the smaller input and 0 to the others"),
    fn.relu: Rule("relu", "relu'(z) = 1 if z > 0 else 0",
                  "ReLU passes the upstream gradient where its input is positive and blocks it "
                  "(0) otherwise"),
    fn.leaky_relu: Rule("leaky_relu", "leaky_relu'(z) = 1 if z > 0 else alpha",
                        "leaky ReLU passes the upstream gradient where its input is positive and "
                        "scales it by alpha otherwise"),
    fn.sigmoid: Rule("sigmoid", "sigmoid'(z) = sigmoid(z)*(1 - sigmoid(z))",
                     "the sigmoid multiplies by its output times one minus its output"),
    fn.softmax: Rule("softmax", "d softmax_k/d z_j = softmax_k*([k = j] - softmax_j)",
                     "softmax multiplies by its output times one minus that output for its own input, "
                     "and by minus the product of the two outputs for each other input"),
    sp.tanh: Rule("tanh", "tanh'(z) = 1 - tanh(z)**2", "tanh multiplies by one minus its output squared"),
    sp.exp: Rule("exp", "exp'(z) = exp(z)", "exp multiplies by its own output"),
    sp.log: Rule("log", "log'(z) = 1/z", "log divides by its input"),
    sp.Abs: Rule("abs", "abs'(z) = sign(z)", "abs passes the gradient with the sign of its input"),
}

#: A node whose input sits inside several operations: the chain rule through all of them.
CHAIN = Rule("chain", "chain rule through the node's expression",
             "the node's expression is differentiated by the chain rule")

RULES_BY_KEY = {rule.key: rule for rule in [*RULES.values(), CHAIN]}


def check_supported(expr: sp.Expr, where: str) -> None:
    """Raise a ProblemError naming any operation in expr that has no derivative rule."""
    for sub in sp.preorder_traversal(expr):
        if sub.is_Atom:
            continue
        if sub.func not in RULES:
            raise ProblemError(f"'{sub}' uses {sub.func.__name__}, which has no derivative rule",
                               key=where)


def gate_rules(expr: sp.Expr, wrt: sp.Symbol) -> tuple[Rule, ...]:
    """The rules that take expr's gradient to wrt, outermost first.

    One rule when wrt is a direct input of expr's top operation (a scaled input such as -ybar in
    y - ybar counts as direct): relu(z) -> (relu,). Where wrt sits deeper, the operations on the way
    down: relu(w3*x_n) -> (relu, multiply). Where wrt appears in several places, the chain rule.
    """
    path: list[Rule] = []
    while not _same(expr, wrt):
        holding = _args_holding(expr, wrt)
        if expr.func not in RULES or len(holding) != 1:
            return (CHAIN,)
        path.append(RULES[expr.func])
        expr = _strip_coefficient(holding[0])
    return tuple(path) or (CHAIN,)


def local_derivative(expr: sp.Expr, wrt: sp.Symbol, kink: sp.Expr) -> sp.Expr:
    """d expr / d wrt in general form, its kinks valued `kink` at exactly 0."""
    # Of a sum, only the terms that hold wrt: a weighted sum of n inputs is then differentiated in
    # one term per input rather than n (the same result as sp.diff of the whole sum).
    holding = _args_holding(expr, wrt) if expr.is_Add else (expr,)
    terms = [_term_derivative(term, wrt) for term in holding]
    derivative = terms[0] if len(terms) == 1 else sp.Add(*terms)  # Add() of one term costs
    kinds = _kink_kinds(expr)
    if kinds and derivative.has(sp.Heaviside):
        derivative = derivative.replace(sp.Heaviside, lambda x, *h0: _kink_step(x, h0, kinds, kink, expr))
    # SymPy distributes numbers over sums (2*y - 2*ybar); a reader expects 2*(y - ybar). Only a
    # sum can need it, and most local derivatives (x, w3, h*(1 - h)) have none at the top.
    if derivative.is_Add or any(a.is_Add for a in derivative.args):
        return sp.factor_terms(derivative)
    return derivative


def _kink_step(argument: sp.Expr, h0: tuple, kinds: dict[sp.Expr, str], kink: sp.Expr,
               expr: sp.Expr) -> sp.Expr:
    """A step of a derivative with its value at exactly 0: leaky ReLU's own (0, so the slope there is
    alpha), the kink convention for the others."""
    if kink != 0 and argument in _shared_kinks(expr):
        # relu(z) and leaky_relu(z, a) in one node differentiate to one and the same Heaviside(z),
        # which cannot be both the kink convention and 0 at z = 0.
        raise ProblemError(f"'{expr}' takes leaky_relu and relu, max or min of the same input "
                           f"{argument}, whose slopes at exactly 0 follow different rules (alpha; "
                           f"the kink convention {kink}): write them as separate nodes or split the node "
                           "into gates (gates: true, or --gates)")
    if kinds.get(argument) == "leaky_relu":
        return sp.Heaviside(argument, *h0)
    return sp.Heaviside(argument, kink)


def settle_branches(derivative: sp.Expr, expr: sp.Expr, known: dict[sp.Basic, sp.Expr],
                    facts: dict[sp.Expr, tuple[sp.Expr, str]], kink: sp.Expr
                    ) -> tuple[sp.Expr, tuple[Branch, ...]]:
    """Decide each kink in a derivative where the values decide it.

    `known` maps symbols to their values; `facts` maps an expression to a value learnt from a given
    node (y = relu(w3*x_n) given as 3 means w3*x_n = 3) and the name of that node. Returns the
    derivative with every decided step replaced by 1, 0 or the kink value, and one Branch per step.
    """
    kinds = _kink_kinds(expr)
    if not kinds:
        return derivative, ()      # no relu, max, min or abs: no step in the derivative either
    branches = []
    replacements = {}
    for step in sorted(derivative.atoms(sp.Heaviside, sp.sign), key=sp.default_sort_key):
        argument = step.args[0]
        kind = kinds.get(argument, "abs" if step.func is sp.sign else "step")
        source = "forward"
        if argument in facts:
            value, source = facts[argument]
        else:
            value = argument.xreplace(known)
        sign = fn.numeric_sign(value) if value.is_number else None
        if sign is None:
            branches.append(Branch(kind, argument, None, None))
            continue
        if step.func is sp.Heaviside:
            # At exactly 0, the step's own value: the kink convention, or 0 for leaky ReLU.
            at_zero = step.args[1] if len(step.args) == 2 else kink
            outcome = {1: sp.S.One, -1: sp.S.Zero, 0: at_zero}[sign]
        else:
            outcome = sp.Integer(sign)
        replacements[step] = outcome
        branches.append(Branch(kind, argument, value, outcome, source, sign))
    return derivative.xreplace(replacements), tuple(branches)


def _term_derivative(term: sp.Expr, wrt: sp.Symbol) -> sp.Expr:
    """sp.diff(term, wrt), read off directly where term is wrt times factors free of it (w*x by w is
    x) or a function of wrt, which is most terms of a network and where sp.diff spends a
    millisecond or more."""
    if _same(term, wrt):
        return sp.S.One
    if term.is_Mul:
        others = [f for f in term.args if not _same(f, wrt)]
        if len(others) == len(term.args) - 1 and not any(f.has(wrt) for f in others if not f.is_Atom):
            return others[0] if len(others) == 1 else sp.Mul(*others)
    if isinstance(term, sp.Function) and type(term)._eval_derivative is sp.Function._eval_derivative:
        # f(..., wrt, ...) with wrt in one argument and as that whole argument: the function's own
        # derivative there, which is what sp.diff's chain rule multiplies by 1 (sigmoid(z) by z is
        # sigmoid(z)*(1 - sigmoid(z))), without building a Derivative.
        holding = [i for i, a in enumerate(term.args) if a.has(wrt)]
        if len(holding) == 1 and _same(term.args[holding[0]], wrt):
            return term.fdiff(holding[0] + 1)
    return sp.diff(term, wrt)


def _same(a: sp.Basic, b: sp.Basic) -> bool:
    """a == b, without SymPy's structural comparison where the cached hashes already differ."""
    return a is b or (hash(a) == hash(b) and a == b)


def _args_holding(expr: sp.Expr, wrt: sp.Symbol) -> list[sp.Expr]:
    """The arguments of expr's top operation that hold wrt."""
    if expr.is_Add and len(expr.args) > 8:
        return list(_add_terms_by_symbol(expr).get(wrt, ()))
    return [a for a in expr.args if (_same(a, wrt) if a.is_Atom else a.has(wrt))]


@lru_cache(maxsize=4096)
def _add_terms_by_symbol(expr: sp.Add) -> dict[sp.Symbol, tuple[sp.Expr, ...]]:
    """Each symbol of a sum mapped to the terms that hold it, built once per node: asking every term
    of a weighted sum for every one of its inputs would take fan-in squared."""
    index: dict[sp.Symbol, list[sp.Expr]] = {}
    for term in expr.args:
        for s in term.free_symbols:
            index.setdefault(s, []).append(term)
    return {s: tuple(terms) for s, terms in index.items()}


@lru_cache(maxsize=4096)
def _kink_kinds(expr: sp.Expr) -> dict[sp.Expr, str]:
    """Which function each possible step argument comes from: relu(z) -> {z: relu},
    max(a, b) -> {a - b: max, b - a: max}, as SymPy writes the derivatives."""
    return dict(_kink_arguments(expr))


def _kink_arguments(expr: sp.Expr):
    """(step argument, function) for every kink in expr, in preorder."""
    for sub in sp.preorder_traversal(expr):
        if sub.func in (fn.relu, fn.leaky_relu):
            yield sub.args[0], sub.func.__name__
        elif sub.func in (sp.Max, sp.Min):
            for a in sub.args:
                others = [b for b in sub.args if b != a]
                rest = others[0] if len(others) == 1 else sub.func(*others)
                difference = a - rest if sub.func is sp.Max else rest - a
                yield difference, sub.func.__name__.lower()
        elif sub.func is sp.Abs:
            yield sub.args[0], "abs"


@lru_cache(maxsize=4096)
def _shared_kinks(expr: sp.Expr) -> frozenset[sp.Expr]:
    """Step arguments that are both a leaky ReLU's input and a ReLU's, max's or min's."""
    pairs = list(_kink_arguments(expr))
    leaky = {a for a, kind in pairs if kind == "leaky_relu"}
    return frozenset(leaky & {a for a, kind in pairs if kind in ("relu", "max", "min")})


def kink_facts(expr: sp.Expr, value: sp.Expr, node: str) -> dict[sp.Expr, tuple[sp.Expr, str]]:
    """What a given value of a ReLU-like node says about its input (relu(a) = 3 means a = 3)."""
    if not value.is_number or not expr.args:
        return {}
    argument = expr.args[0]
    if expr.func is fn.relu and value > 0:
        return {argument: (value, node)}
    if expr.func is fn.leaky_relu and value != 0:
        return {argument: (value if value > 0 else value / expr.args[1], node)}
    if expr.func is sp.Max and len(expr.args) == 2 and sp.S.Zero in expr.args and value > 0:
        other = expr.args[1] if expr.args[0] == 0 else expr.args[0]
        return {other: (value, node)}
    return {}


def _strip_coefficient(arg: sp.Expr) -> sp.Expr:
    """-ybar -> ybar, 3*x -> x: a constant multiple of an input is still that input for the gate."""
    if arg.is_Mul:
        coefficient, rest = arg.as_coeff_Mul()
        if coefficient.is_Number:
            return rest
    return arg
