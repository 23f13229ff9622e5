"""The JSON answer key of a Solution: every value as an exact SymPy string and a correctly
rounded decimal."""

from __future__ import annotations

import dataclasses
from typing import Any

import sympy as sp

from ..arithmetic import numeric
from ..budget import collection_paused
from ..engine import teaching
from ..engine.solution import Solution
from ..engine.training import Run
from ..model.steps import ChainStep, ForwardStep, Gradient, Steps, SumStep, Through, WeightedInput
from .formats import exact_and_decimal
from .printers import text, weighted_sum_text


class _Numbers:
    """exact_and_decimal, each value written once per answer key: a network's gradients repeat
    their values (every weight into a unit that is off has 0), and rounding one to its decimal is
    the costly part. Each call gets its own dict."""

    def __init__(self):
        self.written: dict[tuple, dict[str, str | None]] = {}

    def __call__(self, value: Any) -> dict[str, str | None]:
        return dict(self.strings(value))

    def strings(self, value: Any) -> dict[str, str | None]:
        """The exact and decimal strings, as exact_and_decimal gives them; not to be changed."""
        try:
            # A rational by its two integers: SymPy's Rational.__hash__ is a method of its own.
            key = (value.p, value.q) if getattr(value, "is_Rational", False) else (type(value), value)
            written = self.written.get(key)
        except TypeError:               # a ball (arb) cannot be a key
            return exact_and_decimal(value)
        if written is None:
            written = self.written[key] = exact_and_decimal(value)
        return written


def _forward_dict(forward: dict[str, ForwardStep], numbers: _Numbers) -> dict[str, Any]:
    return {name: {"expr": _definition_text(step), **numbers.strings(step.value), "given": step.given}
            for name, step in forward.items()}


def _definition_text(step: ForwardStep) -> str:
    """text() of the step's definition; a weighted sum read from text written from its names."""
    terms = step.weighted_sum
    written = None if terms is None else weighted_sum_text(terms)
    return text(step.definition) if written is None else written


def _gradients_dict(gradients: dict[str, Gradient], names: list[str], numbers: _Numbers) -> dict[str, Any]:
    return {name: {"symbolic": None if g.general is None else text(g.general), **numbers.strings(g.value)}
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


#: Each kind of step with its fields' names, read once (dataclasses.fields() per step took a
#: quarter of the steps' time on a network of 52,000 steps).
_STEP_FIELDS = {kind: (word, tuple(field.name for field in dataclasses.fields(kind)))
                for kind, word in ((ChainStep, "chain"), (SumStep, "sum"))}


def _step_dict(step: ChainStep | SumStep) -> dict[str, Any]:
    kind, names = _STEP_FIELDS[type(step)]
    result: dict[str, Any] = {"kind": kind}
    for name in names:
        result[name] = _step_dict_field(name, getattr(step, name))
    return result


def _step_dict_field(name: str, value: Any) -> Any:
    if name == "branches":
        return [{"kind": b.kind, "argument": text(b.argument), "value": _maybe_str(b.value),
                 "outcome": _maybe_str(b.outcome), "source": b.source} for b in value]
    if name == "reduction":
        return None if value is None else {
            "reduced": text(value.reduced), "collected": _maybe_str(value.collected),
            "targets_summing_to_1": list(value.targets)}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, sp.Basic):
        return text(value)
    return value


def _chain_dict(step: ChainStep, written: "_Written") -> dict[str, Any]:
    """_step_dict of a chain step, its fields written out: a dict built at once takes a third of the
    generic loop's time. tests/test_worked_examples.py checks that the two agree, fields and order."""
    return _chain_entry(step.target, step.via, step.rules, written(step.local), written(step.local_value),
                        written(step.upstream), written(step.upstream_value), step.general,
                        written(step.value), step.branches, step.reused, written(step.local_general),
                        step.reduction)


def _weighted_input_dict(entry: WeightedInput, written: "_Written") -> dict[str, Any]:
    """_chain_dict of a step the reverse pass kept as a WeightedInput, without making the step. What
    the steps through one unit share (their Through) is written once for all of them, and a local
    derivative kept as a name is written as it is."""
    target, through, local, local_value, general, value = entry
    upstream, upstream_value = written.through(through)
    return _chain_entry(target, through.via, through.rules, local if type(local) is str else written(local),
                        written(local_value), upstream, upstream_value, general, written(value), (),
                        through.reused, None, None)


