"""Check a hand calculation: read a student's claims, compare each with the exact answer, and say
which wrong claims are root causes and which follow from them.

A claims file maps a quantity to the value claimed:

    out_h1: 0.593269992     a node's forward value
    dE/dw5: 0.082167041     a gradient d<loss>/d<name> of a node or symbol
    dE/dw3: 2*x_n           a formula: right when it is equivalent (equivalence.py)
    w5+: 0.35891648         a parameter after the update
    E+: 0.291027924         a node's value in the forward pass after the update

On a problem with data, E and dE/dw5 are the batch's (the batch loss the solution prints, the
gradient the update uses), and E[3], y[3], dE/dw5[3] are example 3's (counting from 1, as the
solution's table does).

A decimal claims the digits written (`0.511301270` claims nine places, so it is right within half a
unit of the ninth), which is why claims.py reads the YAML with `parsing.problems.read_yaml`:
floats arrive as their text. Why a wrong claim is wrong is `mistakes.py`'s business, whether it
follows from another wrong claim `consequences.py`'s; laying the report out is `report.py`'s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy as sp

from ..arithmetic import numeric
from ..engine import backprop
from ..engine.answers import AFTER, FORWARD, GRADIENT, UPDATED, Answers, Quantity
from ..engine.solution import Solution
from ..errors import ProblemError
from ..model.problem import Problem
from ..model.steps import ForwardStep
from ..model.symbols import symbol
from ..printing.printers import text as plain_text
from .claims import Claim, half_unit
from .consequences import depends_on, reproduces_with
from .equivalence import Formulas
from .mistakes import Diagnosis, Mistakes, gradient_steps


@dataclass(frozen=True)
class AfterUpdateStep:
    """A node's forward step in the second forward pass, with the updated parameters."""

    step: ForwardStep


@dataclass(frozen=True)
class Tolerance:
    """How near a decimal claim must lie to the correct value, where not to the digits the claim
    writes (half a unit in its last place): within `relative` times the value, or within one unit
    in the `digits`-th significant digit of the value, the window the homework exports give."""

    relative: sp.Expr | None = None
    digits: int | None = None

    def bound(self, value: sp.Expr) -> sp.Expr:
        if self.digits is not None:
            return numeric.last_digit_unit(value, self.digits)
        return self.relative * numeric.sign(value) * value

    def __str__(self) -> str:
        if self.digits is not None:
            return f"within one unit in the {_ordinal(self.digits)} significant digit"
        return f"by the relative tolerance {float(self.relative):g}"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    right: bool
    correct: sp.Expr
    #: The claim with the problem's known values put in (a formula may use node names and symbols).
    claimed: sp.Expr
    #: claimed - correct (simplified for a formula).
    difference: sp.Expr
    #: The steps that lead to the correct value (only for a wrong claim).
    steps: tuple = ()
    diagnosis: Diagnosis | None = None
    #: Keys of the wrong claims this one follows from: recomputed from their claimed values, it
    #: comes out as claimed.
    follows_from: tuple[str, ...] = ()
    #: Keys of the wrong claims it is computed from that do not explain it (it is wrong on its own).
    wrong_upstream: tuple[str, ...] = ()

    @property
    def root_cause(self) -> bool | None:
        """True for a wrong claim that follows from no other wrong claim; None for a right one."""
        return None if self.right else not self.follows_from


@dataclass(frozen=True)
class Report:
    """Every claim's verdict against the problem's solution, with the tolerance they were judged by
    (None: the digits each claim writes)."""

    problem: Problem
    solution: Solution
    claims_source: str | None
    verdicts: tuple[Verdict, ...]
    tolerance: Tolerance | None = None

    @property
    def all_right(self) -> bool:
        return all(v.right for v in self.verdicts)

    def counts(self) -> dict[str, int]:
        """How many claims are right and wrong, and of the wrong ones how many are root causes,
        follow from another, and have a named mistake."""
        wrong = [v for v in self.verdicts if not v.right]
        return {"claims": len(self.verdicts), "right": len(self.verdicts) - len(wrong),
                "wrong": len(wrong), "root_causes": sum(1 for v in wrong if v.root_cause),
                "follow_from_others": sum(1 for v in wrong if not v.root_cause),
                "diagnosed": sum(1 for v in wrong if v.diagnosis is not None)}


# --- comparing ---------------------------------------------------------------------------------


