"""Each asked quantity of a solved variant as a grader marks it: the correct value, its window, and
the wrong values the named mistakes give, kept outside that window (issue 14).

The window is one unit in the last significant digit asked: a student who rounds the right value
either way at a half-way point, or slips by a unit in the last digit, is right. A mistake's value
is offered as a wrong answer only where its window overlaps neither the correct one nor an earlier
mistake's (Moodle takes the first answer that matches, so an overlap would mark a right answer
wrong or name the wrong mistake).
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..arithmetic import certified, numeric
from ..check.mistakes import Mistakes
from ..engine.answers import Answers
from ..engine.tasks import tasks_of
from ..model.quantities import GRADIENT, Quantity
from ..printing.printers import unicode_name
from .records import Answer, Distractor

#: Significant digits a variant's answers are asked to, unless the lecturer says otherwise.
DEFAULT_DIGITS = 4
#: Rounding early is how a hand calculation is done, not a wrong answer: its values lie close to the
#: correct one and would only crowd the window.
NOT_DISTRACTORS = ("rounding",)
#: A sign slip is a mistake of a gradient; a loss is never negative and a weight's sign flipped is
#: no one's mistake (a lecturer's review of the quiz found "sign flipped" offered for E and w5+).
SIGNED_KINDS = (GRADIENT,)


def answers_of(problem, solution, digits: int = DEFAULT_DIGITS) -> tuple[Answer, ...]:
    """The asked quantities of each task, in task order, each once."""
    correct = Answers.of(solution)
    mistakes = Mistakes(problem, solution)
    result: list[Answer] = []
    seen: set[Quantity] = set()
    for task in tasks_of(problem):
        for quantity in task.answers:
            if quantity in seen:
                continue
            seen.add(quantity)
            value = correct.value(quantity)
            shown, tolerance = rounded(value, digits)
            result.append(Answer(task.label, quantity.key(problem.loss), label(quantity, problem.loss),
                                 value, shown, tolerance,
                                 _distractors(mistakes, quantity, value, tolerance, digits)))
    return tuple(result)


def rounded(value: sp.Expr, digits: int) -> tuple[str, sp.Rational]:
    """The value to `digits` significant digits as a plain decimal (no exponent: a student types
    0.0004386), and one unit in its last digit (the window `check --digits` judges by too)."""
    r = numeric.rounded(value, digits)
    unit = numeric.last_digit_unit(value, digits)
    if r.digits == "0":
        return "0", unit
    places = digits - 1 - r.exponent
    text = r.digits.ljust(digits, "0")
    if places <= 0:
        body = text + "0" * (-places)
    elif places >= len(text):
        body = "0." + "0" * (places - len(text)) + text
    else:
        body = f"{text[:-places]}.{text[-places:]}"
    return ("-" if r.negative else "") + body, unit


def label(quantity: Quantity, loss: str) -> str:
    """The quantity in Unicode as a sheet names it: ∂E/∂w₅, w₅⁺, E⁺."""
    name = unicode_name(quantity.name)
    text = {"gradient": f"∂{unicode_name(loss)}/∂{name}", "updated": f"{name}⁺",
            "after_update": f"{name}⁺"}.get(quantity.kind, name)
    return text if quantity.example is None else f"{text} (example {quantity.example + 1})"


def _distractors(mistakes: Mistakes, quantity: Quantity, value: sp.Expr, tolerance: sp.Rational,
                 digits: int) -> tuple[Distractor, ...]:
    windows = [(_near(value), Fraction(int(tolerance.p), int(tolerance.q)))]
    kept: list[Distractor] = []
    skip = NOT_DISTRACTORS + (() if quantity.kind in SIGNED_KINDS else ("sign",))
    for diagnosis in mistakes.candidates(quantity, skip=skip):
        try:
            _, width = rounded(diagnosis.value, digits)
            near = _near(diagnosis.value)
        except (ArithmeticError, TypeError, ValueError):     # NumericError is a ValueError
            continue        # a value that is not a number (a formula) or cannot be placed
        half = Fraction(int(width.p), int(width.q))
        # The margin covers the approximations' error: a window that only touches another counts
        # as overlapping, so no right answer is ever marked by a mistake's feedback.
        if any(abs(near - v) <= w + half + MARGIN * (abs(near) + abs(v)) for v, w in windows):
            continue
        windows.append((near, half))
        kept.append(Distractor(diagnosis.mistake, diagnosis.title, diagnosis.detail, diagnosis.value, width))
    return tuple(kept)


#: Windows are compared on approximations correct to 100 bits (certified): far finer than any
#: window a sheet asks for, and a hundred times cheaper than SymPy's exact Abs on closed forms.
APPROXIMATION_BITS = 100
MARGIN = Fraction(1, 2 ** 90)


def _near(value: sp.Expr) -> Fraction:
    return certified.approximation(value, APPROXIMATION_BITS)
