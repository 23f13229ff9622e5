"""Certified numbers: every value that is not rational is evaluated as a ball that surely holds it.

Rationals are exact and stay so. Anything else (sigmoid(151/400), log(1 - sigmoid(400)), a value
deep in a network) is evaluated with python-flint's `arb` ball arithmetic: a midpoint and a radius
that provably enclose the true value, however much cancellation happened on the way. A value is
printed only once the ball is narrow enough that both of its ends round to the same digits
(`rounded`), and a sign is decided only once the ball excludes zero (`sign`); otherwise the working
precision is doubled and the value evaluated again (Ziv's strategy), up to `MAX_BITS`, past which
`UncertainError` says so rather than guessing.

A value with no short closed form is carried as a `Real`: a SymPy atom holding the expression that
defines it (over rationals and other Reals), so a deep network's values form a shared graph that
can always be re-evaluated at a higher precision, never a rounded float that has lost digits.

This module evaluates the operators (+ * **) itself; every function (exp, relu, sigmoid...) is
evaluated as its row in the table of operations (model/operations.py) says, which that table hands
to `register`, so that this floor imports nothing of the project.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator

import sympy as sp
from flint import arb, ctx, fmpq

#: The first working precision, in bits: enough for 15 digits with room for mild cancellation.
START_BITS = 96
#: The most bits any one value may need: a value within 2^-65536 of a rounding boundary (or of 0,
#: for a sign) is refused as uncertain rather than printed.
MAX_BITS = 1 << 16
#: exp(x) with x above this is refused (TooLarge): e^10000 has 4,343 digits, past any value a
#: network means, and exp of a larger ball costs time in proportion to its size.
MAX_EXP_ARGUMENT = 10_000


class UncertainError(ArithmeticError):
    """A value whose digits (or sign) could not be established within MAX_BITS of working precision."""


class NeedMorePrecision(ArithmeticError):
    """Raised inside an evaluation whose balls grew too wide to decide a branch (a kink, a pole)."""


class TooLarge(ArithmeticError):
    """An exp of more than MAX_EXP_ARGUMENT: a value past any a network means (a run diverged)."""


@contextlib.contextmanager
def working_precision(bits: int) -> Iterator[None]:
    saved = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = saved


# --- values carried without a closed form -------------------------------------------------------

class Real(sp.AtomicExpr):
    """A real number known by its definition, a numeric SymPy expression over rationals and Reals.

    It prints as its decimal value (certified) and evaluates at any precision; two Reals with the
    same definition are the same number, so SymPy cancels h - h as it does for symbols.
    """

    is_number = True
    is_real = True
    is_extended_real = True
    is_finite = True
    is_commutative = True
    is_comparable = True

    def __new__(cls, definition: sp.Expr):
        obj = super().__new__(cls)
        obj._definition = definition
        obj._balls: dict[int, arb] = {}
        return obj

    @property
    def definition(self) -> sp.Expr:
        return self._definition

    def _hashable_content(self):
        return (self._definition,)

    def __getnewargs__(self):
        return (self._definition,)

    def ball(self, bits: int) -> arb:
        # Kept per precision: every weighted sum of the next layer holds the same value.
        found = self._balls.get(bits)
        if found is None:
            found = self._balls[bits] = ball(self._definition, bits)
        return found

    def _eval_evalf(self, prec):
        return to_float(approximation(self, prec), prec)

    def _eval_is_positive(self):
        return sign(self) > 0

    def _eval_is_negative(self):
        return sign(self) < 0

    def _eval_is_zero(self):
        return sign(self) == 0

    def _sympystr(self, printer):
        return decimal_text(self, 15)

    def _latex(self, printer, exp=None):
        text = decimal_text(self, 15)
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def to_float(value: Fraction, bits: int) -> sp.Float:
    """A SymPy Float of `bits` bits nearest to an exact fraction."""
    return sp.Float(sp.Rational(value.numerator, value.denominator), precision=bits)


# --- evaluation as balls ------------------------------------------------------------------------

def ball(expr: sp.Expr, bits: int) -> arb:
    """A ball surely holding the numeric expression's value, computed at `bits` working precision.

    Raises NeedMorePrecision where a branch (the sign at a kink, a log's or a power's domain) cannot
    be decided at this precision, and ValueError for a value that is not a real number at all.
    """
    with working_precision(bits):
        return _ball(expr, bits, {})


def _ball(expr: sp.Expr, bits: int, seen: dict) -> arb:
    found = seen.get(expr)
    if found is not None:
        return found
    if isinstance(expr, Real):
        value = expr.ball(bits)
    elif expr.is_Rational:
        value = arb(fmpq(int(expr.p), int(expr.q)))
    elif expr.is_Float:
        # int(): with gmpy2 installed, mpmath's mantissa is an mpz, which arb does not take.
        man, exp = int(expr._mpf_[1]) * (-1 if expr._mpf_[0] else 1), int(expr._mpf_[2])
        value = arb(man) * arb(2) ** exp if man else arb(0)
    elif expr is sp.pi:
        value = arb.pi()
    elif expr is sp.E:
        value = arb(1).exp()
    else:
        value = _without_cancellation(expr, bits, seen)
        if value is None:
            args = [_ball(a, bits, seen) for a in expr.args]
            value = apply(expr, args)
    if value.is_nan() or not value.is_finite():
        raise NeedMorePrecision("a value that is not finite at this precision")
    seen[expr] = value
    return value


def _without_cancellation(expr: sp.Expr, bits: int, seen: dict) -> arb | None:
    """The value computed so that no digits cancel, for the forms saturated units make:
    k - k*sigmoid(x) as k*sigmoid(-x), k - k*tanh(x) as 2k*sigmoid(-2x), k - k*tanh(x)**2 as
    4k*sigmoid(2x)*sigmoid(-2x), log(sigmoid(x)) as -log1p(e^-x), log(1 + u) as log1p(u). Without
    this, -log(1 - sigmoid(z)) at z = 10^5 would need 145,000 bits; with it, a few dozen. None where
    no such form applies."""
    if expr.is_Add:
        constants = [a for a in expr.args if a.is_Rational]
        if len(constants) == 1:
            k = constants[0]
            for term in expr.args:
                stable = _complement(term, k, bits, seen)
                if stable is not None:
                    for other in expr.args:
                        if other is not k and other is not term:
                            stable += _ball(other, bits, seen)
                    return stable
    if expr.func is sp.log:
        argument = _unwrapped(expr.args[0])
        if _is_sigmoid(argument):                      # log(sigmoid(x)) = -log(1 + e^-x)
            return -(-_ball(argument.args[0], bits, seen)).exp().log1p()
        if argument.is_Add and sp.S.One in argument.args and len(argument.args) == 2:
            term = next(a for a in argument.args if a is not sp.S.One)
            coefficient, inner = _scaled(term)
            if coefficient == -1 and _is_sigmoid(inner):   # log(1 - sigmoid(x)) = -log(1 + e^x)
                return -_ball(inner.args[0], bits, seen).exp().log1p()
            rest = _ball(term, bits, seen)
            if rest > -1:
                return rest.log1p()
    return None


def _complement(term: sp.Expr, k: sp.Rational, bits: int, seen: dict) -> arb | None:
    """k + term without cancellation where term is -k*sigmoid(x), -k*tanh(x) or -k*tanh(x)**2
    (or k*tanh(x)); None otherwise."""
    coefficient, inner = _scaled(term)
    if coefficient is None:
        return None
    square = inner.is_Pow and inner.exp == 2 and _unwrapped(inner.base).func is sp.tanh
    if square:
        inner = _unwrapped(inner.base)
    kk = arb(fmpq(int(k.p), int(k.q)))
    if _is_sigmoid(inner) and coefficient == -k:
        return kk * sigmoid_ball(-_ball(inner.args[0], bits, seen))
    if inner.func is sp.tanh and abs(coefficient) == abs(k) and k != 0:
        twice = 2 * _ball(inner.args[0], bits, seen)
        if square and coefficient == -k:
            return 4 * kk * sigmoid_ball(twice) * sigmoid_ball(-twice)
        if not square:
            return 2 * kk * sigmoid_ball(-twice if coefficient == -k else twice)
    return None


def _scaled(term: sp.Expr) -> tuple[sp.Rational | None, sp.Expr]:
    """(c, f) for a term c*f with a rational c (c = 1 for a bare f); f unwrapped from a Real."""
    coefficient, rest = term.as_coeff_Mul()
    if not coefficient.is_Rational or rest.is_Mul:
        return None, term
    return coefficient, _unwrapped(rest)


def sigmoid_ball(x: arb) -> arb:
    """sigmoid(x) = 1/(1 + e^-x), as e^x/(1 + e^x) where x < 0: the same number, and neither form
    takes the exp of a large positive number."""
    if x < 0:
        e = x.exp()
        return e / (1 + e)
    return 1 / (1 + (-x).exp())


def _is_sigmoid(expr: sp.Expr) -> bool:
    """Whether expr is the function the table of operations evaluates by sigmoid_ball: this floor
    may not import the functions themselves, and a name could be any function's."""
    return _EVALUATIONS.get(expr.func, (None,))[0] is sigmoid_ball


