"""symbackprop's gradients checked against three independent references, on random networks.

The library derives gradients with a memoised reverse pass: it walks the nodes backwards, takes each
node's *local* derivative with SymPy (the project's own `relu`, `sigmoid`, ... classes and their
`fdiff`), multiplies by the upstream gradient it stored for the consumer and sums over consumers.
The references below never look at that machinery:

* Reference A (`sympy.diff` of the closed form): every node definition is substituted into the
  loss until it is one expression over plain symbols, the project's functions are rewritten as plain
  SymPy (`relu(z) -> Max(0, z)`, `sigmoid(z) -> 1/(1 + exp(-z))`, softmax as a quotient of exps,
  ...), and that single expression is differentiated in one go. No chain rule across nodes, no
  memoisation, no `fdiff` of the library's classes. Values are compared exactly where both sides are
  rational, else at 40 digits.
* Reference B (central finite differences): the closed form is evaluated with mpmath at 60 digits,
  with relu, sigmoid, ... written here from their definitions, and each input is perturbed by
  h = 1e-25. No derivative of anything is taken symbolically.
* Reference C (PyTorch autograd, float64): the network is rebuilt in torch by walking the SymPy
  tree of each node definition (Add -> +, Max -> torch.maximum, relu -> torch.relu, ...) and
  `backward()` is run. A third, numerically independent differentiation engine.

The node definitions the references use are parsed here with SymPy's own parser into test-owned,
unevaluated functions (`Relu`, `Sigmoid`, ...), not with the library's parser, so a parsing bug in
the library shows up as a disagreement too.

Kinks (relu/leaky_relu/abs at exactly 0, ties in max/min) are filtered out of the random data with
`assume`: there the derivative is a convention, not a limit, and the references would disagree with
each other. So are numbers too large or too small for float64 and for a finite-difference step (see
`in_range`). One deterministic test checks the kink convention (relu'(0) = abs'(0) = 0,
leaky_relu'(0) = alpha, as PyTorch) against torch.

Failing examples are not shrunk unless SYMBACKPROP_SHRINK=1 (shrinking costs minutes); the last two
tests are regressions for bugs these references found.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import parse_expr, rationalize, standard_transformations

import symbackprop

# -------------------------------------------------------------------------------------------------
# Test-owned, unevaluated functions: the references' view of a network, independent of the library.
# -------------------------------------------------------------------------------------------------


class _Neutral(sp.Function):
    """Stays unevaluated; real on real arguments; evaluates numerically through its plain form (so
    that SymPy's Max and Min can compare it with numbers)."""

    def _eval_is_extended_real(self):
        return True if all(a.is_extended_real for a in self.args) else None

    def _eval_evalf(self, prec):
        return PLAIN[type(self)](*self.args).evalf(mpmath.libmp.prec_to_dps(prec))


class Relu(_Neutral):
    nargs = 1


class LeakyRelu(_Neutral):
    nargs = 2


class Sigmoid(_Neutral):
    nargs = 1


class Softmax(_Neutral):
    """Softmax(k, z1, ..., zn): the k-th output, counting from 1."""


#: How the references read the function names of a problem's expressions.
FUNCTION_NAMES = {
    "relu": Relu, "leaky_relu": LeakyRelu, "sigmoid": Sigmoid, "softmax": Softmax,
    "tanh": sp.tanh, "exp": sp.exp, "log": sp.log, "max": sp.Max, "min": sp.Min, "abs": sp.Abs,
}

def _max2(a, b):
    return a * sp.Heaviside(a - b) + b * sp.Heaviside(b - a)


def _min2(a, b):
    return a * sp.Heaviside(b - a) + b * sp.Heaviside(a - b)


#: Plain SymPy definitions of the project functions, for Reference A. The kinked ones are written
#: with Heaviside steps, exact away from kinks and ties (which the data avoids): SymPy's own
#: derivative of nested Max/Min can come out as nan (d/da of Max(0, -Max(0, a))).
PLAIN = {
    Relu: lambda z: z * sp.Heaviside(z),
    LeakyRelu: lambda z, alpha: z * (alpha + (1 - alpha) * sp.Heaviside(z)),
    Sigmoid: lambda z: 1 / (1 + sp.exp(-z)),
    Softmax: lambda k, *zs: sp.exp(zs[int(k) - 1]) / sp.Add(*(sp.exp(z) for z in zs)),
    sp.Max: lambda *args: reduce(_max2, args),
    sp.Min: lambda *args: reduce(_min2, args),
}


# mpmath versions, Reference B. Arguments are made mpf: lambdify passes a constant such as the 1 of
# relu(1) as a Python int, and int arithmetic would drop to float precision.

def _mp_relu(z):
    z = mpmath.mpf(z)
    return z if z > 0 else 0 * z


def _mp_leaky_relu(z, alpha):
    z, alpha = mpmath.mpf(z), mpmath.mpf(alpha)
    return z if z > 0 else alpha * z


def _mp_sigmoid(z):
    return 1 / (1 + mpmath.exp(-mpmath.mpf(z)))


def _mp_softmax(k, *zs):
    zs = [mpmath.mpf(z) for z in zs]
    return mpmath.exp(zs[int(k) - 1]) / mpmath.fsum(mpmath.exp(z) for z in zs)


#: mpmath implementations for lambdify, Reference B.
MP_FUNCTIONS = {"Relu": _mp_relu, "LeakyRelu": _mp_leaky_relu, "Sigmoid": _mp_sigmoid,
                "Softmax": _mp_softmax}

TRANSCENDENTAL = (Sigmoid, Softmax, sp.exp, sp.log, sp.tanh)

# -------------------------------------------------------------------------------------------------
# A network: what the library is given, and the references' own parse of it.
# -------------------------------------------------------------------------------------------------


@dataclass
class Net:
    nodes: dict[str, str]
    #: Values as handed to the library (str, int, float): "0.1" must mean exactly 1/10.
    values: dict[str, object]
    #: The same values as exact fractions, for the references.
    exact: dict[str, Fraction]
    loss: str | None = None  # None: let the library default to the last node

    def mapping(self) -> dict:
        data = {"nodes": dict(self.nodes), "values": dict(self.values)}
        if self.loss is not None:
            data["loss"] = self.loss
        return data

    @property
    def loss_name(self) -> str:
        return self.loss if self.loss is not None else list(self.nodes)[-1]


@dataclass
class Reference:
    """The references' model of a Net: node definitions parsed by SymPy, closed forms, values."""

    net: Net
    symbols: dict[str, sp.Symbol] = field(init=False)
    node_symbols: dict[str, sp.Symbol] = field(init=False)
    defs: dict[str, sp.Expr] = field(init=False)
    values: dict[sp.Symbol, sp.Rational] = field(init=False)

    def __post_init__(self):
        net = self.net
        names = set()
        for text in net.nodes.values():
            names |= set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", text))
        names -= set(FUNCTION_NAMES) | set(net.nodes)
        self.symbols = {n: sp.Symbol(n, real=True) for n in sorted(names)}
        self.node_symbols = {n: sp.Symbol(n, real=True) for n in net.nodes}
        local = {**FUNCTION_NAMES, **self.symbols, **self.node_symbols}
        transformations = standard_transformations + (rationalize,)
        self.defs = {n: parse_expr(text, local_dict=local, transformations=transformations)
                     for n, text in net.nodes.items()}
        self.values = {self.symbols[n]: sp.Rational(v.numerator, v.denominator)
                       for n, v in net.exact.items() if n in self.symbols}
        assert set(self.values) == set(self.symbols.values()), "every symbol needs a value"

    # -- structure ------------------------------------------------------------------------------

    def ancestors(self) -> tuple[list[str], list[str]]:
        """Nodes and symbols the loss depends on (through the definitions' free symbols)."""
        loss = self.net.loss_name
        seen, stack = {loss}, [loss]
        while stack:
            for s in self.defs[stack.pop()].free_symbols:
                if s.name in self.defs and s.name not in seen:
                    seen.add(s.name)
                    stack.append(s.name)
        nodes = [n for n in self.defs if n in seen]
        symbols = sorted({s.name for n in nodes for s in self.defs[n].free_symbols
                          if s.name in self.symbols})
        return nodes, symbols

    def targets(self) -> list[str]:
        """Every name the loss has a gradient for: its ancestor nodes (itself too) and symbols."""
        nodes, symbols = self.ancestors()
        return nodes + symbols

    def closed_form(self, keep: str | None = None) -> sp.Expr:
        """The loss over plain symbols only; with `keep`, that node stays a free symbol (its
        gradient is then the derivative with respect to it, everything upstream held fixed)."""
        cache = self.__dict__.setdefault("_closed_forms", {})
        if keep not in cache:
            cache[keep] = self._closed_form(keep)
        return cache[keep]

    def plain_closed_form(self, keep: str | None = None) -> sp.Expr:
        """closed_form with relu, sigmoid, ... written as plain SymPy (Reference A)."""
        cache = self.__dict__.setdefault("_plain_closed_forms", {})
        if keep not in cache:
            cache[keep] = to_plain(self.closed_form(keep))
        return cache[keep]

    def _closed_form(self, keep: str | None) -> sp.Expr:
        full: dict[sp.Symbol, sp.Expr] = {}
        for name, expr in self.defs.items():
            sym = self.node_symbols[name]
            full[sym] = sym if name == keep else expr.xreplace(full)
            if name == self.net.loss_name:
                return full[sym]
        raise AssertionError("loss not found")

    def target_symbol(self, name: str) -> sp.Symbol:
        return self.symbols.get(name) or self.node_symbols[name]

    # -- numbers ------------------------------------------------------------------------------

    def mp_forward(self) -> dict[str, mpmath.mpf]:
        """Forward values at 60 digits, node by node, walking each definition with the test's own
        mpmath arithmetic. Also records every intermediate value and every kink margin (|argument|
        of relu, leaky_relu and abs, pairwise differences inside max and min) for `admissible`."""
        self.intermediates: list[mpmath.mpf] = []
        self.margins: list[mpmath.mpf] = []
        with mpmath.workdps(60):
            env = {s: mpmath.mpf(v.p) / v.q for s, v in self.values.items()}
            out = {}
            for name, expr in self.defs.items():
                value = self._mp_eval(expr, env)
                env[self.node_symbols[name]] = value
                out[name] = value
            return out

    def _mp_eval(self, expr: sp.Expr, env) -> mpmath.mpf:
        if expr.is_Symbol:
            return env[expr]
        if expr.is_Rational:
            return mpmath.mpf(expr.p) / expr.q
        if not expr.free_symbols:  # a constant SymPy folded, such as E or exp(1/2)
            value = mpmath.mpf(str(sp.N(expr, 70)))
            self.intermediates.append(value)
            return value
        if isinstance(expr, Softmax):
            k, *zs = expr.args
            args = [self._mp_eval(z, env) for z in zs]
        else:
            args = [self._mp_eval(a, env) for a in expr.args]
        if isinstance(expr, (Relu, LeakyRelu, sp.Abs)):
            self.margins.append(abs(args[0]))
        if isinstance(expr, (sp.Max, sp.Min)):
            self.margins.extend(abs(a - b) for i, a in enumerate(args) for b in args[i + 1:])
        if isinstance(expr, sp.exp) and args[0] > 50:
            raise OutOfRange(f"exp({mpmath.nstr(args[0], 5)})")
        if isinstance(expr, sp.Pow) and abs(args[0]) > 10**6:
            raise OutOfRange(f"power of {mpmath.nstr(args[0], 5)}")
        if isinstance(expr, sp.Add):
            value = mpmath.fsum(args)
        elif isinstance(expr, sp.Mul):
            value = mpmath.fprod(args)
        elif isinstance(expr, sp.Pow):
            value = args[0] ** (int(expr.exp) if expr.exp.is_Integer else args[1])
        elif isinstance(expr, sp.Max):
            value = max(args)
        elif isinstance(expr, sp.Min):
            value = min(args)
        elif isinstance(expr, Softmax):
            value = _mp_softmax(k, *args)
        else:
            function = {Relu: _mp_relu, LeakyRelu: _mp_leaky_relu, Sigmoid: _mp_sigmoid,
                        sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh,
                        sp.Abs: abs}[type(expr)]
            value = function(*args)
        self.intermediates.append(value)
        return value

    def exact_forward(self) -> dict[str, sp.Expr]:
        """Exact forward values, in plain SymPy (closed forms such as 1/(1 + exp(-1/2)))."""
        known: dict[sp.Symbol, sp.Expr] = dict(self.values)
        out = {}
        for name, expr in self.defs.items():
            value = to_plain(expr.xreplace(known))
            known[self.node_symbols[name]] = value
            out[name] = value
        return out

    def is_rational_network(self) -> bool:
        return not any(e.has(*TRANSCENDENTAL) for e in self.defs.values())


def to_plain(expr: sp.Expr) -> sp.Expr:
    """Rewrite the test's Relu/Sigmoid/..., max and min as plain SymPy (innermost first)."""
    return expr.replace(lambda e: type(e) in PLAIN, lambda e: PLAIN[type(e)](*e.args))


class OutOfRange(Exception):
    """A generated network whose numbers grow too large to evaluate (exp(exp(121)))."""


def in_range(ref: Reference) -> bool:
    """Away from kinks and ties by 1e-6, and every intermediate value 0 or between 1e-30 and 1e8 in
    magnitude (float64 and torch must hold them, and a finite-difference step must not cross 0)."""
    try:
        ref.mp_forward()
    except OutOfRange:
        return False
    return (all(mpmath.isfinite(v) and (v == 0 or 1e-30 < abs(v) < 1e8)
                for v in ref.intermediates)
            and all(m > mpmath.mpf("1e-6") for m in ref.margins))


def admissible(net: Net) -> Reference:
    """Parse a generated network and `assume` it is in range (see in_range)."""
    ref = Reference(net)
    assume(in_range(ref))
    return ref


def solve(net: Net):
    return symbackprop.load(net.mapping()).solve()


# -------------------------------------------------------------------------------------------------
# Comparisons
# -------------------------------------------------------------------------------------------------


def numeric(value: sp.Expr, digits: int, what: str) -> sp.Float:
    number = sp.N(value, digits)
    assert number.is_Number and number.is_real, (
        f"{what}: {value} does not evaluate to a real number")
    return number


def assert_agree_exact_or_40(library: sp.Expr, reference: sp.Expr, what: str,
                             require_exact: bool = False) -> None:
    """Exact equality when both are rationals; else 40 significant digits, rel 1e-30."""
    if require_exact and reference.is_Rational:
        assert library.is_Rational, (
            f"{what}: expected the exact rational {reference}, got {library}")
    if library.is_Rational and reference.is_Rational:
        assert library == reference, f"{what}: library {library} != reference {reference}"
        return
    a = numeric(library, 40, what + " (library)")
    b = numeric(reference, 40, what + " (reference)")
    tolerance = sp.Float("1e-30", 40) * max(abs(a), abs(b)) + sp.Float("1e-40", 40)
    assert abs(a - b) <= tolerance, f"{what}: library {a} != reference {b}"


def library_gradient(net: Net, solution, name: str) -> sp.Expr:
    """The library's dL/d name. A name may be missing only where the library simplified it away
    while parsing (`leaky_relu(1, w3)` is 1, `softmax(1, a, a)` is 1/2, so the loss does not depend
    on w3 or a): it then counts as 0, and the reference must find exactly that."""
    gradient = solution.gradients.get(name)
    return sp.S.Zero if gradient is None else gradient.value


def resolve_steps(expr: sp.Expr) -> sp.Expr:
    """Decide Heaviside, DiracDelta and sign left in a numeric derivative by evaluating their
    argument (the data is at least 1e-6 away from every kink, so 50 digits decide)."""
    def decide(step):
        x = numeric(step.args[0], 50, f"step argument {step.args[0]}")
        assert x != 0, f"exact kink reached in the reference: {step}"
        if isinstance(step, sp.DiracDelta):
            return sp.S.Zero
        if isinstance(step, sp.Heaviside):
            return sp.S.One if x > 0 else sp.S.Zero
        return sp.S.One if x > 0 else sp.S.NegativeOne
    kinds = (sp.Heaviside, sp.DiracDelta, sp.sign)
    return expr.replace(lambda e: isinstance(e, kinds), decide)


# -------------------------------------------------------------------------------------------------
# The three references
# -------------------------------------------------------------------------------------------------


def check_reference_a(net: Net, solution, ref: Reference) -> None:
    """Reference A: sympy.diff of the fully substituted closed form, evaluated at the values.

    Independent of the library because it differentiates one expression over plain symbols (no
    per-node local derivatives, no stored upstream gradients, no summing of paths) and uses plain
    SymPy forms of relu, sigmoid, softmax, ... instead of the library's classes and their fdiff. For
    a node, the closed form keeps that node as a free symbol and its forward value is substituted.

    A network of + - * / ** relu leaky_relu max min abs only is substituted with its exact rationals
    and must agree exactly (and the library must have kept the value exact). Any other network is
    substituted with the values as 60-digit Floats (exact closed forms of nested exps take SymPy
    seconds to evaluate) and must agree to 40 digits, rel 1e-30.
    """
    rational = ref.is_rational_network()
    if rational:
        forward = ref.exact_forward()
        at = dict(ref.values)
    else:
        forward = {n: sp.Float(mpmath.nstr(v, 62, min_fixed=1, max_fixed=0), 60)
                   for n, v in ref.mp_forward().items()}
        at = {s: sp.Float(v, 60) for s, v in ref.values.items()}
    for name, value in forward.items():
        assert_agree_exact_or_40(solution.forward[name].value, resolve_steps(value),
                                 f"forward {name}", rational)
    at.update({ref.node_symbols[n]: v for n, v in forward.items()})
    for name in ref.targets():
        target = ref.target_symbol(name)
        derivative = sp.diff(ref.plain_closed_form(keep=name if name in net.nodes else None),
                             target)
        expected = resolve_steps(derivative.xreplace(at))
        assert_agree_exact_or_40(library_gradient(net, solution, name), expected, f"dL/d{name}",
                                 rational)


FD_STEP = mpmath.mpf("1e-25")
FD_TOLERANCE = mpmath.mpf("1e-20")


def check_reference_b(net: Net, solution, ref: Reference) -> None:
    """Reference B: central finite differences of the closed form at 60 digits (mpmath), h = 1e-25.

    Independent of the library because nothing is differentiated: the closed form is only evaluated
    (with relu, sigmoid, softmax, ... implemented here in mpmath from their definitions) at inputs
    moved by +-h. Truncation error is O(h**2) ~ 1e-50 and rounding ~ 1e-60/h = 1e-35, far below the
    tolerance of 1e-20 relative (plus 1e-20 absolute for gradients that are 0). For an input x
    smaller than 1 in magnitude (a softmax output of 1e-28 under a log) the step is h*|x|, so that
    it neither crosses 0 nor meets the curvature of log near 0, and the working precision grows by
    the digits |x| lacks, so that rounding stays at 1e-35.
    """
    forward = ref.mp_forward()
    with mpmath.workdps(60):
        point = {s: mpmath.mpf(v.p) / v.q for s, v in ref.values.items()}
        for name, value in forward.items():
            point[ref.node_symbols[name]] = value
        compiled = {}
        for name in ref.targets():
            keep = name if name in net.nodes else None
            if keep not in compiled:
                form = ref.closed_form(keep=keep)
                args = sorted(set(ref.values) | ({ref.node_symbols[keep]} if keep else set()),
                              key=lambda s: s.name)
                compiled[keep] = args, sp.lambdify(args, form, modules=[MP_FUNCTIONS, "mpmath"])
            args, f = compiled[keep]
            target = ref.target_symbol(name)

            def at(offset):
                return f(*(point[a] + (offset if a == target else 0) for a in args))

            x = abs(point[target])
            if 0 < x < 1:  # step and working precision scaled with the input, see above
                step = FD_STEP * x
                digits = 60 + int(-mpmath.log10(x)) + 1
            else:
                step, digits = FD_STEP, 60
            with mpmath.workdps(digits):
                estimate = (at(step) - at(-step)) / (2 * step)
            gradient = library_gradient(net, solution, name)
            library = mpmath.mpf(str(numeric(gradient, 45, f"dL/d{name}")))
            error = abs(library - estimate)
            assert error <= FD_TOLERANCE * max(abs(library), abs(estimate)) + FD_TOLERANCE, (
                f"dL/d{name}: library {mpmath.nstr(library, 30)} != finite difference "
                f"{mpmath.nstr(estimate, 30)}")
        for name, value in forward.items():
            library = mpmath.mpf(str(numeric(solution.forward[name].value, 45, f"forward {name}")))
            assert abs(library - value) <= FD_TOLERANCE * max(1, abs(value)), (
                f"forward {name}: library {library} != {value}")


def torch_network(torch, ref: Reference):
    """Build the network in torch by walking each node's SymPy tree; returns (leaves, nodes)."""
    import torch.nn.functional as F

    dtype = torch.float64

    def build(expr, env):
        if expr.is_Symbol:
            return env[expr]
        if not expr.free_symbols:  # 3/4, or a constant SymPy folded such as E
            return torch.tensor(float(sp.N(expr, 30)), dtype=dtype)
        if isinstance(expr, Softmax):
            k, *zs = expr.args
            return torch.softmax(torch.stack([build(z, env) for z in zs]), dim=0)[int(k) - 1]
        if isinstance(expr, LeakyRelu):
            z, alpha = expr.args
            if alpha.is_Number:
                return F.leaky_relu(build(z, env), float(alpha))
            zt = build(z, env)
            return torch.where(zt > 0, zt, build(alpha, env) * zt)
        if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
            return torch.pow(build(expr.base, env), int(expr.exp))
        args = [build(a, env) for a in expr.args]
        if isinstance(expr, sp.Add):
            return reduce(lambda a, b: a + b, args)
        if isinstance(expr, sp.Mul):
            return reduce(lambda a, b: a * b, args)
        if isinstance(expr, sp.Pow):
            return torch.pow(args[0], args[1])
        if isinstance(expr, sp.Max):
            return reduce(torch.maximum, args)
        if isinstance(expr, sp.Min):
            return reduce(torch.minimum, args)
        unary = {Relu: torch.relu, Sigmoid: torch.sigmoid, sp.tanh: torch.tanh, sp.exp: torch.exp,
                 sp.log: torch.log, sp.Abs: torch.abs}
        for kind, op in unary.items():
            if isinstance(expr, kind):
                return op(args[0])
        raise NotImplementedError(f"no torch translation for {expr.func}")

    leaves = {name: torch.tensor(float(v), dtype=dtype, requires_grad=True)
              for name, v in ((s.name, v) for s, v in ref.values.items())}
    env = {ref.symbols[name]: t for name, t in leaves.items()}
    nodes = {}
    for name, expr in ref.defs.items():
        out = build(expr, env).clone()  # a fresh tensor even for a node like `h: w1`
        if out.requires_grad:
            out.retain_grad()
        else:  # a constant node: make it a leaf of its own so that it gets a gradient too
            out.requires_grad_(True)
        env[ref.node_symbols[name]] = out
        nodes[name] = out
    return leaves, nodes


def check_reference_c(torch, net: Net, solution, ref: Reference) -> None:
    """Reference C: PyTorch autograd in float64, gradients within rel 1e-9, abs 1e-12.

    Independent of the library because torch's tape-based reverse mode (with its own derivative
    formulas for relu, sigmoid, maximum, softmax, ...) does the differentiation; the network is
    rebuilt from the references' own parse of the node texts. Node gradients come from
    `retain_grad()`, symbol gradients from the leaves' `.grad`.
    """
    leaves, nodes = torch_network(torch, ref)
    loss = nodes[ref.net.loss_name]
    loss.backward()
    for name, tensor in nodes.items():
        library = float(numeric(solution.forward[name].value, 20, f"forward {name}"))
        assert library == pytest.approx(float(tensor.detach()), rel=1e-9, abs=1e-12), (
            f"forward {name}")
    for name in ref.targets():
        tensor = leaves.get(name, nodes.get(name))
        expected = 0.0 if tensor.grad is None else float(tensor.grad)
        library = float(numeric(library_gradient(net, solution, name), 20, f"dL/d{name}"))
        assert library == pytest.approx(expected, rel=1e-9, abs=1e-12), (
            f"dL/d{name}: library {library} != torch {expected}")


# -------------------------------------------------------------------------------------------------
# Strategies
# -------------------------------------------------------------------------------------------------

SYMBOLS = ["w1", "w2", "w3", "x1", "x2", "t"]
HIDDEN = ["a", "b", "c", "d", "h"]
DENOMINATORS = [1, 2, 3, 4, 5, 8, 10]


def formatted(value: Fraction, style: int) -> object:
    """A value as a problem file might write it: int, "n/d", decimal text or a Python float."""
    if value.denominator == 1 and style % 2 == 0:
        return int(value)
    terminating = 10**6 % value.denominator == 0  # 1/8 = 0.125, but 1/3 has no decimal text
    if terminating and style == 1:
        return str(float(value))  # e.g. "0.1": must be exactly 1/10
    if terminating and style == 2:
        return float(value)  # a YAML-like float: exactly its repr
    return f"{value.numerator}/{value.denominator}"


@st.composite
def rationals(draw, low=-12, high=12):
    return Fraction(draw(st.integers(low, high)), draw(st.sampled_from(DENOMINATORS)))


@st.composite
def expressions(draw, leaves: list[str], depth: int) -> str:
    """Expression text over `leaves` built from the supported operations, kept well defined:
    log only of positive quantities, denominators 1 + (...)**2, small integer powers."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        if draw(st.integers(0, 7)) == 0:
            numerator = draw(st.sampled_from([1, -1, 2, -2, 3, -3, 5]))
            return f"({numerator}/{draw(st.sampled_from(DENOMINATORS))})"
        return draw(st.sampled_from(leaves))

    def sub():
        return draw(expressions(leaves, depth - 1))

    kind = draw(st.sampled_from([
        "add", "sub", "mul", "div", "square", "cube", "neg", "relu", "sigmoid", "tanh", "exp",
        "softplus", "logsigmoid", "leaky", "leaky_symbol", "abs", "max", "min", "max3", "softmax",
    ]))
    if kind == "add":
        return f"({sub()} + {sub()})"
    if kind == "sub":
        return f"({sub()} - {sub()})"
    if kind == "mul":
        return f"{sub()}*{sub()}"
    if kind == "div":
        return f"({sub()})/(1 + ({sub()})**2)"
    if kind == "square":
        return f"({sub()})**2"
    if kind == "cube":
        return f"({sub()})**3"
    if kind == "neg":
        return f"-({sub()})"
    if kind in ("relu", "sigmoid", "tanh", "exp", "abs"):
        return f"{kind}({sub()})"
    if kind == "softplus":
        return f"log(1 + exp({sub()}))"
    if kind == "logsigmoid":
        return f"log(sigmoid({sub()}))"
    if kind == "leaky":
        alpha = draw(st.sampled_from(["0.01", "1/10", "0.2", "1/3"]))
        return f"leaky_relu({sub()}, {alpha})"
    if kind == "leaky_symbol":  # alpha a symbol with a value: its gradient is min(z, 0)
        return f"leaky_relu({sub()}, w3)"
    if kind in ("max", "min"):
        return f"{kind}({sub()}, {sub()})"
    if kind == "max3":
        return f"max({sub()}, {sub()}, {sub()})"
    n = draw(st.integers(2, 3))
    k = draw(st.integers(1, n))
    return f"softmax({k}, {', '.join(sub() for _ in range(n))})"


@st.composite
def values_for(draw, nodes: dict[str, str]) -> tuple[dict[str, object], dict[str, Fraction]]:
    text = " ".join(nodes.values())
    used = [s for s in SYMBOLS if re.search(rf"\b{s}\b", text)]
    exact = {s: draw(rationals()) for s in used}
    given = {s: formatted(v, draw(st.integers(0, 3))) for s, v in exact.items()}
    return given, exact


@st.composite
def random_networks(draw) -> Net:
    """2-6 nodes in forward order: 1-5 hidden nodes over symbols and earlier nodes (earlier nodes
    weighted up so nodes get several consumers; some nodes may not reach the loss at all), then a
    loss node, named explicitly or left to the library's default (the last node)."""
    hidden_count = draw(st.integers(1, 5))
    nodes: dict[str, str] = {}
    for i in range(hidden_count):
        earlier = list(nodes)
        leaves = SYMBOLS + earlier * 3
        expr = draw(expressions(leaves, draw(st.integers(1, 2))))
        if earlier and not any(re.search(rf"\b{e}\b", expr) for e in earlier):
            expr = f"{expr} + {draw(st.sampled_from(earlier))}"  # keep the graph connected
        nodes[HIDDEN[i]] = expr
    last = list(nodes)[-1]
    other = draw(expressions(list(nodes) + SYMBOLS, 1))
    template = draw(st.sampled_from([
        "({u} - t)**2", "({u} - t)**2 + ({v})**2/2", "log(1 + exp({u}))", "-log(sigmoid({u}*{v}))",
        "{u}*{v}", "-(t*log(softmax(1, {u}, {v})) + (1 - t)*log(softmax(2, {u}, {v})))",
        "abs({u} - {v})",
    ]))
    nodes["E"] = template.format(u=last, v=other)
    values, exact = draw(values_for(nodes))
    loss = draw(st.sampled_from([None, "E"]))
    return Net(nodes, values, exact, loss)


@st.composite
def dense_networks(draw) -> Net:
    """Fully connected layers: z = sum(w*input) + b, h = activation(z) per unit. Every input and
    hidden unit feeds every unit of the next layer, so its gradient is a sum over paths; an optional
    skip connection makes a first-layer unit feed the output layer too."""
    inputs = [f"x{i}" for i in range(1, draw(st.integers(1, 2)) + 1)]
    nodes: dict[str, str] = {}
    exact: dict[str, Fraction] = {x: draw(rationals()) for x in inputs}
    previous = inputs
    first_hidden: list[str] = []
    layers = draw(st.integers(1, 2))
    for layer in range(1, layers + 1):
        activation = draw(st.sampled_from(["relu", "sigmoid", "tanh", "leaky_relu", "linear"]))
        outputs = []
        for j in range(1, draw(st.integers(1, 2)) + 1):
            terms = []
            for i, x in enumerate(previous, start=1):
                w = f"w{layer}_{j}{i}"
                exact[w] = draw(rationals(-8, 8))
                terms.append(f"{w}*{x}")
            b = f"b{layer}_{j}"
            exact[b] = draw(rationals(-4, 4))
            nodes[f"z{layer}_{j}"] = " + ".join(terms + [b])
            h = f"h{layer}_{j}"
            z = f"z{layer}_{j}"
            nodes[h] = {"linear": z, "leaky_relu": f"leaky_relu({z}, 0.1)"}.get(
                activation, f"{activation}({z})")
            outputs.append(h)
        if layer == 1:
            first_hidden = outputs
        previous = outputs
    skip = layers == 2 and draw(st.booleans())
    softmax_out = draw(st.booleans())
    units = draw(st.integers(2, 3)) if softmax_out else draw(st.integers(1, 2))
    zs = []
    for j in range(1, units + 1):
        terms = []
        for i, x in enumerate(previous, start=1):
            w = f"v_{j}{i}"
            exact[w] = draw(rationals(-8, 8))
            terms.append(f"{w}*{x}")
        if skip:
            exact[f"s_{j}"] = draw(rationals(-4, 4))
            terms.append(f"s_{j}*{first_hidden[0]}")
        nodes[f"o{j}"] = " + ".join(terms)
        zs.append(f"o{j}")
    targets = [f"t{j}" for j in range(1, units + 1)]
    if softmax_out:
        hot = draw(st.integers(0, units - 1))
        for j, t in enumerate(targets):
            exact[t] = Fraction(int(j == hot))
        for j in range(1, units + 1):
            nodes[f"y{j}"] = f"softmax({j}, {', '.join(zs)})"
        nodes["E"] = "-(" + " + ".join(f"{t}*log(y{j})" for j, t in enumerate(targets, 1)) + ")"
    else:
        for t in targets:
            exact[t] = draw(rationals())
        nodes["E"] = " + ".join(f"(o{j} - {t})**2" for j, t in enumerate(targets, 1))
        if draw(st.booleans()):
            nodes["E"] = f"({nodes['E']})/2"
    values = {n: formatted(v, draw(st.integers(0, 3))) for n, v in exact.items()}
    return Net(nodes, values, exact)


#: Shrinking a failure re-runs the library and a reference hundreds of times (minutes), so it is off
#: unless SYMBACKPROP_SHRINK=1; the failing network is printed either way (2-6 nodes, readable).
PHASES = [p for p in Phase if p is not Phase.shrink or os.environ.get("SYMBACKPROP_SHRINK") == "1"]
HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much]
RANDOM = settings(max_examples=40, deadline=None, suppress_health_check=HEALTH, phases=PHASES)
DENSE = settings(max_examples=10, deadline=None, suppress_health_check=HEALTH, phases=PHASES)


