"""How names become SymPy symbols: one symbol per name, so that `x_n` in two places is the same."""

from __future__ import annotations

import functools

import sympy as sp


@functools.lru_cache(maxsize=65536)
def symbol(name: str) -> sp.Symbol:
    """The one way names become SymPy symbols, so that `x_n` in two places is the same symbol.

    Kept here because SymPy's own cache holds 1,000 entries: a network of thousands of weights
    would build each symbol again at every use, and equal symbols would not be identical."""
    return sp.Symbol(name, real=True)
