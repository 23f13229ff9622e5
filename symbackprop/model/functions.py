"""The network functions as SymPy functions: each knows its value, its derivative and its LaTeX form.

`relu`, `leaky_relu`, `sigmoid` and `softmax` stay unevaluated on symbols (so a worked solution shows
`relu(w3*x_n)`, not a `Max`), and evaluate on numbers: exactly on rationals, in floating point at the
argument's own precision on Floats. Derivatives use `Heaviside(x, 0)` for the kink, PyTorch's
convention (`torch.relu` has gradient 0 at 0); the engine re-labels the kink of relu, max and min when
a problem asks for another convention, never leaky_relu's (slope alpha at 0, as PyTorch).
"""

from __future__ import annotations

import sympy as sp
from flint import arb, fmpq

from ..arithmetic import certified


def numeric_sign(x: sp.Expr) -> int | None:
    """The sign of a number, certified by ball arithmetic (certified.sign); None where it cannot be
    established, so that the function stays unevaluated rather than guess a side of its kink."""
    try:
        return certified.sign(x)
    except (certified.UncertainError, ValueError):
        return None


class _RealFunction(sp.Function):
    """A function that is real and finite wherever its arguments are."""

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None

    def _eval_is_finite(self):
        return all(a.is_finite for a in self.args) or None


class relu(_RealFunction):
    """relu(x) = max(0, x); relu'(x) = 1 for x > 0 and 0 for x <= 0."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        sign = numeric_sign(x) if x.is_number else None
        if sign is None:
            return None
        return x if sign > 0 else sp.S.Zero

    def _eval_is_nonnegative(self):
        return True if self.args[0].is_real else None

    def _ball(self, args: list[arb]) -> arb:
        (x,) = args
        return x.max(arb(0))         # continuous: no side of the kink to decide for the value

    def _exact(self, args: list[fmpq]) -> fmpq:
        (x,) = args
        return x if x > 0 else fmpq(0)

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)

    def _latex(self, printer, exp=None):
        return _raised(r"\operatorname{ReLU}\left(%s\right)" % printer._print(self.args[0]), exp)


class leaky_relu(_RealFunction):
    """leaky_relu(x, alpha) = x for x > 0, alpha*x otherwise; slope alpha at 0, as PyTorch."""

    nargs = 2

    @classmethod
    def eval(cls, x, alpha):
        sign = numeric_sign(x) if x.is_number else None
        if sign is None:
            return None
        return x if sign > 0 else alpha * x

    def _ball(self, args: list[arb]) -> arb:
        x, alpha = args
        if x > 0:
            return x
        if x < 0:
            return alpha * x
        return x.union(alpha * x)    # a ball across 0: the value lies between the two sides

    def _exact(self, args: list[fmpq]) -> fmpq:
        x, alpha = args
        return x if x > 0 else alpha * x

    def fdiff(self, argindex=1):
        x, alpha = self.args
        if argindex == 1:
            return alpha + (1 - alpha) * sp.Heaviside(x, 0)
        return sp.Min(x, 0)

    def _latex(self, printer, exp=None):
        x, alpha = (printer._print(a) for a in self.args)
        return _raised(r"\operatorname{LeakyReLU}_{%s}\left(%s\right)" % (alpha, x), exp)


class sigmoid(_RealFunction):
    """sigmoid(x) = 1 / (1 + exp(-x)); sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x))."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Rational(1, 2)
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _ball(self, args: list[arb]) -> arb:
        (x,) = args
        return certified.sigmoid_ball(x)

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _latex(self, printer, exp=None):
        return _raised(r"\sigma\left(%s\right)" % printer._print(self.args[0]), exp)


class softmax(_RealFunction):
    """softmax(k, z1, ..., zn) = exp(zk) / sum_j exp(zj), the k-th output counting from 1.

    d softmax_k / d z_j = softmax_k * ([k == j] - softmax_j).
    """

    @classmethod
    def eval(cls, k, *zs):
        if not (k.is_Integer and 1 <= k <= len(zs)):
            raise ValueError(
                f"softmax(k, z1, ..., zn) needs a whole number k from 1 to {len(zs)}, got {k}"
            )
        if len(zs) == 1:
            return sp.S.One
        if all(z == zs[0] for z in zs):
            return sp.Rational(1, len(zs))
        return None

    def _eval_is_positive(self):
        return True if all(z.is_real for z in self.args[1:]) else None

    def fdiff(self, argindex=1):
        if argindex == 1:
            raise ValueError("softmax cannot be differentiated by its index k")
        k, *zs = self.args
        j = argindex - 1
        s_k = self
        s_j = softmax(j, *zs)
        return s_k * ((1 if j == int(k) else 0) - s_j)

    def _ball(self, args: list[arb]) -> arb:
        _, *zs = args
        # Shifted by the largest input, so that no exp is of a large positive number.
        top = max(zs, key=lambda z: z.mid())
        exps = [(z - top).exp() for z in zs]
        total = arb(0)
        for e in exps:
            total += e
        return exps[int(self.args[0]) - 1] / total

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_rewrite_as_exp(self, k, *zs, **kwargs):
        return sp.exp(zs[int(k) - 1]) / sp.Add(*(sp.exp(z) for z in zs))

    def _latex(self, printer, exp=None):
        k, *zs = self.args
        inner = ", ".join(printer._print(z) for z in zs)
        return _raised(r"\operatorname{softmax}_{%s}\left(%s\right)" % (printer._print(k), inner), exp)


def _certified_evalf(value: sp.Expr, prec: int) -> sp.Expr | None:
    """SymPy's evalf of a sigmoid or softmax: `prec` bits, every one correct (certified), where the
    value is a number; SymPy's own evalf would trust a float evaluation of the closed form."""
    if not value.is_number:
        return None
    return certified.to_float(certified.approximation(value, prec), prec)


def _raised(latex: str, exp: str | None) -> str:
    """SymPy's LaTeX printer asks a function for its own power (relu(x)**2) by passing exp."""
    return latex if exp is None else "%s^{%s}" % (latex, exp)


#: Functions a problem file may call, by the name it uses.
FUNCTIONS = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "softmax": softmax,
    "tanh": sp.tanh,
    "exp": sp.exp,
    "log": sp.log,
    "max": sp.Max,
    "Max": sp.Max,
    "min": sp.Min,
    "Min": sp.Min,
    "abs": sp.Abs,
    # The step of ReLU's and max's derivatives, as the answer key writes general forms
    # (Heaviside(z, 0): its value at exactly 0 second): a claim may copy it. A node may not use
    # it (rules.py has no derivative rule for it).
    "Heaviside": sp.Heaviside,
}

#: How many arguments each function takes: an exact count, or a minimum written as (n, None).
ARITY = {
    "relu": 1,
    "leaky_relu": 2,
    "sigmoid": 1,
    "softmax": (2, None),
    "tanh": 1,
    "exp": 1,
    "log": 1,
    "max": (2, None),
    "Max": (2, None),
    "min": (2, None),
    "Min": (2, None),
    "abs": 1,
    "Heaviside": (1, 2),
}
