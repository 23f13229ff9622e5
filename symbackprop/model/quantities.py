"""What a claim, a task or an answer can be about: a forward value, a gradient, an updated
parameter, or a value in the forward pass after the update (check/, the sheets and the variants
share it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ProblemError

if TYPE_CHECKING:
    from .problem import Problem

FORWARD, GRADIENT, UPDATED, AFTER = "forward", "gradient", "updated", "after_update"


@dataclass(frozen=True)
class Quantity:
    """A forward value, a gradient, an updated parameter or a value after the update."""

    kind: str
    name: str
    #: The example of a data problem, counting from 0 (Example.index); None for the batch's value,
    #: or the only example of a problem without data.
    example: int | None = None

    def key(self, loss: str) -> str:
        """The quantity written as a claims file writes it: dE/dw1[3]."""
        base = {FORWARD: self.name, GRADIENT: f"d{loss}/d{self.name}"}.get(self.kind, f"{self.name}+")
        return base if self.example is None else f"{base}[{self.example + 1}]"


def in_batch(quantity: Quantity, example: int | None, problem: "Problem") -> Quantity:
    """On a data problem: which values are the batch's (E, the parameters' gradients, the update,
    E+), which are one example's, and an error where a key leaves that open."""
    data, kind, name = problem.data, quantity.kind, quantity.name
    if data is None:
        return quantity
    batch = data.batch(0)
    is_batch_value = (name == problem.loss if kind in (FORWARD, AFTER) else
                      kind == UPDATED or name in problem.graph.symbols and name not in data.symbols)
    if example is not None:
        if kind in (UPDATED, AFTER):
            raise ProblemError("the update is the batch's, not an example's: write "
                               f"{quantity.key(problem.loss)} without [{example + 1}]")
        return Quantity(kind, name, example)
    if kind == AFTER and name != problem.loss:
        raise ProblemError(f"after the update the solution computes the batch loss "
                           f"{problem.loss}+ only, not {name}+")
    if len(batch) == 1 and kind in (FORWARD, GRADIENT):
        return Quantity(kind, name, batch[0])       # one example per update: its values are the batch's
    if is_batch_value:
        return quantity
    raise ProblemError(f"{quantity.key(problem.loss)} has a value per example: write "
                       f"{quantity.key(problem.loss)}[{batch[0] + 1}] for example {batch[0] + 1} "
                       f"(the batch is examples {', '.join(str(i + 1) for i in batch)})")