def _unwrapped(expr: sp.Expr) -> sp.Expr:
    return expr.definition if isinstance(expr, Real) else expr


def apply(expr: sp.Expr, args: list[arb]) -> arb:
    """The value of expr's operation on its arguments' balls."""
    return operation(expr)(args)


def operation(expr: sp.Expr) -> Callable[[list[arb]], arb]:
    """expr's operation, as a function of its arguments' balls: the one place where each operation
    is evaluated, for single values and, resolved once per node, for long runs (compiled.py)."""
    if expr.is_Add:
        return _add
    if expr.is_Mul:
        return _multiply
    if expr.is_Pow:
        if expr.exp.is_Integer:
            n = int(expr.exp)
            return (lambda args: args[0] ** n) if n >= 0 else (lambda args: _reciprocal(args[0] ** -n))
        return _power
    found = _EVALUATIONS.get(expr.func)
    if found is None:
        raise ValueError(f"{expr.func.__name__} has no certified evaluation")
    ball_of = found[0]
    return lambda args: ball_of(*args)


#: Each function's evaluation on balls and on exact rationals (None where it leaves them), by its
#: SymPy class: filled by the table of operations through `register`.
_EVALUATIONS: dict[type, tuple[Callable[..., arb], Callable[..., fmpq] | None]] = {}


