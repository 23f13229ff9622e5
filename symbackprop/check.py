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
unit of the ninth), which is why the YAML is read with `problem.read_yaml`: floats arrive as their
text. Why a wrong claim is wrong is `mistakes.py`'s business, whether it follows from another wrong
claim `consequences.py`'s; laying the report out is `check_cli.py`'s.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import sympy as sp

from . import backprop, numeric
from .answers import AFTER, FORWARD, GRADIENT, UPDATED, Answers, Quantity
from .consequences import depends_on, reproduces_with
from .equivalence import Formulas
from .errors import ProblemError
from .mistakes import Diagnosis, Mistakes, gradient_steps
from .parse import parse_expression, symbol
from .printers import text as plain_text
from .problem import Problem, read_text, read_yaml
from .solution import Solution
from .steps import ForwardStep

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_GRADIENT_KEY = re.compile(rf"d({_NAME})/d({_NAME})\Z")
_PLUS_KEY = re.compile(rf"({_NAME})\+\Z")
_NAME_KEY = re.compile(rf"{_NAME}\Z")
#: An example's number after a key: E[3], dE/dw1[3].
_EXAMPLE = re.compile(r"(?P<key>.*?)\s*\[\s*(?P<number>[^\]]*?)\s*\]\Z")
#: A claimed number beyond this is a slip of the pen, not a hand calculation: the largest double.
#: A decimal as written: digits, a point and/or an exponent (YAML allows _ between digits).
_DECIMAL = re.compile(r"""[+-]? (?P<whole>[0-9_]*) (?:\.(?P<fraction>[0-9_]*))?
                          (?:[eE](?P<exponent>[+-]?[0-9]+))? \Z""", re.VERBOSE)

KEY_FORMS = ("a node (out_h1), d<loss>/d<name> (dE/dw5), <parameter>+ (w5+) or <node>+ (E+) for the "
             "forward pass after the update, with [3] after it for example 3 of a data problem")


@dataclass(frozen=True)
class Claim:
    key: str
    quantity: Quantity
    #: The value as the student wrote it.
    text: str
    #: The value parsed exactly (0.1 is 1/10); a formula where the student wrote one.
    value: sp.Expr
    #: Decimal places claimed by a decimal written with a point or exponent; None for an exact value.
    places: int | None
    line: int | None = None

    @property
    def is_formula(self) -> bool:
        return not self.value.is_number


@dataclass(frozen=True)
class AfterUpdateStep:
    """A node's forward step in the second forward pass, with the updated parameters."""

    step: ForwardStep


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
    problem: Problem
    solution: Solution
    claims_source: str | None
    verdicts: tuple[Verdict, ...]
    rel_tol: sp.Expr | None = None

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


# --- reading claims ----------------------------------------------------------------------------

def load_claims(path: str | Path, problem: Problem) -> list[Claim]:
    """The claims of a YAML file, checked against the problem's names."""
    return loads_claims(read_text(path), problem, str(path))


def loads_claims(text: str, problem: Problem, source: str = "<claims>") -> list[Claim]:
    data, lines = read_yaml(text, source)
    if not isinstance(data, Mapping) or not data:
        raise ProblemError("a claims file must map quantities to values, for example  dE/dw5: 0.08",
                           source=source)
    claims: list[Claim] = []
    seen: dict[Quantity, Claim] = {}
    for raw_key, raw_value in data.items():
        key = str(raw_key)
        try:
            claim = _claim(key, raw_value, problem, lines.get(key))
            earlier = seen.setdefault(claim.quantity, claim)
            if earlier is not claim:
                # `dE / dw5` and `dE/dw5` are one quantity: two answers to it would let one pass.
                raise ProblemError(f"'{key}' names the same quantity as '{earlier.key}' (line "
                                   f"{earlier.line}); give one answer for it")
        except ProblemError as exc:
            exc.key = key
            raise exc.located(source=source, line=lines.get(key)) from None
        claims.append(claim)
    return claims


