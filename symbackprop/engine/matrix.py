"""The matrix form of a layered network (issue 13): each layer's equations as matrices, multiplied out.

    forward   z^l = W^l a^(l-1) + b^l,          a^l = f(z^l) elementwise (softmax over the layer)
    backward  delta^L = y - t                    (softmax or sigmoid under cross-entropy, where the
                                                  scalar pass reduced it), else dE/da^L (.) f'(z^L)
              delta^l = (W^(l+1))^T delta^(l+1) (.) f'(z^l)
              dE/dW^l = delta^l (a^(l-1))^T,     dE/db^l = delta^l
    update    W^l+ = W^l - eta dE/dW^l

The products, transposes and Hadamard products are computed here, exactly, from the forward values;
only what is elementwise (the values f(z) and the slopes f'(z), from the same table of operations) is
read from the scalar pass. Every entry of dE/dW^l is therefore a second derivation of the scalar
gradient of its weight, which the tests compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..arithmetic import numeric
from ..model.layered import Network, Unit, recognise
from ..model.operations import BY_FUNCTION
from ..model.steps import ChainStep, SumStep
from ..model.symbols import symbol
from .solution import Solution


@dataclass(frozen=True)
class Layer:
    """One layer l: its matrices of exact values; a vector of values (a, z, delta) has one column per
    example (one without data)."""

    index: int
    units: tuple[Unit, ...]
    #: The names of a^(l-1)'s entries: the inputs, or the previous layer's outputs.
    sources: tuple[str, ...]
    #: W^l's entry (j, i) is the weight from source i into unit j (None: no such weight, 0).
    weight_names: tuple[tuple[str | None, ...], ...]
    bias_names: tuple[str | None, ...]
    W: sp.Matrix
    b: sp.Matrix
    a_prev: sp.Matrix
    z: sp.Matrix
    a: sp.Matrix
    #: The activation's key in the table of operations ("sigmoid", "relu", "softmax"), None if linear.
    activation: str | None
    #: f'(z^l) elementwise; None where delta^l is y - t (the reduction) or the layer is linear.
    slope: sp.Matrix | None
    #: dE/da^l: (W^(l+1))^T delta^(l+1) for a hidden layer, the loss's own derivative at the output.
    upstream: sp.Matrix
    delta: sp.Matrix
    #: The targets' values where delta^l = a^l - t (output layer under cross-entropy), else None.
    targets: sp.Matrix | None
    dW: sp.Matrix
    db: sp.Matrix
    W_new: sp.Matrix | None
    b_new: sp.Matrix | None


@dataclass(frozen=True)
class MatrixForm:
    network: Network
    layers: tuple[Layer, ...]
    learning_rate: sp.Expr | None
    #: The examples (columns) of the first batch: 1 without data.
    examples: int = 1
    #: 1/m where the batch takes the mean, else 1.
    scale: sp.Expr = sp.S.One


class NoMatrixForm(Exception):
    """Why a problem has no matrix form, said in one sentence."""


def matrix_form(solution: Solution) -> MatrixForm:
    """The matrix form of the first update. With data, each matrix of values has one column per
    example of the first batch (A^(0) holds their inputs), and dE/dW^l = Delta^l (A^(l-1))^T and
    dE/db^l = Delta^l 1 carry the batch's mean (1/m) or sum, as the scalar batch gradients do."""
    problem = solution.problem
    network = recognise(problem)
    if network is None:
        raise NoMatrixForm("its nodes are not layers of units (weighted sums, each followed by one "
                           "activation); write it with layers:, or use --form scalar")
    examples = solution.examples
    knowns = [{**problem.values, **e.inputs, **{name: step.value for name, step in e.forward.items()}}
              for e in examples]
    unknown = [s for s in problem.graph.symbols if s not in knowns[0]]
    if unknown:
        raise NoMatrixForm(f"{', '.join(unknown)} {'has' if len(unknown) == 1 else 'have'} no value, and "
                           "the matrix form multiplies numbers out")
    locals_ = [{(s.target, s.via): s for s in e.steps if isinstance(s, ChainStep)} for e in examples]
    steps = [{s.target: s for s in e.steps if isinstance(s, (ChainStep, SumStep))} for e in examples]
    known = knowns[0]                  # the parameters' values, the same for every example
    m = len(examples)
    scale = sp.Rational(1, m) if problem.data is not None and problem.data.reduction == "mean" else sp.S.One
    sources = network.inputs
    a_prev = _columns([[k[name] for name in sources] for k in knowns])
    forward = []
    for index, units in enumerate(network.layers, start=1):
        by_source = [{source: weight for weight, source in unit.weights} for unit in units]
        weight_names = tuple(tuple(row.get(source) for source in sources) for row in by_source)
        W = sp.Matrix([[known[w] if w else sp.S.Zero for w in row] for row in weight_names])
        b = sp.Matrix([known[u.bias] if u.bias else sp.S.Zero for u in units])
        z = _carried(W * a_prev + b * sp.ones(1, m))
        a = _columns([[k[u.output] for u in units] for k in knowns])
        forward.append((index, units, sources, weight_names, W, b, a_prev, z, a))
        sources, a_prev = tuple(u.output for u in units), a
    layers: list[Layer] = []
    below = None                                   # the layer after this one, built first
    for index, units, sources, weight_names, W, b, a_prev, z, a in reversed(forward):
        activation = _activation(problem, units[0])
        targets = None
        slope = None
        if below is None:
            upstream = _columns([[e.gradients[u.output].value for u in units] for e in examples])
            last = steps[0].get(units[0].net or units[0].output)
            if activation is not None and last is not None and last.reduction is not None:
                # Cross-entropy through a softmax or sigmoid: delta^L = y - t (the scalar pass's
                # reduction, said there); t is what makes y - t the reduced form.
                delta = _carried(_columns([[step[u.net].reduction.reduced.xreplace(_symbols(k))
                                             for u in units] for step, k in zip(steps, knowns)]))
                targets = _carried(a - delta)
            elif activation == "softmax":
                raise NoMatrixForm("its softmax output is not under cross-entropy with targets that "
                                   "sum to 1, so delta is not y - t")
            else:
                slope = _slopes(units, locals_)
                delta = _carried(upstream.multiply_elementwise(slope))
        else:
            upstream = _carried(below.W.T * below.delta)
            slope = _slopes(units, locals_)
            delta = _carried(upstream.multiply_elementwise(slope))
        dW = _carried(scale * delta * a_prev.T)
        db = _carried(scale * delta * sp.ones(m, 1))
        # Only parameters are updated: a layer's W where all its weights are, its b where its biases
        # are parameters of their own (a bias shared by the units, b1 in the 2-2-2 example, gets
        # the sum of their deltas; the scalar form derives it).
        eta, parameters = problem.learning_rate, set(problem.parameters)
        biases = [u.bias for u in units]
        W_new = None if eta is None or not all(w in parameters for row in weight_names for w in row if w) \
            else _carried(W - eta * dW)
        b_new = None if eta is None or len(set(biases)) != len(biases) or not set(biases) <= parameters \
            else _carried(b - eta * db)
        below = Layer(index, units, sources, weight_names, tuple(biases), W, b, a_prev,
                      z, a, activation, slope, upstream, delta, targets, dW, db, W_new, b_new)
        layers.insert(0, below)
    return MatrixForm(network, tuple(layers), problem.learning_rate, m, scale)


def _activation(problem, unit: Unit) -> str | None:
    if unit.net is None:
        return None
    expr = problem.graph.nodes[unit.output].expr
    return None if expr.is_Symbol else BY_FUNCTION[expr.func].key


def _slopes(units, locals_) -> sp.Matrix:
    """f'(z) of each unit and example: the local derivative of its activation at its net input (1 if
    linear), one column per example."""
    return _columns([[example[(u.net, u.output)].local_value if u.net else sp.S.One for u in units]
                     for example in locals_])


def _columns(columns: list[list[sp.Expr]]) -> sp.Matrix:
    """A matrix from its columns (one per example)."""
    return sp.Matrix(columns).T


def _carried(m: sp.Matrix) -> sp.Matrix:
    return m.applyfunc(numeric.carried)


def _symbols(known: dict) -> dict:
    return {symbol(name): value for name, value in known.items()}
