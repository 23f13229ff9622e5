"""The homework keys of a problem read and checked (issue 14): `tasks:`, `blank:`, `vary:` and
`require:`. Each is checked against the problem it belongs to, so an error names its key."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterable, Mapping

import sympy as sp

from ..errors import ProblemError
from ..model.homework import (
    CONDITIONS,
    FLAG_CONDITIONS,
    Draw,
    Task,
    decimal_places,
    decimal_text,
)
from ..model.problem import Problem
from ..model.quantities import Quantity
from .expressions import parse_number
from .quantities import parse_key
from .texts import paragraph

#: At most this many values a `vary:` grid may hold: a grid is listed, not sampled lazily.
MAX_CHOICES = 10_000
#: At most this many tasks: (a) to (z).
MAX_TASKS = 26


def tasks(raw: Any, problem: Problem) -> tuple[Task, ...] | None:
    """`tasks:`, a list of the problem's own tasks, each a text or {task: text, answers: [keys]};
    None where the problem has none (the sheets generate them)."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise ProblemError("tasks: must be a list of tasks, each a text or {task: text, answers: "
                           "[dE/dw5, w5+]}", key="tasks")
    if len(raw) > MAX_TASKS:
        raise ProblemError(f"tasks: at most {MAX_TASKS} tasks, (a) to (z)", key="tasks")
    result = []
    for index, item in enumerate(raw):
        key = f"tasks.{index}"
        text, answers = (item, None) if isinstance(item, str) else _task_mapping(item, key)
        result.append(Task(chr(ord("a") + index), "custom", quantities(answers, problem, f"{key}.answers"),
                           _task_text(text, key)))
    return tuple(result)


def _task_mapping(item: Any, key: str) -> tuple[Any, Any]:
    if not isinstance(item, Mapping) or "task" not in item or set(item) - {"task", "answers"}:
        raise ProblemError("a task is a text, or a mapping with task: (its text) and answers: (the "
                           "quantities that answer it)", key=key)
    return item["task"], item.get("answers")