def _chain_entry(target, via, rules, local, local_value, upstream, upstream_value, general, value,
                 branches, reused, local_general, reduction) -> dict[str, Any]:
    """A chain step's entry in the answer key, from its fields in ChainStep's order, the values among
    them written already (_Written: each once per key, a network's 52,000 steps having 7,500); a
    step's own general form is its own object, written here."""
    return {"kind": "chain", "target": target, "via": via, "rules": list(rules),
            "local": local, "local_value": local_value,
            "upstream": upstream, "upstream_value": upstream_value,
            "general": None if general is None else text(general), "value": value,
            "branches": _step_dict_field("branches", branches) if branches else [],
            "reused": reused, "local_general": local_general,
            "reduction": None if reduction is None else _step_dict_field("reduction", reduction)}


def _steps_list(steps: Steps) -> list[dict[str, Any]]:
    written = _Written()
    return [_weighted_input_dict(entry, written) if type(entry) is tuple
            else _chain_dict(entry, written) if type(entry) is ChainStep else _step_dict(entry)
            for entry in steps.entries()]


class _Written:
    """A field's value as _step_dict writes it where it is an expression, None, or left as it is;
    each value object written once per answer key, its string then shared: the steps through one
    unit repeat its gradient and each input's value, and 164,000 fresh strings took 9 MiB."""

    def __init__(self):
        #: id of the value -> its string. Ids stay their values' own while the key is built: the
        #: solution holds every step, and the steps their values.
        self.strings: dict[int, Any] = {}
        self.throughs: dict[int, tuple[Any, Any]] = {}

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        written = self.strings.get(id(value))
        if written is None:
            written = self.strings[id(value)] = text(value) if isinstance(value, sp.Basic) else value
        return written

    def through(self, through: Through) -> tuple[Any, Any]:
        """The upstream gradient of a unit's weighted inputs, in general form and its value, written
        once for the unit's hundred or more steps."""
        pair = self.throughs.get(id(through))
        if pair is None:
            upstream = through.upstream
            pair = self.throughs[id(through)] = (self(upstream.general), self(upstream.value))
        return pair


def _maybe_str(value: sp.Basic | None) -> str | None:
    return None if value is None else text(value)


def gradients_only(problem, values: dict, kink: sp.Expr) -> dict[str, Any]:
    """The answer key's gradients alone (Problem.gradients: no steps, no forward pass), each exact
    where rational (null where irrational: its decimal is certified) and its decimal to
    DECIMAL_DIGITS digits; with data, the first batch's, and how its examples' are combined."""
    key = {"title": problem.title, "loss": problem.loss, "kink": text(kink)}
    if problem.data is not None:
        key["reduction"] = problem.data.reduction
    key["gradients"] = {name: exact_and_decimal(value) for name, value in values.items()}
    return key


def build(solution: Solution, gradients: str | list[str] | None = None) -> dict[str, Any]:
    """The JSON answer key: every value as an exact SymPy string and a decimal string. Its
    gradients are those the worked solution derives (engine/teaching.py), in the same order: the
    asked ones (`gradients`, else the problem's, else the parameters') and the nodes' they need;
    "all" gives every one."""
    with collection_paused():
        key = _build(solution, gradients)
        # The steps last, once _build's temporaries (the plan, the numbers written) are freed: the
        # steps' 52,000 dicts of a network are the key's peak.
        key["steps"] = _steps_list(solution.steps)
        return key


def _build(solution: Solution, gradients: str | list[str] | None) -> dict[str, Any]:
    """The answer key but its steps."""
    problem = solution.problem
    numbers = _Numbers()
    plan = teaching.plan(problem.graph, problem.loss, solution.steps, problem.parameters, problem.values,
                         gradients=gradients if gradients is not None else problem.asked_gradients,
                         tables=False)
    names = list(plan.order)
    key: dict[str, Any] = {
        "title": problem.title,
        "loss": problem.loss,
        "learning_rate": None if problem.learning_rate is None else text(problem.learning_rate),
        "kink": text(solution.kink),
    }
    if problem.data is None:
        key["forward"] = _forward_dict(solution.forward, numbers)
    else:
        key["reduction"] = problem.data.reduction
        key["examples"] = [{"index": e.index,
                            "inputs": {n: numbers(v) for n, v in e.inputs.items()},
                            "forward": _forward_dict(e.forward, numbers),
                            "gradients": _gradients_dict(e.gradients, names, numbers)}
                           for e in solution.examples]
        key["batch_loss"] = numbers(solution.batch_loss)
    key["gradients"] = _gradients_dict(solution.gradients, names, numbers)
    key["deltas"] = {node: subscript for node, subscript in plan.deltas.items()}
    key["updated"] = {u.parameter: numbers(u.new) for u in solution.updates}
    key["after_update"] = {name: numbers(value) for name, value in solution.after_update.items()}
    if solution.batch_loss_after is not None:
        key["after_update"]["batch_loss"] = exact_and_decimal(solution.batch_loss_after)
    if solution.run is not None:
        _add_run(key, solution.run)
    return key
