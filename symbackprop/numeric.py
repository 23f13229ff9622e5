"""Exact numbers, high-precision decimals, and the rule that decides between them.

Every value is a SymPy expression. Rationals stay rational however far they travel. An irrational
value keeps its closed form (`sigmoid(1/2)`, `exp(3)/(1 + exp(3))`) while that form is short; once
it grows past `MAX_CLOSED_FORM_SIZE` it is replaced by a Float carried at `WORKING_DIGITS` digits,
so a deep network never builds nested exact expressions that take seconds to evaluate. Rounding
happens only when a value is printed.
"""

from __future__ import annotations

import sympy as sp

from .printers import text

#: Digits carried by values that have no short closed form; printed values use far fewer.
WORKING_DIGITS = 50
#: Digits of the `decimal` strings in answer keys.
DECIMAL_DIGITS = 15
#: Closed forms with more tree nodes than this are carried as Floats (and shown as decimals only).
MAX_CLOSED_FORM_SIZE = 30


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
        value = expr.evalf(WORKING_DIGITS)
    else:
        value = expr
    # Decided by evaluation, not by SymPy's assumptions, whose answer for closed forms such as
    # log(softmax(...)) can depend on the order in which facts are derived.
    if value.has(sp.I) or (value is expr and value.evalf(15).has(sp.I)):
        raise NumericError(f"{expr} is not a real number")
    return value


def check_magnitude(expr: sp.Expr, known: dict | None = None) -> None:
    """Refuse, before SymPy computes it, a number too large to hold: an exp of more than
    MAX_EXP_ARGUMENT, or a power with more than MAX_DIGITS digits.

    With `known`, the check is of expr once those values are substituted. Inner parts are checked
    before the parts that contain them, so every estimate below works on numbers already known to be
    of sensible size.
    """
    for sub in sp.postorder_traversal(expr):
        if not (sub.is_Pow or sub.func is sp.exp):
            continue
        if sub.func is sp.exp:
            argument = sub.args[0].xreplace(known) if known else sub.args[0]
            if argument.is_number and argument.is_real and argument.evalf(15) > MAX_EXP_ARGUMENT:
                raise NumericError(f"exp({sp.N(argument, 6)}) overflows: its argument is above "
                                   f"{MAX_EXP_ARGUMENT}")
            continue
        base, exponent = ((a.xreplace(known) if known else a) for a in sub.args)
        if power_digits(base, exponent) > MAX_DIGITS:
            raise NumericError(f"the power {sub} has more than {MAX_DIGITS} digits at these values")


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
    return str(sp.N(expr, digits))


def is_zero(expr: sp.Expr) -> bool:
    return expr.is_number and expr.is_zero is True
