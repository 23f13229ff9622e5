"""Exact numbers, certified values, and the rule that decides between them.

Every value is a SymPy expression. Rationals stay rational however far they travel. An irrational
value keeps its closed form (`sigmoid(1/2)`, `exp(3)/(1 + exp(3))`) while that form is short; once
it grows past `MAX_CLOSED_FORM_SIZE` it is carried as a `certified.Real`, an atom that keeps the
expression defining it, so a deep network never builds nested exact expressions and never rounds a
value before it is printed. Every digit printed comes from `certified`: exact for rationals, from a
ball that provably holds the value otherwise.
"""

from __future__ import annotations

import functools

import sympy as sp
from flint import arb, fmpq

from . import certified
from .certified import Real

#: Digits of the `decimal` strings in answer keys.
DECIMAL_DIGITS = 15
#: Closed forms with more tree nodes than this are carried as Reals (and shown as decimals only).
MAX_CLOSED_FORM_SIZE = 30


#: Exact numbers with more digits than this are refused rather than carried (Python will not even
#: print an integer of more than 4,300 digits).
MAX_DIGITS = 4_000
MAX_EXACT_BITS = int(MAX_DIGITS * 3.33)
#: exp(x) with x above this is refused: it overflows any sensible precision.
MAX_EXP_ARGUMENT = certified.MAX_EXP_ARGUMENT


class NumericError(ValueError):
    """A value that is not a real number: division by zero, log of zero or of a negative number."""


#: How many results each kept function below holds: a worked solution's values, its general forms and
#: their parts fit; a large network's answer key keeps no tens of thousands of temporaries alive.
KEPT = 4096


# The functions kept below are each a function of the expression alone (a value that raises is not
# kept, and raises again): a solution meets the same expressions in its forward pass, its reverse
# pass and each format, and a warm process meets them again in every solution of the same problem.

@functools.lru_cache(maxsize=KEPT)
def size(expr: sp.Basic, cap: int = 10**9) -> int:
    """Number of nodes in the expression tree, counting no further than `cap`."""
    # A stack of the nodes still to count, not sp.preorder_traversal, a generator that took a tenth
    # of a network's reverse pass for the general forms' length checks.
    count, pending = 0, [expr]
    while pending and count <= cap:
        count += 1
        pending.extend(pending.pop().args)
    return count


def too_long(number: sp.Rational) -> bool:
    """Whether an exact number has more than MAX_DIGITS digits above or below its fraction bar."""
    # int(): p and q are Python's ints in SymPy, but gmpy2's where SymPy uses it.
    return int(number.p).bit_length() > MAX_EXACT_BITS or int(number.q).bit_length() > MAX_EXACT_BITS


@functools.lru_cache(maxsize=KEPT)
def settle(expr: sp.Expr) -> sp.Expr:
    """The form in which a computed value is carried: exact where short, else a certified Real.

    Raises NumericError for a value that is not a finite real number, or whose sign cannot be
    established (certified.UncertainError).
    """
    if expr.is_Rational:
        if too_long(expr):
            raise NumericError(f"the exact value has more than {MAX_DIGITS} digits")
        return expr
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise NumericError("division by zero or log of zero")
    if not expr.is_number:
        return expr
    if isinstance(expr, Real):
        return expr
    check_magnitude(expr)
    # Evaluated once here, so that a value that is not real (or not finite) is refused where it
    # is made; the sign also finds exact zeros that are not written as one.
    if sign(expr) == 0:
        return sp.S.Zero
    if expr.has(Real, sp.Float) or size(expr, MAX_CLOSED_FORM_SIZE) > MAX_CLOSED_FORM_SIZE:
        return Real(expr)
    return expr


def substitute(expr: sp.Expr, known: dict) -> sp.Expr:
    """expr with the known values put in. SymPy's Max and Min compare numbers in floating point
    and refuse `max(1 - sigmoid(400), 1/2)` as "not comparable"; here the larger (smaller) of
    numbers is chosen by certified sign."""
    if not expr.has(sp.Max, sp.Min):
        return expr.xreplace(known)

    def rebuild(e: sp.Expr) -> sp.Expr:
        if e.is_Atom:
            return known.get(e, e)
        args = [rebuild(a) for a in e.args]
        if e.func in (sp.Max, sp.Min) and all(a.is_number for a in args):
            larger = 1 if e.func is sp.Max else -1
            best = args[0]
            for a in args[1:]:
                if sign(a - best) == larger:
                    best = a
            return best
        return e.func(*args)
    return rebuild(expr)


@functools.lru_cache(maxsize=KEPT)
def carried(value: sp.Expr) -> sp.Expr:
    """A computed value as the solver carries it: settled where it is a number; a value that still
    holds symbols expanded (2*x_n, not 2*(x_n + 0)) so that equal values look alike."""
    return settle(value if value.is_number else sp.expand(value))


def sign(expr: sp.Expr) -> int:
    """The certified sign of a numeric value: 1, -1 or 0 (exactly zero)."""
    return _certainly(lambda: certified.sign(expr), expr)


def _certainly(compute, expr: sp.Expr):
    """compute(), with every way a certified evaluation can fail said as a NumericError."""
    try:
        return compute()
    except ValueError as exc:
        shown = sp.sstr(expr) if isinstance(expr, sp.Basic) and not expr.has(Real) else "a value"
        raise NumericError(f"{shown} is not a real number: {exc}") from None
    except ZeroDivisionError:
        raise NumericError("division by zero") from None
    except (certified.UncertainError, certified.TooLarge) as exc:
        raise NumericError(str(exc)) from None


