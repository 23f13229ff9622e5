"""What a worked solution derives, and in which order: the plan a lecturer follows (issue 12).

The reverse pass derives every gradient once; a solution shows those that are asked (the
parameters', by default) and the ones they are built from, in teaching order: the layer nearest the
loss first, and within a layer the units in the file's order (dE/dw5 before dE/dw7, dE/dw5 before
dE/dw1). A node that is a weighted sum (net_o1 = w5*out_h1 + w6*out_h2 + b2) gets a delta,
delta_o1 = dE/dnet_o1, the name its gradient goes by. The parameters asked in detail are derived in
full; every other one, where it is a weight or bias of a unit (one path, through that unit's delta),
is a row of its layer's table: its input's value times the unit's delta.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

import sympy as sp

from ..errors import ProblemError
from ..model.graph import Graph, Node
from ..model.steps import ChainStep, Steps

#: With more parameters than this, only the first of each layer is derived in full by default.
MAX_DETAILED = 6

#: A name read as a unit's net input followed by the unit: net_o1 -> o1, z2_1 -> 2,1, z1 -> 1.
_NET_NAME = re.compile(r"(?:net|z|s|in|a)(?:_(?P<named>[A-Za-z0-9_]+)|(?P<numbered>[0-9][0-9_]*))\Z")


class Row(NamedTuple):
    """A parameter in its layer's table: dE/dw = (dE/d unit) * (d unit/dw). A named tuple: made
    for each of a network's 26,000 weights, in half a frozen dataclass's time."""

    parameter: str
    unit: str
    #: The reverse pass's steps and the position of this row's: a network's tables hold every
    #: weight, and a step is built only when a renderer reads it.
    steps: Steps
    position: int

    @property
    def step(self) -> ChainStep:
        return self.steps[self.position]


@dataclass(frozen=True, slots=True)
class Plan:
    #: The names whose gradient is derived, in teaching order (the loss itself left out).
    order: tuple[str, ...]
    #: The names asked for (the answer key's gradients).
    asked: tuple[str, ...]
    #: Weighted-sum nodes mapped to the subscript of their delta: net_o1 -> "o1".
    deltas: dict[str, str]
    #: Tables of parameters not derived in full, one per layer, nearest the loss first.
    tables: tuple[tuple[Row, ...], ...]
    #: The depth (longest path to the loss) of each name in `order`: equal depths form a layer.
    depth: dict[str, int]

    @property
    def in_tables(self) -> set[str]:
        return {row.parameter for table in self.tables for row in table}


def plan(graph: Graph, loss: str, steps: Steps, parameters: Sequence[str],
         values: Iterable[str], *, gradients: str | Sequence[str] | None = None,
         detail: str | Sequence[str] | None = None, delta: bool = True, tables: bool = True) -> Plan:
    """The plan for one reverse pass. `gradients`: "all", a list of names, or None for the
    parameters (every symbol where there are none); `detail`: "all", a list, or None for the default
    (all, or the first parameter of each layer beyond MAX_DETAILED); tables=False leaves the tables
    empty (the answer key reads none: a network's hold a Row per weight)."""
    paths: dict[str, list[tuple[int, str]]] = {}       # target -> (position, via) of each path
    for position, target, via in steps.paths():
        own = paths.get(target)
        if own is None:
            paths[target] = [(position, via)]
        else:
            own.append((position, via))
    derived = list(paths)
    asked = asked_names(gradients, parameters, graph, derived)
    # The asked names and every name their paths go through, a generation at a time: a network's
    # 26,000 weights go through a few hundred units.
    needed = dict.fromkeys(asked)
    fresh = asked
    while fresh:
        through = dict.fromkeys(via for name in fresh for _, via in paths[name] if via != loss)
        fresh = [name for name in through if name not in needed and name in paths]
        needed.update(dict.fromkeys(fresh))
    depth = _depths(graph, loss, derived)
    # The first mention counts (dict.fromkeys keeps it): 80,000 names in a 64-128-128-10 network.
    mentions = dict.fromkeys(itertools.chain(parameters, values, graph.symbols, graph.nodes))
    position = {name: index for index, name in enumerate(mentions)}
    # By depth, symbols before nodes, then first mention: as one integer, which sorts a third faster
    # than the tuple of the three.
    span, nodes = len(position) + 1, graph.nodes
    order = sorted(needed, key=lambda n: (2 * depth[n] + (n in nodes)) * span + position.get(n, span - 1))
    deltas = {n: delta_subscript(n) for n in order if delta and n in graph.nodes
              and _is_weighted_sum(graph.nodes[n])}
    layers: dict[int, list[Row]] = {}
    asked_set = set(asked)          # a set: the lists are as long as the network's parameters
    if tables:
        detailed = _detailed(detail, asked, depth)
        for name in order:
            own = paths[name]
            if name in asked_set and name not in detailed and len(own) == 1 and own[0][1] in deltas:
                layers.setdefault(depth[name], []).append(Row(name, own[0][1], steps, own[0][0]))
    return Plan(tuple(order), tuple(n for n in order if n in asked_set), deltas,
                tuple(tuple(rows) for _, rows in sorted(layers.items())), depth)


def asked_names(gradients, parameters: Sequence[str], graph: Graph, derived: list[str],
                key: str | None = "gradients") -> list[str]:
    """The gradients asked, in the order asked: `gradients` ("all", a list of names, or None for the
    parameters', every one where there are none) among those `derived`. An unknown name is an error
    at `key`: the problem's gradients:, or None for names a caller passed."""
    if gradients == "all" or (gradients is None and not parameters):
        return derived
    names = list(parameters) if gradients is None else list(gradients)
    found = set(derived)
    if found.issuperset(names):          # each derived, so known: a network's 26,000 parameters
        return names
    unknown = set(names).difference(graph.symbols, graph.nodes)      # set operations
    if unknown:
        name = next(n for n in names if n in unknown)                   # the first, as written
        raise ProblemError(f"'{name}' is not a symbol or node of the network", key=key)
    return [n for n in names if n in found]


def _detailed(detail, asked: list[str], depth: dict[str, int]) -> set[str]:
    if detail == "all" or (detail is None and len(asked) <= MAX_DETAILED):
        return set(asked)
    if detail is None:
        first: dict[int, str] = {}
        for name in asked:
            first.setdefault(depth[name], name)
        return set(first.values())
    for name in detail:
        if name not in asked:
            raise ProblemError(f"'{name}' is not among the gradients derived: " + ", ".join(asked),
                               key="detail")
    return set(detail)


def _depths(graph: Graph, loss: str, names: list[str]) -> dict[str, int]:
    """The longest path from each name to the loss, which puts a unit's weights beside each other
    and every gradient after the ones it is built from."""
    relevant = set(names) | {loss}
    longest = {loss: 0}
    ancestors = graph.ancestors(loss)
    for name in ancestors:          # reverse topological: a node's consumers all come before it
        if name in graph.nodes and name in relevant:
            through = longest[name] + 1
            for used in graph.nodes[name].inputs:
                if longest.get(used, -1) < through:
                    longest[used] = through
    return {name: longest[name] for name in ancestors}


def _is_weighted_sum(node: Node) -> bool:
    """is_weighted_sum of the node's expression; a weighted sum read from text answers from its
    names, its SymPy sum not built."""
    terms = node.weighted_sum
    if terms is not None:
        return any(len(term) == 2 for term in terms.terms)
    return is_weighted_sum(node.expr)


def is_weighted_sum(expr: sp.Expr) -> bool:
    """A unit's net input: a sum whose terms are names or products of names (and at least one
    product), w5*out_h1 + w6*out_h2 + b2."""
    if not expr.is_Add:
        return False
    products = 0
    for term in expr.args:
        if term.is_Mul:
            names = 0
            for factor in term.args:
                if factor.is_Symbol:
                    names += 1
                elif not factor.is_number:
                    return False
            products += names >= 2
        elif not (term.is_Symbol or term.is_number):
            return False
    return products > 0


def delta_subscript(name: str) -> str:
    """The unit a net input's delta is named after: net_o1 -> o1, z2_1 -> 2,1, z1 -> 1; any other
    name is its own subscript."""
    match = _NET_NAME.match(name)
    if match is None:
        return name
    unit = (match.group("named") or match.group("numbered")).strip("_")
    head, _, rest = unit.partition("_")
    return f"{head},{rest}" if head.isdigit() and rest.isdigit() else unit
