"""The computational graph: named nodes in forward order, their inputs, and who consumes whom.

Nodes may only use symbols and nodes defined before them, so the order they are written in is
already a topological order; the reverse pass walks it backwards. Everything is ordered (by the
user's order for nodes, by name for inputs), never by set iteration, so output is deterministic.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from ..errors import ProblemError
from .definitions import OneNameCall, WeightedSum, input_names, one_name_call_of, weighted_sum_of
from .symbols import symbol


@dataclass(frozen=True)
class Node:
    name: str
    #: The definitions the node's expression is read from: a weighted sum of a Definitions is
    #: built when first read (definitions.py), so a graph for the tape builds none.
    definitions: Mapping[str, sp.Expr] = field(repr=False, compare=False)
    #: Direct inputs (earlier nodes and plain symbols), sorted by name.
    inputs: tuple[str, ...]
    #: True for a node made by splitting a user's compound expression into gates.
    generated: bool = False

    @property
    def expr(self) -> sp.Expr:
        return self.definitions[self.name]

    @property
    def weighted_sum(self) -> WeightedSum | None:
        """The node's terms where it was read as a weighted sum, without building its expression."""
        return weighted_sum_of(self.definitions, self.name)

    @property
    def call(self) -> OneNameCall | None:
        """The node's function and name where it was read as a function of one name, unbuilt."""
        return one_name_call_of(self.definitions, self.name)

    @property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)


@dataclass
class Graph:
    nodes: dict[str, Node]
    #: Plain symbols (weights, inputs, targets) in order of first use.
    symbols: tuple[str, ...]
    #: For each node, the symbols it is the first to use, in order: `symbols` grouped by their
    #: first consumer, which ancestors() places each symbol after.
    introduced: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    #: ancestors() by name, found once: loading, the reverse pass and the teaching plan each ask.
    _ancestors: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, definitions: Mapping[str, sp.Expr], gates: bool = False) -> "Graph":
        """The graph of the user's nodes; with gates=True, every compound expression is first split
        into one node per primitive operation (add, multiply, power, function), so that each step
        of the reverse pass is a single gate rule."""
        generated: set[str] = set()
        if gates:
            _check_order(definitions)
            definitions, generated = split_into_gates(definitions)
        nodes: dict[str, Node] = {}
        seen_symbols: set[str] = set()
        introduced: dict[str, tuple[str, ...]] = {}
        defined = set(definitions)         # a set, not the mapping: asked for every weight
        for name in definitions:
            used = input_names(definitions, name)
            # Comprehensions over a network's 26,000 names, not a loop with a branch per name.
            earlier = [other for other in used if other in defined]
            if not all(other in nodes for other in earlier):
                raise _order_error(definitions, nodes, name, earlier)
            fresh = [other for other in used if other not in defined and other not in seen_symbols]
            seen_symbols.update(fresh)
            introduced[name] = tuple(fresh)
            nodes[name] = Node(name, definitions, tuple(used), name in generated)
        symbols = tuple(s for fresh in introduced.values() for s in fresh)
        return cls(nodes, symbols, introduced)

    @functools.cached_property
    def consumers(self) -> dict[str, tuple[str, ...]]:
        """For every node and symbol, the nodes that use it directly, in forward order. Found when
        first asked: exact gradients need none of it (a network's 26,000 weights)."""
        consumers: dict[str, list[str]] = {n: [] for n in [*self.nodes, *self.symbols]}
        for node in self.nodes.values():
            for used_name in node.inputs:
                consumers[used_name].append(node.name)
        # Equal tuples shared: a unit's weights all have that unit alone (26,000 tuples of one, 1 MiB).
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}
        return {k: shared.setdefault(t := tuple(v), t) for k, v in consumers.items()}

    def ancestors(self, name: str) -> list[str]:
        """Every node and symbol the named node depends on, itself first, in reverse forward order.

        A symbol comes right after the earliest node that uses it, the last of its consumers the
        reverse pass reaches, so that dE/dw5 follows dE/dnet_o1 as in the lecture notes; symbols that
        the named node uses directly (targets) come last.
        """
        if name not in self._ancestors:
            self._ancestors[name] = self._find_ancestors(name)
        return list(self._ancestors[name])

    def _find_ancestors(self, name: str) -> list[str]:
        # By sets, a node's inputs at a time, and only nodes on the stack: a network's 26,000 weights
        # are inputs of a few hundred nodes.
        node_names = set(self.nodes)
        seen = {name}
        stack = [name] if name in node_names else []
        while stack:
            fresh = set(self.nodes[stack.pop()].inputs) - seen
            seen |= fresh
            stack.extend(fresh & node_names)
        # Each symbol after its earliest consumer among the ancestors. Where every node that first
        # uses a symbol is an ancestor (a network, whose nodes all lead to the loss), that is the
        # node that introduced it; else each symbol's consumers are searched.
        if all(node in seen for node, fresh in self.introduced.items() if fresh):
            symbols_after = self.introduced
        else:
            symbols_after = self._symbols_after(seen)
        order: list[str] = []
        for node_name in reversed(self.nodes):
            if node_name in seen:
                order.append(node_name)
                if node_name != name:
                    order.extend(symbols_after.get(node_name, ()))
        # Symbols used only by the loss itself (the targets) come last: they are rarely of interest.
        return order + list(symbols_after.get(name, ()))

    def _symbols_after(self, seen: set[str]) -> dict[str, list[str]]:
        """Each ancestor symbol under its earliest consumer among the ancestors."""
        symbols_after: dict[str, list[str]] = {}
        for s in self.symbols:
            if s in seen:
                first = next(c for c in self.consumers[s] if c in seen)
                symbols_after.setdefault(first, []).append(s)
        return symbols_after


