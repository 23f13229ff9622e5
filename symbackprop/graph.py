"""The computational graph: named nodes in forward order, their inputs, and who consumes whom.

Nodes may only use symbols and nodes defined before them, so the order they are written in is
already a topological order; the reverse pass walks it backwards. Everything is ordered (by the
user's order for nodes, by name for inputs), never by set iteration, so output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .errors import ProblemError
from .parse import symbol


@dataclass(frozen=True)
class Node:
    name: str
    expr: sp.Expr
    #: Direct inputs (earlier nodes and plain symbols), sorted by name.
    inputs: tuple[str, ...]

    @property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)


@dataclass
class Graph:
    nodes: dict[str, Node]
    #: Plain symbols (weights, inputs, targets) in order of first use.
    symbols: tuple[str, ...]
    #: For every node and symbol, the nodes that use it directly, in forward order.
    consumers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, definitions: dict[str, sp.Expr]) -> "Graph":
        nodes: dict[str, Node] = {}
        symbols: list[str] = []
        names = list(definitions)
        for name, expr in definitions.items():
            used = sorted(s.name for s in expr.free_symbols)
            for other in used:
                if other == name:
                    raise ProblemError(f"node '{name}' uses itself: a cycle", key=f"nodes.{name}")
                if other in definitions and other not in nodes:
                    if _reaches(definitions, other, name, set()):
                        raise ProblemError(
                            f"nodes '{name}' and '{other}' depend on each other: a cycle; "
                            "a network's forward pass must not loop", key=f"nodes.{name}")
                    raise ProblemError(
                        f"node '{name}' uses '{other}', which is defined later (nodes are listed in "
                        "forward order: move it above)", key=f"nodes.{name}")
                if other not in definitions and other not in symbols:
                    symbols.append(other)
            nodes[name] = Node(name, expr, tuple(used))
        consumers: dict[str, list[str]] = {n: [] for n in [*names, *symbols]}
        for node in nodes.values():
            for used_name in node.inputs:
                consumers[used_name].append(node.name)
        return cls(nodes, tuple(symbols), {k: tuple(v) for k, v in consumers.items()})

    def ancestors(self, name: str) -> list[str]:
        """Every node and symbol the named node depends on, itself first, in reverse forward order."""
        seen = {name}
        stack = [name]
        while stack:
            current = stack.pop()
            node = self.nodes.get(current)
            for used in node.inputs if node else ():
                if used not in seen:
                    seen.add(used)
                    stack.append(used)
        order = [n for n in reversed(self.nodes) if n in seen]
        return order + [s for s in self.symbols if s in seen]


def _reaches(definitions: dict[str, sp.Expr], start: str, target: str, seen: set[str]) -> bool:
    """True when node `start` uses `target`, directly or through other nodes."""
    for s in definitions[start].free_symbols:
        if s.name == target:
            return True
        if s.name in definitions and s.name not in seen:
            seen.add(s.name)
            if _reaches(definitions, s.name, target, seen):
                return True
    return False
