"""What a claim, a task or an answer can be about: a forward value, a gradient, an updated
parameter, or a value in the forward pass after the update (check/, the sheets and the variants
share it)."""

from __future__ import annotations

from dataclasses import dataclass

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