def _order_error(definitions: Mapping[str, sp.Expr], nodes: Mapping[str, Node], name: str,
                 earlier: list[str]) -> ProblemError:
    """The error for a node that uses itself, or a node not defined above it."""
    other = next(other for other in earlier if other not in nodes)
    if other == name:
        return ProblemError(f"node '{name}' uses itself: a cycle", key=f"nodes.{name}")
    if _reaches(definitions, other, name, set()):
        return ProblemError(f"nodes '{name}' and '{other}' depend on each other: a cycle; a network's "
                            "forward pass must not loop", key=f"nodes.{name}")
    return ProblemError(f"node '{name}' uses '{other}', which is defined later (nodes are listed in "
                        "forward order: move it above)", key=f"nodes.{name}")


def _check_order(definitions: Mapping[str, sp.Expr]) -> None:
    """Raise the usual error for a node used before it is defined, before splitting renames things."""
    Graph.build(definitions)


def split_into_gates(definitions: Mapping[str, sp.Expr]) -> tuple[dict[str, sp.Expr], set[str]]:
    """Split every compound expression into primitive operations, each a node of its own.

    `y: relu(w3*x_n)` becomes `y_1: w3*x_n` and `y: relu(y_1)`. An operand stays inline when it is a
    symbol, a number, or a number times a symbol (so y - ybar stays one add gate). Generated names
    are the user node's name with _1, _2, ... and never collide with a name already in use.
    """
    taken = {s.name for e in definitions.values() for s in e.free_symbols} | set(definitions)
    result: dict[str, sp.Expr] = {}
    generated: set[str] = set()
    for name, expr in definitions.items():
        counter = [0]

        def fresh() -> str:
            while True:
                counter[0] += 1
                candidate = f"{name}_{counter[0]}"
                if candidate not in taken:
                    taken.add(candidate)
                    return candidate

        def gate(e: sp.Expr) -> sp.Expr:
            """e with each compound operand replaced by the symbol of a new node computing it."""
            if e.is_Atom:
                return e
            args = []
            for arg in e.args:
                if _is_simple(arg):
                    args.append(arg)
                else:
                    inner = gate(arg)
                    new_name = fresh()
                    result[new_name] = inner
                    generated.add(new_name)
                    args.append(symbol(new_name))
            return e.func(*args)

        result[name] = gate(expr)
    return result, generated


def _is_simple(e: sp.Expr) -> bool:
    if e.is_Atom:
        return True
    coefficient, rest = e.as_coeff_Mul()
    return coefficient.is_Number and coefficient != 1 and rest.is_Symbol


def _reaches(definitions: Mapping[str, sp.Expr], start: str, target: str, seen: set[str]) -> bool:
    """True when node `start` uses `target`, directly or through other nodes."""
    for name in input_names(definitions, start):
        if name == target:
            return True
        if name in definitions and name not in seen:
            seen.add(name)
            if _reaches(definitions, name, target, seen):
                return True
    return False
