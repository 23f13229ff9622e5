"""The common mistakes of a hand-worked backward pass, each made on purpose to see whether it
reproduces a student's wrong number.

Every mistake recomputes the answers the way a student who made it would: a variant problem
re-solved (the loss doubled, ReLU's slope taken as 1, the weight matrix transposed), a replay of the
solution's own steps with other numbers put in (updated weights in the backward pass, every value
rounded), or the update redone (the learning rate's sign). `Mistakes.diagnose` tries them in a fixed
order and names the first that agrees with the claim to the claim's own precision; the caller says
what "agrees" means (judge.py's digits rule). Each variant is computed at most once per problem.

A mistake is offered only where its premise holds: "the factor 1/2 left out" only on a loss that has
one, "summed instead of averaged over the batch" only on a batch of several examples whose loss is
their mean, the replays of one example's steps only on a problem without data.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator

import sympy as sp

from ..arithmetic import certified, numeric
from ..engine import backprop
from ..engine.answers import AFTER, FORWARD, GRADIENT, UPDATED, Answers, Quantity
from ..errors import ProblemError
from ..model.functions import leaky_relu, relu
from ..model.graph import Graph
from ..model.steps import ChainStep, SumStep
from ..model.symbols import symbol

#: Decimal places tried for "rounding intermediate values too early", coarsest first: a student who
#: rounds to k places writes k places, and such a claim at the edge of its half-unit window can also
#: agree with a finer rounding, the less likely explanation.
ROUNDING_PLACES = range(2, 10)
#: A weight of the layers: shorthand, w{layer}_{unit}{input}; swapped, w{layer}_{input}{unit}.
_LAYER_WEIGHT = re.compile(r"(w\d*)_(\d)(\d)\Z")
_LETTERS = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Diagnosis:
    #: A stable key for programs: "sign", "batch_sum", "batch_mean", "loss_half", "mean_sum",
    #: "relu_inactive", "indices_swapped", "updated_too_early", "rounding", "learning_rate_sign"
    #: (and judge.py's "value_not_formula").
    mistake: str
    #: The mistake in a few words.
    title: str
    #: What exactly was recomputed, in a sentence.
    detail: str
    #: The value the mistake gives.
    value: sp.Expr


#: A candidate: what was done, and the value it gives (None where it gives none).
Candidate = tuple[str, sp.Expr | None]


class Mistakes:
    """The catalogue of mistakes, bound to one problem and its correct solution."""

    def __init__(self, problem, solution):
        self.problem = problem
        self.solution = solution
        self.correct = Answers.of(solution)
        self.loss = problem.loss
        # The nodes as the graph has them (split into gates where the problem asks), so that a
        # variant's node names are those of the solution.
        self.definitions = {n: node.expr for n, node in problem.graph.nodes.items()}
        self._cache: dict[object, Answers | None] = {}
        self.catalogue: list[tuple[str, str, Callable[[Quantity], Iterator[Candidate]]]] = [
            ("sign", "sign flipped", self._sign),
            ("batch_sum", "sum instead of mean over the batch", self._batch_sum),
            ("batch_mean", "mean instead of sum over the batch", self._batch_mean),
            ("loss_half", "the loss's factor 1/2", self._loss_half),
            ("mean_sum", "mean versus sum over the outputs", self._mean_sum),
            ("relu_inactive", "ReLU's gradient passed through an inactive unit", self._relu_inactive),
            ("indices_swapped", "a weight's indices swapped", self._indices_swapped),
            ("updated_too_early", "an updated weight used too early", self._updated_too_early),
            ("rounding", "intermediate values rounded too early", self._rounding),
            ("learning_rate_sign", "the learning rate applied with the wrong sign",
             self._learning_rate_sign),
        ]

    def diagnose(self, quantity: Quantity, reproduces: Callable[[sp.Expr], bool]) -> Diagnosis | None:
        """The first mistake whose value reproduces the claim; None when the claim is right (no
        mistake explains a right answer) or when none does."""
        if reproduces(self.correct.value(quantity)):
            return None
        for key, title, candidates in self.catalogue:
            for detail, value in candidates(quantity):
                if value is not None and reproduces(value):
                    return Diagnosis(key, title, detail, value)
        return None

    def candidates(self, quantity: Quantity, skip: tuple[str, ...] = ()) -> Iterator[Diagnosis]:
        """Every value a mistake of the catalogue gives for the quantity, in the order they are
        tried (the wrong answers a quiz anticipates), but those in `skip`."""
        for key, title, candidates in self.catalogue:
            if key not in skip:
                for detail, value in candidates(quantity):
                    if value is not None:
                        yield Diagnosis(key, title, detail, value)

    # --- the mistakes, in the order they are tried ---------------------------------------------

    def _sign(self, q: Quantity) -> Iterator[Candidate]:
        correct = self.correct.value(q)
        if correct is not None:
            yield ("the right size with the opposite sign, as from a factor written the other way "
                   "round (t - out for out - t) or a minus lost", -correct)

    def _batch_sum(self, q: Quantity) -> Iterator[Candidate]:
        return self._other_reduction(q, "sum", "the {n} examples' values summed instead of averaged "
                                               "(the mean's 1/{n} left out)")

    def _batch_mean(self, q: Quantity) -> Iterator[Candidate]:
        return self._other_reduction(q, "mean", "the {n} examples' values averaged instead of summed "
                                                "(divided by {n})")

    def _other_reduction(self, q: Quantity, used: str, detail: str) -> Iterator[Candidate]:
        """The batch's value reduced by `used` where the problem reduces by the other (mean, sum)."""
        data = self.problem.data
        if self._batch_quantity(q) and data.reduction != used:
            yield detail.format(n=data.batch_size), self._value(self._reduced(used), q)

    def _batch_quantity(self, q: Quantity) -> bool:
        """A value of the batch (not of one example) on a batch of several examples."""
        data = self.problem.data
        return data is not None and q.example is None and data.batch_size > 1

    def _loss_half(self, q: Quantity) -> Iterator[Candidate]:
        coefficient, _ = loss_factor(self.definitions[self.loss])
        if coefficient.q % 2 == 0:         # 1/2*(y - t)**2, or a mean over an even number
            yield ("the loss doubled (its factor 1/2 left out)",
                   self._value(self._scaled_loss(sp.Integer(2)), q))
        elif any(p.exp == 2 for p in self.definitions[self.loss].atoms(sp.Pow)):
            # The 1/2 of half squared error, put into a squared error that has none.
            yield ("the loss halved (a factor 1/2 put in)",
                   self._value(self._scaled_loss(sp.Rational(1, 2)), q))

    def _mean_sum(self, q: Quantity) -> Iterator[Candidate]:
        coefficient, _ = loss_factor(self.definitions[self.loss])
        n = output_terms(self.definitions[self.loss], self.definitions)
        if n < 2:
            return
        if coefficient.q % n == 0:
            yield (f"the loss's {n} output terms summed instead of averaged (the loss times {n})",
                   self._value(self._scaled_loss(sp.Integer(n)), q))
        else:
            yield (f"the loss's {n} output terms averaged instead of summed (the loss divided by {n})",
                   self._value(self._scaled_loss(sp.Rational(1, n)), q))

    def _relu_inactive(self, q: Quantity) -> Iterator[Candidate]:
        # The replay freezes the one example's forward values: no premise on a data problem.
        if q.kind == FORWARD or self.problem.data is not None:
            return
        inactive = self._inactive_units()
        if inactive:
            units = f"unit{'s' if len(inactive) > 1 else ''} {', '.join(inactive)}"
            yield (f"the slope of ReLU taken as 1 at the inactive {units}, whose input is not positive",
                   self._value(self._relu_as_identity(), q))

    def _indices_swapped(self, q: Quantity) -> Iterator[Candidate]:
        kind, name = q.kind, q.name
        if kind in (GRADIENT, UPDATED):
            for partner in swapped_partners(name, self.problem.graph):
                what = Quantity(kind, partner, q.example).key(self.loss)
                why = (f"{name} with its indices swapped" if _LAYER_WEIGHT.match(name) else
                       f"{partner} feeds the same unit as {name}")
                yield f"the value of {what} ({why})", self.correct.value(Quantity(kind, partner, q.example))
        if kind in (FORWARD, GRADIENT) and transposed_pairs(self.problem.values):
            yield ("every weight matrix transposed (w_ij used for w_ji)",
                   self._value(self._transposed(), q))

    def _updated_too_early(self, q: Quantity) -> Iterator[Candidate]:
        # The replay is of the one example's reverse pass: no premise on a data problem.
        if q.kind == FORWARD or self.problem.learning_rate is None or self.problem.data is not None:
            return
        # Only weights inside the local derivatives on the way to this value (d net_o1/d out_h1 = w5
        # on the way to dE/dw1) can be used too early.
        graph = self.problem.graph
        gradients = [q.name] if q.kind != AFTER else [w for w in self.problem.parameters
                                                      if w in set(graph.ancestors(q.name))]
        used = {s.name for g in gradients for step in gradient_steps(g, self.solution.steps)
                if isinstance(step, ChainStep) for s in step.local.free_symbols}
        weights = [w for w in self.problem.parameters if w in used]
        if weights:
            yield (f"the backward pass computed with the updated {', '.join(weights)} instead of the "
                   "weights of the forward pass", self._value(self._with_updated_weights(), q))

    def _rounding(self, q: Quantity) -> Iterator[Candidate]:
        if self.problem.data is not None:       # the replay is of the one example's values
            return
        for places in ROUNDING_PLACES:
            # Most students round what they carry on and write the result itself in full.
            yield (f"every intermediate value rounded to {places} decimal places (the result "
                   "written in full)", self._value(self._rounded(places, last_in_full=True), q))
            yield (f"every intermediate value rounded to {places} decimal places",
                   self._value(self._rounded(places), q))

    def _learning_rate_sign(self, q: Quantity) -> Iterator[Candidate]:
        if q.kind in (UPDATED, AFTER) and self.problem.learning_rate is not None:
            yield ("the update written w + eta * dE/dw instead of w - eta * dE/dw",
                   self._value(self._cached("ascent", lambda: self._updated_from(
                       self.correct.forward, self.correct.gradients, sign=-1)), q))

    # --- the variants, each computed once -----------------------------------------------------

    @staticmethod
    def _value(answers: Answers | None, q: Quantity) -> sp.Expr | None:
        return None if answers is None else answers.value(q)

    def _cached(self, key: object, compute: Callable[[], Answers | None]) -> Answers | None:
        if key not in self._cache:
            try:
                self._cache[key] = compute()
            except (ProblemError, numeric.NumericError, ArithmeticError, TypeError, ValueError):
                self._cache[key] = None     # the mistake cannot even be computed here
        return self._cache[key]

    def _resolved(self, definitions: dict[str, sp.Expr], **changes):
        """The problem with other nodes (or other values, or givens) solved again."""
        variant = dataclasses.replace(self.problem, nodes=definitions, graph=Graph.build(definitions),
                                      gates=False, warnings=[], **changes)
        return variant.solve(kink=self.solution.kink)

    def _scaled_loss(self, factor: sp.Expr) -> Answers | None:
        def compute():
            definitions = {**self.definitions, self.loss: factor * self.definitions[self.loss]}
            return Answers.of(self._resolved(definitions))
        return self._cached(("loss", factor), compute)

    def _reduced(self, reduction: str) -> Answers | None:
        """The problem solved again with the batch's mean taken as a sum, or the sum as a mean."""
        def compute():
            data = dataclasses.replace(self.problem.data, reduction=reduction)
            return Answers.of(self._resolved(self.definitions, data=data))
        return self._cached(("reduction", reduction), compute)

    def _relu_as_identity(self) -> Answers | None:
        """Forward values as computed (frozen), but every ReLU differentiated as if it were the
        identity; the update and the second forward pass then use the real network."""
        def compute():
            definitions = {n: e.replace(relu, lambda z: z).replace(leaky_relu, lambda z, alpha: z)
                           for n, e in self.definitions.items()}
            variant = self._resolved(definitions, given=dict(self.correct.forward), learning_rate=None)
            gradients = {n: g.value for n, g in variant.gradients.items()}
            return self._updated_from(self.correct.forward, gradients)
        return self._cached("relu", compute)

    def _inactive_units(self) -> list[str]:
        inactive = []
        known = self._known_before()
        for n, expr in self.definitions.items():
            for unit in expr.atoms(relu, leaky_relu):
                argument = unit.args[0].xreplace(known)
                if not argument.is_number or n in inactive:
                    continue
                # A certified sign: SymPy's `<=` cannot tell sigmoid(400) - 1 from 0 (and raises).
                try:
                    if numeric.sign(argument) <= 0:
                        inactive.append(n)
                except numeric.NumericError:
                    continue        # no side established: not said to be inactive
        return inactive

    def _transposed(self) -> Answers | None:
        def compute():
            values = dict(self.problem.values)
            for a, b in transposed_pairs(self.problem.values):
                values[a], values[b] = self.problem.values[b], self.problem.values[a]
            return Answers.of(self._resolved(self.definitions, values=values, learning_rate=None))
        return self._cached("transposed", compute)

    def _with_updated_weights(self) -> Answers | None:
        """The forward values of the forward pass, but the updated weights in every local
        derivative (a student who updates w5 and then uses w5+ for dE/dout_h1)."""
        def compute():
            known = self._known_before()
            known.update({symbol(w): v for w, v in self.correct.updated.items()})
            gradients = replay_backward(self.solution.steps, self.loss, known, numeric.carried)
            return self._updated_from(self.correct.forward, gradients)
        return self._cached("too_early", compute)

    def _rounded(self, places: int, last_in_full: bool = False) -> Answers | None:
        """Every value rounded to `places` decimals as soon as it is computed: forward values, local
        derivatives, gradients, updated weights and the second forward pass. With `last_in_full`,
        each quantity is the one computed from rounded values but not itself rounded."""
        def compute():
            def rnd(v):
                return round_to(v, places)
            raw_forward: dict[str, sp.Expr] = {}
            raw_gradients: dict[str, sp.Expr] = {}
            forward = replay_forward(self.problem, self.problem.values, self.problem.given, rnd,
                                     raw_forward)
            known = {symbol(n): v for n, v in {**self.problem.values, **forward}.items()}
            gradients = replay_backward(self.solution.steps, self.loss, known, rnd,
                                        unfinished=raw_gradients)
            rounded = self._updated_from(forward, gradients, rounding=rnd)
            if not last_in_full:
                return rounded
            eta = self.problem.learning_rate
            updated = {w: numeric.carried(self.problem.values[w] - eta * gradients.get(w, sp.S.Zero))
                       for w in rounded.updated}
            raw_after: dict[str, sp.Expr] = {}
            if rounded.updated:
                replay_forward(self.problem, {**self.problem.values, **rounded.updated}, {}, rnd,
                               raw_after)
            return Answers(raw_forward, {**gradients, **raw_gradients}, updated, raw_after)
        return self._cached(("rounded", places, last_in_full), compute)

    def _updated_from(self, forward: dict[str, sp.Expr], gradients: dict[str, sp.Expr],
                      sign: int = 1, rounding: Callable[[sp.Expr], sp.Expr] | None = None) -> Answers:
        """The update made with these gradients (w - sign*eta*g), and the forward pass after it
        through the real network."""
        problem = self.problem
        finish = rounding or numeric.carried
        updated: dict[str, sp.Expr] = {}
        after: dict[str, sp.Expr] = {}
        if problem.learning_rate is not None:
            for w in problem.parameters:
                old = problem.values[w]
                updated[w] = finish(old - sign * problem.learning_rate * gradients.get(w, sp.S.Zero))
            new_values = {**problem.values, **updated}
            if problem.data is not None:
                # The forward pass after the update would need every example again: on a data
                # problem (only the ascent gets here) the updated weights alone are offered.
                after = {}
            elif rounding is None:
                second = backprop.forward(problem.graph, new_values, {})
                after = {n: s.value for n, s in second.steps.items()}
            else:
                after = replay_forward(problem, new_values, {}, rounding)
        return Answers(dict(forward), dict(gradients), updated, after)

    def _known_before(self) -> dict[sp.Symbol, sp.Expr]:
        values = {**self.problem.values, **self.correct.forward}
        return {symbol(n): v for n, v in values.items()}


