"""The JSON answer key of a Solution: every value as an exact SymPy string and a correctly
rounded decimal."""

from __future__ import annotations

import dataclasses
from typing import Any

import sympy as sp

from ..arithmetic import numeric
from ..engine import teaching
from ..engine.solution import Solution
from ..engine.training import Run
from ..model.steps import ChainStep, ForwardStep, Gradient, SumStep
from .formats import exact_and_decimal
from .printers import text


def _forward_dict(forward: dict[str, ForwardStep]) -> dict[str, Any]:
    return {name: {"expr": text(step.definition), **exact_and_decimal(step.value), "given": step.given}
            for name, step in forward.items()}


def _gradients_dict(gradients: dict[str, Gradient], names: list[str]) -> dict[str, Any]:
    return {name: {"symbolic": None if g.general is None else text(g.general), **exact_and_decimal(g.value)}
            for name, g in ((n, gradients[n]) for n in names if n in gradients)}


def _add_run(key: dict[str, Any], run: Run) -> None:
    """A run of many steps: its history, and the state after its last update. `updated` and
    `after_update` keep describing the first update, the one the steps show."""
    final: dict[str, Any] = {
        "loss": exact_and_decimal(run.history[-1]),
        "parameters": {n: exact_and_decimal(v) for n, v in run.parameters[-1].items()},
    }
    if run.final_nodes is not None:
        final["nodes"] = {n: exact_and_decimal(v) for n, v in run.final_nodes.items()}
    key["run"] = {"steps": run.steps, "epochs": run.epochs, "exact": run.exact,
                  "working_precision_bits": None if run.exact else run.bits,
                  "stopped_decreasing": run.stopped_decreasing,
                  "change_too_small_to_tell": run.too_small_to_tell, "final": final}
    key["history"] = [numeric.decimal_string(v) for v in run.history]


def _step_dict(step: ChainStep | SumStep) -> dict[str, Any]:
    kind = {ChainStep: "chain", SumStep: "sum"}[type(step)]
    result: dict[str, Any] = {"kind": kind}
    for field in dataclasses.fields(step):
        value = getattr(step, field.name)
        if field.name == "branches":
            value = [{"kind": b.kind, "argument": text(b.argument), "value": _maybe_str(b.value),
                      "outcome": _maybe_str(b.outcome), "source": b.source} for b in value]
        elif field.name == "reduction":
            value = None if value is None else {
                "reduced": text(value.reduced), "collected": _maybe_str(value.collected),
                "targets_summing_to_1": list(value.targets)}
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, sp.Basic):
            value = text(value)
        result[field.name] = value
    return result


def _maybe_str(value: sp.Basic | None) -> str | None:
    return None if value is None else text(value)


def gradients_only(problem, values: dict, kink: sp.Expr) -> dict[str, Any]:
    """The answer key's gradients alone (Problem.gradients: no steps, no forward pass), each exact
    where rational and its decimal to DECIMAL_DIGITS digits."""
    return {"title": problem.title, "loss": problem.loss, "kink": text(kink),
            "gradients": {name: exact_and_decimal(value) for name, value in values.items()}}


def build(solution: Solution, gradients: str | list[str] | None = None) -> dict[str, Any]:
    """The JSON answer key: every value as an exact SymPy string and a decimal string. Its
    gradients are those the worked solution derives (engine/teaching.py), in the same order: the
    asked ones (`gradients`, else the problem's, else the parameters') and the nodes' they need;
    "all" gives every one."""
    problem = solution.problem
    plan = teaching.plan(problem.graph, problem.loss, solution.steps, problem.parameters, problem.values,
                         gradients=gradients if gradients is not None else problem.asked_gradients)
    names = list(plan.order)
    key: dict[str, Any] = {
        "title": problem.title,
        "loss": problem.loss,
        "learning_rate": None if problem.learning_rate is None else text(problem.learning_rate),
        "kink": text(solution.kink),
    }
    if problem.data is None:
        key["forward"] = _forward_dict(solution.forward)
    else:
        key["reduction"] = problem.data.reduction
        key["examples"] = [{"index": e.index,
                            "inputs": {n: exact_and_decimal(v) for n, v in e.inputs.items()},
                            "forward": _forward_dict(e.forward),
                            "gradients": _gradients_dict(e.gradients, names)} for e in solution.examples]
        key["batch_loss"] = exact_and_decimal(solution.batch_loss)
    key["gradients"] = _gradients_dict(solution.gradients, names)
    key["deltas"] = {node: subscript for node, subscript in plan.deltas.items()}
    key["updated"] = {u.parameter: exact_and_decimal(u.new) for u in solution.updates}
    key["after_update"] = {name: exact_and_decimal(value) for name, value in solution.after_update.items()}
    if solution.batch_loss_after is not None:
        key["after_update"]["batch_loss"] = exact_and_decimal(solution.batch_loss_after)
    if solution.run is not None:
        _add_run(key, solution.run)
    key["steps"] = [_step_dict(step) for step in solution.steps]
    return key