# -------------------------------------------------------------------------------------------------
# Property tests
# -------------------------------------------------------------------------------------------------


@RANDOM
@given(random_networks())
def test_random_networks_match_sympy_diff_of_closed_form(net):
    """Reference A on random graphs: forward values and every gradient equal sympy.diff of the
    expanded closed form (exactly when rational; an all-rational network must stay exact)."""
    ref = admissible(net)
    check_reference_a(net, solve(net), ref)


@DENSE
@given(dense_networks())
def test_dense_networks_match_sympy_diff_of_closed_form(net):
    """Reference A on dense layer networks, where inputs and hidden units fan out to several
    units."""
    ref = admissible(net)
    check_reference_a(net, solve(net), ref)


@RANDOM
@given(random_networks())
def test_random_networks_match_finite_differences(net):
    """Reference B on random graphs: central differences at 60 digits agree to rel 1e-20."""
    ref = admissible(net)
    check_reference_b(net, solve(net), ref)


@DENSE
@given(dense_networks())
def test_dense_networks_match_finite_differences(net):
    """Reference B on dense layer networks."""
    ref = admissible(net)
    check_reference_b(net, solve(net), ref)


@RANDOM
@given(random_networks())
def test_random_networks_match_torch_autograd(net):
    """Reference C on random graphs: torch float64 autograd agrees within rel 1e-9, abs 1e-12."""
    torch = pytest.importorskip("torch")
    ref = admissible(net)
    check_reference_c(torch, net, solve(net), ref)


