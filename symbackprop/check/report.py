"""The check report, as text, Markdown or JSON: what `symbackprop check PROBLEM CLAIMS` writes.

The judging is judge.py's; this module only lays the report out: `report_view` turns it into
strings written by a Format (printing/formats.py) and the step printer (printing/equations.py),
which `templates/check.{txt,md}.j2` arrange, and `report_records` into the JSON records, whose
exit status (0 all right, 1 any wrong, 2 bad input) an autograder can use.
"""

from __future__ import annotations

import json
import re
from typing import Any

import sympy as sp

from ..engine.answers import FORWARD, GRADIENT
from ..errors import ProblemError
from ..printing.equations import Equation, StepPrinter, equation
from ..printing.formats import (
    Format,
    MarkdownFormat,
    decimal_or_formula,
    exact_and_decimal,
)
from ..printing.rendering import fill
from .judge import AfterUpdateStep, BatchStep, ExampleStep, Report, Verdict

CHECK_FORMATS = ("txt", "md", "json")
#: The exit status when any claim is wrong (0: all right, 2: bad input), said in the JSON report too.
WRONG_EXIT = 1
#: Significant digits of the decimals in the steps; the correct value gets more (see _value_digits).
STEP_DIGITS = 6


def render_report(report: Report, fmt: str = "txt") -> str:
    """The report as txt, md or json."""
    if fmt == "json":
        return json.dumps(report_records(report), indent=2, ensure_ascii=False) + "\n"
    if fmt not in ("txt", "md"):
        raise ProblemError(f"unknown format '{fmt}'; use one of " + ", ".join(CHECK_FORMATS), key="format")
    return fill(f"check.{fmt}.j2", report_view(report, MarkdownFormat if fmt == "md" else Format))


# --- the report as strings, for the templates ----------------------------------------------------

def report_view(report: Report, format_class: type[Format]) -> dict[str, Any]:
    steps_format = format_class.of(report.problem, STEP_DIGITS)
    wrong = [v for v in report.verdicts if not v.right]
    total = len(report.verdicts)
    if not wrong:
        summary = f"All {total} claims are right." if total > 1 else "The claim is right."
    else:
        summary = f"{total - len(wrong)} of {total} claims are right; {len(wrong)} " \
                  f"{'is' if len(wrong) == 1 else 'are'} wrong."
    rows = [_row(v, report, format_class.of(report.problem, _value_digits(v))) for v in report.verdicts]
    width = max(len(f"{r['label']} = {r['text']}") for r in rows)
    return {
        # File names go into code spans in Markdown, where escaping would show; only ` must go.
        "problem": (report.problem.source or "the problem").replace("`", "'"),
        "claims": (report.claims_source or "the claims").replace("`", "'"),
        "title": steps_format.text_with_math(report.problem.title) if report.problem.title else None,
        "summary": summary,
        "rows": rows,
        "width": width,
        "wrong": [dict(row, steps=_steps(v.steps, report, steps_format))
                  for row, v in zip(rows, report.verdicts) if not v.right],
    }


def _row(v: Verdict, report: Report, f: Format) -> dict[str, Any]:
    loss = report.problem.loss
    label = _label(v, loss, f)
    claimed = [(f.eq, f.expr(v.claimed))] if v.claim.is_formula and v.claimed != v.claim.value else []
    return {
        "right": v.right,
        "label": label,
        "text": v.claim.text,
        "claimed": equation(label, claimed) if claimed else None,
        "correct": equation(label, f.value_chain(v.correct)),
        "correct_value": _chain_text(f.value_chain(v.correct), f),
        "difference": _difference(v.difference, f),
        "precision": _precision(v, report, f),
        "diagnosis": _diagnosis(v, f),
        "cause": _cause(v, f),
    }


def _chain_text(chain: list[tuple[str, str]], f: Format) -> str:
    """A value chain without its left side: 'sigmoid(151/400) ≈ 0.5933', '≈ 0.2910'."""
    (relation, first), *rest = chain
    head = first if relation == f.eq else f"{relation} {first}"
    return " ".join([head, *(f"{r} {t}" for r, t in rest)])


def _label(v: Verdict, loss: str, f: Format) -> str:
    quantity = v.claim.quantity
    kind, name = quantity.kind, quantity.name
    label = (f.partial(loss, name) if kind == GRADIENT else f.symbol(name) if kind == FORWARD
             else f.updated(name))
    return label if quantity.example is None else f"{label}[{quantity.example + 1}]"


def _value_digits(v: Verdict) -> int:
    """Enough significant digits to show where the claim and the correct value part."""
    digits = len(re.sub(r"[^0-9]", "", v.claim.text.split("e")[0].split("E")[0]).lstrip("0"))
    return max(12, digits + 3)


def _difference(difference: sp.Expr, f: Format) -> str:
    """claimed - correct to 3 significant digits, with its sign: +1.5e-7, 0 when equal."""
    if not difference.is_number:
        return f.math(f.expr(difference))
    return f.math("0" if difference.is_zero else f.signed(difference, 3))


