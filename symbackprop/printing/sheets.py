"""Homework sheets (issue 14): the question sheet, the solution sheet and the blanks sheet.

A sheet is the worked solution's view with three things changed, each decided here and laid out by
the templates (question.<format>.j2, and the sheet blocks of solution.<format>.j2):

- the parts' headings carry the label of the task they answer, "(a) Forward pass", so that "(b)"
  means the same on every sheet (engine/tasks.py numbers the tasks);
- the question sheet's figure shows no computed value, only the given ones;
- the blanks sheet prints every occurrence of a blanked quantity's value as an empty box: the
  Format itself writes the box wherever it would write that number (a derivation, a table, a
  substitution, an update), so that no part of the solution can give the value away.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping

import sympy as sp

from ..engine.answers import Answers
from ..engine.solution import Solution
from ..engine.tasks import answers_of, task_of, tasks_of
from ..errors import ProblemError
from ..model.homework import Task
from ..model.quantities import AFTER, GRADIENT, UPDATED, Quantity
from ..parsing.homework import quantities
from .formats import Format

SHEETS = ("question", "solution", "blanks")
#: An empty answer box, as wide as a value of a few digits, in each format's mathematics.
BOXES = {"txt": "[________]", "md": r"\boxed{\phantom{0.0000}}", "tex": r"\boxed{\phantom{0.000000}}"}
#: The same box inside a figure: Mermaid labels are text.
FIGURE_BOXES = {"md": "[______]", "tex": r"\boxed{\phantom{0.0000}}"}
#: What a caller may say of the student a sheet is for (the class's variants).
STUDENT_KEYS = ("name", "id", "seed")
#: The solution's parts in order, and the kind of task each answers (None: no task's). Named so
#: that a template can write labels.updates (labels.update would be the dict's method).
PARTS = {"forward": "forward", "loss": "forward", "backward": "gradients", "entries": "gradients",
         "updates": "update", "after": "update", "training": None}
#: The parts' numbers in a text and Markdown solution without a sheet, as they always were.
NUMBERS = {"forward": "1. ", "loss": "2. ", "backward": "3. ", "entries": "3b. ", "updates": "4. ",
           "after": "5. ", "training": "6. "}


def labels(solution: Solution, format: str, sheet: str | None) -> dict[str, str]:
    """Each part's heading prefix: its number ("1. "; none in LaTeX, whose headings are unnumbered)
    without a sheet, the label of the task it answers ("(a) ") on a sheet, nothing where no
    generated task asks for it (a problem's own tasks are listed above the solution instead)."""
    if sheet is None:
        return {part: "" if format == "tex" else number for part, number in NUMBERS.items()}
    problem = solution.problem
    found = {kind: task_of(problem, kind) for kind in set(PARTS.values()) if kind is not None}
    labels = {part: "" if problem.tasks is not None or kind is None or found[kind] is None
              else f"({found[kind].label}) " for part, kind in PARTS.items()}
    update = found["update"]
    if update is not None and not any(q.kind == AFTER for q in update.answers):
        labels["after"] = ""        # shown, but no task asks for the loss after the update
    return labels


def check_answer_digits(answer_digits: int | None, digits: int, sheet: str | None) -> None:
    if answer_digits is None:
        return
    if sheet not in ("question", "blanks"):
        raise ProblemError("applies to --sheet question or blanks, which ask for answers",
                           key="--answer-digits")
    if not 1 <= answer_digits <= digits:
        raise ProblemError(f"must be between 1 and --digits ({digits}): the steps carry at least the "
                           f"digits the answers are asked to, got {answer_digits}", key="--answer-digits")


def check_sheet(sheet: str | None, blank: tuple[Quantity, ...], student: Mapping[str, str] | None,
                format: str, symbolic: bool, trained: bool = False) -> None:
    """Bad combinations, each said in one line naming its option."""
    if sheet not in (None, *SHEETS):
        raise ProblemError(f"unknown sheet '{sheet}'; use one of " + ", ".join(SHEETS), key="sheet")
    if blank and sheet != "blanks":
        raise ProblemError("blanks are boxes on the blanks sheet: add --sheet blanks", key="--blank")
    if sheet in ("question", "blanks") and format == "json":
        raise ProblemError(f"a {sheet} sheet is for students; the json answer key has every answer "
                           "(use --sheet solution, or txt, md or tex)", key="--sheet")
    if sheet is not None and symbolic:
        raise ProblemError("a homework sheet has numbers; leave out --symbolic", key="--sheet")
    if sheet in ("question", "blanks") and trained:
        # The run's table would print the loss and the parameters after the first update unboxed.
        raise ProblemError(f"a {sheet} sheet asks for one update; leave out --steps and --epochs",
                           key="--sheet")
    if student is not None:
        if not isinstance(student, Mapping) or set(student) - set(STUDENT_KEYS) or \
                not all(isinstance(v, str) for v in student.values()):
            raise ProblemError("student must map some of " + ", ".join(STUDENT_KEYS) + " to text",
                               key="student")


def blanked(solution: Solution, blank: tuple[Quantity | str, ...]) -> tuple[Quantity, ...]:
    """The quantities a blanks sheet boxes: those given (Quantity, or keys such as "dE/dw5"), else
    the problem's blank:, else every answer the tasks ask for."""
    if any(isinstance(q, str) for q in blank):
        blank = quantities([q if isinstance(q, str) else q.key(solution.loss) for q in blank],
                           solution.problem, "blank")
    answers = Answers.of(solution)
    chosen = blank or solution.problem.blank or tuple(
        # By default, the answers that have a number here (no E+ where the pass after is not shown).
        q for q in answers_of(solution.problem) if getattr(answers.value(q), "is_number", False))
    if not chosen:
        raise ProblemError("nothing to blank: the problem's tasks name no answers; give --blank dE/dw5,w5+ "
                           "or blank: in the problem", key="--blank")
    return chosen


def blank_values(solution: Solution, quantities: tuple[Quantity, ...]) -> frozenset[sp.Expr]:
    """The values to box; a quantity without a number in this solution is bad input (its box
    would stand nowhere)."""
    answers = Answers.of(solution)
    values = set()
    for q in quantities:
        value = answers.value(q)
        if value is None or not value.is_number:
            raise ProblemError(f"{q.key(solution.loss)} has no numeric value in this solution (no update, "
                               "or unknown symbols), so there is nothing to box", key="--blank")
        values.add(value)
    if any(q.kind in (UPDATED, AFTER) for q in quantities):
        # The forward pass after the update is computed from the updated parameters: its values
        # give a blanked w5+ away (net_o1+ solved for w5+), so all of them are boxed with it.
        values.update(v for v in solution.after_update.values() if v.is_number)
    return frozenset(values)


# --- the box, written by the Format ----------------------------------------------------------------

class _Blanking:
    """Mixed into a Format: a value in `blanked` (or its negative) is written as the box wherever
    the Format writes a number. Values are matched exactly, so a quantity that has the very same
    value is boxed too (its number would give the answer away)."""

    blanked: frozenset = frozenset()
    box: str = ""

    def _boxed(self, value: Any) -> str | None:
        if not isinstance(value, sp.Expr) or not value.is_number:
            return None
        if value in self.blanked:
            return self.box
        return f"-{self.box}" if -value in self.blanked else None

    def value_chain(self, value, closed=False):
        boxed = self._boxed(value)
        return [(self.eq, boxed)] if boxed else super().value_chain(value, closed)

    def inside(self, value):
        return self._boxed(value) or super().inside(value)

    def shown_decimal(self, value):
        return self._boxed(value) or super().shown_decimal(value)


def blanking(fmt: Format, values: frozenset[sp.Expr]) -> Format:
    """The format `fmt` writing each of `values` as its empty box."""
    cls = type(f"Blanking{type(fmt).__name__}", (_Blanking, type(fmt)), {})
    blanks = object.__new__(cls)
    blanks.__dict__.update(fmt.__dict__, blanked=values, box=BOXES[fmt.name])
    return blanks


# --- the figure ------------------------------------------------------------------------------------

class FigureBox(sp.Symbol):
    """An answer box where a figure would show a value: its name is the text box (Mermaid, the
    graph's text), its LaTeX the framed one. A symbol, so that the figures draw it as they draw a
    symbolic value, and no figure module needs to know about sheets."""

    def _latex(self, printer) -> str:
        return FIGURE_BOXES["tex"]


def figure_solution(solution: Solution, sheet: str | None, values: frozenset[sp.Expr]) -> Solution:
    """The solution the figure is drawn from: on a question sheet without its computed values and
    gradients (the given ones stay), on a blanks sheet with the blanked values boxed."""
    if sheet == "question":
        def keep(value, given):
            return value if given else None
    elif sheet == "blanks":
        box = FigureBox(FIGURE_BOXES["md"])

        def keep(value, given):
            return box if not given and (value in values or -value in values) else value
    else:
        return solution
    return _masked(solution, keep)


def _masked(solution: Solution, keep: Callable[[sp.Expr, bool], sp.Expr | None]) -> Solution:
    first = solution.examples[0]
    forward = {n: replace(s, value=keep(s.value, s.given)) for n, s in first.forward.items()}
    gradients = {n: replace(g, value=v) for n, g in solution.gradients.items()
                 if (v := keep(g.value, False)) is not None}
    return replace(solution, examples=[replace(first, forward=forward), *solution.examples[1:]],
                   gradients=gradients)


# --- the words -------------------------------------------------------------------------------------

def sheet_view(solution: Solution, fmt: Format, sheet: str, blank: tuple[Quantity, ...],
               student: Mapping[str, str] | None, answer_digits: int | None = None) -> dict[str, Any]:
    """What a sheet adds to the solution's view: its tasks, its instruction, the student's line,
    and whether the task list stands above the solution (a problem's own tasks, which no part
    answers alone)."""
    problem = solution.problem
    asked = answer_digits or fmt.digits
    digits = f"Give numerical answers to {asked} significant digits."
    if asked < fmt.digits:
        # Rounding every step to the digits asked moves the answers by several units in the last
        # digit (seen on the homework example: up to 6), outside the graders' window.
        digits = (f"Give numerical answers to {asked} significant digits, carrying at least "
                  f"{fmt.digits} through the steps before them.")
    instruction = {
        "question": digits,
        "blanks": f"Fill in each box: {_listed([_quantity(fmt, problem, q) for q in blank])}. {digits}",
        "solution": None,
    }[sheet]
    return {
        "kind": sheet,
        "tasks": [{"label": f"({t.label})", "text": task_text(t, solution, fmt)} for t in tasks_of(problem)],
        "tasks_on_top": sheet != "question" and problem.tasks is not None,
        "instruction": instruction,
        "student": _student(fmt, student, sheet),
        "data": _data(solution, fmt) if sheet == "question" else None,
    }


def _student(fmt: Format, student: Mapping[str, str] | None, sheet: str) -> dict[str, str] | None:
    """The name and ID filled in, or lines to write them on (a sheet handed to students); a
    solution sheet without a student has none, and neither has a sheet for `{}` (no one: a quiz
    online, which knows who answers)."""
    if student is not None and not student:
        return None
    if student is None:
        return None if sheet == "solution" else {"name": None, "id": None, "seed": None}
    return {key: fmt.prose(student[key]) if student.get(key) else None for key in STUDENT_KEYS}


def _data(solution: Solution, fmt: Format) -> dict[str, Any] | None:
    """A data problem's examples of the batch the tasks are about, with their given values."""
    data = solution.problem.data
    if data is None:
        return None
    return {"description": fmt.prose(data.describe()),
            "rows": [{"example": str(e.index + 1),
                      "inputs": ", ".join(fmt.equals_in_text(fmt.symbol(n), v) for n, v in e.inputs.items())}
                     for e in solution.examples]}


def task_text(task: Task, solution: Solution, fmt: Format) -> str:
    """A task in words, its mathematics in the format's notation: "Compute ∂E/∂w5 and ∂E/∂w1."."""
    if task.kind == "custom":
        return fmt.text_with_math(task.text or "")
    problem = solution.problem
    data = problem.data
    loss = fmt.math(fmt.symbol(problem.loss))
    batch_loss = f"the batch loss {loss} ({data.reduction} over the batch)" if data else f"the loss {loss}"
    if task.kind == "forward":
        numbers = [str(e.index + 1) for e in solution.examples]
        examples = "" if data is None else \
            f" for example{'s' if len(numbers) > 1 else ''} {_listed(numbers)}"
        return f"Compute the forward pass{examples} and {batch_loss}."
    if task.kind == "gradients":
        return f"Compute {_listed([_quantity(fmt, problem, q) for q in task.answers])}."
    updated = [fmt.math(fmt.symbol(q.name)) for q in task.answers if q.kind == UPDATED]
    after = [_quantity(fmt, problem, q) for q in task.answers if q.kind == AFTER]
    eta = fmt.math(f"{'η' if fmt.name == 'txt' else fmt.symbol('eta')} = {fmt.inside(problem.learning_rate)}")
    text = f"Update {_listed(updated)} by one step of gradient descent with {eta}"
    if not after:
        return text + "."
    loss_after = f"the batch loss {after[0]}" if data else f"the loss {after[0]}"
    return text + f", and compute {loss_after} after the update."


def _quantity(fmt: Format, problem, q: Quantity) -> str:
    """A quantity as mathematics in running text; plain text writes ∂ and ⁺ as a reader would."""
    txt = fmt.name == "txt"
    if q.kind == GRADIENT:
        text = f"∂{problem.loss}/∂{q.name}" if txt else fmt.partial_in_line(problem.loss, q.name)
    elif q.kind in (UPDATED, AFTER):
        text = f"{q.name}⁺" if txt else fmt.updated(q.name)
    else:
        text = fmt.symbol(q.name)
    if q.example is not None and problem.data is not None and len(problem.data.batch(0)) > 1:
        return f"{fmt.math(text)} of example {q.example + 1}"
    return fmt.math(text)


def _listed(items: list[str]) -> str:
    """a, b and c."""
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