@DENSE
@given(dense_networks())
def test_dense_networks_match_torch_autograd(net):
    """Reference C on dense layer networks."""
    torch = pytest.importorskip("torch")
    ref = admissible(net)
    check_reference_c(torch, net, solve(net), ref)


# -------------------------------------------------------------------------------------------------
# Deterministic cases
# -------------------------------------------------------------------------------------------------


def _net(nodes: dict[str, str], values: dict[str, object], loss: str | None = None) -> Net:
    exact = {n: Fraction(str(v)) for n, v in values.items()}
    return Net(nodes, values, exact, loss)


SEED = _net({"y": "relu(w3*x_n)", "E": "(y - ybar)**2"}, {"w3": "0.2", "ybar": 2, "x_n": 15})

SOFTMAX_CROSS_ENTROPY = _net(
    {
        "z1": "w11*x1 + w12*x2 + b1",
        "z2": "w21*x1 + w22*x2 + b2",
        "z3": "w31*x1 + w32*x2 + b3",
        "y1": "softmax(1, z1, z2, z3)",
        "y2": "softmax(2, z1, z2, z3)",
        "y3": "softmax(3, z1, z2, z3)",
        "E": "-(t1*log(y1) + t2*log(y2) + t3*log(y3))",
    },
    {"x1": 1, "x2": "0.5", "w11": "0.1", "w12": "-0.2", "w21": "0.3", "w22": "0.4",
     "w31": "-0.5", "w32": "0.25", "b1": 0, "b2": "0.1", "b3": "-0.1", "t1": 0, "t2": 1, "t3": 0},
)

