"""Cross-entropy through a softmax or a sigmoid: the gradient at the logit is the output minus the
target, dE/dz_k = y_k - t_k, as every text states it.

The reverse pass adds the paths through each softmax output, -t1/y1 * y1*(1 - y1) + ..., which SymPy
leaves as t2*y1 + t3*y1 - t1*(1 - y1). Cancelled and expanded it is y1*(t1 + t2 + t3) - t1, and where
the targets' values add up to exactly 1 (one-hot targets, or probabilities) that is y1 - t1. Through a
sigmoid under binary cross-entropy the cancellation alone gives y - t. Only identities and the given
values are used, so the reduced form is exact wherever the targets sum to 1; the step says so.
"""

from __future__ import annotations

import functools

import sympy as sp

from ..model.graph import Graph, Node
from ..model.operations import BY_FUNCTION
from ..model.steps import Reduction


def reduce_logit(name: str, general: sp.Expr | None, graph: Graph,
                 known: dict[sp.Symbol, sp.Expr]) -> Reduction | None:
    """The reduced gradient of a logit (a name every consumer of which is a sigmoid or softmax
    node), or None where the general form does not simplify."""
    if general is None:
        return None                     # most of a network's weights: asked first
    consumers = graph.consumers.get(name, ())
    if not consumers or not all(_squashes(graph.nodes[c]) for c in consumers):
        return None
    outputs = [graph.nodes[c].symbol for c in consumers]
    expanded = _cancelled(general)
    collected, reduced, targets = None, expanded, ()
    for output in outputs:
        coefficient = expanded.coeff(output)
        terms = sp.Add.make_args(coefficient)
        if len(terms) > 1 and all(t.is_Symbol for t in terms):
            values = [known.get(t) for t in terms]
            rest = sp.expand(expanded - sp.expand(output * coefficient))
            collected = sp.Add(sp.Mul(output, coefficient, evaluate=False), rest, evaluate=False)
            if all(v is not None and v.is_Rational for v in values) and sum(values) == 1:
                reduced = rest + output
                targets = tuple(sorted(t.name for t in terms))
            else:
                reduced = collected
            break
    if _operations(reduced) >= _operations(general):
        return None
    return Reduction(reduced, collected, targets)


# Kept per expression: each solve of a problem meets the same general forms again (a warm worked
# solution, every variant of a homework), and cancelling them is most of the reverse pass's time.
@functools.lru_cache(maxsize=4096)
def _cancelled(general: sp.Expr) -> sp.Expr:
    if not any(power.exp.is_negative for power in general.atoms(sp.Pow)):
        # Nothing to cancel without a denominator: the expanded polynomial is the same, and
        # SymPy's cancel (its polynomial rings) was most of a sigmoid network's reverse pass.
        return sp.expand(general)
    return sp.expand(sp.cancel(general))


@functools.lru_cache(maxsize=4096)
def _operations(expr: sp.Expr) -> int:
    return sp.count_ops(expr)


def _squashes(node: Node) -> bool:
    """A sigmoid or softmax output: cross-entropy through it reduces to output minus target. (A
    weighted sum read from text is none, and is not built to be asked.)"""
    if node.weighted_sum is not None:
        return False
    operation = BY_FUNCTION.get(node.expr.func)
    return operation is not None and bool({"sigmoid", "softmax"} & set(operation.names))
