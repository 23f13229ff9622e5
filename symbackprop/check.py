"""Check a hand calculation: read a student's claims, compare each with the exact answer, and say
which wrong claims are root causes and which follow from them.

A claims file maps a quantity to the value claimed:

    out_h1: 0.593269992     a node's forward value
    dE/dw5: 0.082167041     a gradient d<loss>/d<name> of a node or symbol
    dE/dw3: 2*x_n           a formula: right when it is equivalent
    w5+: 0.35891648         a parameter after the update
    E+: 0.291027924         a node's value in the forward pass after the update

A decimal claims the digits written (`0.511301270` claims nine places, so it is right within half a
unit of the ninth), which is why the YAML is read with `problem.read_yaml`: floats arrive as their
text. Why a wrong claim is wrong is `mistakes.py`'s business; laying the report out is `check_cli.py`'s.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import sympy as sp

from . import backprop
from .errors import ProblemError
from .mistakes import AFTER, FORWARD, GRADIENT, UPDATED, Answers, Diagnosis, Mistakes, gradient_steps
from .parse import parse_expression, symbol
from .problem import Problem, read_text, read_yaml
from .solution import Solution
from .steps import ChainStep, ForwardStep

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_GRADIENT_KEY = re.compile(rf"d({_NAME})/d({_NAME})\Z")
_PLUS_KEY = re.compile(rf"({_NAME})\+\Z")
_NAME_KEY = re.compile(rf"{_NAME}\Z")
#: A decimal as written: digits, a point and/or an exponent (YAML allows _ between digits).
_DECIMAL = re.compile(r"""[+-]? (?P<whole>[0-9_]*) (?:\.(?P<fraction>[0-9_]*))?
                          (?:[eE](?P<exponent>[+-]?[0-9]+))? \Z""", re.VERBOSE)

KEY_FORMS = ("a node (out_h1), d<loss>/d<name> (dE/dw5), <parameter>+ (w5+) or <node>+ (E+) for the "
             "forward pass after the update")


@dataclass(frozen=True)
class Quantity:
    """What a claim is about: a forward value, a gradient, an updated parameter or a value after it."""

    kind: str
    name: str


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
    #: Keys of the wrong claims this one depends on: its error may be a consequence of theirs.
    follows_from: tuple[str, ...] = ()

    @property
    def root_cause(self) -> bool | None:
        """True for a wrong claim that depends on no other wrong claim; None for a right one."""
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


# --- reading claims ----------------------------------------------------------------------------

def load_claims(path: str | Path, problem: Problem) -> list[Claim]:
    """The claims of a YAML file, checked against the problem's names."""
    return loads_claims(read_text(path), problem, str(path))


def loads_claims(text: str, problem: Problem, source: str = "<claims>") -> list[Claim]:
    data, lines = read_yaml(text, source)
    if not isinstance(data, Mapping) or not data:
        raise ProblemError("a claims file must map quantities to values, for example  dE/dw5: 0.08",
                           source=source)
    claims = []
    for raw_key, raw_value in data.items():
        key = str(raw_key)
        try:
            claims.append(_claim(key, raw_value, problem, lines.get(key)))
        except ProblemError as exc:
            exc.key = key
            raise exc.located(source=source, line=lines.get(key)) from None
    return claims


def _claim(key: str, raw: Any, problem: Problem, line: int | None) -> Claim:
    quantity = parse_key(key, problem)
    text, value, places = _parse_value(raw)
    names = set(problem.graph.nodes) | set(problem.graph.symbols) | set(problem.values)
    unknown = sorted(s.name for s in value.free_symbols if s.name not in names)
    if unknown:
        raise ProblemError(f"the claim uses {', '.join(unknown)}, which the problem does not have")
    return Claim(key, quantity, text, value, places, line)


def parse_key(key: str, problem: Problem) -> Quantity:
    """The quantity a claim's key names, or a ProblemError saying why it names none."""
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
    difference = abs(_evaluated(claimed - value))
    if rel_tol is not None:
        return bool(difference <= rel_tol * abs(_evaluated(value)))
    if claim.places is None:
        return bool(difference < sp.Rational(1, 10**40))   # exact, up to the 50-digit carried values
    return bool(difference <= half_unit(claim.places))


def _evaluated(expr: sp.Expr) -> sp.Expr:
    """A number SymPy can compare: exact for rationals, 60 digits otherwise."""
    return expr if expr.is_Rational else expr.evalf(60)


# --- the report ----------------------------------------------------------------------------------

