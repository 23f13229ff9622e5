"""A network made of layers of units, read off the graph's structure, never off names.

A *unit* is a node that is a weighted sum (terms weight*input, and at most one bias symbol) whose only
consumer is an activation of it alone (sigmoid(net_h1), relu(z1_1)), or that is consumed by a softmax
over its layer, or by the loss alone (a linear output, y = v*h + c). A unit's inputs are the network's
input symbols or the outputs of units of the layer just before it. Every node but the loss must belong
to a unit; anything else (a gate split into nodes, a skip connection, a loss built from several nodes)
is not a layered network. The network figure (printing/network.py) and the matrix form
(engine/matrix.py) both read it. Everything is ordered data (the user's node order, the graph's symbol
order), so the same problem always gives the same layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .operations import BY_FUNCTION


@dataclass(frozen=True)
class Unit:
    """One neuron of a layer."""

    #: The node holding its output: the activation (out_h1), or the weighted sum itself for a linear one.
    output: str
    #: The weighted-sum node (net_h1), or None where the output node is that sum.
    net: str | None
    #: The activation's glyph as (plain text, LaTeX): σ, ReLU, softmax; None for a linear unit.
    activation: tuple[str, str] | None
    #: (weight symbol, the input it multiplies), in the order of the previous layer.
    weights: tuple[tuple[str, str], ...]
    bias: str | None


@dataclass(frozen=True)
class Network:
    #: The input symbols, in order of first use.
    inputs: tuple[str, ...]
    #: The units of each layer, the output layer last, each in the user's node order.
    layers: tuple[tuple[Unit, ...], ...]
    loss: str
    #: The symbols the loss uses directly (the targets), in order of first use.
    targets: tuple[str, ...]


def recognise(problem) -> Network | None:
    """The layers of `problem`'s network, or None where it is not made of layers of units."""
    graph = problem.graph
    loss = problem.loss
    if loss not in graph.nodes:
        return None
    sums = {name: terms for name, node in graph.nodes.items() if name != loss
            and (terms := _weighted_sum(node.expr, graph.nodes)) is not None}
    units: dict[str, Unit] = {}               # by output node
    for name, node in graph.nodes.items():
        if name == loss or name in sums:
            continue
        net = _activation_input(node.expr, sums)
        if net is None:
            return None                                       # a node that is no part of a unit
        units[name] = Unit(name, net, _glyph(node.expr), (), None)
    for name in sums:
        consumers = graph.consumers[name]
        if consumers == (loss,):
            units[name] = Unit(name, None, None, (), None)    # a linear output: y = v*h + c
        elif not consumers or any(c not in units for c in consumers) or (
                len(consumers) > 1 and not all(_is_softmax(graph.nodes[c].expr) for c in consumers)):
            return None                                       # a sum feeding something else too
    weights = _resolve_weights(problem, {u.net or u.output: sums[u.net or u.output] for u in units.values()},
                               set(units))
    if weights is None:
        return None
    layer_of: dict[str, int] = {}
    built: dict[str, Unit] = {}
    for output, unit in units.items():
        terms, bias = weights[unit.net or output]
        levels = {layer_of.get(source, 0) for _, source in terms}
        if len(levels) != 1 or any(s in graph.nodes and s not in units for _, s in terms):
            return None                                      # a skip connection, or a sum of a sum
        layer_of[output] = levels.pop() + 1
        built[output] = Unit(output, unit.net, unit.activation, terms, bias)
    if not built:
        return None
    depth = max(layer_of.values())
    last = [name for name in built if layer_of[name] == depth]
    loss_nodes = [i for i in graph.nodes[loss].inputs if i in graph.nodes]
    if sorted(loss_nodes) != sorted(last) or any(
            loss in graph.consumers[name] for name in built if layer_of[name] != depth):
        return None
    layers = tuple(tuple(built[n] for n in built if layer_of[n] == level) for level in range(1, depth + 1))
    # Softmax normalises over its layer: every unit of that layer must be one of the same softmax.
    for layer in layers:
        groups = {graph.nodes[u.output].inputs for u in layer if _is_softmax(graph.nodes[u.output].expr)}
        if groups and (len(groups) != 1 or len(next(iter(groups))) != len(layer)):
            return None
    sources = {s for unit in built.values() for _, s in unit.weights if s not in graph.nodes}
    inputs = tuple(s for s in graph.symbols if s in sources)
    previous: tuple[str, ...] = inputs
    ordered_layers = []
    for layer in layers:
        rank = {name: i for i, name in enumerate(previous)}
        ordered_layers.append(tuple(Unit(u.output, u.net, u.activation,
                                         tuple(sorted(u.weights, key=lambda t: rank[t[1]])), u.bias)
                                    for u in layer))
        previous = tuple(u.output for u in layer)
    targets = tuple(s for s in graph.symbols if s in graph.nodes[loss].inputs)
    return Network(inputs, tuple(ordered_layers), loss, targets)


