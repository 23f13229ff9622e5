"""The forward pass and the memoised reverse pass. Both return steps; neither prints.

Reverse pass: start from dL/dL = 1 and walk the nodes in reverse forward order. A node's gradient is
complete once every node that consumes it has been visited (reverse topological order guarantees it),
so each gradient is derived exactly once and then reused by every input of that node, the delta of the
lecture notes. A node or symbol that feeds several nodes gets one chain step per path and a sum step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy as sp

from ..arithmetic import numeric
from ..errors import ProblemError
from ..model import rules
from ..model.graph import Graph
from ..model.steps import ChainStep, ForwardStep, Gradient, SumStep
from ..model.symbols import symbol
from .reduction import reduce_logit

#: General forms with more tree nodes than this are not shown (None); the values are still exact.
MAX_GENERAL_SIZE = 60


@dataclass(frozen=True)
class ForwardPass:
    steps: dict[str, ForwardStep]
    #: Every symbol and node mapped to its value (symbols without a value map to themselves).
    known: dict[sp.Symbol, sp.Expr]
    #: What given values reveal about kink inputs (see rules.kink_facts).
    facts: dict[sp.Expr, tuple[sp.Expr, str]]


def forward(graph: Graph, values: dict[str, sp.Expr], given: dict[str, sp.Expr]) -> ForwardPass:
    """Evaluate every node in order; a node in `given` takes that value instead of its own."""
    known: dict[sp.Symbol, sp.Expr] = {symbol(name): value for name, value in values.items()}
    steps: dict[str, ForwardStep] = {}
    facts: dict[sp.Expr, tuple[sp.Expr, str]] = {}
    for node in graph.nodes.values():
        inputs = tuple((name, known[symbol(name)]) for name in node.inputs if symbol(name) in known)
        try:
            numeric.check_magnitude(node.expr, known)
            computed = numeric.settle(numeric.substitute(node.expr, known))
        except numeric.NumericError as exc:
            if node.name in given:
                computed = None
            else:
                raise ProblemError(f"node '{node.name}' = {node.expr} cannot be evaluated at the given "
                                   f"values: {exc}", key=f"nodes.{node.name}") from None
        if node.name in given:
            value = given[node.name]
            facts.update(rules.kink_facts(node.expr, value, node.name))
            steps[node.name] = ForwardStep(node.name, node.expr, inputs, value, True, computed)
        else:
            value = computed
            steps[node.name] = ForwardStep(node.name, node.expr, inputs, value)
        known[node.symbol] = value
    return ForwardPass(steps, known, facts)


def backward(graph: Graph, loss: str, fwd: ForwardPass, kink: sp.Expr
             ) -> tuple[dict[str, Gradient], list[ChainStep | SumStep]]:
    """Gradients of the loss for every node and symbol it depends on, and the steps that made them."""
    order = graph.ancestors(loss)
    relevant = set(order)
    gradients: dict[str, Gradient] = {loss: Gradient(sp.S.One, sp.S.One)}
    steps: list[ChainStep | SumStep] = []
    by_expression = {node.expr: node.symbol for node in graph.nodes.values() if not node.expr.is_Atom}
    for name in order[1:]:
        paths = []
        for via in graph.consumers[name]:
            if via not in relevant:
                continue
            paths.append(_chain_step(graph, name, via, gradients[via], fwd, kink, by_expression,
                                     reused=via != loss))
        if len(paths) == 1:
            reduction = reduce_logit(name, paths[0].general, graph, fwd.known)
            if reduction is not None:
                paths[0] = dataclasses.replace(paths[0], general=reduction.reduced, reduction=reduction)
            steps.extend(paths)
            gradients[name] = Gradient(paths[0].general, paths[0].value)
        else:
            steps.extend(paths)
            general = None
            if all(p.general is not None for p in paths):
                general = sp.Add(*(p.general for p in paths))
                general = general if numeric.size(general, MAX_GENERAL_SIZE) <= MAX_GENERAL_SIZE else None
            reduction = reduce_logit(name, general, graph, fwd.known)
            general = general if reduction is None else reduction.reduced
            value = _settled(sp.Add(*(p.value for p in paths)), name)
            steps.append(SumStep(name, tuple(p.via for p in paths), general, value, reduction))
            gradients[name] = Gradient(general, value)
    return gradients, steps


def _chain_step(graph: Graph, name: str, via: str, upstream: Gradient, fwd: ForwardPass,
                kink: sp.Expr, by_expression: dict[sp.Expr, sp.Symbol], reused: bool) -> ChainStep:
    consumer = graph.nodes[via]
    wrt = symbol(name)
    local_general = rules.local_derivative(consumer.expr, wrt, kink)
    local, branches = rules.settle_branches(local_general, consumer.expr, fwd.known, fwd.facts, kink)
    # Write the derivative in the reader's names: sigmoid(z)*(1 - sigmoid(z)) becomes h*(1 - h).
    local = local.xreplace(by_expression)
    local_general = local_general.xreplace(by_expression)
    local_value = _settled(local.xreplace(fwd.known), via)
    general = None
    if upstream.general is not None:
        # The general form keeps the kinks' steps (true for any input), not the branch taken here.
        general = upstream.general * local_general
        if numeric.size(general, MAX_GENERAL_SIZE) > MAX_GENERAL_SIZE:
            general = None
    value = _settled(upstream.value * local_value, via)
    return ChainStep(
        target=name, via=via, rules=tuple(r.key for r in rules.gate_rules(consumer.expr, wrt)),
        local=local, local_value=local_value, upstream=upstream.general,
        upstream_value=upstream.value, general=general, value=value, branches=branches,
        reused=reused, local_general=None if local_general == local else local_general,
    )


def _settled(expr: sp.Expr, node: str) -> sp.Expr:
    try:
        return numeric.carried(expr)
    except numeric.NumericError as exc:
        raise ProblemError(f"the gradient through node '{node}' cannot be evaluated: {exc}",
                           key=f"nodes.{node}") from None