def register(function: type, on_balls: Callable[..., arb],
             on_rationals: Callable[..., fmpq] | None = None) -> None:
    """How `function` is evaluated: on its arguments' balls, and on exact rationals where it keeps
    them rational. Called by each row of the table of operations."""
    _EVALUATIONS[function] = (on_balls, on_rationals)


def _add(args: list[arb]) -> arb:
    return sum(args, arb(0))


def _multiply(args: list[arb]) -> arb:
    return math.prod(args, start=arb(1))


def _reciprocal(x: arb) -> arb:
    require_nonzero(x)
    return 1 / x


def _power(args: list[arb]) -> arb:
    base, exponent = args
    side = certain_sign(base)
    if side > 0:
        return base ** exponent
    if side == 0 and exponent > 0:
        return arb(0)
    raise ValueError("a power of a negative number (or of 0) that is not a real number")


# --- exact values where they stay short ----------------------------------------------------------

#: A rational whose numerator and denominator together have more bits than this is carried as a
#: ball from there on: exact arithmetic over many steps would grow without bound.
EXACT_BITS = 1024


def exact_operation(expr: sp.Expr) -> Callable[[list[fmpq]], fmpq] | None:
    """expr's operation on exact rationals where it keeps them rational (sums, products, integer
    powers, relu, max, min, abs, steps), else None. A long run of a ReLU network on decimal data
    stays exact this way, so a value that is exactly a rounding tie (0.2888875 at 6 digits) is
    rounded as such; a ball around it could never decide."""
    if expr.is_Add:
        return lambda args: sum(args[1:], args[0])
    if expr.is_Mul:
        return math.prod
    if expr.is_Pow:
        if not expr.exp.is_Integer:
            return None
        n = int(expr.exp)
        return lambda args: args[0] ** n
    exact = _EVALUATIONS.get(expr.func, (None, None))[1]
    return None if exact is None else (lambda args: exact(*args))


