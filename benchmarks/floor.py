"""How fast could benchmark 2 be? The least work any implementation of symbackprop's answer key does
on the 64-128-128-10 ReLU network, timed against micrograd in the same process.

    python benchmarks/floor.py

Timed, each part at its cheapest in pure Python, with no derivation at all:
- the 266 weighted sums as SymPy expressions (the network symbackprop shows and differentiates);
- the forward pass and one product per edge and direction in exact `fractions.Fraction`s;
- one step record per chain-rule step (52,584) and its answer-key dict with the numbers as strings.
Their sum is a lower bound for an engine that keeps every step, as symbackprop's answer key does.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import SEED, network, work_micrograd  # noqa: E402

from symbackprop.parsing.expressions import _product
from symbackprop.model.symbols import symbol
from symbackprop.model.steps import ChainStep

SIZES = [64, 128, 128, 10]


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    net = network(SIZES, "relu", SEED)
    weights = [[[Fraction(w) for w in row] for row in layer["weights"]] for layer in net["layers"]]
    inputs = [Fraction(v) for v in net["inputs"]]
    units = SIZES[1:]
    edges = sum(a * b for a, b in zip(SIZES, SIZES[1:]))
    # One chain step per weight and per input of every weighted sum, one per bias and activation,
    # the loss's two per output; one sum step per input and hidden unit that feeds several sums.
    steps = 2 * edges + 2 * sum(units) + 2 * SIZES[-1] + SIZES[0] + sum(units[:-1])

    def sums():
        for l, (n_in, n_out) in enumerate(zip(SIZES, SIZES[1:])):
            for j in range(n_out):
                sp.Add(*(_product(symbol(f"w{l}_{j}_{i}"), symbol(f"h{l}_{i}")) for i in range(n_in)),
                       symbol(f"b{l}_{j}"))

    def arithmetic():
        activations = [inputs]
        for layer in weights:
            activations.append([max(sum((w * h for w, h in zip(row, activations[-1])), Fraction(0)),
                                    Fraction(0)) for row in layer])
        delta = Fraction(3, 7)
        for layer, h in zip(weights, activations):
            for row in layer:
                for w, x in zip(row, h):
                    delta * x, delta * w

    value = sp.Rational(3, 10)
    numbers = [Fraction(k, 1000) for k in range(1, 1001)]

    def records():
        kept, key = [], []
        for k in range(steps):
            kept.append(ChainStep(target="w", via="z", rules=("add", "multiply"), local=value,
                                  local_value=value, upstream=None, upstream_value=value, general=None,
                                  value=value))
            a, b, c = numbers[k % 1000], numbers[(k + 1) % 1000], numbers[(k + 2) % 1000]
            key.append({"kind": "chain", "target": "w", "via": "z", "rules": ["add", "multiply"],
                        "local": "h", "local_value": str(a), "upstream": None, "upstream_value": str(b),
                        "general": None, "value": str(c), "branches": [], "reused": True})

    parts = {"SymPy weighted sums": timed(sums), "Fraction arithmetic": timed(arithmetic),
             f"{steps:,} step records and dicts": timed(records)}
    micrograd = work_micrograd(net)["seconds"]
    for name, seconds in parts.items():
        print(f"  {name}: {seconds:.3f} s")
    floor = sum(parts.values())
    print(f"floor {floor:.3f} s; micrograd forward+backward {micrograd:.3f} s; floor / micrograd "
          f"{floor / micrograd:.1f}x (without the SymPy sums "
          f"{(floor - parts['SymPy weighted sums']) / micrograd:.1f}x)")


if __name__ == "__main__":
    main()