def agrees(claim: Claim, claimed: sp.Expr, value: sp.Expr | None,
           tolerance: Tolerance | None = None) -> bool:
    """Whether `value` is what the claim says, to the claim's precision: within half a unit of its
    last written place (or within the `tolerance`), exactly for an integer or fraction, by
    mathematical equivalence for a formula."""
    if value is None:
        return False
    if not (claimed.is_number and value.is_number):
        return sp.simplify(claimed - value) == 0
    # |claimed - value| is written as a sign times the difference, not sp.Abs: SymPy decides an
    # Abs's sign by its own floating-point evaluation, which -log(1 - sigmoid(400)) defeats.
    difference = claimed - value
    if claim.places is None and tolerance is None:
        return numeric.sign(difference) == 0           # exact: equal, decided with certainty
    distance = numeric.sign(difference) * difference
    bound = tolerance.bound(value) if tolerance is not None else half_unit(claim.places)
    return numeric.sign(bound - distance) >= 0


# --- the report ----------------------------------------------------------------------------------

class Checker:
    """One problem, solved once, against which any number of claims files are checked: marking a
    class's answers solves the problem and each mistake's variant only once."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.solution = problem.solve()
        self.correct = Answers.of(self.solution)
        self.mistakes = Mistakes(problem, self.solution)
        self.formulas = Formulas(self.solution)

    def judge_all(self, claims: list[Claim], tolerance: Tolerance | None = None,
              claims_source: str | None = None) -> Report:
        """Every claim judged, each wrong one diagnosed and placed as root cause or consequence."""
        verdicts = [self._judged(claim, tolerance, claims_source) for claim in claims]
        return Report(self.problem, self.solution, claims_source,
                      tuple(_place_causes(verdicts, self.solution, tolerance)), tolerance)

    def _judged(self, claim: Claim, tolerance: Tolerance | None, source: str | None) -> Verdict:
        """judge(), with a claim that cannot be judged with certainty said as bad input naming it."""
        try:
            return self.judge(claim, tolerance)
        except numeric.NumericError as exc:
            reason = str(exc)
            reason = reason if len(reason) <= 100 else reason[:60] + " ... " + reason[-35:]
            raise ProblemError(f"'{claim.text}' cannot be judged with certainty: {reason}",
                               key=claim.key, source=source, line=claim.line) from None

    def judge(self, claim: Claim, tolerance: Tolerance | None = None) -> Verdict:
        """One claim: right or wrong, and for a wrong one the steps to the correct value and the
        mistake that reproduces it (root causes need the other claims: see judge_all)."""
        quantity = claim.quantity
        value = self.correct.value(quantity)
        claimed = _with_known_values(claim, self.problem, self.correct)
        steps = tuple(steps_to(quantity, self.solution))
        if claim.is_formula:
            # First as a formula: equivalent, or wrong as a formula even where its value is right.
            if self.formulas.equivalent(claim.value, quantity):
                return Verdict(claim, True, value, claimed, sp.S.Zero)
            if agrees(claim, claimed, value, tolerance):
                general = self.general_form(quantity)
                detail = (f"{claim.text}, with the problem's values put in" if general is None else
                          f"{claim.text} (the general form is {plain_text(general)}), with the "
                          "problem's values put in,")
                return Verdict(claim, False, value, claimed, sp.S.Zero, steps,
                               Diagnosis("value_not_formula", "equals the value here but is not "
                                         "the general form", detail, claimed))
        difference = claimed - value
        difference = difference if difference.is_number else sp.simplify(difference)
        if difference.is_number and numeric.sign(difference) == 0:
            difference = sp.S.Zero     # 1/(1 + exp(-1/2)) for sigmoid(1/2): equal, so exactly 0
        if agrees(claim, claimed, value, tolerance):
            return Verdict(claim, True, value, claimed, difference)
        diagnosis = self.mistakes.diagnose(quantity, lambda v: agrees(claim, claimed, v, tolerance))
        return Verdict(claim, False, value, claimed, difference, steps, diagnosis)

    def general_form(self, quantity: Quantity) -> sp.Expr | None:
        """The formula the solution writes for a forward value or a gradient, over node names."""
        example = next((e for e in self.solution.examples if e.index == quantity.example),
                       self.solution.examples[0])
        if quantity.kind == FORWARD and (quantity.example is not None or self.problem.data is None):
            return self.problem.graph.nodes[quantity.name].expr
        if quantity.kind == GRADIENT and (quantity.example is not None or self.problem.data is None):
            gradient = example.gradients.get(quantity.name)
            return None if gradient is None else gradient.general
        return None


def judge_claims(problem: Problem, claims: list[Claim], tolerance: Tolerance | None = None,
          claims_source: str | None = None) -> Report:
    """Check one set of claims against a problem."""
    return Checker(problem).judge_all(claims, tolerance, claims_source)


def _with_known_values(claim: Claim, problem: Problem, correct: Answers) -> sp.Expr:
    """A formula may be written over node names and symbols (2*x_n*(y - ybar)); put in the values
    they have where the claim is made: the example's, before the update or after it."""
    if claim.value.is_number:
        return claim.value
    q = claim.quantity
    known = {symbol(n): v for n, v in problem.values.items()}
    if q.kind == AFTER:
        known.update({symbol(n): v for n, v in correct.updated.items()})
        known.update({symbol(n): v for n, v in correct.after.items()})
    elif q.example is not None:
        example = correct.examples[q.example]
        inputs = problem.data.rows[q.example]
        known.update({symbol(n): v for n, v in {**inputs, **example.forward}.items()})
    else:
        known.update({symbol(n): v for n, v in correct.forward.items()})
    return claim.value.xreplace(known)


