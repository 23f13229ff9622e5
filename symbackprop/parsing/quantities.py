"""A quantity's key as a claims file, a task list or a blank list writes it (dE/dw5, w5+, E+,
out_h1, E[3]) read into the Quantity it names, or an error saying why it names none."""

from __future__ import annotations

import re

from ..errors import ProblemError
from ..model.problem import Problem
from ..model.quantities import AFTER, FORWARD, GRADIENT, UPDATED, Quantity, in_batch

_NAME = r"[A-Za-z][A-Za-z0-9_]*"


_GRADIENT_KEY = re.compile(rf"d({_NAME})/d({_NAME})\Z")


_PLUS_KEY = re.compile(rf"({_NAME})\+\Z")


_NAME_KEY = re.compile(rf"{_NAME}\Z")


#: An example's number after a key: E[3], dE/dw1[3].
_EXAMPLE = re.compile(r"(?P<key>.*?)\s*\[\s*(?P<number>[^\]]*?)\s*\]\Z")


KEY_FORMS = ("a node (out_h1), d<loss>/d<name> (dE/dw5), <parameter>+ (w5+) or <node>+ (E+) for the "
             "forward pass after the update, with [3] after it for example 3 of a data problem")


def parse_key(key: str, problem: Problem) -> Quantity:
    """The quantity a claim's key names, or a ProblemError saying why it names none."""
    example = None
    if match := _EXAMPLE.match(key.strip()):
        key, example = match["key"], _example_index(match["number"], problem)
    quantity = _parse_base_key(key, problem)
    return in_batch(quantity, example, problem)


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