#: a feeds b, c and d: dL/da is a sum of three paths.
FAN_OUT = _net(
    {"a": "w*x", "b": "relu(a)", "c": "a**2", "d": "3*a", "E": "b*c + d"},
    {"w": "1/2", "x": 3},
)

#: The same fan-out through transcendental functions, so values are closed forms or Floats.
FAN_OUT_SMOOTH = _net(
    {"a": "w*x + u", "b": "sigmoid(a)", "c": "tanh(a)", "d": "log(1 + exp(a))",
     "E": "(b*c - d - t)**2 + max(b, c)"},
    {"w": "0.75", "x": "-2/3", "u": "0.3", "t": "1/7"},
)

CASES = {"seed": SEED, "softmax_cross_entropy": SOFTMAX_CROSS_ENTROPY, "fan_out": FAN_OUT,
         "fan_out_smooth": FAN_OUT_SMOOTH}


@pytest.mark.parametrize("case", CASES)
def test_fixed_cases_match_sympy_diff_and_finite_differences(case):
    """References A and B on hand-written networks, all away from kinks."""
    net = CASES[case]
    ref = Reference(net)
    assert in_range(ref)
    solution = solve(net)
    check_reference_a(net, solution, ref)
    check_reference_b(net, solution, ref)


@pytest.mark.parametrize("case", CASES)
def test_fixed_cases_match_torch_autograd(case):
    """Reference C on the hand-written networks."""
    torch = pytest.importorskip("torch")
    net = CASES[case]
    check_reference_c(torch, net, solve(net), Reference(net))


