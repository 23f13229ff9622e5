"""A data set of examples and how it is cut into batches: full batch, one example (SGD) or mini-batches.

An epoch is one pass over the data; it has ceil(n / size) batches. With a shuffle seed the order of
the examples is drawn anew for every epoch from `random.Random(seed + epoch)`, so a run is
reproducible and two epochs differ; without one the examples keep the file's order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .errors import ProblemError
from .parse import check_name, parse_number

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


def read_dataset(data: Any, batch: Any, shuffle: Any, reduction: Any) -> Dataset:
    """Check the data:, batch:, shuffle: and reduction: keys of a problem."""
    if not isinstance(data, list) or not data:
        raise ProblemError("data: must be a list of examples, each mapping symbols to numbers",
                           key="data")
    if len(data) > MAX_ROWS:
        raise ProblemError(f"{len(data)} examples is more than the {MAX_ROWS} allowed", key="data")
    rows = []
    for index, row in enumerate(data):
        key = f"data.{index}"
        if not isinstance(row, dict) or not row:
            raise ProblemError("each example must map symbols to numbers, for example {x: 1, t: 0}",
                               key=key)
        parsed = {}
        for name, value in row.items():
            try:
                check_name(name)
                parsed[name] = parse_number(value)
            except ProblemError as exc:
                exc.key = f"{key}.{name}"
                raise
        if rows and set(parsed) != set(rows[0]):
            raise ProblemError(f"this example has {', '.join(sorted(parsed))} but the first has "
                               f"{', '.join(sorted(rows[0]))}: every example needs the same symbols",
                               key=key)
        rows.append(parsed)
    size = _batch_size(batch, len(rows))
    if shuffle is not None and (isinstance(shuffle, bool) or not isinstance(shuffle, int)):
        raise ProblemError("shuffle: must be a whole number, the seed of the shuffle", key="shuffle")
    if reduction not in REDUCTIONS:
        raise ProblemError(f"reduction: must be mean or sum, got {reduction!r}", key="reduction")
    return Dataset(tuple(rows), size, shuffle, reduction)


def _batch_size(batch: Any, n: int) -> int:
    if batch in (None, "full"):
        return n
    if batch == "sgd":
        return 1
    if isinstance(batch, int) and not isinstance(batch, bool) and 1 <= batch <= n:
        return batch
    raise ProblemError(f"batch: must be full, sgd or a size from 1 to {n}, got {batch!r}", key="batch")