def short(x: fmpq) -> bool:
    """Whether an exact rational is still short enough to be carried exactly (EXACT_BITS)."""
    return int(x.p).bit_length() + int(x.q).bit_length() <= EXACT_BITS


def as_ball(x: arb | fmpq) -> arb:
    """An exact rational as a ball at the working precision; a ball as it is."""
    return x if isinstance(x, arb) else arb(x)


def compare(a: arb | fmpq, b: arb | fmpq) -> int | None:
    """The sign of a - b where it is certain: 1, -1, or 0 for equal exact values; None where the
    balls overlap. An exact rational beside a ball is made a ball at more than that ball's own
    precision, so its rounding does not blur the comparison (flint would use its default 53 bits)."""
    d = difference(a, b)
    if isinstance(d, fmpq):
        return (d > 0) - (d < 0)
    return ball_sign(d)


def difference(a: arb | fmpq, b: arb | fmpq) -> arb | fmpq:
    """a - b, exact for two exact rationals, else on balls at the precision of the finer one."""
    return _combined(a, b, lambda x, y: x - y)


def quotient(a: arb | fmpq, b: arb | fmpq) -> arb | fmpq:
    """a / b, likewise."""
    return _combined(a, b, lambda x, y: x / y)


def _combined(a, b, operation):
    if isinstance(a, fmpq) and isinstance(b, fmpq):
        return operation(a, b)
    with working_precision(max(_precision(x) for x in (a, b) if isinstance(x, arb)) + 64):
        return operation(as_ball(a), as_ball(b))


def _precision(x: arb) -> int:
    """About the working precision a ball was computed at: its midpoint's mantissa length, or the
    bits its radius leaves correct (a midpoint of few bits may carry a tiny radius)."""
    bits = int(x.mid().man_exp()[0]).bit_length()
    if not x.is_exact():
        bits = max(bits, x.rel_accuracy_bits())
    return max(bits, 64)


def require_nonzero(x: arb) -> None:
    if x.is_zero():
        raise ZeroDivisionError("division by zero")
    if x.contains(0):
        raise NeedMorePrecision("a divisor that may be 0")


def ball_sign(x: arb) -> int | None:
    """The sign of a ball: 1, -1, 0 for an exact zero; None where it holds 0 and more."""
    return 1 if x > 0 else -1 if x < 0 else 0 if x.is_zero() else None


def certain_sign(x: arb) -> int:
    """ball_sign, raising NeedMorePrecision (more bits may decide it) where the ball cannot tell."""
    side = ball_sign(x)
    if side is None:
        raise NeedMorePrecision("the side of 0 of a ball that holds 0")
    return side


# --- the Ziv loop -------------------------------------------------------------------------------

def refine(expr: sp.Expr, accept: Callable[[arb], object], what: str = "could not be evaluated",
           bits: int = START_BITS):
    """accept(ball of expr) at rising precision until it returns something other than None: the
    one Ziv loop, for signs, approximations and rounded digits.

    Balls are evaluated at `bits`, then twice as many, up to MAX_BITS; past that UncertainError.
    """
    while True:
        try:
            result = accept(ball(expr, bits))
            if result is not None:
                return result
        except NeedMorePrecision:
            pass
        if bits >= MAX_BITS:
            shown = expr.definition if isinstance(expr, Real) else expr   # a Real prints itself by this loop
            raise UncertainError(f"{shown}: {what} with certainty within {MAX_BITS} bits of "
                                 "working precision")
        bits = min(2 * bits, MAX_BITS)


