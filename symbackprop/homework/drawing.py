"""A student's variant drawn from the problem's `vary:` and kept only where it meets `require:`
(issue 14), as Numbas and Moodle STACK do: a bounded number of draws, then a clear error naming
the condition no draw could meet.

The seed of a variant is a hash of (the class's seed, the problem's text, the student's id), so the
same roster always gives the same sheets and one student's variant is rebuilt alone. Each draw's
choices are hashes of that seed too (not Python's `random`, whose algorithms may change between
versions): a variant is the same on every machine and every Python.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..arithmetic import numeric
from ..engine.answers import Answers
from ..engine.solution import Solution
from ..engine.tasks import tasks_of
from ..errors import ProblemError
from ..model.functions import leaky_relu, relu
from ..model.homework import CONDITIONS, decimal_places
from ..model.problem import Problem
from ..model.quantities import GRADIENT
from ..model.symbols import symbol

#: Draws tried before giving up: enough for conditions met by one draw in 20 to fail by chance
#: with probability below 1e-4, few enough to say "impossible" within seconds.
MAX_DRAWS = 200
#: The hex digits of a variant's seed: 64 bits, written on every sheet.
SEED_DIGITS = 16


def variant_seed(class_seed: str, problem_text: str, student: str) -> str:
    """The variant's seed: a hash of the class's seed, the problem as written and the student."""
    problem = hashlib.sha256(problem_text.encode("utf-8")).hexdigest()
    text = "\0".join(("symbackprop-variant-1", class_seed, problem, student))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SEED_DIGITS]


@dataclass(frozen=True)
class Drawn:
    """A variant that met every condition: its values as written, the problem and its solution."""

    seed: str
    values: dict[str, str]
    problem: Problem
    solution: Solution


def draw(problem: Problem, seed: str) -> Drawn:
    """The first draw from `seed` that meets every condition of the problem's `require:`; a
    ProblemError naming the condition that failed most often when none of MAX_DRAWS does."""
    failures: Counter[str] = Counter()
    seen: set[tuple[str, ...]] = set()
    combinations = math.prod(len(d.choices) for d in problem.vary)
    for attempt in range(MAX_DRAWS):
        values = {d.name: d.choices[_index(seed, attempt, d.name, len(d.choices))] for d in problem.vary}
        if tuple(values.values()) in seen:
            continue            # already judged: a small grid is exhausted long before MAX_DRAWS
        seen.add(tuple(values.values()))
        variant = dataclasses.replace(problem, values={**problem.values, **{
            name: sp.Rational(text) for name, text in values.items()}})
        try:
            solution = variant.solve()
        except numeric.NumericError as exc:
            failures[f"solvable ({exc})"] += 1
            continue
        failed = unmet(variant, solution)
        if failed is None:
            return Drawn(seed, values, variant, solution)
        failures[failed] += 1
        if len(seen) == combinations:
            break
    condition, count = failures.most_common(1)[0]
    raise ProblemError(f"no variant met the condition {condition}: it failed in {count} of "
                       f"{sum(failures.values())} different draws; widen vary: or relax it",
                       key=f"require.{condition}" if condition in CONDITIONS else "vary")


def _index(seed: str, attempt: int, name: str, size: int) -> int:
    digest = hashlib.sha256(f"{seed}\0{attempt}\0{name}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % size


def unmet(problem: Problem, solution: Solution) -> str | None:
    """The first condition of `require:` the solved variant does not meet, or None."""
    answers = Answers.of(solution)
    asked = [q for task in tasks_of(problem) for q in task.answers if q.kind == GRADIENT]
    gradients = [answers.value(q) for q in asked]
    for name, argument in problem.require.items():
        if name == "relu_units_active" and not _relu_units_active(problem, solution):
            return name
        if name == "no_zero_gradient" and any(numeric.sign(g) == 0 for g in gradients):
            return name
        if name == "gradients_at_least" and any(numeric.sign(abs(g) - argument) < 0 for g in gradients):
            return name
        if name == "loss_decreases" and not _loss_decreases(problem, solution):
            return name
        if name == "max_decimals" and any(_places(v) > argument for v in problem.values.values()):
            return name
    return None


def _relu_units_active(problem: Problem, solution: Solution) -> bool:
    """Every ReLU and leaky ReLU of every example has its input above 0: a unit at or below 0
    passes no gradient (or only alpha's), which makes a dull variant."""
    for example in solution.examples:
        known = {symbol(n): v for n, v in {**problem.values, **example.inputs}.items()}
        known.update({symbol(n): s.value for n, s in example.forward.items()})
        for expr in problem.nodes.values():
            for unit in expr.atoms(relu, leaky_relu):
                if numeric.sign(unit.args[0].xreplace(known)) <= 0:
                    return False
    return True


def _loss_decreases(problem: Problem, solution: Solution) -> bool:
    before = solution.batch_loss if problem.data is not None else solution.forward[problem.loss].value
    after = solution.batch_loss_after if problem.data is not None else solution.after_update.get(problem.loss)
    return after is not None and numeric.sign(after - before) < 0


def _places(value: sp.Expr) -> float:
    """Decimal places of a given value; one that does not terminate (1/3) has no bound."""
    places = decimal_places(Fraction(int(value.p), int(value.q))) if value.is_Rational else None
    return float("inf") if places is None else places
