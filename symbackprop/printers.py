"""How expressions are written: SymPy's printers, adjusted to read the way a lecturer writes.

Sums start with a positive term (`y - ybar`, not SymPy's `-ybar + y`). The strings stay valid SymPy
syntax, so an answer key's strings can be parsed back.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.printing.str import StrPrinter


def positive_first(terms: list[sp.Expr]) -> list[sp.Expr]:
    """Reorder a sum's terms so that it starts with a positive one where there is one."""
    positive = [t for t in terms if not t.could_extract_minus_sign()]
    return positive + [t for t in terms if t.could_extract_minus_sign()]


class ReadableStrPrinter(StrPrinter):
    """SymPy's str printer with sums written positive terms first."""

    def _as_ordered_terms(self, expr, order=None):
        return positive_first(super()._as_ordered_terms(expr, order=order))


class SubstitutingStrPrinter(ReadableStrPrinter):
    """The readable printer, writing each named symbol as a given string (its value)."""

    def __init__(self, names: dict[str, str]):
        super().__init__()
        self.names = names

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self.names.get(expr.name, expr.name)


@functools.lru_cache(maxsize=65536)
def text(expr: sp.Basic) -> str:
    """The readable SymPy string of an expression (cached: steps repeat their upstream gradients)."""
    return ReadableStrPrinter().doprint(expr)
