"""The network functions as SymPy functions: each knows its value, its derivative and its LaTeX form.

`relu`, `leaky_relu`, `sigmoid`, `softplus` and `softmax` stay unevaluated on symbols (so a worked
solution shows `relu(w3*x_n)`, not a `Max`), and evaluate on numbers: exactly on rationals, in
floating point at the argument's own precision on Floats. Derivatives use `Heaviside(x, 0)` for the
kink, PyTorch's convention (`torch.relu` has gradient 0 at 0); the engine re-labels the kink of relu,
max and min when a problem asks for another convention, never leaky_relu's (slope alpha at 0, as
PyTorch).
How each is evaluated on balls, and what else the package knows of it, is its row in operations.py.
"""

from __future__ import annotations

import sympy as sp

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


def _is_zero(x: sp.Expr) -> bool:
    """x.is_zero, where x is a number other than a rational decided by its certified sign: SymPy asks
    its assumption system, which evaluates a sum of transcendental terms numerically (30 ms for a
    hidden unit's net input in a sigmoid network, most of that network's forward pass), where a
    ball decides in a fraction of a millisecond. An exact zero not written as one (sigmoid(1) +
    sigmoid(-1) - 1) is recognised by certified.sign's simplification."""
    if x.is_Rational or not x.is_number:
        return bool(x.is_zero)
    try:
        return certified.sign(x) == 0
    except ArithmeticError:                     # undecided, or not a real number
        return bool(x.is_zero)


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

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)

    def _latex(self, printer, exp=None):
        return _raised(r"\operatorname{ReLU}\left(%s\right)" % printer._print(self.args[0]), exp)


class leaky_relu(_RealFunction):
    """leaky_relu(x, alpha) = x for x > 0, alpha*x otherwise; slope alpha at 0, as PyTorch.

    leaky_relu(x) is leaky_relu(x, 1/100): PyTorch's default negative_slope, 0.01, written into the
    expression so that every derivative and printout shows the slope it uses.
    """

    nargs = 2
    DEFAULT_ALPHA = sp.Rational(1, 100)

    def __new__(cls, x, alpha=DEFAULT_ALPHA, **options):
        return super().__new__(cls, x, alpha, **options)

    @classmethod
    def eval(cls, x, alpha):
        sign = numeric_sign(x) if x.is_number else None
        if sign is None:
            return None
        return x if sign > 0 else alpha * x

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
        if _is_zero(x):
            return sp.Rational(1, 2)
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _latex(self, printer, exp=None):
        return _raised(r"\sigma\left(%s\right)" % printer._print(self.args[0]), exp)


class softplus(_RealFunction):
    """softplus(x) = log(1 + exp(x)), the smooth ReLU; softplus'(x) = sigmoid(x)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    def _latex(self, printer, exp=None):
        return _raised(r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0]), exp)


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

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_rewrite_as_exp(self, k, *zs, **kwargs):
        return sp.exp(zs[int(k) - 1]) / sp.Add(*(sp.exp(z) for z in zs))

    def _latex(self, printer, exp=None):
        k, *zs = self.args
        inner = ", ".join(printer._print(z) for z in zs)
        return _raised(r"\operatorname{softmax}_{%s}\left(%s\right)" % (printer._print(k), inner), exp)


def _certified_evalf(value: sp.Expr, prec: int) -> sp.Expr | None:
    """SymPy's evalf of a sigmoid, softplus or softmax: `prec` bits, every one correct (certified),
    where the value is a number; SymPy's own evalf would trust a float evaluation of the closed
    form."""
    if not value.is_number:
        return None
    return certified.to_float(certified.approximation(value, prec), prec)


def _raised(latex: str, exp: str | None) -> str:
    """SymPy's LaTeX printer asks a function for its own power (relu(x)**2) by passing exp."""
    return latex if exp is None else "%s^{%s}" % (latex, exp)
