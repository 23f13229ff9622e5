"""A check report as Gradescope's results.json: one test per quantity the tasks ask for (issue 14).

The shape is Gradescope's autograder specification (gradescope/autograder_samples, docs/specs.md,
"Output format"); tests/schemas/gradescope_results.schema.json writes it down and the tests hold
every results.json to it.

- The asked quantities (engine/tasks.py) carry the points, so every student's total is the same:
  an unanswered one is a failed test worth 0 (a student who answers nothing gets 0 of N, not 0 of
  0), and a claim the tasks do not ask for is shown but scores nothing (status only, as the spec
  allows for informational tests), so answering extra intermediate values cannot pad a score.
- A wrong answer's output says what is wrong and names the mistake that reproduces it, never the
  correct value: with `visible` results a student may see it before the due date.
- Outputs are plain text: claims hold `*` and `_` (2*x_n), which Markdown would turn into emphasis.
- No top-level score: Gradescope then sums the tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..check.judge import Report, Verdict
from ..engine.tasks import answers_of, tasks_of
from ..model.problem import Problem
from ..model.quantities import Quantity
from .answers import label

#: Gradescope's visibility settings (docs/specs.md, "Controlling Test Case Visibility").
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
#: Visible by default: the outputs never show a correct value, the named mistake is the feedback
#: the check exists for, and hidden tests would hide the student's total too (docs/specs.md).
DEFAULT_VISIBILITY = "visible"
DEFAULT_POINTS = 1
#: When the marks of tests with each visibility are shown, as the top-level summary says it.
_SHOWN = {"hidden": "to the course staff only", "after_due_date": "after the due date",
          "after_published": "once the grades are published"}


def results(report: Report, points: float = DEFAULT_POINTS,
            visibility: str = DEFAULT_VISIBILITY) -> dict[str, Any]:
    """The results of one submission: the asked quantities in task order, then the claims the
    tasks do not ask for, in the order of the claims file."""
    problem = report.problem
    verdicts = {v.claim.quantity: v for v in report.verdicts}
    file = Path(report.claims_source).name if report.claims_source else "your answers"
    tests, missing, seen = [], [], set()
    for task in tasks_of(problem):
        for index, quantity in enumerate(task.answers, 1):
            if quantity in seen:
                continue            # asked by two tasks: marked once, under the first
            seen.add(quantity)
            verdict = verdicts.pop(quantity, None)
            if verdict is None:
                missing.append(quantity)
            tests.append({
                "name": f"({task.label}) {_name(quantity, problem)}",
                "number": f"{task.label}.{index}",
                "score": points if verdict is not None and verdict.right else 0,
                "max_score": points,
                "status": "passed" if verdict is not None and verdict.right else "failed",
                "output": (_missing(quantity, problem, file) if verdict is None
                           else _judged(verdict, report)),
                "output_format": "text",
                "visibility": visibility,
                "extra_data": _extra(quantity, problem, verdict),
            })
    for index, verdict in enumerate(verdicts.values(), 1):
        quantity = verdict.claim.quantity
        tests.append({
            "name": f"{_name(quantity, problem)}, not asked for",
            "number": f"extra.{index}",
            "status": "passed" if verdict.right else "failed",
            "output": "Not asked for, so worth no points. " + _judged(verdict, report),
            "output_format": "text",
            "visibility": visibility,
            "extra_data": _extra(quantity, problem, verdict),
        })
    asked = [t for t in tests if "max_score" in t]
    read = f"Read {len(report.verdicts)} answer{'s' if len(report.verdicts) != 1 else ''} from {file}."
    if missing:
        read += " No answer for " + ", ".join(_name(q, problem) for q in missing) + "."
    if visibility == "visible":
        right = sum(1 for t in asked if t["status"] == "passed")
        marks = f"{right} of {len(asked)} asked quantities right."
    else:
        marks = f"The marks are shown {_SHOWN[visibility]}."
    return {"output": f"{read}\n{marks}", "output_format": "text", "tests": tests}


def error_results(error: str, problem: Problem | None, points: float = DEFAULT_POINTS) -> dict[str, Any]:
    """Results saying why a submission could not be marked: the student's answers (the problem was
    read) or the course's problem (it was not). One failed test worth every asked quantity's
    points (0 of N, not 0 of 0), always visible, since it must be put right before anything else."""
    if problem is None:
        message = (f"Your answers could not be marked: the problem could not be read ({error}). "
                   "This is not your fault: please tell the course staff.")
    else:
        message = f"Your answers could not be read: {error}"
    test = {"name": "Your submission", "score": 0,
            "max_score": points * len(answers_of(problem)) if problem is not None else 0,
            "status": "failed", "output": message, "output_format": "text", "visibility": "visible"}
    return {"output": message, "output_format": "text", "tests": [test]}


def render(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def _name(quantity: Quantity, problem: Problem) -> str:
    """The quantity as the sheet writes it and as answers.yaml keys it: ∂E/∂w₅ (dE/dw5)."""
    key = quantity.key(problem.loss)
    shown = label(quantity, problem.loss)
    return shown if shown == key else f"{shown} ({key})"


def _missing(quantity: Quantity, problem: Problem, file: str) -> str:
    key = quantity.key(problem.loss)
    return (f"No answer given for {label(quantity, problem.loss)}: add a line such as\n"
            f"    {key}: 0.1234\nto {file} with your value.")


def _judged(v: Verdict, report: Report) -> str:
    """Right, or what is wrong: the named mistake and the wrong answers it follows from, without
    the correct value."""
    if v.right:
        return f"Right: {v.claim.text}."
    lines = [f"Your value {v.claim.text} is wrong ({_precision(v, report)})."]
    d = v.diagnosis
    if d is not None:
        lines.append(f"Named mistake, {d.title}: your value is what you get with {d.detail}.")
    elif not v.follows_from:
        lines.append("No common mistake reproduces it: recompute it step by step.")
    if v.follows_from:
        lines.append(f"It follows from your wrong {', '.join(v.follows_from)}: recomputed from the "
                     "value you gave there, it comes out as yours. Put that right first.")
    elif v.wrong_upstream:
        lines.append(f"It is computed from your wrong {', '.join(v.wrong_upstream)}, but those "
                     "do not explain it: it is wrong in its own step too.")
    return "\n".join(lines)


def _precision(v: Verdict, report: Report) -> str:
    if v.claim.is_formula:
        return "a formula is judged as a formula, not only at these values"
    if report.tolerance is not None:
        return f"judged {report.tolerance}"
    if v.claim.places is None:
        return "an exact value is judged exactly"
    return f"judged to the {v.claim.places} decimal places you wrote"


def _extra(quantity: Quantity, problem: Problem, v: Verdict | None) -> dict[str, Any]:
    """What a program reading the results back needs (Gradescope stores it, students see none)."""
    return {"key": quantity.key(problem.loss),
            "claimed": None if v is None else v.claim.text,
            "mistake": None if v is None or v.diagnosis is None else v.diagnosis.mistake,
            "follows_from": [] if v is None else list(v.follows_from)}
