"""The `layers:` shorthand: a dense network written in a few lines, expanded into ordinary nodes.

```yaml
layers:
  inputs: {x1: 1, x2: 0.5}          # or a list of values, named x1, x2, ...
  dense:                            # one entry per layer; the last is the output layer
    - {activation: relu, weights: [[0.1, -0.2], [0.3, 0.4]], biases: [0, 0.1]}
    - {activation: softmax, weights: [[0.5, -0.5], [0.2, 0.1]], biases: [0, 0]}
  targets: {t1: 0, t2: 1}           # or a list, named t1, t2, ...
  loss: cross_entropy
```
Row j of `weights` holds the weights into unit j, one per input of the layer. Layer l's unit j gets
the pre-activation `z{l}_{j}` and the output `h{l}_{j}` (hidden) or `y{j}` (output layer); weights are
`w{l}_{j}{i}` (w1_21 is the weight from input 1 into unit 2 of layer 1, the lecture notes' w^(1)_21)
and biases `b{l}_{j}`. The expansion is text, parsed like any problem file's nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from ..errors import ProblemError, reject_unknown_keys
from ..model.functions import leaky_relu
from ..model.operations import BY_FUNCTION
from .expressions import check_name, parse_number

#: A layer's activation: an elementwise row of the table of operations, softmax over the layer, or
#: none (linear).
ACTIVATIONS = tuple(sorted({name for row in BY_FUNCTION.values() if row.activation for name in row.names})
                    ) + ("linear", "softmax")
LOSSES = {
    "squared_error": "sum_j (y_j - t_j)**2",
    "half_squared_error": "sum_j (y_j - t_j)**2 / 2",
    "mean_squared_error": "sum_j (y_j - t_j)**2 / n",
    "cross_entropy": "-sum_j t_j*log(y_j)",
    "binary_cross_entropy": "-sum_j (t_j*log(y_j) + (1 - t_j)*log(1 - y_j)) / n",
}
LAYER_KEYS = ("activation", "weights", "biases", "alpha")
KEYS = ("inputs", "dense", "targets", "loss")
LOSS_NODE = "E"


@dataclass(frozen=True)
class Expansion:
    nodes: dict[str, str]
    values: dict[str, sp.Expr]
    parameters: tuple[str, ...]
    loss: str


def expand(spec: Any, key: str = "layers") -> Expansion:
    if not isinstance(spec, Mapping):
        raise ProblemError("layers: must be a mapping with inputs:, dense:, targets: and loss:", key=key)
    reject_unknown_keys(spec, KEYS, "layers:", f"{key}.")
    values: dict[str, sp.Expr] = {}
    inputs = _named_values(spec.get("inputs"), "x", f"{key}.inputs", values)
    dense = spec.get("dense")
    if not isinstance(dense, list) or not dense:
        raise ProblemError("dense: must be a list of layers, each with activation: and weights:",
                           key=f"{key}.dense")
    nodes: dict[str, str] = {}
    parameters: list[str] = []
    previous = inputs
    for index, layer in enumerate(dense):
        number = index + 1
        previous = _layer(layer, number, number == len(dense), previous, f"{key}.dense.{index}",
                          nodes, values, parameters)
    targets = _named_values(spec.get("targets"), "t", f"{key}.targets", values)
    if len(targets) != len(previous):
        raise ProblemError(f"there are {len(previous)} outputs but {len(targets)} targets",
                           key=f"{key}.targets")
    loss = spec.get("loss", "squared_error")
    if loss not in LOSSES:
        raise ProblemError(f"unknown loss '{loss}'; use one of " + ", ".join(LOSSES), key=f"{key}.loss")
    nodes[LOSS_NODE] = _loss_text(loss, previous, targets)
    return Expansion(nodes, values, tuple(parameters), LOSS_NODE)


def _layer(layer: Any, number: int, is_output: bool, inputs: list[str], key: str,
           nodes: dict[str, str], values: dict[str, sp.Expr], parameters: list[str]) -> list[str]:
    if not isinstance(layer, Mapping):
        raise ProblemError("each layer must be a mapping with activation:, weights: and biases:", key=key)
    reject_unknown_keys(layer, LAYER_KEYS, "a layer", f"{key}.")
    activation = layer.get("activation", "linear")
    if activation not in ACTIVATIONS:
        raise ProblemError(f"unknown activation '{activation}'; use one of " + ", ".join(ACTIVATIONS),
                           key=f"{key}.activation")
    if activation == "softmax" and not is_output:
        raise ProblemError("softmax is only supported on the output layer", key=f"{key}.activation")
    weights = layer.get("weights")
    if not isinstance(weights, list) or not weights or not all(isinstance(r, list) for r in weights):
        raise ProblemError("weights: must be a list of rows, one row of input weights per unit",
                           key=f"{key}.weights")
    units = len(weights)
    compact = units < 10 and len(inputs) < 10
    pre_activations = []
    for j, row in enumerate(weights, start=1):
        if len(row) != len(inputs):
            raise ProblemError(f"row {j} has {len(row)} weights but the layer has {len(inputs)} inputs",
                               key=f"{key}.weights.{j - 1}")
        terms = []
        for i, weight in enumerate(row, start=1):
            name = f"w{number}_{j}{i}" if compact else f"w{number}_{j}_{i}"
            values[name] = _value(weight, f"{key}.weights.{j - 1}.{i - 1}")
            parameters.append(name)
            terms.append(f"{name}*{inputs[i - 1]}")
        biases = layer.get("biases")
        if biases is not None:
            if not isinstance(biases, list) or len(biases) != units:
                raise ProblemError(f"biases: must be a list of {units} numbers, one per unit",
                                   key=f"{key}.biases")
            name = f"b{number}_{j}"
            values[name] = _value(biases[j - 1], f"{key}.biases.{j - 1}")
            parameters.append(name)
            terms.append(name)
        z = f"z{number}_{j}"
        nodes[z] = " + ".join(terms)
        pre_activations.append(z)
    outputs = []
    for j, z in enumerate(pre_activations, start=1):
        out = f"y{j}" if is_output else f"h{number}_{j}"
        if activation == "linear":
            nodes[out] = z
        elif activation == "softmax":
            nodes[out] = f"softmax({j}, {', '.join(pre_activations)})"
        elif activation == "leaky_relu":
            alpha = layer.get("alpha", leaky_relu.DEFAULT_ALPHA)
            nodes[out] = f"leaky_relu({z}, {_value(alpha, f'{key}.alpha')})"
        else:
            nodes[out] = f"{activation}({z})"
        outputs.append(out)
    return outputs


def _loss_text(loss: str, outputs: list[str], targets: list[str]) -> str:
    n = len(outputs)
    pairs = list(zip(outputs, targets))
    if loss == "cross_entropy":
        return "-(" + " + ".join(f"{t}*log({y})" for y, t in pairs) + ")"
    if loss == "binary_cross_entropy":
        terms = " + ".join(f"{t}*log({y}) + (1 - {t})*log(1 - {y})" for y, t in pairs)
        return f"-({terms})/{n}"
    squares = " + ".join(f"({y} - {t})**2" for y, t in pairs)
    scale = {"squared_error": "", "half_squared_error": "/2", "mean_squared_error": f"/{n}"}[loss]
    return f"({squares}){scale}" if scale else squares


def _named_values(raw: Any, prefix: str, key: str, values: dict[str, sp.Expr]) -> list[str]:
    if isinstance(raw, Mapping) and raw:
        names = []
        for name, value in raw.items():
            try:
                check_name(name)
            except ProblemError as exc:
                exc.key = f"{key}.{name}"
                raise
            values[name] = _value(value, f"{key}.{name}")
            names.append(name)
        return names
    if isinstance(raw, list) and raw:
        names = [f"{prefix}{i}" for i in range(1, len(raw) + 1)]
        for index, (name, value) in enumerate(zip(names, raw)):
            values[name] = _value(value, f"{key}.{index}")
        return names
    raise ProblemError("must be a mapping of names to numbers or a list of numbers", key=key)


def _value(raw: Any, key: str) -> sp.Expr:
    try:
        return parse_number(raw)
    except ProblemError as exc:
        exc.key = key
        raise
