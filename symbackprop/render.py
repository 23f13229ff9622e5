"""Render a Solution through a Jinja2 template. Python writes every piece of mathematics; templates lay out.

`view()` turns a Solution into plain data (strings, lists, dicts) using a printer for the target format
(here: plain text), and `render()` passes that data to `solution.<format>.j2`. A course can restyle
its solutions by pointing `template_dir` at a copy of the templates.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import sympy as sp

from . import numeric, printers
from .errors import ProblemError
from .rules import RULES_BY_KEY
from .solution import Solution
from .steps import Branch, ChainStep, SumStep

FORMATS = ("txt", "json")
DEFAULT_DIGITS = 6


def template_dirs() -> list[Path]:
    """Where the shipped templates are: inside the installed package, or the source tree's templates/."""
    packaged = Path(str(resources.files("symbackprop"))) / "templates"
    source = Path(__file__).resolve().parent.parent / "templates"
    return [d for d in (packaged, source) if d.is_dir()]


def environment(template_dir: str | Path | None = None) -> jinja2.Environment:
    search = ([Path(template_dir)] if template_dir else []) + template_dirs()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in search]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["eq"] = equals
    return env


def equals(number: str) -> str:
    """'= 2/5 (= 0.4)' for an exact value, '≈ 0.3384' for one shown only as a decimal."""
    return number if number.startswith("≈") else f"= {number}"