class Checker:
    """One problem, solved once, against which any number of claims files are checked: marking a
    class's answers solves the problem and each mistake's variant only once."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.solution = problem.solve()
        self.correct = Answers.of(self.solution)
        self.mistakes = Mistakes(problem, self.solution)

    def check(self, claims: list[Claim], rel_tol: sp.Expr | None = None,
              claims_source: str | None = None) -> Report:
        """Every claim judged, each wrong one diagnosed and placed as root cause or consequence."""
        verdicts = [self.judge(claim, rel_tol) for claim in claims]
        return Report(self.problem, self.solution, claims_source,
                      tuple(_place_causes(verdicts, self.solution)), rel_tol)

    def judge(self, claim: Claim, rel_tol: sp.Expr | None = None) -> Verdict:
        """One claim: right or wrong, and for a wrong one the steps to the correct value and the
        mistake that reproduces it (root causes need the other claims: see check)."""
        kind, name = claim.quantity.kind, claim.quantity.name
        value = self.correct.value(kind, name)
        claimed = _with_known_values(claim, self.problem, self.correct)
        difference = claimed - value
        difference = difference if difference.is_number else sp.simplify(difference)
        if agrees(claim, claimed, value, rel_tol):
            return Verdict(claim, True, value, claimed, difference)
        diagnosis = self.mistakes.diagnose(kind, name, lambda v: agrees(claim, claimed, v, rel_tol))
        return Verdict(claim, False, value, claimed, difference,
                       tuple(steps_to(claim.quantity, self.solution)), diagnosis)


def check(problem: Problem, claims: list[Claim], rel_tol: sp.Expr | None = None,
          claims_source: str | None = None) -> Report:
    """Check one set of claims against a problem."""
    return Checker(problem).check(claims, rel_tol, claims_source)


def _with_known_values(claim: Claim, problem: Problem, correct: Answers) -> sp.Expr:
    """A formula may be written over node names and symbols (2*x_n*(y - ybar)); put in the values
    they have where the claim is made: before the update, or after it for a <node>+ claim."""
    if claim.value.is_number:
        return claim.value
    known = {symbol(n): v for n, v in problem.values.items()}
    if claim.quantity.kind == AFTER:
        known.update({symbol(n): v for n, v in correct.updated.items()})
        known.update({symbol(n): v for n, v in correct.after.items()})
    else:
        known.update({symbol(n): v for n, v in correct.forward.items()})
    return claim.value.xreplace(known)


# --- root cause versus consequence -------------------------------------------------------------

def dependencies(quantity: Quantity, solution: Solution) -> set[Quantity]:
    """The quantities this one is computed from directly."""
    problem, graph = solution.problem, solution.problem.graph
    kind, name = quantity.kind, quantity.name
    if kind == FORWARD:
        if name in problem.given:
            return set()
        return {Quantity(FORWARD, n) for n in graph.nodes[name].inputs if n in graph.nodes}
    if kind == GRADIENT:
        result = set()
        for step in solution.steps:
            if isinstance(step, ChainStep) and step.target == name:
                result.add(Quantity(GRADIENT, step.via))
                # The forward values the local derivative is evaluated at (out_h1*(1 - out_h1)).
                result |= {Quantity(FORWARD, s.name) for s in step.local.free_symbols
                           if s.name in graph.nodes}
        return result
    if kind == UPDATED:
        return {Quantity(GRADIENT, name)}
    node = graph.nodes[name]
    ancestors = set(graph.ancestors(name))
    return ({Quantity(UPDATED, w) for w in problem.parameters if w in ancestors}
            | {Quantity(AFTER, n) for n in node.inputs if n in graph.nodes})


def depends_on(quantity: Quantity, solution: Solution) -> set[Quantity]:
    """Every quantity this one is computed from, directly or through others."""
    seen: set[Quantity] = set()
    stack = [quantity]
    while stack:
        for dependency in dependencies(stack.pop(), solution):
            if dependency not in seen:
                seen.add(dependency)
                stack.append(dependency)
    seen.discard(quantity)
    return seen


def _place_causes(verdicts: list[Verdict], solution: Solution) -> list[Verdict]:
    wrong = [v for v in verdicts if not v.right]
    placed = []
    for verdict in verdicts:
        if verdict.right:
            placed.append(verdict)
            continue
        upstream = depends_on(verdict.claim.quantity, solution)
        follows = tuple(w.claim.key for w in wrong if w.claim.quantity in upstream)
        placed.append(dataclasses.replace(verdict, follows_from=follows))
    return placed


# --- the steps that lead to the correct value ------------------------------------------------

def steps_to(quantity: Quantity, solution: Solution) -> list:
    """The worked steps behind one quantity, in the order a solution shows them."""
    kind, name = quantity.kind, quantity.name
    graph = solution.problem.graph
    if kind == FORWARD:
        needed = set(graph.ancestors(name))
        return [s for n, s in solution.forward.items() if n in needed]
    if kind == GRADIENT:
        return gradient_steps(name, solution.steps)
    if kind == UPDATED:
        return [u for u in solution.updates if u.parameter == name]
    needed = set(graph.ancestors(name))
    updates = [u for u in solution.updates if u.parameter in needed]
    new_values = {**solution.problem.values, **{u.parameter: u.new for u in solution.updates}}
    second = backprop.forward(graph, new_values, {})
    return updates + [AfterUpdateStep(s) for n, s in second.steps.items() if n in needed]