def test_seed_exercise_values():
    """y = relu(0.2*15) = 3, E = (3 - 2)**2 = 1; dE/dy = 2, dE/dw3 = 2*15, dE/dx_n = 2*0.2,
    dE/dybar = -2: exact rationals, as the lecture notes work them out."""
    solution = solve(SEED)
    assert solution.forward["y"].value == 3
    assert solution.forward["E"].value == 1
    expected = {"E": 1, "y": 2, "w3": 30, "x_n": sp.Rational(2, 5), "ybar": -2}
    for name, value in expected.items():
        got = solution.gradients[name].value
        assert got.is_Rational and got == value, f"dE/d{name} = {got}, expected {value}"


def test_softmax_cross_entropy_gradient_is_output_minus_target():
    """The textbook identity for softmax + cross-entropy: dE/dz_k = y_k - t_k, and so
    dE/dw_ki = (y_k - t_k)*x_i. A fourth check that does not differentiate at all."""
    solution = solve(SOFTMAX_CROSS_ENTROPY)
    targets = {"1": 0, "2": 1, "3": 0}
    x = {"1": sp.Integer(1), "2": sp.Rational(1, 2)}
    for k, t in targets.items():
        y = solution.forward[f"y{k}"].value
        assert_agree_exact_or_40(solution.gradients[f"z{k}"].value, y - t, f"dE/dz{k}")
        for i, xi in x.items():
            assert_agree_exact_or_40(solution.gradients[f"w{k}{i}"].value, (y - t) * xi,
                                     f"dE/dw{k}{i}")
    total = sum(solution.gradients[f"z{k}"].value for k in targets)
    assert abs(numeric(total, 40, "sum of dE/dz")) < 1e-35  # softmax gradients sum to zero