def check_magnitude(expr: sp.Expr, known: dict | None = None) -> None:
    """Refuse, before SymPy computes it, a number too large to hold: an exp of more than
    MAX_EXP_ARGUMENT, or a power with more than MAX_DIGITS digits.

    With `known` (the forward pass, before it substitutes the values), the check is of expr once
    those values are substituted, and also refuses a part that would not be real. Inner parts are
    checked before the parts that contain them, so every estimate below works on numbers already
    known to be of sensible size.
    """
    for sub in _powers_and_logs(expr):
        args = [a.xreplace(known) if known else a for a in sub.args]
        if sub.func is sp.log:
            if known is not None:
                _check_real_log(args[0])
        elif sub.func is sp.exp:
            argument = args[0]
            if argument.is_number and sign(argument - MAX_EXP_ARGUMENT) > 0:
                raise NumericError(f"exp({decimal_string(argument, 6)}) overflows: its argument is "
                                   f"above {MAX_EXP_ARGUMENT}")
        else:
            base, exponent = args
            if known is not None:
                _check_real_power(base, exponent)
            if power_digits(base, exponent) > MAX_DIGITS:
                raise NumericError(f"the power {sub} has more than {MAX_DIGITS} digits at these values")


@functools.lru_cache(maxsize=KEPT)
def _powers_and_logs(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """The powers, exps and logs in expr, inner ones first (postorder): what check_magnitude checks."""
    return tuple(sub for sub in sp.postorder_traversal(expr)
                 if sub.is_Pow or sub.func is sp.exp or sub.func is sp.log)


# The two ways real values make a complex one. Refused before SymPy builds it, because max and min
# of a complex number raise a bare ValueError ("not comparable") instead of giving a value.

def _check_real_log(argument: sp.Expr) -> None:
    if _is_negative_number(argument):
        raise NumericError(f"log({_shown(argument)}) is not a real number: the log of a negative "
                           "number")


def _check_real_power(base: sp.Expr, exponent: sp.Expr) -> None:
    if exponent.is_number and exponent.is_integer is not True and _is_negative_number(base):
        raise NumericError(f"({_shown(base)})**({_shown(exponent)}) is not a real number: a "
                           "negative number to a power that is not a whole number")


def _shown(value: sp.Expr) -> str:
    return sp.sstr(value) if value.is_Rational else decimal_string(value, 6)


def _is_negative_number(value: sp.Expr) -> bool:
    return value.is_number and sign(value) < 0


def power_digits(base: sp.Expr, exponent: sp.Expr) -> float:
    """Roughly how many decimal digits base**exponent has (0 when it is not a plain number). A tiny
    power of an irrational base has none to speak of: a ball holds (sigmoid(z) - 1)**2 = 1e-8686 as
    well as any other number; an exact 10**-5000 has 5,000 digits in its denominator."""
    if not (base.is_number and exponent.is_number):
        return 0.0
    if sign(base) == 0:
        return 0.0
    power = float(certified.approximation(exponent, 53))
    if abs(power) > 10**9:
        return float("inf")
    # log10|base| in ball arithmetic: no float to underflow at 1e-400 or overflow at 1e400.
    value = certified.approximation(base, 53)
    magnitude = arb(fmpq(abs(value.numerator), value.denominator)).log() / arb(10).log()
    digits = power * float(magnitude.mid())
    return abs(digits) if base.is_Rational else max(digits, 0.0)


def rounded(expr: sp.Expr, digits: int) -> certified.Rounded:
    """A numeric value rounded to `digits` significant digits, half to even, every digit certain."""
    return _certainly(lambda: certified.rounded(expr, digits), expr)


def last_digit_unit(expr: sp.Expr, digits: int) -> sp.Rational:
    """One unit in the last of `digits` significant digits of the value rounded to them (0.08217:
    1/100000); for 0, one unit in the `digits`-th decimal place."""
    r = rounded(expr, digits)
    return sp.Integer(10) ** (r.exponent - digits + 1 if r.digits != "0" else -digits)


def decimal_string(expr: sp.Expr | arb | fmpq, digits: int = DECIMAL_DIGITS) -> str | None:
    """The value to `digits` significant digits, correctly rounded (half to even) and every digit
    certain, in SymPy's layout of a Float (0.400000000000000, 2.97713e+138); None while it still
    depends on a symbol. A long run's value is an exact rational or a ball; a ball is rounded if it
    decides the digits (one within 2^-100 of 0 is written 0: see training.py)."""
    if isinstance(expr, (fmpq, sp.Rational)):      # exact: rounded in integers, nothing to certify
        return certified.layout(certified.round_ratio(int(expr.p), int(expr.q), digits), digits)
    if isinstance(expr, arb):
        if certified.negligible(expr):
            return "0"
        rounded = certified.rounded_ball(expr, digits)
        if rounded is None:
            raise NumericError(f"a value of the run, {expr.str(5)}, lies too close to a rounding "
                               f"boundary to be written certainly with {digits} digits")
        return certified.layout(rounded, digits)
    return _decimal_text(expr, digits)


@functools.lru_cache(maxsize=KEPT)
def _decimal_text(expr: sp.Expr, digits: int) -> str | None:
    if not expr.is_number:
        return None
    return _certainly(lambda: certified.decimal_text(expr, digits), expr)
