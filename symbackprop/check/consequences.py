"""Which wrong claim follows from which: a wrong value follows from a wrong claim it is computed from
only when recomputing it from the claimed value (everything else correct) gives the value claimed.

Being downstream is not enough: a gradient with its sign flipped is wrong on its own, whatever else
is wrong above it. `dependencies` narrows the candidates to the quantities a value is computed from;
`recompute` redoes the solution's own forward pass, reverse pass, batch reduction and update with
some quantities replaced by claimed values.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp

from ..arithmetic import numeric
from ..engine.answers import (
    AFTER,
    FORWARD,
    GRADIENT,
    UPDATED,
    Answers,
    ExampleValues,
    Quantity,
)
from ..errors import ProblemError
from ..model.steps import ChainStep
from ..model.symbols import symbol
from .mistakes import replay_backward

# --- what a value is computed from --------------------------------------------------------------


def dependencies(quantity: Quantity, solution) -> set[Quantity]:
    """The quantities this one is computed from directly."""
    problem, graph = solution.problem, solution.problem.graph
    kind, name, k = quantity.kind, quantity.name, quantity.example
    batch = problem.data is not None and k is None
    if batch and kind in (FORWARD, GRADIENT):
        # The batch's loss or gradient: the mean (or sum) of the examples' own.
        return {Quantity(kind, name, e.index) for e in solution.examples}
    if kind == FORWARD:
        if name in problem.given:
            return set()
        return {Quantity(FORWARD, n, k) for n in graph.nodes[name].inputs if n in graph.nodes}
    if kind == GRADIENT:
        result = set()
        for step in _example(solution, k).steps:
            if isinstance(step, ChainStep) and step.target == name:
                result.add(Quantity(GRADIENT, step.via, k))
                # The forward values the local derivative is evaluated at (out_h1*(1 - out_h1)).
                result |= {Quantity(FORWARD, s.name, k) for s in step.local.free_symbols
                           if s.name in graph.nodes}
        return result
    if kind == UPDATED:
        return {Quantity(GRADIENT, name)}
    ancestors = set(graph.ancestors(name))
    result = {Quantity(UPDATED, w) for w in problem.parameters if w in ancestors}
    if problem.data is None:
        result |= {Quantity(AFTER, n) for n in graph.nodes[name].inputs if n in graph.nodes}
    return result


def depends_on(quantity: Quantity, solution) -> set[Quantity]:
    """Every quantity this one is computed from, directly or through others."""
    seen: set[Quantity] = set()
    stack = [quantity]
    while stack:
        for dependency in dependencies(stack.pop(), solution):
            if dependency not in seen:
                seen.add(dependency)
                stack.append(dependency)
    seen.discard(quantity)
    return seen


def _example(solution, index: int | None):
    if index is None:
        return solution.examples[0]
    return next(e for e in solution.examples if e.index == index)


# --- recomputing with claimed values put in ----------------------------------------------------

def recompute(quantity: Quantity, solution, overrides: dict[Quantity, sp.Expr]) -> sp.Expr | None:
    """The quantity's value when the quantities in `overrides` take the values given there and
    everything else is computed as the solution computes it."""
    problem = solution.problem
    data, loss = problem.data, problem.loss
    examples = {}
    for e in solution.examples:
        k = None if data is None else e.index
        values = {**problem.values, **e.inputs}
        forward = _forward(problem, values, problem.given, lambda n: overrides.get(Quantity(FORWARD, n, k)))
        known = {symbol(n): v for n, v in {**values, **forward}.items()}
        replaced = {q.name: v for q, v in overrides.items() if q.kind == GRADIENT and q.example == k}
        gradients = replay_backward(e.steps, loss, known, numeric.carried, replaced)
        examples[e.index] = ExampleValues(forward, {**gradients, **replaced})
    if data is None:
        forward, gradients = examples[0].forward, examples[0].gradients
        gradients = {n: gradients.get(n, sp.S.Zero) for n in solution.gradients}
    else:
        forward = {loss: numeric.carried(data.reduce([x.forward[loss] for x in examples.values()]))}
        gradients = {n: numeric.carried(data.reduce([x.gradients.get(n, sp.S.Zero)
                                                     for x in examples.values()]))
                     for n in solution.gradients}
        _put(forward, overrides, FORWARD)
        _put(gradients, overrides, GRADIENT)
    updated: dict[str, sp.Expr] = {}
    after: dict[str, sp.Expr] = {}
    if problem.learning_rate is not None and quantity.kind in (UPDATED, AFTER):
        for w in problem.parameters:
            step = problem.learning_rate * gradients.get(w, sp.S.Zero)
            updated[w] = numeric.carried(problem.values[w] - step)
        _put(updated, overrides, UPDATED)
        if quantity.kind == AFTER:
            after = _after(solution, updated, overrides)
    return Answers(forward, gradients, updated, after,
                   examples if data is not None else {}).value(quantity)


def _put(values: dict[str, sp.Expr], overrides: dict[Quantity, sp.Expr], kind: str) -> None:
    """The batch-level (or only) values of one kind replaced where a claim replaces them."""
    values.update({q.name: v for q, v in overrides.items() if q.kind == kind and q.example is None})


def _after(solution, updated: dict[str, sp.Expr], overrides: dict[Quantity, sp.Expr]) -> dict[str, sp.Expr]:
    problem = solution.problem
    new_values = {**problem.values, **updated}
    if problem.data is None:
        return _forward(problem, new_values, {}, lambda n: overrides.get(Quantity(AFTER, n)))
    losses = [_forward(problem, {**new_values, **e.inputs}, {}, lambda n: None)[problem.loss]
              for e in solution.examples]
    result = {problem.loss: numeric.carried(problem.data.reduce(losses))}
    _put(result, overrides, AFTER)
    return result


def _forward(problem, values: dict[str, sp.Expr], given: dict[str, sp.Expr],
             replaced: Callable[[str], sp.Expr | None]) -> dict[str, sp.Expr]:
    """Every node in order, a replaced node taking its replacement before the nodes after it use it."""
    known = {symbol(n): v for n, v in values.items()}
    result = {}
    for name, node in problem.graph.nodes.items():
        value = replaced(name)
        if value is None:
            value = given[name] if name in given else numeric.carried(numeric.substitute(node.expr, known))
        known[node.symbol] = result[name] = value
    return result


def reproduces_with(quantity: Quantity, solution, overrides: dict[Quantity, sp.Expr],
                    agrees: Callable[[sp.Expr | None], bool]) -> bool:
    """Whether recomputing from these claimed values gives the claim (False where it cannot be
    recomputed: a claimed value outside a function's domain)."""
    try:
        return agrees(recompute(quantity, solution, overrides))
    except (ProblemError, ArithmeticError, TypeError, ValueError):
        return False