# --- root cause versus consequence -------------------------------------------------------------

def _place_causes(verdicts: list[Verdict], solution: Solution,
                  tolerance: Tolerance | None) -> list[Verdict]:
    """Each wrong claim with the wrong claims it follows from: those upstream of it from whose
    claimed values, put in alone (or all together), it is recomputed as claimed."""
    wrong = [v for v in verdicts if not v.right]
    placed = []
    for verdict in verdicts:
        if verdict.right:
            placed.append(verdict)
            continue
        claim = verdict.claim
        upstream_set = depends_on(claim.quantity, solution)
        upstream = [w for w in wrong if w.claim.quantity in upstream_set]
        follows: list[Verdict] = []
        if not claim.is_formula:
            # A wrong formula upstream is put in by its value at the problem's values, as the
            # student would have used it; one that still holds an unknown symbol cannot be.
            usable = [w for w in upstream if w.claimed is not None and w.claimed.is_number]

            def reproduces(sources: list[Verdict]) -> bool:
                overrides = {w.claim.quantity: w.claimed for w in sources}
                return reproduces_with(claim.quantity, solution, overrides,
                                       lambda v: agrees(claim, verdict.claimed, v, tolerance))
            follows = [w for w in usable if reproduces([w])]
            if not follows and len(usable) > 1 and reproduces(usable):
                follows = usable
        placed.append(dataclasses.replace(
            verdict, follows_from=tuple(w.claim.key for w in follows),
            wrong_upstream=tuple(w.claim.key for w in upstream if w not in follows)))
    return placed


# --- the steps that lead to the correct value ------------------------------------------------

@dataclass(frozen=True)
class BatchStep:
    """A batch's loss or gradient: the mean (or sum) of the examples' values."""

    quantity: Quantity
    reduction: str
    #: Each example's number (counting from 1) and value.
    terms: tuple[tuple[int, sp.Expr], ...]
    value: sp.Expr


@dataclass(frozen=True)
class ExampleStep:
    """A step of one example's forward or reverse pass."""

    #: The example's number, counting from 1 as the solution's table does.
    number: int
    step: object


def steps_to(quantity: Quantity, solution: Solution) -> list:
    """The worked steps behind one quantity, in the order a solution shows them."""
    kind, name = quantity.kind, quantity.name
    problem = solution.problem
    graph = problem.graph
    if problem.data is not None and kind in (FORWARD, GRADIENT):
        if quantity.example is not None:
            example = next(e for e in solution.examples if e.index == quantity.example)
            inner = _pass_steps(kind, name, example, graph)
            return [ExampleStep(example.index + 1, s) for s in inner]
        correct = Answers.of(solution)
        terms = tuple((e.index + 1, correct.value(Quantity(kind, name, e.index)))
                      for e in solution.examples)
        return [BatchStep(quantity, problem.data.reduction, terms, correct.value(quantity))]
    if kind in (FORWARD, GRADIENT):
        return _pass_steps(kind, name, solution.examples[0], graph)
    if kind == UPDATED:
        return [u for u in solution.updates if u.parameter == name]
    needed = set(graph.ancestors(name))
    updates = [u for u in solution.updates if u.parameter in needed]
    if problem.data is not None:
        return updates
    new_values = {**problem.values, **{u.parameter: u.new for u in solution.updates}}
    second = backprop.forward(graph, new_values, {})
    return updates + [AfterUpdateStep(s) for n, s in second.steps.items() if n in needed]


def _pass_steps(kind: str, name: str, example, graph) -> list:
    if kind == FORWARD:
        needed = set(graph.ancestors(name))
        return [s for n, s in example.forward.items() if n in needed]
    return gradient_steps(name, example.steps)