def _task_text(text: Any, key: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ProblemError("a task's text must be non-empty text", key=key)
    return paragraph(text, key)


def quantities(raw: Any, problem: Problem, key: str) -> tuple[Quantity, ...]:
    """A list of quantity keys (dE/dw5, w5+, E+) or one of them, or "dE/dw5, w5+" as the command
    line writes it."""
    if raw is None:
        return ()
    keys = [k.strip() for k in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(keys, list):
        raise ProblemError("must be a list of quantities, for example [dE/dw5, w5+]", key=key)
    result: list[Quantity] = []
    for index, text in enumerate(keys):
        where = key if key.startswith("--") else f"{key}.{index}"
        if not isinstance(text, str):
            raise ProblemError(f"{text!r} is not a quantity, for example dE/dw5 or w5+", key=where)
        try:
            quantity = parse_key(text, problem)
        except ProblemError as exc:
            exc.key = where
            raise
        if quantity in result:
            raise ProblemError(f"{text} is listed twice", key=where)
        result.append(quantity)
    return tuple(result)


def vary(raw: Any, problem: Problem, written: Iterable[str]) -> tuple[Draw, ...]:
    """`vary:`: each name under values: mapped to a list of numbers or a grid {from, to, step}.
    `written` are the names the file itself lists under values: (not those layers: sets), since
    a variant's problem file is the file with those values replaced."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not raw:
        raise ProblemError("vary: must map names under values: to a list of numbers or a grid "
                           "{from: 0.1, to: 0.9, step: 0.05}", key="vary")
    draws = []
    for name, spec in raw.items():
        key = f"vary.{name}"
        if name not in written:
            raise ProblemError(f"'{name}' has no value under values:, so it cannot vary (vary: "
                               "changes given values)", key=key)
        if problem.data is not None and name in problem.data.symbols:
            raise ProblemError(f"'{name}' is given per example under data:", key=key)
        draws.append(Draw(name, _grid(spec, key) if isinstance(spec, Mapping) else _listed(spec, key)))
    return tuple(draws)


def _listed(spec: Any, key: str) -> tuple[str, ...]:
    if not isinstance(spec, list) or not spec:
        raise ProblemError("must be a list of numbers, [0.05, 0.1, 0.2], or a grid {from: 0.1, to: "
                           "0.9, step: 0.05}", key=key)
    texts = tuple(_decimal_text(value, f"{key}.{i}") for i, value in enumerate(spec))
    if len(set(map(Fraction, texts))) != len(texts):
        raise ProblemError("lists a value twice", key=key)
    return texts


def _grid(spec: Mapping, key: str) -> tuple[str, ...]:
    if set(spec) != {"from", "to", "step"}:
        raise ProblemError("a grid has exactly from:, to: and step:, for example {from: 0.1, to: "
                           "0.9, step: 0.05}", key=key)
    low, high, step = (Fraction(_decimal_text(spec[k], f"{key}.{k}")) for k in ("from", "to", "step"))
    if step <= 0:
        raise ProblemError("step: must be greater than 0", key=f"{key}.step")
    if high < low:
        raise ProblemError("to: must be at least from:", key=f"{key}.to")
    count = int((high - low) / step) + 1
    if count > MAX_CHOICES:
        raise ProblemError(f"the grid holds {count} values; at most {MAX_CHOICES}", key=key)
    return tuple(decimal_text(low + k * step) for k in range(count))


def _decimal_text(value: Any, key: str) -> str:
    """A number as a terminating decimal's text: a drawn value is written into the variant's
    problem file and onto the sheet, so it must be a number a student copies exactly."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ProblemError(f"{value!r} is not a number", key=key)
    try:
        number = parse_number(value)
    except ProblemError as exc:
        exc.key = key
        raise
    if not isinstance(number, sp.Rational) or decimal_places(Fraction(str(number))) is None:
        raise ProblemError(f"{value} is not a decimal number (a drawn value is copied onto a "
                           "sheet, so it must terminate)", key=key)
    return str(value).strip() if isinstance(value, str) else str(value)


def require(raw: Any, problem: Problem) -> dict[str, Any]:
    """`require:`: a list of condition names, or a mapping of names to their arguments."""
    if raw is None:
        return {}
    if isinstance(raw, list):
        raw = {name: True for name in raw} if all(isinstance(n, str) for n in raw) else None
    if not isinstance(raw, Mapping):
        raise ProblemError("require: must list conditions, [relu_units_active, loss_decreases], or "
                           "map them to their arguments, {gradients_at_least: 0.001}", key="require")
    conditions: dict[str, Any] = {}
    for name, argument in raw.items():
        key = f"require.{name}"
        if name not in CONDITIONS:
            raise ProblemError(f"unknown condition '{name}'; conditions are: "
                               + "; ".join(f"{n} ({what})" for n, what in CONDITIONS.items()), key=key)
        if name in FLAG_CONDITIONS:
            if not isinstance(argument, bool):
                raise ProblemError("takes true or false", key=key)
            if name == "loss_decreases" and argument and problem.learning_rate is None:
                raise ProblemError("needs a learning_rate: without one there is no update", key=key)
            if argument:
                conditions[name] = True
        elif name == "max_decimals":
            if isinstance(argument, bool) or not isinstance(argument, int) or argument < 0:
                raise ProblemError("takes a whole number of decimal places, for example 4", key=key)
            conditions[name] = argument
        else:
            if isinstance(argument, bool) or not isinstance(argument, (int, str)):
                raise ProblemError("takes a number, for example 0.001", key=key)
            number = parse_number(argument)
            if not isinstance(number, sp.Rational) or number <= 0:
                raise ProblemError("takes a number greater than 0, for example 0.001", key=key)
            conditions[name] = number
    return conditions
