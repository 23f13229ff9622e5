"""How names become SymPy symbols: one symbol per name, so that `x_n` in two places is the same."""

from __future__ import annotations

import functools

import sympy as sp

#: A real symbol as SymPy makes it, whose assumptions every symbol of a problem shares.
_REAL = sp.Symbol("real_template", real=True)


@functools.lru_cache(maxsize=65536)
def symbol(name: str) -> sp.Symbol:
    """The one way names become SymPy symbols, so that `x_n` in two places is the same symbol.

    Kept here because SymPy's own cache holds 1,000 entries: a network of thousands of weights
    would build each symbol again at every use, and equal symbols would not be identical.

    Made as Symbol.__xnew__ makes it, except that its assumptions are the shared ones of a real
    symbol: SymPy shares the deduced facts already, but gives every symbol its own sorted tuple of
    them (9 objects), 14 MiB for the 26,700 symbols of a 64-128-128-10 network.
    tests/test_parse.py checks that the two are the same symbol."""
    made = sp.Basic.__new__(sp.Symbol)
    made.name = name
    made._assumptions = _REAL._assumptions
    made._assumptions_orig = _REAL._assumptions_orig
    made._assumptions0 = _REAL._assumptions0
    return made