# --- replaying a solution with other numbers ---------------------------------------------------

def replay_forward(problem, values: dict[str, sp.Expr], given: dict[str, sp.Expr],
                   finish: Callable[[sp.Expr], sp.Expr],
                   unfinished: dict[str, sp.Expr] | None = None) -> dict[str, sp.Expr]:
    """Every node evaluated in order, each value passed through `finish` (rounding) before the
    nodes after it use it; `unfinished` receives each value before its own `finish`."""
    known = {symbol(n): v for n, v in values.items()}
    result = {}
    for name, node in problem.graph.nodes.items():
        raw = given[name] if name in given else numeric.substitute(node.expr, known)
        if unfinished is not None:
            unfinished[name] = numeric.carried(raw)
        value = finish(raw)
        known[node.symbol] = result[name] = value
    return result


def replay_backward(steps: list[ChainStep | SumStep], loss: str, known: dict[sp.Symbol, sp.Expr],
                    finish: Callable[[sp.Expr], sp.Expr],
                    replaced: dict[str, sp.Expr] | None = None,
                    unfinished: dict[str, sp.Expr] | None = None) -> dict[str, sp.Expr]:
    """The solution's chain and sum steps again, each local derivative evaluated at `known` and
    every product and sum passed through `finish`; a gradient in `replaced` is used with that value
    wherever it is reused; `unfinished` receives each gradient before its own last `finish`. The
    steps come in an order where every upstream gradient is complete before it is used."""
    replaced = replaced or {}
    gradients: dict[str, sp.Expr] = {loss: sp.S.One}
    paths: dict[str, list[sp.Expr]] = {}
    for step in steps:
        if isinstance(step, ChainStep):
            local = finish(step.local.xreplace(known))
            raw = replaced.get(step.via, gradients[step.via]) * local
            value = finish(raw)
            paths.setdefault(step.target, []).append(value)
            gradients[step.target] = value        # final unless a sum step follows
        else:
            raw = sp.Add(*paths[step.target])
            gradients[step.target] = finish(raw)
        if unfinished is not None:
            unfinished[step.target] = numeric.carried(raw)
    return gradients


