"""What a claim can be about, and the value each such quantity has in one solution (correct or made
with a mistake on purpose).

On a problem with data the update uses a batch: the loss `E` and the gradients of the parameters
are the batch's (what the solution prints as the batch loss and uses in the update), while a node's
value or a gradient of one example is named by the example's number, counting from 1 as the
solution's table does: `E[3]`, `y[3]`, `dE/dw1[3]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..model.quantities import AFTER, FORWARD, GRADIENT, UPDATED, Quantity


@dataclass(frozen=True)
class ExampleValues:
    """One example's forward values and gradients."""

    forward: dict[str, sp.Expr]
    gradients: dict[str, sp.Expr]


@dataclass(frozen=True)
class Answers:
    """The value of every quantity a claim can name, computed one way (correctly or not)."""

    #: Without data, the one example's forward values; with data, only the batch loss.
    forward: dict[str, sp.Expr]
    #: The gradients the update uses (the batch's with data).
    gradients: dict[str, sp.Expr]
    updated: dict[str, sp.Expr]
    #: Without data, every node after the update; with data, only the batch loss after it.
    after: dict[str, sp.Expr]
    #: With data, each example of the batch by its index (counting from 0).
    examples: dict[int, ExampleValues] = field(default_factory=dict)

    @classmethod
    def of(cls, solution) -> "Answers":
        updated = {u.parameter: u.new for u in solution.updates}
        gradients = {n: g.value for n, g in solution.gradients.items()}
        examples = {e.index: ExampleValues({n: s.value for n, s in e.forward.items()},
                                           {n: g.value for n, g in e.gradients.items()})
                    for e in solution.examples}
        if solution.problem.data is None:
            return cls(examples[0].forward, gradients, updated, dict(solution.after_update))
        loss = solution.loss
        after = {} if solution.batch_loss_after is None else {loss: solution.batch_loss_after}
        return cls({loss: solution.batch_loss}, gradients, updated, after, examples)

    def value(self, quantity: Quantity) -> sp.Expr | None:
        """The value, or None where these answers have none (no update was made, or the example is
        not in the batch)."""
        kind, name = quantity.kind, quantity.name
        if quantity.example is not None:
            values = self.examples.get(quantity.example)
            if values is None or kind not in (FORWARD, GRADIENT):
                return None
            return values.forward.get(name) if kind == FORWARD else values.gradients.get(name, sp.S.Zero)
        if kind == GRADIENT:
            # A name the loss does not depend on has gradient 0.
            return self.gradients.get(name, sp.S.Zero)
        return {FORWARD: self.forward, UPDATED: self.updated, AFTER: self.after}[kind].get(name)
