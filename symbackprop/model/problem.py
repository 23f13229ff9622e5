"""A problem: its nodes, loss, values, parameters and data, as read and checked by parsing/."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from .data import Dataset
from .graph import Graph
from .homework import Draw, Task
from .quantities import Quantity

#: How a solution writes numbers: as the problem writes them (decimals stay decimals, fractions stay
#: fractions), or exact (every rational as p/q beside its decimal).
NUMBER_POLICIES = ("as-written", "exact")
#: How a layered network's derivation is written: node by node, as matrices per layer, or both.
FORMS = ("scalar", "matrix", "both")


@dataclass
class Problem:
    #: Each node's expression by name, in forward order (a Definitions from a load: its weighted sums
    #: built when first read).
    nodes: Mapping[str, sp.Expr]
    loss: str
    values: dict[str, sp.Expr]
    given: dict[str, sp.Expr] = field(default_factory=dict)
    #: Numbers shown with the problem that no node uses (the weights of an earlier unit).
    context: dict[str, sp.Expr] = field(default_factory=dict)
    parameters: tuple[str, ...] = ()
    learning_rate: sp.Expr | None = None
    kink: sp.Expr = sp.S.Zero
    title: str | None = None
    notes: tuple[str, ...] = ()
    source: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: Line of each key path ("nodes.y") in the source file, for error messages.
    lines: dict[str, int] = field(default_factory=dict)
    graph: Graph | None = None
    gates: bool = False
    #: The examples and their batching, or None for a single example given by values alone.
    data: Dataset | None = None
    #: How the solution writes numbers: "as-written" or "exact" (printing/formats.NumberStyle).
    numbers: str = "as-written"
    #: Whether the problem writes some number as a fraction (1/3).
    fractions: bool = False
    #: The gradients asked for: "all", a list of names, or None for the parameters'.
    asked_gradients: str | tuple[str, ...] | None = None
    #: The gradients derived in full: "all", a list of names, or None (the first of each layer
    #: beyond six parameters, else all); the others are rows of their layer's table.
    detail: str | tuple[str, ...] | None = None
    #: scalar, matrix or both (FORMS).
    form: str = "scalar"
    #: Each node written as text, unevaluated in the text's term order (w1*i1 + w2*i2 + b1), for
    #: printing; the derivation uses `nodes`.
    written: Mapping[str, sp.Expr] = field(default_factory=dict)
    #: The lecturer's LaTeX for a name (a node, a symbol, or a key of notation.EXTRA_KEYS such as
    #: eta), checked by notation.refusal: net_h1 -> z^{(1)}_1. LaTeX and Markdown use it; text does not.
    notation: dict[str, str] = field(default_factory=dict)
    #: The question sheet's own tasks (`tasks:`), or None: the sheets generate them.
    tasks: tuple[Task, ...] | None = None
    #: The quantities a blanks sheet leaves for the student to fill in.
    blank: tuple[Quantity, ...] = ()
    #: What a student's variant draws afresh, and what a drawn variant must meet (issue 14).
    vary: tuple[Draw, ...] = ()
    require: dict[str, object] = field(default_factory=dict)

    def without_values(self) -> "Problem":
        """The same network with every symbol left symbolic: the general derivation alone, with the
        kinks of ReLU and max kept as step functions."""
        return dataclasses.replace(self, values={}, given={})

    def with_gates(self) -> "Problem":
        """The same problem with every compound expression split into primitive gates."""
        return dataclasses.replace(self, gates=True, graph=Graph.build(self.nodes, gates=True))

    def solve(self, kink: sp.Expr | None = None, *, steps: int | None = None,
              epochs: int | None = None, progress=None):
        """Forward pass, reverse pass, update and the forward pass after it, as a Solution; with
        steps or epochs, the whole run of updates too (the first still shown in full)."""
        from ..engine.solution import solve_problem

        return solve_problem(self, kink, steps=steps, epochs=epochs, progress=progress)

    def gradients(self, names: str | list[str] | None = None, digits: int = 15,
                  kink: sp.Expr | None = None) -> dict:
        """d loss / d name without steps, for autograders and large networks: the names asked
        ("all", a list, or None for the problem's gradients:, else its parameters'), each an exact
        flint `fmpq` where rational, else an `arb` ball certain to `digits` significant digits (a
        SymPy expression where a symbol it depends on has no value)."""
        from ..engine.solution import gradients_of

        return gradients_of(self, names, digits, kink)