def gradient_steps(name: str, steps: list[ChainStep | SumStep]) -> list[ChainStep | SumStep]:
    """The chain and sum steps from the loss down to dL/d name: the paths through name's consumers,
    and the steps that made each upstream gradient they reuse, in the solution's order."""
    needed = {name}
    frontier = [name]
    while frontier:
        target = frontier.pop()
        for step in steps:
            if isinstance(step, ChainStep) and step.target == target and step.via not in needed:
                needed.add(step.via)
                frontier.append(step.via)
    return [s for s in steps if s.target in needed]


def round_to(value: sp.Expr, places: int) -> sp.Expr:
    """The value rounded half up to `places` decimals, as an exact rational (a formula unchanged)."""
    if not value.is_number:
        return sp.expand(value)
    # From a certified approximation, not sp.N: a 40-digit float writes 1/8 - exp(-200) as 0.125 and
    # rounds it up. The approximation has `bits` correct bits relative to the value, so the bits
    # asked for cover its integer part and the places; while the value's error interval straddles a
    # rounding boundary, more bits are asked for.
    unit = Fraction(1, 10 ** places)
    rough = abs(certified.approximation(value, 8))
    whole_bits = max(rough.numerator.bit_length() - rough.denominator.bit_length() + 1, 0)
    bits = whole_bits + math.ceil(places * 3.33) + 32
    while True:
        approximation = certified.approximation(value, bits)
        error = abs(approximation) / 2 ** bits
        low, high = _half_up(approximation - error, unit), _half_up(approximation + error, unit)
        if low == high:
            return sp.Rational(low.numerator, low.denominator)
        if bits >= certified.MAX_BITS:
            # Within 2^-65536 of a half (an exact half SymPy has not simplified): the half, rounded
            # away from zero.
            away = high if approximation > 0 else low
            return sp.Rational(away.numerator, away.denominator)
        bits = min(2 * bits, certified.MAX_BITS)