def test_fan_out_gradient_sums_three_paths():
    """a = w*x = 3/2 feeds b = relu(a), c = a**2 and d = 3a; E = b*c + d, so
    dE/da = c + 2ab + 3 = 3a**2 + 3 = 39/4, dE/dw = 39/4*x = 117/4, dE/dx = 39/4*w = 39/8."""
    solution = solve(FAN_OUT)
    expected = {"a": sp.Rational(39, 4), "w": sp.Rational(117, 4), "x": sp.Rational(39, 8),
                "b": sp.Rational(9, 4), "c": sp.Rational(3, 2), "d": 1, "E": 1}
    for name, value in expected.items():
        got = solution.gradients[name].value
        assert got.is_Rational and got == value, f"dE/d{name} = {got}, expected {value}"


def test_kink_convention_matches_torch():
    """At an exact kink the library takes relu'(0) = 0, abs'(0) = 0 and leaky_relu'(0) = alpha, as
    torch.relu, torch.abs and F.leaky_relu do. With z = w*x = 0, y = relu(z) + abs(z) +
    leaky_relu(z, 0.1) = 0 and E = (y - 1)**2: dE/dz = -2*0.1 = -1/5 and dE/dw = -1/5*x = -2/5."""
    torch = pytest.importorskip("torch")
    net = _net({"z": "w*x", "y": "relu(z) + abs(z) + leaky_relu(z, 0.1)", "E": "(y - t)**2"},
               {"w": 0, "x": 2, "t": 1})
    solution = solve(net)
    check_reference_c(torch, net, solution, Reference(net))
    assert solution.gradients["z"].value == sp.Rational(-1, 5)
    assert solution.gradients["w"].value == sp.Rational(-2, 5)