# Kept: a value's sign and digits are a function of the expression alone (equal expressions are
# the same number), and a worked solution asks for the same values' digits in every format, in the
# text and in the tables. A value that raises is not kept and raises again. A few thousand: a
# worked solution's values fit, and a large network's answer key would otherwise keep tens of
# thousands of temporary values alive (its peak memory is a goal of its own).
@functools.lru_cache(maxsize=4096)
def sign(expr: sp.Expr) -> int:
    """The sign of a numeric expression, certified: 1, -1, or 0 for an exact zero.

    An exact zero that is not written as one (sigmoid(1) + sigmoid(-1) - 1) never separates from 0
    in a ball; it is recognised by SymPy's simplification once the balls are narrower than
    2**-MAX_BITS, and refused as uncertain where that does not show it.
    """
    if expr.is_Rational:
        return (expr.p > 0) - (expr.p < 0)
    try:
        return refine(expr, ball_sign, "the sign could not be established")
    except UncertainError:
        if simplified(expr) == 0:
            return 0
        raise


def simplified(expr: sp.Expr) -> sp.Expr:
    """SymPy's simplification of a value's whole closed form (Reals and the project's functions
    written out in exp): the last resort for an exact value that is not written as one, such as
    sigmoid(1) + sigmoid(-1) - 1 (0) or sigmoid(-log(7)) (1/8), which no ball can pin down."""
    return sp.simplify(_closed_form(expr).rewrite(sp.exp))


def _closed_form(expr: sp.Expr) -> sp.Expr:
    return expr.replace(lambda e: isinstance(e, Real), lambda e: _closed_form(e.definition))


# Kept as sign and rounded are: the forward pass asks it of the same powers in every solution.
@functools.lru_cache(maxsize=4096)
def approximation(expr: sp.Expr, bits: int) -> Fraction:
    """The value to `bits` correct bits (relative), as an exact fraction of a ball's midpoint."""
    def accept(x: arb):
        if x.is_zero():
            return Fraction(0)
        if x.contains(0) or x.rel_accuracy_bits() < bits + 2:
            return None
        return exact_value(x.mid())
    if expr.is_Rational:
        return fraction(expr)
    return refine(expr, accept, bits=max(START_BITS, 2 * bits))


def fraction(q: sp.Rational | fmpq) -> Fraction:
    """An exact rational, SymPy's or flint's, as Python's Fraction (what the rounding works on)."""
    return Fraction(int(q.p), int(q.q))


def exact_value(x: arb) -> Fraction:
    """The exact value of an exact ball (a midpoint or a radius): mantissa times a power of two."""
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)


# --- correctly rounded decimals -----------------------------------------------------------------

@dataclass(frozen=True)
class Rounded:
    """A value rounded to a number of significant digits, half to even: sign * 0.d1d2... shifted so
    that the first digit stands at 10**exponent. Zero is digits '0' and exponent 0."""

    negative: bool
    digits: str
    exponent: int


def round_fraction(q: Fraction, digits: int) -> Rounded:
    """q rounded to `digits` significant digits, half to even, exactly."""
    return round_ratio(q.numerator, q.denominator, digits)


def round_ratio(numerator: int, denominator: int, digits: int) -> Rounded:
    """numerator / denominator (> 0) rounded to `digits` significant digits, half to even, exactly."""
    if numerator == 0:
        return Rounded(False, "0", 0)
    # In integers: Fraction's arithmetic made a new reduced fraction at each step, and an answer
    # key rounds thousands of values.
    negative = numerator < 0
    p, d = abs(numerator), denominator
    exponent = _decimal_exponent(p, d)
    shift = digits - 1 - exponent
    if shift >= 0:
        whole, rest = divmod(p * 10 ** shift, d)
        unit = d
    else:
        unit = d * 10 ** -shift
        whole, rest = divmod(p, unit)
    if 2 * rest > unit or (2 * rest == unit and whole % 2 == 1):
        whole += 1
    if whole == 10 ** digits:    # 9.995 at 3 digits is 10.0: one more digit before the point
        whole, exponent = 10 ** (digits - 1), exponent + 1
    return Rounded(negative, str(whole), exponent)