def _claim(key: str, raw: Any, problem: Problem, line: int | None) -> Claim:
    quantity = parse_key(key, problem)
    text, value, places = _parse_value(raw)
    names = set(problem.graph.nodes) | set(problem.graph.symbols) | set(problem.values)
    unknown = sorted(s.name for s in value.free_symbols if s.name not in names)
    if unknown:
        raise ProblemError(f"the claim uses {', '.join(unknown)}, which the problem does not have")
    if problem.data is not None and quantity.example is None:
        # A batch's value is a function of the parameters: a node or a data symbol has a value per
        # example, and would silently mean example 1's.
        per_example = sorted(s.name for s in value.free_symbols
                             if s.name in problem.graph.nodes or s.name in problem.data.symbols)
        if per_example:
            raise ProblemError(f"the batch's {key} is written with {', '.join(per_example)}, whose "
                               "values differ from example to example; write it with the "
                               f"parameters, or claim one example's value as {key}[1]")
    return Claim(key, quantity, text, value, places, line)


def parse_key(key: str, problem: Problem) -> Quantity:
    """The quantity a claim's key names, or a ProblemError saying why it names none."""
    example = None
    if match := _EXAMPLE.match(key.strip()):
        key, example = match["key"], _example_index(match["number"], problem)
    quantity = _parse_base_key(key, problem)
    return _with_example(quantity, example, problem)


def _example_index(number: str, problem: Problem) -> int:
    """The example [k] names, counting from 1 as the solution's table does, as an index from 0."""
    data = problem.data
    if data is None:
        raise ProblemError(f"[{number}] names an example, but the problem has no data: examples")
    if not re.fullmatch(r"[0-9]{1,6}", number) or not 1 <= int(number) <= len(data.rows):
        raise ProblemError(f"[{number}] is not an example: the data has {len(data.rows)} examples, "
                           f"numbered 1 to {len(data.rows)}")
    index = int(number) - 1
    batch = data.batch(0)
    if index not in batch:
        raise ProblemError(f"example {number} is not in the batch the update uses (examples "
                           f"{', '.join(str(i + 1) for i in batch)}), so the solution does not work it")
    return index


def _with_example(quantity: Quantity, example: int | None, problem: Problem) -> Quantity:
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


def _parse_base_key(key: str, problem: Problem) -> Quantity:
    compact = re.sub(r"\s*([/+])\s*", r"\1", key.strip())     # dE / dw5 and w5 + are meant too
    # The graph's nodes: with gates: true they include the generated ones (y_1).
    nodes, symbols = problem.graph.nodes, set(problem.graph.symbols)
    if match := _GRADIENT_KEY.match(compact):
        top, name = match.groups()
        if top != problem.loss:
            raise ProblemError(f"'{top}' is not the loss: gradients are of the loss "
                               f"'{problem.loss}', written d{problem.loss}/d<name>")
        if name not in nodes and name not in symbols:
            raise ProblemError(f"'{name}' is not a node or symbol of the problem" + _known(problem))
        return Quantity(GRADIENT, name)
    if match := _PLUS_KEY.match(compact):
        name = match.group(1)
        if name not in nodes and name not in symbols:
            raise ProblemError(f"'{name}' is not a node or parameter of the problem" + _known(problem))
        if name in symbols and name not in problem.parameters:
            raise ProblemError(f"'{name}' is not a parameter, so it is not updated; the parameters "
                               "are: " + (", ".join(problem.parameters) or "none"))
        if problem.learning_rate is None:
            raise ProblemError("the problem has no learning_rate, so no update is made and there is "
                               f"no '{name}+'")
        return Quantity(UPDATED if name in symbols else AFTER, name)
    if _NAME_KEY.match(compact):
        if compact in nodes:
            return Quantity(FORWARD, compact)
        if compact in symbols or compact in problem.values:
            raise ProblemError(f"'{compact}' is an input of the problem, not a computed value; "
                               f"a claim names {KEY_FORMS}")
        raise ProblemError(f"'{compact}' is not a node of the problem" + _known(problem))
    raise ProblemError(f"'{key}' is not a quantity; a claim names {KEY_FORMS}")


def _known(problem: Problem, limit: int = 12) -> str:
    names = [*problem.graph.nodes, *problem.graph.symbols]
    listed = ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
    return f"; names are: {listed}"


def _parse_value(raw: Any) -> tuple[str, sp.Expr, int | None]:
    if raw is None or isinstance(raw, (bool, list, dict)) or not isinstance(raw, (int, str)):
        shown = "nothing" if raw is None else repr(raw)
        raise ProblemError(f"the claimed value must be a number or a formula, got {shown}")
    text = str(raw).strip()
    value = parse_expression(text)
    if value.is_number:
        # Exact arithmetic has no overflow: 1e400 is judged like any number. Refused are values
        # that are not real and numbers too long to carry (as in problem files).
        try:
            numeric.settle(value)
        except numeric.NumericError as exc:
            raise ProblemError(f"'{text}' cannot be judged: {exc}") from None
    for number in value.atoms(sp.Rational):
        if numeric.too_long(number):
            raise ProblemError(f"'{text}' has more than {numeric.MAX_DIGITS} digits: a slip of the pen?")
    return text, value, decimal_places(text)