#: A positive value SymPy's assumptions cannot sign (1/sigmoid(1) = 1 + exp(-1)): relu must still
#: decide it. Found by the random tests above.
RELU_OF_RECIPROCAL = _net({"y": "relu(1/sigmoid(w))"}, {"w": 1})


def test_relu_of_positive_closed_form_is_evaluated():
    """y = relu(1/sigmoid(w)) at w = 1: the argument is 1 + exp(-1) > 0, so y = 1 + exp(-1) and
    dy/dw = d(1 + exp(-w))/dw = -exp(-1). Both must be numbers, not relu(...) or Heaviside(...)."""
    solution = solve(RELU_OF_RECIPROCAL)
    assert_agree_exact_or_40(solution.forward["y"].value, 1 + sp.exp(-1), "forward y")
    assert_agree_exact_or_40(solution.gradients["w"].value, -sp.exp(-1), "dy/dw")
    ref = Reference(RELU_OF_RECIPROCAL)
    check_reference_a(RELU_OF_RECIPROCAL, solution, ref)
    check_reference_b(RELU_OF_RECIPROCAL, solution, ref)


#: Cross-entropy on a confident softmax: log(y2) = -log(1 + exp(-64)) is about -1.6e-28, a real
#: number, but the library once called it "not a real number" (a ProblemError), depending on the
#: process's hash seed. Found by the random dense networks above.
CONFIDENT_SOFTMAX = _net(
    {"y1": "softmax(1, a, b)", "y2": "softmax(2, a, b)", "E": "-(t1*log(y1) + t2*log(y2))"},
    {"a": 0, "b": 64, "t1": 1, "t2": 0},
)