def render(solution: Solution, format: str = "txt", *, digits: int = DEFAULT_DIGITS,
           template_dir: str | Path | None = None) -> str:
    if format == "json":
        return json.dumps(solution.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if format not in FORMATS:
        raise ProblemError(f"unknown format '{format}'; use one of " + ", ".join(FORMATS))
    printer = TextPrinter(digits)
    try:
        template = environment(template_dir).get_template(f"solution.{format}.j2")
    except jinja2.TemplateNotFound as exc:
        raise ProblemError(f"template {exc.name} not found in {template_dir or 'the shipped templates'}",
                           key="--template-dir") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ProblemError(f"template error: {exc.message}", source=exc.filename, line=exc.lineno) from None
    return template.render(**view(solution, printer))


class TextPrinter:
    """Plain-text mathematics: SymPy's own string form, numbers exact with a rounded decimal beside."""

    def __init__(self, digits: int):
        self.digits = digits

    def expr(self, e: sp.Basic) -> str:
        return printers.text(e)

    def substituted(self, e: sp.Basic, values: dict[str, sp.Expr]) -> str:
        """e with each named input written as its value, keeping e's own shape: (3 - 2)**2."""
        return printers.SubstitutingStrPrinter({n: self.factor(v, bracket_fractions=True)
                                        for n, v in values.items()}).doprint(e)

    def partial(self, top: str, bottom: str) -> str:
        return f"d{top}/d{bottom}"

    def times(self, *factors: str) -> str:
        return " * ".join(_parenthesised(f) for f in factors)

    def factor(self, value: sp.Expr, bracket_fractions: bool = False) -> str:
        """A value inside a product: its exact form where short, else its decimal; bracketed if needed."""
        exact = numeric.exact_string(value)
        text = self.expr(value) if exact is not None and len(exact) <= 40 else self.decimal(value)
        if bracket_fractions and re.fullmatch(r"\d+/\d+", text):
            return f"({text})"
        return _parenthesised(text)

    def number(self, value: sp.Expr) -> str:
        """3, 2/5 (= 0.4), sigmoid(1/2) (≈ 0.622459), ≈ 0.731059 (only a decimal), 2*x_n (symbolic)."""
        if not value.is_number or value.is_Integer:
            return self.expr(value)
        decimal = self.decimal(value)
        exact = numeric.exact_string(value)
        if exact is None:
            return f"≈ {decimal}"
        if len(exact) > 40:
            return f"≈ {decimal}"
        sign = "=" if value.is_Rational and _terminates(value, self.digits) else "≈"
        return f"{exact} ({sign} {decimal})"

    def decimal(self, value: sp.Expr) -> str:
        text = str(sp.N(value, self.digits))
        if "e" not in text and "." in text:
            text = text.rstrip("0").rstrip(".")
        return text


def view(solution: Solution, printer: TextPrinter) -> dict[str, Any]:
    """Everything a template needs, as strings and lists: no SymPy object reaches a template."""
    problem = solution.problem
    loss = problem.loss
    p = printer
    forward = []
    for step in solution.forward.values():
        forward.append({
            "name": step.node,
            "definition": p.expr(step.definition),
            "substituted": p.substituted(step.definition, dict(step.inputs)),
            "value": p.number(step.value),
            "given": step.given,
            "generated": problem.graph.nodes[step.node].generated,
            "computed": None if step.computed is None else p.number(step.computed),
            "agrees": step.computed is None or not step.computed.is_number
                      or sp.simplify(step.computed - step.value) == 0,
        })
    backward = [_backward_entry(step, solution, p) for step in solution.steps]
    gradients = [{"lhs": p.partial(loss, name),
                  "general": None if g.general is None else p.expr(g.general),
                  "value": p.number(g.value)}
                 for name, g in solution.gradients.items()]
    updates = [{
        "parameter": u.parameter,
        "old": p.number(u.old),
        "eta": p.number(u.learning_rate),
        "gradient": p.number(u.gradient),
        "substituted": f"{p.factor(u.old)} - {p.times(p.factor(u.learning_rate), p.factor(u.gradient))}",
        "new": p.number(u.new),
        "direction": _direction(u.gradient),
    } for u in solution.updates]
    after = solution.after_update
    return {
        "title": problem.title or "Backpropagation",
        "notes": list(problem.notes),
        "loss": loss,
        "nodes": [{"name": n, "definition": p.expr(e)} for n, e in problem.nodes.items()],
        "gates": problem.gates,
        "values": [{"name": n, "value": p.number(v)} for n, v in problem.values.items()],
        "given": [{"name": n, "value": p.number(v)} for n, v in problem.given.items()],
        "parameters": list(problem.parameters),
        "learning_rate": None if problem.learning_rate is None else p.number(problem.learning_rate),
        "kink": p.number(solution.kink),
        "unknowns": [s for s in problem.graph.symbols if s not in problem.values],
        "forward": forward,
        "loss_value": p.number(solution.forward[loss].value),
        "backward": backward,
        "gradients": gradients,
        "updates": updates,
        "after_update": [{"name": n, "value": p.number(v)} for n, v in after.items()],
        "loss_after": p.number(after[loss]) if after else None,
        "loss_change": _loss_change(solution.forward[loss].value, after.get(loss)),
    }


def _backward_entry(step: ChainStep | SumStep, solution: Solution, p: TextPrinter) -> dict[str, Any]:
    loss = solution.problem.loss
    if isinstance(step, SumStep):
        return {
            "kind": "sum",
            "lhs": p.partial(loss, step.target),
            "terms": [f"{p.partial(loss, step.target)} via {via}" for via in step.vias],
            "vias": list(step.vias),
            "general": None if step.general is None else p.expr(step.general),
            "value": p.number(step.value),
        }
    direct = step.via == loss
    return {
        "kind": "chain",
        "direct": direct,
        "lhs": p.partial(loss, step.target),
        "chain": p.times(p.partial(loss, step.via), p.partial(step.via, step.target)),
        "path": len(solution.problem.graph.consumers[step.target]) > 1,
        "via": step.via,
        "definition": p.expr(solution.problem.graph.nodes[step.via].expr),
        "local_lhs": p.partial(step.via, step.target),
        "local": p.expr(step.local),
        "local_value": p.number(step.local_value),
        "upstream_lhs": p.partial(loss, step.via),
        "upstream": None if step.upstream is None else p.expr(step.upstream),
        "upstream_value": p.number(step.upstream_value),
        "reused": step.reused,
        "general": None if step.general is None else p.expr(step.general),
        "substituted": p.times(p.factor(step.upstream_value), p.factor(step.local_value)),
        "value": p.number(step.value),
        "rules": [RULES_BY_KEY[key].gate for key in step.rules],
        "branches": [_branch_sentence(b, solution, p) for b in step.branches],
    }


def _branch_sentence(branch: Branch, solution: Solution, p: TextPrinter) -> str:
    argument = p.expr(branch.argument)
    if branch.value is None:
        return (f"the sign of {argument} is not known from the values, so the step "
                f"Heaviside({argument}) stays in the result")
    sign = "positive" if branch.value > 0 else "negative" if branch.value < 0 else "zero"
    fact = f"{argument} = {p.number(branch.value)}"
    if branch.source != "forward":
        given = solution.forward[branch.source].value
        fact += (f" (the given {branch.source} = {p.expr(solution.problem.graph.nodes[branch.source].expr)} "
                 f"= {p.number(given)} is positive, so the ReLU's input equals it)")
    return f"{fact}: " + _BRANCH_VERDICTS[branch.kind][sign].format(kink=p.number(solution.kink))


#: What the sign of a kink's argument means, per function, in words.
_BRANCH_VERDICTS = {
    "relu": {"positive": "ReLU is active, its slope is 1 and the gradient passes",
             "negative": "ReLU is inactive, its slope is 0 and the gradient is blocked",
             "zero": "ReLU sits exactly at its kink; its slope there is taken as {kink} by convention"},
    "leaky_relu": {"positive": "leaky ReLU is on its slope-1 side",
                   "negative": "leaky ReLU is on its slope-alpha side",
                   "zero": "leaky ReLU sits exactly at its kink (slope alpha there, as PyTorch)"},
    "max": {"positive": "this input is the larger one, so the max gate routes the gradient to it",
            "negative": "this input is not the larger one, so the max gate gives it 0",
            "zero": "the inputs of the max tie; the slope is taken as {kink} by convention"},
    "min": {"positive": "this input is the smaller one, so the min gate routes the gradient to it",
            "negative": "this input is not the smaller one, so the min gate gives it 0",
            "zero": "the inputs of the min tie; the slope is taken as {kink} by convention"},
    "abs": {"positive": "abs has slope +1 here", "negative": "abs has slope -1 here",
            "zero": "abs sits at its kink; its slope there is 0"},
    "step": {"positive": "the step function is 1", "negative": "the step function is 0",
             "zero": "the step function is {kink} at exactly 0 by convention"},
}


def _direction(gradient: sp.Expr) -> str:
    if not gradient.is_number:
        return "the gradient depends on unknown symbols, so the direction of the change does too"
    if gradient > 0:
        return "the gradient is positive, so the weight decreases"
    if gradient < 0:
        return "the gradient is negative, so the weight increases"
    return "the gradient is zero, so the weight does not change"


def _loss_change(before: sp.Expr, after: sp.Expr | None) -> str | None:
    if after is None or not (before.is_number and after.is_number):
        return None
    if after < before:
        return "the loss decreased"
    if after > before:
        return "the loss increased: the learning rate is too large for this step"
    return "the loss did not change"


def _parenthesised(text: str) -> str:
    compound = " + " in text or " - " in text or text.startswith("-")
    return f"({text})" if compound and not text.startswith("(") else text


def _terminates(value: sp.Rational, digits: int) -> bool:
    """True when the fraction's decimal expansion ends within `digits` significant digits."""
    q = int(value.q)
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    if q != 1:
        return False
    return len(str(sp.N(value, digits + 5)).rstrip("0").replace("-", "").replace(".", "").lstrip("0")) <= digits