def _decimal_exponent(p: int, d: int) -> int:
    """floor(log10(p / d)) for p, d > 0, exactly."""
    estimate = int((p.bit_length() - d.bit_length()) * 0.30102999566398)
    while (10 ** estimate * d > p) if estimate >= 0 else (d > p * 10 ** -estimate):
        estimate -= 1
    while (10 ** (estimate + 1) * d <= p) if estimate + 1 >= 0 else (d <= p * 10 ** -(estimate + 1)):
        estimate += 1
    return estimate


@functools.lru_cache(maxsize=4096)
def rounded(expr: sp.Expr, digits: int) -> Rounded:
    """A numeric expression's value rounded to `digits` significant digits, half to even, every digit
    certain: from the exact value for a rational, else from a ball narrow enough that both of its
    ends round alike."""
    if expr.is_Rational:
        return round_fraction(fraction(expr), digits)
    try:
        return refine(expr, lambda x: rounded_ball(x, digits), f"no {digits} digits certain")
    except UncertainError:
        exact = simplified(expr)      # an exact tie or zero in disguise: sigmoid(-log(7)) is 1/8
        if exact.is_Rational:
            return round_fraction(fraction(exact), digits)
        raise


#: A ball that holds 0 and no number farther from it than this is written 0. Runs of many steps meet
#: such values where symmetry keeps a parameter at exactly 0 (the bias of a logistic regression on
#: symmetric data), which no ball can prove; 0 is then right to 30 decimal places.
NEGLIGIBLE = arb(2) ** -100


def negligible(x: arb) -> bool:
    """True for a ball that holds 0 and lies within NEGLIGIBLE of it."""
    return x.contains(0) and abs(x) < NEGLIGIBLE


def rounded_ball(x: arb, digits: int) -> Rounded | None:
    """x rounded to `digits` digits if the ball decides every one of them, else None."""
    if x.is_zero():
        return Rounded(False, "0", 0)
    if x.contains(0) or not x.is_finite() or x.rel_accuracy_bits() < digits * 3.33:
        return None
    lower, upper = bounds(x)
    low, high = round_fraction(lower, digits), round_fraction(upper, digits)
    return low if low == high else None


def bounds(x: arb | fmpq) -> tuple[Fraction, Fraction]:
    """The ends of a ball, exactly (an exact rational is both)."""
    if isinstance(x, fmpq):
        exact = fraction(x)
        return exact, exact
    mid, rad = exact_value(x.mid()), exact_value(x.rad())
    return mid - rad, mid + rad


def decimal_text(expr: sp.Expr, digits: int) -> str:
    """The value as SymPy writes a Float of `digits` digits (0.400000000000000, 2.97713e+138), but
    correctly rounded and certain. A rational is rounded from its two integers, not kept in
    rounded()'s cache: an answer key writes thousands, each once."""
    if expr.is_Rational:
        return layout(round_ratio(int(expr.p), int(expr.q), digits), digits)
    return layout(rounded(expr, digits), digits)


def layout(r: Rounded, digits: int) -> str:
    """SymPy's (mpmath's) layout of a Float: fixed point while the first digit stands between
    10**min(-digits//3, -5) and 10**digits (exclusive), else d.ddd e+N; trailing zeros kept."""
    if r.digits == "0":
        return "0"
    sign = "-" if r.negative else ""
    e = r.exponent
    if min(-(digits // 3), -5) < e < digits:
        if e < 0:
            return f"{sign}0.{'0' * (-e - 1)}{r.digits}"
        whole = r.digits[:e + 1].ljust(e + 1, "0")
        return f"{sign}{whole}.{r.digits[e + 1:]}"
    return f"{sign}{r.digits[0]}.{r.digits[1:]}e{'+' if e >= 0 else '-'}{abs(e)}"