def test_confident_softmax_cross_entropy_solves():
    """E = -log(softmax(1, 0, 64)) = log(1 + exp(64)); dE/dt2 = -log(y2) = log(1 + exp(-64)),
    dE/da = y1 - 1, dE/db = y2. Checked in this process against the references, and then in fresh
    interpreters under the hash seeds that used to fail (SymPy's assumptions on log(softmax(...))
    depended on the order facts were derived in)."""
    solution = solve(CONFIDENT_SOFTMAX)
    assert_agree_exact_or_40(solution.gradients["t2"].value, sp.log(1 + sp.exp(-64)), "dE/dt2")
    ref = Reference(CONFIDENT_SOFTMAX)
    assert in_range(ref)
    check_reference_a(CONFIDENT_SOFTMAX, solution, ref)
    check_reference_b(CONFIDENT_SOFTMAX, solution, ref)
    script = (
        "import symbackprop\n"
        f"s = symbackprop.load({CONFIDENT_SOFTMAX.mapping()!r}).solve()\n"
        "symbackprop.load({'nodes': {'y': 'softmax(2, a, b)', 'E': '-log(y)'},\n"
        "                  'values': {'a': 0, 'b': 64}}).solve()\n"
        "print(float(s.gradients['t2'].value))\n"
    )
    for seed in ("2", "3", "6"):  # seeds under which it failed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, f"PYTHONHASHSEED={seed}: {run.stderr.strip().splitlines()[-1:]}"
        assert float(run.stdout) == pytest.approx(1.6038108905486379e-28, rel=1e-12)


# -------------------------------------------------------------------------------------------------
# rules.local_derivative against sympy.diff, expression by expression.
# -------------------------------------------------------------------------------------------------


@given(st.lists(expressions(SYMBOLS, 2), min_size=1, max_size=12).map(" + ".join),
       st.sampled_from(SYMBOLS), st.sampled_from([0, sp.Rational(1, 2)]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_local_derivative_is_sympy_diff(text, wrt, kink):
    """The shortcuts of rules.local_derivative (only the terms of a sum that hold the input, a product
    read off, a function's own derivative) give exactly what sympy.diff gives."""
    from symbackprop.parsing.expressions import ExpressionError, parse_expression
    from symbackprop.model.symbols import symbol
    from symbackprop.model.rules import local_derivative

    try:
        expr = parse_expression(text)
    except ExpressionError:
        assume(False)
    x = symbol(wrt)
    # The kink convention is for relu, max and min; leaky ReLU's step keeps 0 (slope alpha at 0).
    leaky = {sub.args[0] for sub in sp.preorder_traversal(expr) if sub.func is symbackprop.leaky_relu}
    expected = sp.diff(expr, x).replace(
        sp.Heaviside, lambda y, *h0: sp.Heaviside(y, *h0) if y in leaky else sp.Heaviside(y, kink))
    if expected.is_Add or any(arg.is_Add for arg in expected.args):
        expected = sp.factor_terms(expected)
    try:
        got = local_derivative(expr, x, kink)
    except symbackprop.ProblemError as error:
        # relu(z) and leaky_relu(z, a) in one node share one step, which cannot take both rules.
        assert kink != 0 and expr.has(symbackprop.relu, sp.Max, sp.Min), error
        return
    assert got == expected
