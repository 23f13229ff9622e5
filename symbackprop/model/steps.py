"""The steps of a solution, as data. Renderers show them; nothing here prints.

Every step has slots rather than a __dict__: a network's 52,000 steps took 12 MiB less.

Expressions are SymPy objects. "General" forms are written over node names and symbols
(`2*(y - ybar)`); "value" forms have the known numbers substituted and may still hold the symbols
that have no value (`2*x_n`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping, NamedTuple, Sequence

import sympy as sp

from .definitions import WeightedSum, weighted_sum_of
from .symbols import symbol


@dataclass(frozen=True, slots=True)
class ForwardStep:
    """node = definition = definition with numbers substituted = value."""

    node: str
    #: The definition, or the node's definitions by name (a graph's, whose weighted sums are built
    #: into SymPy sums only when read: an answer key writes a weighted sum from its names).
    source: sp.Expr | Mapping[str, sp.Expr] = field(compare=False)
    #: The names the definition reads (the graph node's own tuple).
    names: tuple[str, ...]
    #: Values by name, one mapping shared by all the steps of a pass: a network's steps each kept
    #: their inputs' values in a tuple of pairs of their own, 3 MiB on 64-128-128-10.
    known: Mapping[str, sp.Expr] = field(compare=False, repr=False)
    value: sp.Expr
    #: True when the value was given in the problem rather than computed.
    given: bool = False
    #: The value the definition gives, where a given value was used instead and this is known.
    computed: sp.Expr | None = None

    @property
    def definition(self) -> sp.Expr:
        source = self.source
        return source if isinstance(source, sp.Basic) else source[self.node]

    @property
    def weighted_sum(self) -> WeightedSum | None:
        """The definition's names where it is a weighted sum read from text, its sum not built."""
        return weighted_sum_of(self.source, self.node)

    @property
    def inputs(self) -> tuple[tuple[str, sp.Expr], ...]:
        """The values substituted into the definition: each input that has one, by name."""
        known = self.known
        return tuple((name, known[name]) for name in self.names if name in known)


