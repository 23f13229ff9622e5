"""Exact numbers, high-precision decimals, and the rule that decides between them.

Every value is a SymPy expression. Rationals stay rational however far they travel. An irrational
value keeps its closed form (`sigmoid(1/2)`, `exp(3)/(1 + exp(3))`) while that form is short; once
it grows past `MAX_CLOSED_FORM_SIZE` it is replaced by a Float carried at `WORKING_DIGITS` digits,
so a deep network never builds nested exact expressions that take seconds to evaluate. Rounding
happens only when a value is printed.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from .printers import text

#: Digits carried by values that have no short closed form; printed values use far fewer.
WORKING_DIGITS = 50
#: Digits of the `decimal` strings in answer keys.
DECIMAL_DIGITS = 15
#: Closed forms with more tree nodes than this are carried as Floats (and shown as decimals only).
MAX_CLOSED_FORM_SIZE = 30
#: Working digits allowed where terms cancel: 1 - sigmoid(10000) needs about 4,360.
MAX_EVALUATION_DIGITS = 5_000


#: Exact numbers with more digits than this are refused rather than carried (Python will not even
#: print an integer of more than 4,300 digits).
MAX_DIGITS = 4_000
MAX_BITS = int(MAX_DIGITS * 3.33)
#: exp(x) with x above this is refused: it overflows any sensible precision.
MAX_EXP_ARGUMENT = 10_000


class NumericError(ValueError):
    """A value that is not a real number: division by zero, log of zero or of a negative number."""


def size(expr: sp.Basic, cap: int = 10**9) -> int:
    """Number of nodes in the expression tree, counting no further than `cap`."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > cap:
            break
    return count


def settle(expr: sp.Expr) -> sp.Expr:
    """The form in which a computed value is carried: exact where short, else a precise Float.

    Raises NumericError for a value that is not a finite real number.
    """
    if expr.is_Rational:
        if max(abs(int(expr.p)).bit_length(), int(expr.q).bit_length()) > MAX_BITS:
            raise NumericError(f"the exact value has more than {MAX_DIGITS} digits")
        return expr
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise NumericError("division by zero or log of zero")
    if not expr.is_number:
        return expr
    check_magnitude(expr)
    if expr.is_Float:
        return expr
    if expr.has(sp.Float) or size(expr, MAX_CLOSED_FORM_SIZE) > MAX_CLOSED_FORM_SIZE:
        value = approximate = accurate(expr, WORKING_DIGITS)
    else:
        value, approximate = expr, expr.evalf(DECIMAL_DIGITS)
        if _inaccurate(approximate):
            # Printing this closed form would show SymPy's 0.e-140 for 1 - sigmoid(1000), whose
            # terms cancel in 435 digits: carry it as a decimal computed with enough of them.
            value = approximate = accurate(expr, WORKING_DIGITS)
    # Decided by evaluation, not by SymPy's assumptions, whose answer for closed forms such as
    # log(softmax(...)) can depend on the order in which facts are derived.
    if approximate.has(sp.I):
        raise NumericError(f"{expr} is not a real number")
    return value


def accurate(expr: sp.Expr, digits: int) -> sp.Expr:
    """expr evaluated to `digits` significant digits, every one of them correct.

    SymPy's evalf raises its working precision only about 100 digits where terms cancel, and then
    returns a Float without a single correct digit (1 - sigmoid(1000) gives 0.e-140). Such a value
    is evaluated again allowing MAX_EVALUATION_DIGITS; one still unresolved then is 0 to that many
    digits, and is carried as a decimal 0.
    """
    value = expr.evalf(digits)
    if _inaccurate(value):
        value = expr.evalf(digits, maxn=MAX_EVALUATION_DIGITS)
        if _inaccurate(value):
            value = sp.Float(0, digits)
    return value


def _inaccurate(value: sp.Expr) -> bool:
    """True for a Float with fewer correct digits than an answer key prints (evalf records how many
    bits it could establish as the Float's precision)."""
    return value.is_Float and value._prec < mpmath.libmp.dps_to_prec(DECIMAL_DIGITS)


def check_magnitude(expr: sp.Expr, known: dict | None = None) -> None:
    """Refuse, before SymPy computes it, a number too large to hold: an exp of more than
    MAX_EXP_ARGUMENT, or a power with more than MAX_DIGITS digits.

    With `known` (the forward pass, before it substitutes the values), the check is of expr once
    those values are substituted, and also refuses a part that would not be real. Inner parts are
    checked before the parts that contain them, so every estimate below works on numbers already
    known to be of sensible size.
    """
    for sub in sp.postorder_traversal(expr):
        if not (sub.is_Pow or sub.func is sp.exp or sub.func is sp.log):
            continue
        args = [a.xreplace(known) if known else a for a in sub.args]
        if sub.func is sp.log:
            if known is not None:
                _check_real_log(args[0])
        elif sub.func is sp.exp:
            argument = args[0]
            if argument.is_number and argument.is_real and argument.evalf(15) > MAX_EXP_ARGUMENT:
                raise NumericError(f"exp({sp.N(argument, 6)}) overflows: its argument is above "
                                   f"{MAX_EXP_ARGUMENT}")
        else:
            base, exponent = args
            if known is not None:
                _check_real_power(base, exponent)
            if power_digits(base, exponent) > MAX_DIGITS:
                raise NumericError(f"the power {sub} has more than {MAX_DIGITS} digits at these values")


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
    return text(value) if value.is_Rational else str(sp.N(value, 6))


def _is_negative_number(value: sp.Expr) -> bool:
    if not value.is_number:
        return False
    approximate = value.evalf(15)
    return bool(approximate.is_real and approximate < 0)


def power_digits(base: sp.Expr, exponent: sp.Expr) -> float:
    """Roughly how many decimal digits base**exponent has (0 when it is not a plain number)."""
    if not (base.is_number and exponent.is_number and base.is_real and exponent.is_real):
        return 0.0
    if base.is_zero or abs(exponent) > 10**9:
        return 0.0 if base.is_zero else float("inf")
    magnitude = abs(float(sp.log(sp.Abs(base), 10).evalf(15)))
    return abs(float(exponent.evalf(15))) * magnitude


def is_exact(expr: sp.Expr) -> bool:
    """True when the value is known exactly (no Float was needed to carry it)."""
    return not expr.has(sp.Float)


def exact_string(expr: sp.Expr) -> str | None:
    """SymPy's string for an exact value, or None where only a decimal is carried."""
    return text(expr) if is_exact(expr) else None


def decimal_string(expr: sp.Expr, digits: int = DECIMAL_DIGITS) -> str | None:
    """The value to `digits` significant digits, or None while it still depends on a symbol."""
    if not expr.is_number:
        return None
    return str(accurate(expr, digits))


def is_zero(expr: sp.Expr) -> bool:
    return expr.is_number and expr.is_zero is True
