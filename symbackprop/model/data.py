"""A data set of examples and how it is cut into batches: full batch, one example (SGD) or mini-batches.

An epoch is one pass over the data; it has ceil(n / size) batches. With a shuffle seed the order of
the examples is drawn anew for every epoch from `random.Random(seed + epoch)`, so a run is
reproducible and two epochs differ; without one the examples keep the file's order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

REDUCTIONS = ("mean", "sum")
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Dataset:
    #: One mapping per example, from input and target symbols to exact numbers.
    rows: tuple[dict[str, sp.Expr], ...]
    #: Examples per batch: len(rows) for full-batch gradient descent, 1 for SGD.
    batch_size: int
    shuffle: int | None = None
    reduction: str = "mean"

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.rows[0])

    @property
    def batches_per_epoch(self) -> int:
        return -(-len(self.rows) // self.batch_size)

    def batch(self, step: int) -> tuple[int, ...]:
        """The example indices (counting from 0) of update number `step` (counting from 0)."""
        epoch, position = divmod(step, self.batches_per_epoch)
        order = list(range(len(self.rows)))
        if self.shuffle is not None:
            random.Random(self.shuffle + epoch).shuffle(order)
        return tuple(order[position * self.batch_size:(position + 1) * self.batch_size])

    def reduce(self, terms: list[sp.Expr]) -> sp.Expr:
        """The batch's loss or gradient from the examples' own: their mean or their sum, exactly."""
        total = sp.Add(*terms)
        return total / len(terms) if self.reduction == "mean" else total

    def describe(self) -> str:
        size = ("full batch" if self.batch_size == len(self.rows) else
                "stochastic gradient descent (one example per update)" if self.batch_size == 1 else
                f"mini-batches of {self.batch_size}")
        order = "shuffled with seed %d each epoch" % self.shuffle if self.shuffle is not None \
            else "in the file's order"
        return f"{len(self.rows)} examples, {size}, {order}; the batch loss is the {self.reduction}"


