"""A claims file read into Claims: which quantity each key names, and the digits each value claims."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import sympy as sp

from ..arithmetic import numeric
from ..errors import ProblemError
from ..model.problem import Problem
from ..parsing.expressions import parse_expression
from ..parsing.problems import read_text, read_yaml
from .answers import AFTER, FORWARD, GRADIENT, UPDATED, Quantity

_NAME = r"[A-Za-z][A-Za-z0-9_]*"


_GRADIENT_KEY = re.compile(rf"d({_NAME})/d({_NAME})\Z")


_PLUS_KEY = re.compile(rf"({_NAME})\+\Z")


_NAME_KEY = re.compile(rf"{_NAME}\Z")


#: An example's number after a key: E[3], dE/dw1[3].
_EXAMPLE = re.compile(r"(?P<key>.*?)\s*\[\s*(?P<number>[^\]]*?)\s*\]\Z")


#: A decimal as written: digits, a point and/or an exponent (YAML allows _ between digits).
_DECIMAL = re.compile(r"""[+-]? (?P<whole>[0-9_]*) (?:\.(?P<fraction>[0-9_]*))?
                          (?:[eE](?P<exponent>[+-]?[0-9]+))? \Z""", re.VERBOSE)


KEY_FORMS = ("a node (out_h1), d<loss>/d<name> (dE/dw5), <parameter>+ (w5+) or <node>+ (E+) for the "
             "forward pass after the update, with [3] after it for example 3 of a data problem")


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


def load_claims(path: str | Path, problem: Problem) -> list[Claim]:
    """The claims of a YAML file, checked against the problem's names."""
    return loads_claims(read_text(path), problem, str(path))


def loads_claims(text: str, problem: Problem, source: str = "<claims>") -> list[Claim]:
    data, lines = read_yaml(text, source)
    if not isinstance(data, Mapping) or not data:
        raise ProblemError("a claims file must map quantities to values, for example  dE/dw5: 0.08",
                           source=source)
    claims: list[Claim] = []
    seen: dict[Quantity, Claim] = {}
    for raw_key, raw_value in data.items():
        key = str(raw_key)
        try:
            claim = _claim(key, raw_value, problem, lines.get(key))
            earlier = seen.setdefault(claim.quantity, claim)
            if earlier is not claim:
                # `dE / dw5` and `dE/dw5` are one quantity: two answers to it would let one pass.
                raise ProblemError(f"'{key}' names the same quantity as '{earlier.key}' (line "
                                   f"{earlier.line}); give one answer for it")
        except ProblemError as exc:
            exc.key = key
            raise exc.located(source=source, line=lines.get(key)) from None
        claims.append(claim)
    return claims


def _claim(key: str, raw: Any, problem: Problem, line: int | None) -> Claim:
    quantity = parse_key(key, problem)
    text, value, places = _parse_value(raw)
    names = set(problem.graph.nodes) | set(problem.graph.symbols) | set(problem.values)
    unknown = sorted(s.name for s in value.free_symbols if s.name not in names)
    if unknown:
        raise ProblemError(f"the claim uses {', '.join(unknown)}, which the problem does not have")
    if problem.data is not None and quantity.example is None:
        # A batch's value is a function of the parameters: a node or a data symbol has a value per
        # example, and would silently mean example 1's.
        per_example = sorted(s.name for s in value.free_symbols
                             if s.name in problem.graph.nodes or s.name in problem.data.symbols)
        if per_example:
            raise ProblemError(f"the batch's {key} is written with {', '.join(per_example)}, whose "
                               "values differ from example to example; write it with the "
                               f"parameters, or claim one example's value as {key}[1]")
    return Claim(key, quantity, text, value, places, line)


def parse_key(key: str, problem: Problem) -> Quantity:
    """The quantity a claim's key names, or a ProblemError saying why it names none."""
    example = None
    if match := _EXAMPLE.match(key.strip()):
        key, example = match["key"], _example_index(match["number"], problem)
    quantity = _parse_base_key(key, problem)
    return _with_example(quantity, example, problem)


def _example_index(number: str, problem: Problem) -> int:
    """The example [k] names, counting from 1 as the solution's table does, as an index from 0."""
    data = problem.data
    if data is None:
        raise ProblemError(f"[{number}] names an example, but the problem has no data: examples")
    if not re.fullmatch(r"[0-9]{1,6}", number) or not 1 <= int(number) <= len(data.rows):
        raise ProblemError(f"[{number}] is not an example: the data has {len(data.rows)} examples, "
                           f"numbered 1 to {len(data.rows)}")
    index = int(number) - 1
    batch = data.batch(0)
    if index not in batch:
        raise ProblemError(f"example {number} is not in the batch the update uses (examples "
                           f"{', '.join(str(i + 1) for i in batch)}), so the solution does not work it")
    return index


def _with_example(quantity: Quantity, example: int | None, problem: Problem) -> Quantity:
    """On a data problem: which values are the batch's (E, the parameters' gradients, the update,
    E+), which are one example's, and an error where a key leaves that open."""
    data, kind, name = problem.data, quantity.kind, quantity.name
    if data is None:
        return quantity
    batch = data.batch(0)
    is_batch_value = (name == problem.loss if kind in (FORWARD, AFTER) else
                      kind == UPDATED or name in problem.graph.symbols and name not in data.symbols)
    if example is not None:
        if kind in (UPDATED, AFTER):
            raise ProblemError("the update is the batch's, not an example's: write "
                               f"{quantity.key(problem.loss)} without [{example + 1}]")
        return Quantity(kind, name, example)
    if kind == AFTER and name != problem.loss:
        raise ProblemError(f"after the update the solution computes the batch loss "
                           f"{problem.loss}+ only, not {name}+")
    if len(batch) == 1 and kind in (FORWARD, GRADIENT):
        return Quantity(kind, name, batch[0])       # one example per update: its values are the batch's
    if is_batch_value:
        return quantity
    raise ProblemError(f"{quantity.key(problem.loss)} has a value per example: write "
                       f"{quantity.key(problem.loss)}[{batch[0] + 1}] for example {batch[0] + 1} "
                       f"(the batch is examples {', '.join(str(i + 1) for i in batch)})")


def _parse_base_key(key: str, problem: Problem) -> Quantity:
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
    if value.is_number:
        # Exact arithmetic has no overflow: 1e400 is judged like any number. Refused are values
        # that are not real and numbers too long to carry (as in problem files).
        try:
            numeric.settle(value)
        except numeric.NumericError as exc:
            raise ProblemError(f"'{text}' cannot be judged: {exc}") from None
    for number in value.atoms(sp.Rational):
        if numeric.too_long(number):
            raise ProblemError(f"'{text}' has more than {numeric.MAX_DIGITS} digits: a slip of the pen?")
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


def half_unit(places: int) -> sp.Rational:
    """Half a unit in the last place: 5e-10 for nine decimal places."""
    return sp.Rational(5, 10) * sp.Rational(10) ** -places
