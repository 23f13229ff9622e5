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
    """One layer l: its matrices, each a column vector or a matrix of exact values."""

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


class NoMatrixForm(Exception):
    """Why a problem has no matrix form, said in one sentence."""


def matrix_form(solution: Solution) -> MatrixForm:
    problem = solution.problem
    if problem.data is not None:
        raise NoMatrixForm("a problem with data: has its batch in scalar form only (the matrix "
                           "form of a batch, one column per example, is not written yet)")
    network = recognise(problem)
    if network is None:
        raise NoMatrixForm("its nodes are not layers of units (weighted sums, each followed by one "
                           "activation); write it with layers:, or use --form scalar")
    known = {**problem.values, **solution.examples[0].inputs,
             **{name: step.value for name, step in solution.forward.items()}}
    unknown = [s for s in problem.graph.symbols if s not in known]
    if unknown:
        raise NoMatrixForm(f"{', '.join(unknown)} {'has' if len(unknown) == 1 else 'have'} no value, and "
                           "the matrix form multiplies numbers out")
    locals_ = {(s.target, s.via): s for s in solution.steps if isinstance(s, ChainStep)}
    steps = {s.target: s for s in solution.steps if isinstance(s, (ChainStep, SumStep))}
    sources = network.inputs
    a_prev = sp.Matrix([known[name] for name in sources])
    forward = []
    for index, units in enumerate(network.layers, start=1):
        by_source = [{source: weight for weight, source in unit.weights} for unit in units]
        weight_names = tuple(tuple(row.get(source) for source in sources) for row in by_source)
        W = sp.Matrix([[known[w] if w else sp.S.Zero for w in row] for row in weight_names])
        b = sp.Matrix([known[u.bias] if u.bias else sp.S.Zero for u in units])
        z = _carried(W * a_prev + b)
        a = sp.Matrix([known[u.output] for u in units])
        forward.append((index, units, sources, weight_names, W, b, a_prev, z, a))
        sources, a_prev = tuple(u.output for u in units), a
    layers: list[Layer] = []
    below = None                                   # the layer after this one, built first
    for index, units, sources, weight_names, W, b, a_prev, z, a in reversed(forward):
        activation = _activation(problem, units[0])
        targets = None
        slope = None
        if below is None:
            upstream = sp.Matrix([solution.gradients[u.output].value for u in units])
            reduction = steps.get(units[0].net or units[0].output)
            if activation is not None and reduction is not None and reduction.reduction is not None:
                # Cross-entropy through a softmax or sigmoid: delta^L = y - t (the scalar pass's
                # reduction, said there); t is what makes y - t the reduced form.
                reduced = [steps[u.net].reduction.reduced.xreplace(_symbols(known)) for u in units]
                targets = _carried(sp.Matrix([a[j] - reduced[j] for j in range(len(units))]))
                delta = _carried(a - targets)
            elif activation == "softmax":
                raise NoMatrixForm("its softmax output is not under cross-entropy with targets that "
                                   "sum to 1, so delta is not y - t")
            else:
                slope = _slopes(units, locals_)
                delta = _carried(_hadamard(upstream, slope))
        else:
            upstream = _carried(below.W.T * below.delta)
            slope = _slopes(units, locals_)
            delta = _carried(_hadamard(upstream, slope))
        dW = _carried(delta * a_prev.T)
        # Only parameters are updated: a layer's W where all its weights are, its b where its biases
        # are parameters of their own (a bias shared by the units, b1 in the 2-2-2 example, gets
        # the sum of their deltas; the scalar form derives it).
        eta, parameters = problem.learning_rate, set(problem.parameters)
        biases = [u.bias for u in units]
        W_new = None if eta is None or not all(w in parameters for row in weight_names for w in row if w) \
            else _carried(W - eta * dW)
        b_new = None if eta is None or len(set(biases)) != len(biases) or not set(biases) <= parameters \
            else _carried(b - eta * delta)
        below = Layer(index, units, sources, weight_names, tuple(u.bias for u in units), W, b, a_prev,
                      z, a, activation, slope, upstream, delta, targets, dW, delta, W_new, b_new)
        layers.insert(0, below)
    return MatrixForm(network, tuple(layers), problem.learning_rate)


def _activation(problem, unit: Unit) -> str | None:
    if unit.net is None:
        return None
    expr = problem.graph.nodes[unit.output].expr
    return None if expr.is_Symbol else BY_FUNCTION[expr.func].key


def _slopes(units, locals_) -> sp.Matrix:
    """f'(z) of each unit: the local derivative of its activation at its net input (1 if linear)."""
    return sp.Matrix([locals_[(u.net, u.output)].local_value if u.net else sp.S.One for u in units])


def _hadamard(x: sp.Matrix, y: sp.Matrix) -> sp.Matrix:
    return sp.Matrix([x[j] * y[j] for j in range(x.rows)])


def _carried(m: sp.Matrix) -> sp.Matrix:
    return m.applyfunc(numeric.carried)


def _symbols(known: dict) -> dict:
    return {symbol(name): value for name, value in known.items()}