def decimal_places(text: str) -> int | None:
    """Decimal places a number claims as written: '0.5110' -> 4, '1.5e-3' -> 4, '3' and '2/5' -> None
    (exact). Trailing zeros count: the student wrote them."""
    match = _DECIMAL.match(text)
    if not match or not (match["whole"] or match["fraction"]):
        return None
    if "." not in text and match["exponent"] is None:
        return None                                   # an integer: exact
    fraction = (match["fraction"] or "").replace("_", "")
    return len(fraction) - int(match["exponent"] or 0)


# --- comparing ---------------------------------------------------------------------------------

def half_unit(places: int) -> sp.Rational:
    """Half a unit in the last place: 5e-10 for nine decimal places."""
    return sp.Rational(5, 10) * sp.Rational(10) ** -places


def agrees(claim: Claim, claimed: sp.Expr, value: sp.Expr | None,
           rel_tol: sp.Expr | None = None) -> bool:
    """Whether `value` is what the claim says, to the claim's precision: within half a unit of its
    last written place (or `rel_tol` relative to value), exactly for an integer or fraction, by
    mathematical equivalence for a formula."""
    if value is None:
        return False
    if not (claimed.is_number and value.is_number):
        return sp.simplify(claimed - value) == 0
    # |claimed - value| is written as a sign times the difference, not sp.Abs: SymPy decides an
    # Abs's sign by its own floating-point evaluation, which -log(1 - sigmoid(400)) defeats.
    difference = claimed - value
    if claim.places is None and rel_tol is None:
        return numeric.sign(difference) == 0           # exact: equal, decided with certainty
    distance = numeric.sign(difference) * difference
    bound = rel_tol * numeric.sign(value) * value if rel_tol is not None else half_unit(claim.places)
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

    def check(self, claims: list[Claim], rel_tol: sp.Expr | None = None,
              claims_source: str | None = None) -> Report:
        """Every claim judged, each wrong one diagnosed and placed as root cause or consequence."""
        verdicts = [self._judged(claim, rel_tol, claims_source) for claim in claims]
        return Report(self.problem, self.solution, claims_source,
                      tuple(_place_causes(verdicts, self.solution, rel_tol)), rel_tol)

    def _judged(self, claim: Claim, rel_tol: sp.Expr | None, source: str | None) -> Verdict:
        """judge(), with a claim that cannot be judged with certainty said as bad input naming it."""
        try:
            return self.judge(claim, rel_tol)
        except numeric.NumericError as exc:
            reason = str(exc)
            reason = reason if len(reason) <= 100 else reason[:60] + " ... " + reason[-35:]
            raise ProblemError(f"'{claim.text}' cannot be judged with certainty: {reason}",
                               key=claim.key, source=source, line=claim.line) from None

    def judge(self, claim: Claim, rel_tol: sp.Expr | None = None) -> Verdict:
        """One claim: right or wrong, and for a wrong one the steps to the correct value and the
        mistake that reproduces it (root causes need the other claims: see check)."""
        quantity = claim.quantity
        value = self.correct.value(quantity)
        claimed = _with_known_values(claim, self.problem, self.correct)
        steps = tuple(steps_to(quantity, self.solution))
        if claim.is_formula:
            # First as a formula: equivalent, or wrong as a formula even where its value is right.
            if self.formulas.equivalent(claim.value, quantity):
                return Verdict(claim, True, value, claimed, sp.S.Zero)
            if agrees(claim, claimed, value, rel_tol):
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
        if agrees(claim, claimed, value, rel_tol):
            return Verdict(claim, True, value, claimed, difference)
        diagnosis = self.mistakes.diagnose(quantity, lambda v: agrees(claim, claimed, v, rel_tol))
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


def check(problem: Problem, claims: list[Claim], rel_tol: sp.Expr | None = None,
          claims_source: str | None = None) -> Report:
    """Check one set of claims against a problem."""
    return Checker(problem).check(claims, rel_tol, claims_source)


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
                  rel_tol: sp.Expr | None) -> list[Verdict]:
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
                                       lambda v: agrees(claim, verdict.claimed, v, rel_tol))
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