def _weighted_sum(expr: sp.Expr, nodes) -> tuple[list[tuple[str, str]], list[str]] | None:
    """The products of two names and the lone symbols of a sum (w1*i1 + w2*i2 + b1), or None where
    expr is anything else (a number, a square, a product of three)."""
    products, alone = [], []
    for term in sp.Add.make_args(expr):
        if term.is_Symbol and term.name not in nodes:
            alone.append(term.name)
        elif term.is_Mul and len(term.args) == 2 and all(a.is_Symbol for a in term.args):
            products.append(tuple(a.name for a in term.args))
        else:
            return None
    if not products or len(alone) > 1:
        return None
    return products, alone


def _activation_input(expr: sp.Expr, sums) -> str | None:
    """The weighted sum an activation node applies to: the one name in relu(z), sigmoid(z),
    leaky_relu(z, 0.01) or softmax(k, z1, ..., zn) (the k-th), or z itself (a linear layer); else None."""
    if expr.is_Symbol:
        return expr.name if expr.name in sums else None
    row = BY_FUNCTION.get(expr.func)
    if row is None:
        return None
    if _is_softmax(expr):
        index, *zs = expr.args
        if not zs or not all(z.is_Symbol and z.name in sums for z in zs):
            return None
        return zs[int(index) - 1].name
    names = [a for a in expr.args if not a.is_Number]
    if not row.activation or len(names) != 1 or not names[0].is_Symbol:
        return None
    return names[0].name if names[0].name in sums else None


def _is_softmax(expr: sp.Expr) -> bool:
    row = BY_FUNCTION.get(expr.func)
    return row is not None and row.key == "softmax"


def _glyph(expr: sp.Expr) -> tuple[str, str] | None:
    if expr.is_Symbol:
        return None
    return BY_FUNCTION[expr.func].glyph


def _resolve_weights(problem, sums, unit_outputs: set[str]):
    """Each unit's (weight, input) pairs and bias. In a product the input is a unit's output, or
    the factor that is not a parameter, or, where neither or both are parameters, the factor that
    several units multiply (an input feeds every unit of its layer); None where that does not decide."""
    shared: dict[str, int] = {}
    for products, _ in sums.values():
        for pair in products:
            for name in pair:
                shared[name] = shared.get(name, 0) + 1
    parameters = set(problem.parameters)
    resolved = {}
    for name, (products, alone) in sums.items():
        terms = []
        for a, b in products:
            if (a in unit_outputs) != (b in unit_outputs):
                weight, source = (b, a) if a in unit_outputs else (a, b)
            elif (a in parameters) != (b in parameters):
                weight, source = (a, b) if a in parameters else (b, a)
            elif (shared[a] > 1) != (shared[b] > 1):
                weight, source = (b, a) if shared[a] > 1 else (a, b)
            else:
                return None
            if weight in unit_outputs or weight in problem.graph.nodes:
                return None
            terms.append((weight, source))
        resolved[name] = (tuple(terms), alone[0] if alone else None)
    return resolved
