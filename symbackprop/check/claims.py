"""A claims file read into Claims: which quantity each key names, and the digits each value claims."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import sympy as sp

from ..arithmetic import numeric
from ..engine.answers import Quantity
from ..errors import ProblemError
from ..model.problem import Problem
from ..parsing.expressions import parse_expression
from ..parsing.problems import read_text, read_yaml
from ..parsing.quantities import parse_key

#: A decimal as written: digits, a point and/or an exponent (YAML allows _ between digits).
_DECIMAL = re.compile(r"""[+-]? (?P<whole>[0-9_]*) (?:\.(?P<fraction>[0-9_]*))?
                          (?:[eE](?P<exponent>[+-]?[0-9]+))? \Z""", re.VERBOSE)


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
