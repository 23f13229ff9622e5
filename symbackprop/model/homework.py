"""What a problem says about homework (issue 14): the tasks a question sheet sets, the answers a
blanks sheet leaves out, what a student's variant draws afresh (`vary:`) and what makes a drawn
variant good for hand calculation (`require:`)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from .quantities import Quantity

#: The conditions `require:` can name, with what each asks of a variant and its argument.
CONDITIONS = {
    "relu_units_active": "every ReLU-type unit is active (its input above 0): true",
    "no_zero_gradient": "no gradient asked for is 0: true",
    "loss_decreases": "the loss after the update is below the loss before it: true",
    "gradients_at_least": "every gradient asked for is at least this in magnitude: a number",
    "max_decimals": "no given value has more decimal places than this: a whole number",
}
#: The conditions that take true (or false, to switch one off).
FLAG_CONDITIONS = ("relu_units_active", "no_zero_gradient", "loss_decreases")


@dataclass(frozen=True)
class Task:
    """One part of the homework, (a), (b), ...: what it asks and the quantities that answer it."""

    label: str
    #: "forward" (the forward pass and the loss), "gradients", "update", or "custom" (the problem's
    #: own words in `text`).
    kind: str
    answers: tuple[Quantity, ...]
    text: str | None = None


@dataclass(frozen=True)
class Draw:
    """How one value varies between students: one of `choices`, each a number as the problem
    writes it (its text, so a variant's problem file writes 0.15, not 3/20)."""

    name: str
    choices: tuple[str, ...]

    def values(self) -> tuple[sp.Rational, ...]:
        return tuple(sp.Rational(text) for text in self.choices)


def decimal_places(number: Fraction) -> int | None:
    """The decimal places of a terminating decimal (0.15: 2), None for one that does not (1/3)."""
    for places in range(0, 60):
        if (number * 10 ** places).denominator == 1:
            return places
    return None


def decimal_text(number: Fraction) -> str:
    """A terminating decimal written out with no more places than it needs: 0.1 and 0.15, not
    1/10; a ValueError for one that does not terminate."""
    places = decimal_places(number)
    if places is None:
        raise ValueError(f"{number} is not a short decimal")
    scaled = number * 10 ** places
    sign, digits = ("-" if scaled < 0 else ""), str(abs(scaled.numerator)).rjust(places + 1, "0")
    return sign + (digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}")