@dataclass(frozen=True, slots=True)
class Branch:
    """Which side of a kink (ReLU, max, min, abs) a local derivative takes, and why."""

    #: The function with the kink: "relu", "leaky_relu", "max", "min", "abs", or "step" if unknown.
    kind: str
    #: The expression whose sign decides, as it appears in the derivative (`w3*x_n`).
    argument: sp.Expr
    #: Its value where known, else None (the derivative then keeps its Heaviside step).
    value: sp.Expr | None
    #: What the step function evaluated to: 1, 0, or at exactly 0 the kink convention (0 for leaky
    #: ReLU, whose slope there is alpha).
    outcome: sp.Expr | None
    #: How the value was known: "forward" (computed) or the given node it was read from.
    source: str = "forward"
    #: The sign of the value: 1, -1 or 0 (None while unknown).
    sign: int | None = None


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One path of the chain rule: dL/d target (via consumer) = dL/d via * d via/d target."""

    target: str
    via: str
    #: Keys into operations.BY_KEY, outermost first: the gate rules on the way from via down to
    #: target ("add", "multiply", "max", ...), or ("chain",) where target appears several times.
    rules: tuple[str, ...]
    #: d via / d target on the side of each kink these values take (see local_general).
    local: sp.Expr
    local_value: sp.Expr
    upstream: sp.Expr | None
    upstream_value: sp.Expr
    #: upstream * local in general form (the kinks' steps kept, true for any input), or None where
    #: it grew too long to show.
    general: sp.Expr | None
    value: sp.Expr
    branches: tuple[Branch, ...] = ()
    #: True when dL/d via had been computed before and is reused here (memoised).
    reused: bool = False
    #: The local derivative in general form, its kinks' steps kept, where `local` settled them for
    #: these values (x_n*Heaviside(w3*x_n, 0) where local is x_n); else None.
    local_general: sp.Expr | None = None
    #: How the general form was reduced (a sigmoid with binary cross-entropy: y - t), if it was.
    reduction: Reduction | None = None


@dataclass(frozen=True, slots=True)
class Reduction:
    """Cross-entropy through a softmax or sigmoid: the general form at its logit, y_k - t_k."""

    #: y_k - t_k: the general form at the logit.
    reduced: sp.Expr
    #: y_k*(t1 + t2 + t3) - t_k, before the targets' sum was set to 1 (None: no sum was needed).
    collected: sp.Expr | None
    #: The targets whose values sum to 1 (empty where none was needed).
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SumStep:
    """A node that feeds several others: its gradient is the sum of the paths through each."""

    target: str
    vias: tuple[str, ...]
    general: sp.Expr | None
    value: sp.Expr
    #: How the general form was reduced (softmax with cross-entropy: y_k - t_k), if it was.
    reduction: Reduction | None = None


@dataclass(frozen=True, slots=True)
class UpdateStep:
    """Gradient descent: parameter+ = parameter - learning_rate * dL/d parameter."""

    parameter: str
    old: sp.Expr
    learning_rate: sp.Expr
    gradient: sp.Expr
    new: sp.Expr


@dataclass(frozen=True, slots=True)
class Gradient:
    """dL/d name: in general form (None when too long to show) and with numbers substituted."""

    general: sp.Expr | None
    value: sp.Expr


class Through(NamedTuple):
    """What the weighted inputs of one unit with the same rules share: a network's unit has a hundred
    or more, each of which held these four fields of its own."""

    via: str
    rules: tuple[str, ...]
    #: dL/d via: ChainStep's upstream and upstream_value.
    upstream: Gradient
    reused: bool


#: A weighted input's chain step as the reverse pass records it (Steps): target, the Through, local,
#: local_value, general, value; local 1 or the other input's name (text() of its symbol; a network's
#: 26,000 weights not made symbols). ChainStep's fields, less what a weighted input always has (no
#: branches, no local_general, no reduction).
WeightedInput = tuple


class Steps(Sequence):
    """The chain and sum steps of a reverse pass, in order, each step built when it is read.

    Nine in ten of a network's steps are a weighted input's (dE/dw = delta * x): the reverse pass
    keeps each as a WeightedInput tuple, and the step object is made the first time someone reads it
    (then kept). The answer key writes those tuples without making the objects (`entries`); renderers
    read the few steps they show. 52,584 frozen objects were a fifth of a 64-128-128-10 solve.
    """

    __slots__ = ("_entries",)

    def __init__(self, entries: list[ChainStep | SumStep | WeightedInput]):
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._entries)))]
        entry = self._entries[index]
        if type(entry) is tuple:
            entry = self._entries[index] = chain_step(entry)
        return entry

    def __iter__(self) -> Iterator[ChainStep | SumStep]:
        return (self[i] for i in range(len(self._entries)))

    def __eq__(self, other) -> bool:
        return isinstance(other, (Steps, list)) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Steps({list(self)!r})"

    def entries(self) -> Sequence[ChainStep | SumStep | WeightedInput]:
        """The steps as kept: a step object, or a WeightedInput tuple not read yet."""
        return self._entries

    def paths(self) -> Iterator[tuple[int, str, str]]:
        """(position, target, via) of each chain step, without building any."""
        for index, entry in enumerate(self._entries):
            if type(entry) is tuple:
                yield index, entry[0], entry[1].via
            elif type(entry) is ChainStep:
                yield index, entry.target, entry.via


def chain_step(entry: WeightedInput) -> ChainStep:
    """The ChainStep a WeightedInput records."""
    target, (via, rules, upstream, reused), local, local_value, general, value = entry
    if type(local) is str:
        local = symbol(local)
    # Positional (the fields' order): keywords take half as long again.
    return ChainStep(target, via, rules, local, local_value, upstream.general, upstream.value, general,
                     value, (), reused)