def _precision(v: Verdict, report: Report, f: Format) -> str:
    claim = v.claim
    if claim.is_formula:
        return ("a formula: right when it is equivalent as a formula (the names it uses vary), "
                "not only equal at these values")
    tolerance = report.tolerance
    if tolerance is not None and tolerance.digits is not None:
        return f"judged {tolerance}"
    if tolerance is not None:
        return f"judged by the relative tolerance {f.math(f.decimal(tolerance.relative))}"
    if claim.places is None:
        return "an exact value: right only when equal"
    half = f.times_ten_to("5", -claim.places - 1)                   # 5e-10 for nine places
    places = f"{claim.places} decimal place{'s' if claim.places != 1 else ''}"
    return f"{places} claimed, so right within {f.math(f.plus_minus + half)}"


def _diagnosis(v: Verdict, f: Format) -> str | None:
    if v.right:
        return None
    if v.diagnosis is None:
        return "no known mistake reproduces this value"
    d = v.diagnosis
    return f"{d.title}: {d.detail} gives {f.number(d.value)}"


def _cause(v: Verdict, f: Format) -> str | None:
    if v.right:
        return None

    def listed(keys):
        return ", ".join(f.code(k) for k in keys)
    if v.follows_from:
        return (f"follows from the wrong {listed(v.follows_from)}: recomputed from the value "
                "claimed there, it comes out as claimed here")
    if v.wrong_upstream and v.claim.is_formula:
        # A formula is judged as a formula, not recomputed from other claims' values.
        return (f"a root cause: a wrong formula, judged as a formula, separately from the wrong "
                f"{listed(v.wrong_upstream)} above it")
    if v.wrong_upstream:
        return (f"a root cause: it is computed from the wrong {listed(v.wrong_upstream)}, but "
                "recomputed from the values claimed there it does not come out as claimed here")
    return "a root cause: it depends on no other wrong claim"


# --- the steps that lead to the correct value -------------------------------------------------

class CheckStepPrinter(StepPrinter):
    """The solution's step printer, plus the check's own steps: a batch's value from its examples',
    a step of one example's pass, a step of the forward pass after the update."""

    def __init__(self, fmt: Format, report: Report):
        # The check lists every step from the loss: a chain step's upstream stands just above it.
        super().__init__(fmt, report.problem.loss, report.solution.steps, recall_upstream=False)
        self.report = report

    def _print_BatchStep(self, step: BatchStep) -> list[Equation]:
        """E = (E[1] + E[2])/2 = ... : the batch's value from the examples' (mean or sum)."""
        f, q = self.f, step.quantity
        label = f.partial(self.loss, q.name) if q.kind == GRADIENT else f.symbol(q.name)
        total = " + ".join(f"{label}[{n}]" for n, _ in step.terms)
        values = " + ".join(f.bracket(f.factor(v)) for _, v in step.terms)
        if step.reduction == "mean":
            count = len(step.terms)
            total, values = f"({total})/{count}", f"({values})/{count}"
        return [equation(label, (f.eq, total), (f.eq, values), f.value_chain(step.value))]

    def _print_ExampleStep(self, step: ExampleStep) -> list[Equation]:
        """A step of one example's pass, its left side marked with the example: h1[3] = ..."""
        example = next(e for e in self.report.solution.examples if e.index + 1 == step.number)
        printer = StepPrinter(self.f, self.loss, example.steps, recall_upstream=False)
        return [{**e, "lhs": f"{e['lhs']}[{step.number}]"} for e in printer.equations(step.step)]

    def _print_AfterUpdateStep(self, step: AfterUpdateStep) -> list[Equation]:
        """A node in the forward pass after the update: y+ = ..."""
        return [{**e, "lhs": self.f.updated(step.step.node)} for e in self.equations(step.step)]


def _steps(steps: tuple, report: Report, f: Format) -> list[Equation]:
    return CheckStepPrinter(f, report).all_equations(steps)


# --- the report as JSON records ------------------------------------------------------------------

def report_records(report: Report) -> dict[str, Any]:
    """A summary record (the counts and the overall verdict) and one record per claim, in the order
    of the claims file."""
    f = Format.of(report.problem, STEP_DIGITS)
    records = []
    for v in report.verdicts:
        d = v.diagnosis
        q = v.claim.quantity
        records.append({
            "claim": v.claim.key,
            "kind": q.kind,
            "name": q.name,
            "example": None if q.example is None else q.example + 1,
            "right": v.right,
            "claimed": v.claim.text,
            "places": v.claim.places,
            "correct": exact_and_decimal(v.correct),
            "difference": decimal_or_formula(v.difference),
            "diagnosis": None if d is None else {"mistake": d.mistake, "title": d.title,
                                                 "detail": d.detail, "value": decimal_or_formula(d.value)},
            "root_cause": v.root_cause,
            "follows_from": list(v.follows_from),
            "wrong_upstream": list(v.wrong_upstream),
            "steps": [_equation_text(e) for e in _steps(v.steps, report, f)],
        })
    summary = {**report.counts(), "all_right": report.all_right,
               "verdict": "right" if report.all_right else "wrong",
               "exit_status": 0 if report.all_right else WRONG_EXIT}
    return {"problem": report.problem.source, "claims_file": report.claims_source,
            "summary": summary, "claims": records}


def _equation_text(e: Equation) -> str:
    return e["lhs"] + "".join(f" {relation} {text}" for relation, text in e["rhs"])
