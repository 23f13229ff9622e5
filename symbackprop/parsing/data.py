"""The `data:`, `batch:`, `shuffle:` and `reduction:` keys of a problem file, read into a Dataset."""

from __future__ import annotations

from typing import Any

from ..errors import ProblemError
from ..model.data import MAX_ROWS, REDUCTIONS, Dataset
from .expressions import check_name, parse_number


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