def _half_up(q: Fraction, unit: Fraction) -> Fraction:
    """q rounded to a multiple of unit, a half away from zero (as students round, and Decimal's
    ROUND_HALF_UP), exactly."""
    whole = math.floor(abs(q) / unit + Fraction(1, 2))
    return whole * unit if q >= 0 else -whole * unit


# --- which weights a swap of indices confuses --------------------------------------------------

def swapped_partners(name: str, graph: Graph) -> list[str]:
    """The weights a student may confuse with `name`: w1_21 for w1_12 in the layers: naming; for other
    names, the weights of the same kind (same letters: w5, w6) that feed the same unit."""
    partners = []
    match = _LAYER_WEIGHT.match(name)
    if match:
        layer, j, i = match.groups()
        swapped = f"{layer}_{i}{j}"
        if swapped != name and swapped in graph.symbols:
            partners.append(swapped)
        return partners
    letters = _LETTERS.match(name)
    if name in graph.symbols and letters:
        for consumer in graph.consumers.get(name, ()):
            for other in graph.nodes[consumer].inputs:
                same_kind = _LETTERS.match(other)
                if (other != name and other in graph.symbols and other not in partners
                        and same_kind and same_kind.group() == letters.group()):
                    partners.append(other)
    return partners


def transposed_pairs(values: dict[str, sp.Expr]) -> list[tuple[str, str]]:
    """The pairs (w1_12, w1_21) that have both weights: what transposing each weight matrix swaps."""
    pairs = []
    for name in values:
        match = _LAYER_WEIGHT.match(name)
        if match and match.group(2) < match.group(3):
            other = f"{match.group(1)}_{match.group(3)}{match.group(2)}"
            if other in values:
                pairs.append((name, other))
    return pairs


def loss_factor(expr: sp.Expr) -> tuple[sp.Rational, sp.Expr]:
    """The loss as a rational factor times the rest: (y1 - t1)**2/2 + (y2 - t2)**2/2 is 1/2 times a
    sum, -(t*log(p) + (1 - t)*log(1 - p)) is -1 times one."""
    coefficient, rest = sp.factor_terms(expr).as_coeff_Mul()
    return (coefficient if coefficient.is_Rational else sp.S.One), rest


def output_terms(expr: sp.Expr, definitions: dict[str, sp.Expr]) -> int:
    """The n of a loss that is a sum (or mean) over n outputs: its top-level terms, when each uses
    nodes no other term uses ((y1 - t1)**2 + (y2 - t2)**2 counts 2). Otherwise 1: the two terms of
    binary cross-entropy both use p, and are not a sum over outputs."""
    _, rest = loss_factor(expr)
    if not rest.is_Add:
        return 1
    used = [frozenset(s.name for s in term.free_symbols if s.name in definitions) for term in rest.args]
    if any(not u for u in used) or any(a & b for i, a in enumerate(used) for b in used[i + 1:]):
        return 1
    return len(used)
