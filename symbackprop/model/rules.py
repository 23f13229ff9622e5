"""Local derivatives, read from the table of operations (operations.py).

The derivative itself comes from SymPy (each project function defines `fdiff`); the table says which
operations a node may use, which gate rule of the lecture notes each applies, and where its kinks
are. The kink of ReLU, max and min is a `Heaviside(x, h0)` step whose value at exactly 0 is the
problem's `kink` convention (0 by default, as `torch.relu`; 1/2 is `torch.maximum`'s split of a tie).
Leaky ReLU's step keeps its own value 0 there whatever the convention, so its slope at exactly 0 is
alpha, as `torch.nn.functional.leaky_relu`.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from typing import Iterable

import sympy as sp

from ..errors import ProblemError
from . import functions as fn
from .definitions import WeightedSum, term_names
from .operations import BY_FUNCTION, BY_KEY, Chain, Kinked, NoRowError, Operation, row
from .steps import Branch
from .symbols import symbol


def check_supported(expr: sp.Expr, where: str) -> None:
    """Raise a ProblemError naming any operation in expr that a node may not use."""
    # In preorder, as the error names the first such part; atoms (most of a weighted sum's tree)
    # are not visited, and each operation is looked up once.
    usable_functions = set()
    pending = [expr]
    while pending:
        sub = pending.pop()
        if sub.is_Atom:
            continue
        if sub.func not in usable_functions:
            try:
                usable = row(sub.func).in_nodes
            except NoRowError:
                usable = False
            if not usable:
                raise ProblemError(f"'{sub}' uses {sub.func.__name__}, which has no derivative rule",
                                   key=where)
            usable_functions.add(sub.func)
        pending.extend(a for a in reversed(sub.args) if not a.is_Atom)


def gate_rules(expr: sp.Expr, wrt: sp.Symbol) -> tuple[type[Operation], ...]:
    """The rows whose gate rules take expr's gradient to wrt, outermost first.

    One rule when wrt is a direct input of expr's top operation (a scaled input such as -ybar in
    y - ybar counts as direct): relu(z) -> (Relu,). Where wrt sits deeper, the operations on the way
    down: relu(w3*x_n) -> (Relu, Multiply). Where wrt appears in several places, the chain rule.
    """
    path: list[type[Operation]] = []
    while not _same(expr, wrt):
        holding = _args_holding(expr, wrt)
        operation = BY_FUNCTION.get(expr.func)
        if operation is None or len(holding) != 1:
            return (Chain,)
        path.append(operation)
        expr = _strip_coefficient(holding[0])
    return tuple(path) or (Chain,)


def weighted_inputs(expr: sp.Expr | WeightedSum) -> dict[str, tuple[sp.Expr | str, tuple[str, ...]]]:
    """Each symbol whose one term in the sum expr is the symbol itself (gate rule add; local
    derivative 1) or the symbol times one other symbol (add, multiply; the other symbol, w*x + b by w
    is x, given by its name: a network's 26,000 weights are then not made symbols), by name, mapped to
    that derivative and the rules' keys: what local_derivative, settle_branches and gate_rules give
    for it, read off the terms once per node. They are nine in
    ten of a network's steps. Every other symbol, and every other expression, is left to them. Not
    kept here (a network's tables hold a tuple per weight): the reverse pass keeps them while it
    runs. By name: a name's hash is kept by Python, a SymPy symbol's asked of SymPy (a microsecond,
    hundreds of thousands of times a network). A weighted sum read from text is read from its names,
    its SymPy sum not built."""
    if type(expr) is WeightedSum:
        names = list(chain.from_iterable(expr.terms))
        if len(set(names)) == len(names):           # no name in two terms: a network's sums
            return _each_read_off(expr.terms)
        terms: Iterable = map(_name_pairs, expr.terms)
    elif expr.is_Add:
        terms = map(_term_pairs, expr.args)
    else:
        return {}
    # One pass over the terms: a name gives itself, a product of two names gives each of them the
    # other, any other term marks its symbols as not read off; a symbol in two terms neither.
    found: dict[str, tuple[sp.Expr | str, tuple[str, ...]] | None] = {}
    twice = set()
    for pairs in terms:
        for name, entry in pairs:
            if name in found:
                twice.add(name)
            found[name] = entry
    return {name: entry for name, entry in found.items() if entry is not None and name not in twice}


def _each_read_off(terms: tuple[tuple[str, ...], ...]) -> dict[str, tuple[sp.Expr | str, tuple[str, ...]]]:
    """weighted_inputs of terms that share no name, in one loop (the general one takes half as long
    again: a network's 26,000 weights)."""
    found: dict[str, tuple[sp.Expr | str, tuple[str, ...]]] = {}
    for term in terms:
        if len(term) == 1:
            found[term[0]] = (sp.S.One, _ADD)
        else:
            a, b = term
            found[a], found[b] = (b, _ADD_MULTIPLY), (a, _ADD_MULTIPLY)
    return found


def _term_pairs(term: sp.Expr) -> Iterable:
    names = term_names(term)
    return ((s.name, None) for s in term.free_symbols) if names is None else _name_pairs(names)


def _name_pairs(term: tuple[str, ...]) -> Iterable:
    if len(term) == 1:
        return ((term[0], (sp.S.One, _ADD)),)
    a, b = term
    return ((a, (b, _ADD_MULTIPLY)), (b, (a, _ADD_MULTIPLY)))


_ADD = (BY_FUNCTION[sp.Add].key,)
_ADD_MULTIPLY = (BY_FUNCTION[sp.Add].key, BY_FUNCTION[sp.Mul].key)


# Kept: a function of its arguments alone (a node's expression, a symbol, the kink convention), and
# every solve of the same problem (a warm worked solution, a homework's variants) asks it again.
@lru_cache(maxsize=4096)
def local_derivative(expr: sp.Expr, wrt: sp.Symbol, kink: sp.Expr) -> sp.Expr:
    """d expr / d wrt in general form, its kinks valued `kink` at exactly 0.

    Derived once per kind of node: relu(z2_1) and relu(z2_2) are both relu(_0000), whose derivative
    (a millisecond of SymPy) is made once and given each node's names back. The placeholders sort as
    the names they stand for, so every order SymPy chooses (terms, factors, which sign it takes
    out) is the one it chooses for the names: the result is the same expression."""
    term = own_terms(expr).get(wrt)
    if term is not None:
        # A sum whose terms share no input (the loss (y1 - t1)**2 + ... + (y10 - t10)**2): wrt's
        # term, derived as a kind of its own, the same for every term of that shape; _derived of
        # the whole sum differentiates that term alone too, and its kinks are the term's own.
        try:
            return local_derivative(term, wrt, kink)
        except ProblemError:
            pass                                # the error in the whole node's expression, below
    names = sorted(expr.free_symbols, key=_name)
    if wrt not in names or len(names) > len(_PLACEHOLDERS):
        return _derived(expr, wrt, kink)
    to_placeholders = dict(zip(names, _PLACEHOLDERS))
    try:
        template = _derived(expr.xreplace(to_placeholders), to_placeholders[wrt], kink)
    except ProblemError:
        return _derived(expr, wrt, kink)        # the error in the node's own names
    return _renamed(template, dict(zip(_PLACEHOLDERS, names)))


def _name(s: sp.Symbol) -> str:
    return s.name


@lru_cache(maxsize=1024)
def own_terms(expr: sp.Expr) -> dict[sp.Symbol, sp.Expr]:
    """Each input's term, where expr is a sum of two or more terms that share no input; else none."""
    if not expr.is_Add:
        return {}
    owner: dict[sp.Symbol, sp.Expr] = {}
    for term in expr.args:
        for s in term.free_symbols:
            if s in owner:
                return {}
            owner[s] = term
    return owner


def _renamed(expr: sp.Basic, names: dict[sp.Symbol, sp.Symbol]) -> sp.Basic:
    """expr with its symbols renamed, its structure kept as it is: xreplace would evaluate each
    operation again, and a number times a sum (factor_terms' 2*(y - ybar)) would be distributed."""
    if expr.is_Symbol:
        return names.get(expr, expr)
    if not expr.args:
        return expr
    args = tuple(_renamed(a, names) for a in expr.args)
    if all(new is old for new, old in zip(args, expr.args)):
        return expr
    if isinstance(expr, sp.core.operations.AssocOp):
        return expr._from_args(args, expr.is_commutative)
    return expr.func(*args, evaluate=False)


#: Names that sort as the names they replace (fixed width), and that no problem can use (the name
#: check refuses a leading underscore).
_PLACEHOLDERS = tuple(symbol(f"_{i:04d}") for i in range(64))


@lru_cache(maxsize=4096)
def _derived(expr: sp.Expr, wrt: sp.Symbol, kink: sp.Expr) -> sp.Expr:
    """local_derivative of expr itself."""
    derivative = value_derivative(expr, wrt, kink)
    # SymPy distributes numbers over sums (2*y - 2*ybar); a reader expects 2*(y - ybar). Only a
    # sum can need it, and most local derivatives (x, w3, h*(1 - h)) have none at the top.
    if derivative.is_Add or any(a.is_Add for a in derivative.args):
        return sp.factor_terms(derivative)
    return derivative


@lru_cache(maxsize=4096)
def value_derivative(expr: sp.Expr, wrt: sp.Symbol, kink: sp.Expr) -> sp.Expr:
    """d expr / d wrt, its kinks valued `kink` at exactly 0, as SymPy gives it: what a derivative's
    values need (engine/tape.py), before local_derivative brings it into the form a reader expects,
    which took a fifth of the exact gradients' SymPy time."""
    # Of a sum, only the terms that hold wrt: a weighted sum of n inputs is then differentiated in
    # one term per input rather than n (the same result as sp.diff of the whole sum).
    holding = _args_holding(expr, wrt) if expr.is_Add else (expr,)
    terms = [_term_derivative(term, wrt) for term in holding]
    derivative = terms[0] if len(terms) == 1 else sp.Add(*terms)  # Add() of one term costs
    kinds = _kink_kinds(expr)
    if kinds and derivative.has(sp.Heaviside):
        derivative = derivative.replace(sp.Heaviside, lambda x, *_: _kink_step(x, kinds, kink, expr))
    return derivative


def _kink_step(argument: sp.Expr, kinds: dict[sp.Expr, str], kink: sp.Expr,
               expr: sp.Expr) -> sp.Expr:
    """A step of a derivative with its value at exactly 0: the operation's own where it fixes one
    (leaky ReLU's 0, so the slope there is alpha), the kink convention for the others."""
    if kink != 0 and argument in _shared_kinks(expr):
        # relu(z) and leaky_relu(z, a) in one node differentiate to one and the same Heaviside(z),
        # which cannot be both the kink convention and 0 at z = 0.
        raise ProblemError(f"'{expr}' takes leaky_relu and relu, max or min of the same input "
                           f"{argument}, whose slopes at exactly 0 follow different rules (alpha; "
                           f"the kink convention {kink}): write them as separate nodes or split the node "
                           "into gates (gates: true, or --gates)")
    own = BY_KEY[kinds[argument]].step_at_zero if argument in kinds else None
    return sp.Heaviside(argument, kink if own is None else own)


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
    steps = list(derivative.atoms(sp.Heaviside, sp.sign))
    # Sorted where there are two or more: a step's sort key builds its function's argument counts
    # as a SymPy set, a third of a ReLU node's chain step.
    for step in sorted(steps, key=sp.default_sort_key) if len(steps) > 1 else steps:
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
        # A name, or a product of names (w*x: its factors are distinct, w*w being a power), holds
        # its own symbols; free_symbols would build sets to say so.
        if term.is_Symbol:
            symbols = (term,)
        elif term.is_Mul and all(f.is_Symbol for f in term.args):
            symbols = term.args
        else:
            symbols = term.free_symbols
        for s in symbols:
            index.setdefault(s, []).append(term)
    return {s: tuple(terms) for s, terms in index.items()}


@lru_cache(maxsize=4096)
def _kink_kinds(expr: sp.Expr) -> dict[sp.Expr, str]:
    """Which function each possible step argument comes from: relu(z) -> {z: relu},
    max(a, b) -> {a - b: max, b - a: max}, as SymPy writes the derivatives."""
    return dict(_kink_arguments(expr))


def _kink_arguments(expr: sp.Expr):
    """(step argument, kink key) for every kink in expr, in preorder."""
    for sub in sp.preorder_traversal(expr):
        operation = BY_FUNCTION.get(sub.func)
        if operation is not None and issubclass(operation, Kinked):
            for argument in operation.kinks(sub):
                yield argument, operation.key


@lru_cache(maxsize=4096)
def _shared_kinks(expr: sp.Expr) -> frozenset[sp.Expr]:
    """Step arguments of two kinks whose steps take different values at exactly 0: a leaky ReLU's
    own and a ReLU's, max's or min's convention."""
    own, convention = set(), set()
    for argument, key in _kink_arguments(expr):
        operation = BY_KEY[key]
        if operation.has_step:
            (convention if operation.step_at_zero is None else own).add(argument)
    return frozenset(own & convention)


def kink_facts(expr: sp.Expr, value: sp.Expr, node: str) -> dict[sp.Expr, tuple[sp.Expr, str]]:
    """What a given value of a ReLU-like node says about its input (relu(a) = 3 means a = 3)."""
    operation = BY_FUNCTION.get(expr.func)
    if not value.is_number or not expr.args or operation is None:
        return {}
    known = operation.known_input(expr, value)
    return {} if known is None else {known[0]: (known[1], node)}


def _strip_coefficient(arg: sp.Expr) -> sp.Expr:
    """-ybar -> ybar, 3*x -> x: a constant multiple of an input is still that input for the gate."""
    if arg.is_Mul:
        coefficient, rest = arg.as_coeff_Mul()
        if coefficient.is_Number:
            return rest
    return arg
