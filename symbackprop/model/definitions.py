"""The nodes' definitions by name: a weighted sum read from text is kept as its terms (names), a
function of one name (relu(z1_1)) as the function and the name, and the SymPy expression of either
built the first time someone reads it.

A network's weighted sums are nearly all of its text and of its SymPy objects (266 sums of 129
products, 26,000 symbols for 64-128-128-10); exact gradients need only their names
(engine/tape.py), so a load for them builds none. Whoever reads an expression (the worked solution,
the checks, the printers) gets the one object built by WeightedSum.expr(), the same for every reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Callable, Iterator, Mapping

import sympy as sp

from .symbols import symbol


@dataclass(frozen=True)
class WeightedSum:
    """w1*x1 + w2*x2 + b: terms that are each a name or a product of two different names, no term
    twice, in SymPy's canonical order (names before products, each by name; a product's two names
    in order), the order of the Add that expr() builds, as parsing.expressions.weighted_sum_terms
    reads them."""

    terms: tuple[tuple[str, ...], ...]

    def names(self) -> list[str]:
        """The names the sum uses, sorted (as a Node's inputs are)."""
        # Sorted before the duplicates go: the terms' names are a few sorted runs, which sorted()
        # merges, where a set's order would have to be sorted from scratch.
        return list(dict.fromkeys(sorted(chain.from_iterable(self.terms))))

    def expr(self) -> sp.Expr:
        """The sum SymPy's Add would build from these terms, built directly: Basic.compare puts
        symbols before products, each by name, and a product of two symbols is compared by its
        factors' names, so the terms' order is already SymPy's; each product is what Mul builds."""
        built = [symbol(t[0]) if len(t) == 1 else sp.Mul._from_args((symbol(t[0]), symbol(t[1])), True)
                 for t in self.terms]
        return sp.Add._exec_constructor_postprocessors(sp.Add._from_args(built, True))


@dataclass(frozen=True)
class OneNameCall:
    """relu(z1_1): a function applied to one name, as parsing.expressions.one_name_call reads it, for
    a function whose value on a name is that function of the name, whatever the name (symbols share
    their assumptions): a network's activations, one node per unit, which exact gradients read by
    kind (engine/tape.py) without building each."""

    function: Callable[[sp.Expr], sp.Expr]
    argument: str

    def names(self) -> list[str]:
        return [self.argument]

    def expr(self) -> sp.Expr:
        return self.function(symbol(self.argument))


#: A definition kept unbuilt: its names are known, its SymPy expression made when first read.
Unbuilt = WeightedSum | OneNameCall
_UNBUILT = (WeightedSum, OneNameCall)


class Definitions(Mapping):
    """Node name -> SymPy expression, in the order given; an unbuilt definition among them is built
    into its expression when first read, and that expression is kept and returned to every later
    reader."""

    def __init__(self, definitions: Mapping[str, sp.Expr | Unbuilt]):
        self._exprs: dict[str, sp.Expr | Unbuilt] = dict(definitions)
        self._unbuilt = {name: d for name, d in self._exprs.items() if type(d) in _UNBUILT}

    def __getitem__(self, name: str) -> sp.Expr:
        expr = self._exprs[name]
        if type(expr) in _UNBUILT:
            expr = self._exprs[name] = expr.expr()
        return expr

    def __contains__(self, name: object) -> bool:
        return name in self._exprs           # Mapping's own would read, so build, the expression

    def __iter__(self) -> Iterator[str]:
        return iter(self._exprs)

    def __len__(self) -> int:
        return len(self._exprs)

    def __repr__(self) -> str:
        return repr(dict(self))

    def unbuilt(self, name: str) -> Unbuilt | None:
        """The node's definition where it was read unbuilt (built since or not), else None."""
        return self._unbuilt.get(name)

    def weighted_sum(self, name: str) -> WeightedSum | None:
        """The node's terms where it was read as a weighted sum (built since or not), else None."""
        kept = self._unbuilt.get(name)
        return kept if type(kept) is WeightedSum else None


def unbuilt_of(definitions: Mapping[str, sp.Expr], name: str) -> Unbuilt | None:
    """The node's unbuilt definition where definitions read it so (a Definitions from a load; any
    other mapping, a gates split for one, holds expressions only)."""
    return definitions.unbuilt(name) if isinstance(definitions, Definitions) else None


def weighted_sum_of(definitions: Mapping[str, sp.Expr], name: str) -> WeightedSum | None:
    """The node's terms where definitions read it as a weighted sum, without building it."""
    kept = unbuilt_of(definitions, name)
    return kept if type(kept) is WeightedSum else None


def one_name_call_of(definitions: Mapping[str, sp.Expr], name: str) -> OneNameCall | None:
    """The node's function and name where definitions read it as a function of one name."""
    kept = unbuilt_of(definitions, name)
    return kept if type(kept) is OneNameCall else None


def input_names(definitions: Mapping[str, sp.Expr], name: str) -> list[str]:
    """The names a definition uses, sorted, without building an unbuilt definition's expression."""
    kept = unbuilt_of(definitions, name)
    if kept is not None:
        return kept.names()
    return sorted(s.name for s in definitions[name].free_symbols)


def name_terms(expr: sp.Expr) -> list[tuple[str, ...]] | None:
    """A sum's terms by name where each is a name or a product of two names (as a WeightedSum's
    terms, in the sum's own order); None for any other expression."""
    if not expr.is_Add:
        return None
    terms = [term_names(term) for term in expr.args]
    return None if None in terms else terms


def term_names(term: sp.Expr) -> tuple[str, ...] | None:
    """A term's names where it is a name or a product of two names (w1*x1), else None."""
    if term.is_Symbol:
        return (term.name,)
    if term.is_Mul and len(term.args) == 2 and term.args[0].is_Symbol and term.args[1].is_Symbol:
        return (term.args[0].name, term.args[1].name)
    return None
