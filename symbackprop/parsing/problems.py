"""Read and check a problem (a YAML file or a mapping built in Python) into a `Problem`.

Every error names the file, the key and, for files, the line. Nothing in a problem is executed:
expressions go through `expressions.py`, numbers through `expressions.parse_number`.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any, Container, Mapping

import sympy as sp
import yaml

from ..arithmetic import numeric
from ..budget import collection_paused
from ..errors import ProblemError, reject_unknown_keys
from ..model import notation as notation_module
from ..model.data import Dataset
from ..model.definitions import Definitions, OneNameCall, Unbuilt, WeightedSum
from ..model.graph import Graph
from ..model.problem import FORMS, NUMBER_POLICIES, Problem
from ..model.rules import check_supported
from . import homework
from . import layers as layers_module
from .data import read_dataset
from .expressions import (
    MAX_NUMBER_LENGTH,
    WrittenOrder,
    all_names,
    check_name,
    from_sympy,
    parse_definition,
    parse_number,
)
from .texts import paragraph

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 20_000
#: Entries (mappings, lists and scalars) of the YAML once aliases are expanded: a file within
#: MAX_FILE_BYTES has fewer without aliases, as every entry takes at least two characters.
MAX_YAML_NODES = MAX_FILE_BYTES // 2
#: Levels of nesting of the YAML; a problem file needs six (layers.dense.0.weights.0.0).
MAX_YAML_DEPTH = 50

KEYS = {
    "title": "a heading for the solution",
    "notes": "remarks printed with the solution",
    "nodes": "the forward pass: node name -> expression",
    "layers": "a multilayer network, expanded into nodes",
    "loss": "the node to differentiate (default: the last node)",
    "values": "numbers for symbols",
    "context": "numbers shown with the problem that no node uses (an earlier unit's weights)",
    "given": "forward values taken as given instead of computed",
    "parameters": "the symbols gradient descent updates",
    "learning_rate": "the step size eta of gradient descent",
    "kink": "the derivative of ReLU, max and min at exactly 0 (default 0, as torch.relu)",
    "gates": "true to split compound expressions into one node per operation",
    "data": "examples: a list of mappings from input and target symbols to numbers",
    "batch": "full (default), sgd, or the number of examples per mini-batch",
    "shuffle": "a seed: shuffle the examples every epoch (default: keep their order)",
    "reduction": "mean (default) or sum: how a batch's losses and gradients combine",
    "gradients": "the gradients asked for: a list of names, or all (default: the parameters')",
    "detail": "the gradients derived in full: a list of names, or all (the others in tables)",
    "form": "scalar (default), matrix or both: how a layered network's derivation is written",
    "numbers": "as-written (default: decimals stay decimals) or exact (fractions beside decimals)",
    "notation": "LaTeX for names in the LaTeX and Markdown solutions: net_h1: \"z^{(1)}_1\"",
    "tasks": "the question sheet's tasks: texts, or {task: text, answers: [dE/dw5, w5+]}",
    "blank": "the quantities a blanks sheet leaves for the student: [dE/dw5, w5+]",
    "vary": "what each student's variant draws: w5: {from: 0.1, to: 0.9, step: 0.05} or i1: [0.05, 0.1]",
    "require": "what a drawn variant must meet: [relu_units_active, loss_decreases, ...]",
}
#: The keys whose numbers tell how the problem writes them (decimals or fractions).
NUMBER_KEYS = ("values", "context", "given", "data", "layers", "learning_rate")
#: A fraction as a problem writes it: 1/3, -2/5.
FRACTION_TEXT = re.compile(r"\s*-?\s*[0-9]+\s*/\s*[0-9]+\s*\Z")


def load(problem: str | Path | Mapping[str, Any]) -> Problem:
    """A Problem from a YAML file's path or from a mapping with the same keys."""
    if isinstance(problem, Mapping):
        return _from_mapping(problem, source=None, lines={})
    text = read_text(problem)
    return loads(text, source=str(problem))


def read_text(path: str | Path) -> str:
    """A YAML file's text, read no further than MAX_FILE_BYTES (problem and claims files alike)."""
    source = str(path)
    try:
        # Read one byte past the limit rather than trust the size stat() reports, which is 0 for
        # /dev/zero or a pipe that never ends.
        with Path(path).open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ProblemError(f"the file is larger than {MAX_FILE_BYTES // 1000} kB", source=source)
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise ProblemError("no such file", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemError(f"cannot read the file: {exc}", source=source) from None


def loads(text: str, source: str = "<string>") -> Problem:
    """A Problem from YAML text."""
    if len(text) > MAX_FILE_BYTES:    # characters, not bytes: a cheap bound, before any parsing
        raise ProblemError(f"the text is longer than {MAX_FILE_BYTES // 1000} kB", source=source)
    data, lines = read_yaml(text, source)
    if not isinstance(data, Mapping):
        raise ProblemError("a problem file must be a mapping of keys such as nodes:, values:, loss:",
                           source=source)
    return _from_mapping(data, source=source, lines=lines)


class FloatText(str):
    """A YAML float kept as its text, so 0.1 stays exactly 1/10 and trailing zeros are kept."""


class _Loader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent, index):
        # PyYAML composes recursively, and its scanner slows down with every open [ or {: refuse
        # [[[[...]]]] at the limit rather than after seconds, at the end of the stack.
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise ProblemError(f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep",
                                   line=self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> FloatText:
    return FloatText(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def read_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """Parse YAML safely, keeping floats as text and recording the line of every mapping key.

    The composed node graph is walked (and limited) before anything is constructed: aliases can make
    a small file stand for billions of entries, and a long integer would be converted by PyYAML with
    Python's int(), which is quadratic for sexagesimal 1:2:3... and refuses more than 4,300 digits.
    """
    # PyYAML's pure-Python parser is most of a load; the same file loaded again (a warm worked
    # solution, the checks of one problem) is parsed once. A copy: the caller may change what it gets.
    data, lines = _read_yaml(text, source)
    return copy.deepcopy(data), dict(lines)


#: Texts parsed and kept: a few, since a text may be as long as MAX_FILE_BYTES.
KEPT_TEXTS = 8


@functools.lru_cache(maxsize=KEPT_TEXTS)
def _read_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    try:
        # Inside the try: the reader rejects control characters already when the loader is made.
        loader = _Loader(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise ProblemError("the file is empty", source=source)
        lines: dict[str, int] = {}
        _walk(root, lines)
        return loader.construct_document(root), lines
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    except ProblemError as exc:
        raise exc.located(source=source) from None
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.YAMLError, text: str, source: str) -> ProblemError:
    """A one-line message: PyYAML's own str() spans several lines and names "<unicode string>"."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    problem = getattr(exc, "problem", None)
    if isinstance(exc, yaml.reader.ReaderError):
        problem = str(exc).split("\n")[0]
        line = text.count("\n", 0, exc.position) + 1
    return ProblemError(f"this is not valid YAML: {problem or type(exc).__name__}", source=source,
                        line=line)


def _walk(root: yaml.Node, lines: dict[str, int]) -> None:
    """Record the line of every key path ("nodes.y"), refuse keys given twice and integers too long,
    and limit the entries and the depth of the YAML once its aliases are expanded.

    Each distinct node is visited once and its expanded size computed from its children's, so
    `a: &a [x, x]  b: &b [*a, *a] ...` (a billion entries from a few lines) is refused at once, and
    an alias inside its own anchor (`&a [*a]`, infinite) is found on the path. Iterative, so that no
    nesting can exhaust the stack."""
    measured: dict[int, tuple[int, int]] = {}      # id(node) -> (entries, depth) once expanded
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, str, list | None]] = [(root, "", None)]
    while stack:
        node, path, children = stack.pop()
        key, line = path[:-1] or None, node.start_mark.line + 1
        if children is not None:                     # every child measured: measure the node
            on_path.discard(id(node))
            entries = 1 + sum(measured[id(child)][0] for child, _ in children)
            depth = 1 + max((measured[id(child)][1] for child, _ in children), default=0)
            if entries > MAX_YAML_NODES:
                raise ProblemError(f"the YAML has more than {MAX_YAML_NODES:,} entries once its "
                                   "aliases (*name) are expanded", key=key, line=line)
            if depth > MAX_YAML_DEPTH:
                raise ProblemError(f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep once "
                                   "its aliases (*name) are expanded", key=key, line=line)
            measured[id(node)] = (entries, depth)
            continue
        if id(node) in measured:
            continue
        if id(node) in on_path:
            raise ProblemError("an alias (*name) inside the entry it names would repeat it forever",
                               key=key, line=line)
        on_path.add(id(node))
        children = _children(node, path, lines)
        stack.append((node, path, children))
        stack.extend((child, child_path, None) for child, child_path in reversed(children))


def _children(node: yaml.Node, path: str, lines: dict[str, int]) -> list[tuple[yaml.Node, str]]:
    """A node's children with their key paths ("nodes.y.", "data.0."), their lines recorded."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_NUMBER_LENGTH:
            raise ProblemError(f"the number '{node.value[:20]}...' is longer than {MAX_NUMBER_LENGTH} "
                               "characters", key=path[:-1] or None, line=node.start_mark.line + 1)
        return []
    children = []
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            name = str(key_node.value)
            if name in seen:
                raise ProblemError(f"'{path}{name}' appears twice", key=path + name,
                                   line=key_node.start_mark.line + 1)
            seen.add(name)
            lines.setdefault(path + name, key_node.start_mark.line + 1)
            children.append((value_node, f"{path}{name}."))
    else:
        for index, item in enumerate(node.value):
            lines.setdefault(f"{path}{index}", item.start_mark.line + 1)
            children.append((item, f"{path}{index}."))
    return children


def _from_mapping(data: Mapping[str, Any], source: str | None, lines: dict[str, int]) -> Problem:
    try:
        with collection_paused():
            return _build(data, source, lines)
    except ProblemError as exc:
        raise exc.located(source=source, line=lines.get(exc.key or "")) from None


def _build(data: Mapping[str, Any], source: str | None, lines: dict[str, int]) -> Problem:
    reject_unknown_keys(data, KEYS, "a problem")
    warnings: list[str] = []
    values = _numbers(data.get("values") or {}, "values")

    if "layers" in data:
        if "nodes" in data:
            raise ProblemError("give either nodes: or layers:, not both", key="layers")
        spec = data["layers"]
        if isinstance(spec, Mapping) and not isinstance(spec.get("loss", ""), str):
            # Checked here because layers.py looks the name up in a dict, where a list is a TypeError.
            raise ProblemError(f"unknown loss {spec['loss']!r}; use one of " +
                               ", ".join(layers_module.LOSSES), key="layers.loss")
        expanded = layers_module.expand(spec, key="layers")
        node_texts = expanded.nodes
        for name, value in expanded.values.items():
            if name in values:
                raise ProblemError(f"'{name}' is set by layers: and again in values:", key=f"values.{name}")
            values[name] = value
        default_parameters = expanded.parameters
        default_loss = expanded.loss
    else:
        node_texts = data.get("nodes")
        default_parameters = ()
        default_loss = None
    nodes, written = _nodes(node_texts)
    # The names in a set for the tests below, a network's 26,000 values and parameters each (the
    # Definitions' own test runs Python code).
    node_names = set(nodes)

    gates = data.get("gates", False)
    if not isinstance(gates, bool):
        raise ProblemError("gates: must be true or false", key="gates")
    graph = Graph.build(nodes, gates=gates)
    loss = data.get("loss", default_loss or list(nodes)[-1])
    if not isinstance(loss, str) or loss not in nodes:
        raise ProblemError(f"the loss '{loss}' is not a node; nodes are: " + ", ".join(nodes), key="loss")

    used = set(graph.symbols)
    data_set = _dataset(data, values, node_names, used)
    # Set operations first, then the names they find in the file's order: a network's 26,000 values.
    nodes_valued = node_names.intersection(values)
    unused = set() if used.issuperset(values) else values.keys() - used
    for name in values if nodes_valued or unused else ():
        if name in nodes_valued:
            raise ProblemError(f"'{name}' is a node, not a symbol; to take its forward value as given, "
                               "put it under given:", key=f"values.{name}")
        if name in unused:
            warnings.append(f"values.{name}: '{name}' is not used by any node; its value is ignored "
                            "(give it under context: to show it without this warning)")
    context = _numbers(data.get("context") or {}, "context")
    for name in context:
        if name in used or name in node_names:
            raise ProblemError(f"'{name}' is used by the network; give its value under values:",
                               key=f"context.{name}")
        if name in values:
            raise ProblemError(f"'{name}' is under values: and under context:; keep one",
                               key=f"context.{name}")

    given = _numbers(data.get("given") or {}, "given")
    for name in given:
        if name not in nodes:
            raise ProblemError(f"'{name}' is not a node; given: takes node names (symbols go under "
                               "values:)", key=f"given.{name}")

    parameters = _parameters(data.get("parameters", list(default_parameters)), values, node_names)
    for index, name in enumerate(parameters) if data_set else ():
        if name in data_set.symbols:
            raise ProblemError(f"'{name}' is given per example under data:, so it cannot be a "
                               "parameter", key=f"parameters.{index}")
    learning_rate = None
    if data.get("learning_rate") is not None:
        learning_rate = _number(data["learning_rate"], "learning_rate")
        if _sign(learning_rate, "learning_rate") <= 0:
            # Gradient descent steps against the gradient by eta times it: eta <= 0 is no descent.
            raise ProblemError(f"learning_rate must be greater than 0, got {data['learning_rate']}",
                               key="learning_rate")
        if not parameters:
            raise ProblemError("a learning rate needs parameters: the list of symbols to update",
                               key="learning_rate")
    elif parameters and "parameters" in data:
        warnings.append("parameters: no learning_rate is given, so no update is made")
    ancestors = graph.ancestors(loss)
    # Where every symbol and node leads to the loss (a network), so does every parameter that a
    # node uses, and every one is used where no value is unused: no set of 26,000 names to make.
    everything = len(ancestors) == len(graph.symbols) + len(graph.nodes) and not unused
    independent = set() if everything else set(parameters).difference(ancestors)
    for name in parameters if independent else ():
        if name in independent:
            warnings.append(f"parameters: the loss '{loss}' does not depend on '{name}'; its gradient is 0")

    numbers = data.get("numbers", "as-written")
    if numbers not in NUMBER_POLICIES:
        raise ProblemError(f"numbers: must be one of {', '.join(NUMBER_POLICIES)}, got {numbers!r}",
                           key="numbers")

    form = data.get("form", "scalar")
    if form not in FORMS:
        raise ProblemError(f"form: must be one of {', '.join(FORMS)}, got {form!r}", key="form")

    kink = _number(data.get("kink", 0), "kink")
    if _sign(kink, "kink") < 0 or _sign(kink - 1, "kink") > 0:
        raise ProblemError(f"kink must be between 0 and 1, got {kink}", key="kink")

    # A unit's delta takes its own notation too: delta_net_h1: '\delta^{(1)}_1'.
    names = [*graph.nodes, *graph.symbols, *context, *notation_module.EXTRA_KEYS,
             *(f"{notation_module.DELTA_PREFIX}{n}" for n in graph.nodes)]
    problem = Problem(
        nodes=nodes, loss=loss, values=values, given=given, context=context, parameters=parameters,
        learning_rate=learning_rate, kink=kink, title=_text(data.get("title"), "title"),
        notes=_notes(data.get("notes")), source=source, warnings=warnings, lines=lines, graph=graph,
        gates=gates, data=data_set, numbers=numbers, written=written,
        notation=_notation(data.get("notation"), names), form=form,
        asked_gradients=names_or_all(data.get("gradients"), "gradients"),
        detail=names_or_all(data.get("detail"), "detail"),
        fractions=any(_writes_fractions(data.get(key)) for key in NUMBER_KEYS),
    )
    # Read against the problem they belong to: their keys name its quantities and values.
    problem.tasks = homework.tasks(data.get("tasks"), problem)
    problem.blank = homework.quantities(data.get("blank"), problem, "blank")
    problem.vary = homework.vary(data.get("vary"), problem, data.get("values") or {})
    problem.require = homework.require(data.get("require"), problem)
    return problem


def names_or_all(raw: Any, key: str) -> str | tuple[str, ...] | None:
    """A list of names (or one name, or "w5, w1" as the command line writes it), or "all"."""
    if raw is None or raw == "all":
        return raw
    names = [n.strip() for n in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(names, (list, tuple)) or not names:
        raise ProblemError(f"{key}: must be a list of names or all, for example [w5, w1]", key=key)
    for index, name in enumerate(names):
        # A command line option is named as a whole: option '--detail', not '--detail.0'.
        check_name_at(name, "name", key if key.startswith("--") else f"{key}.{index}")
    return tuple(names)


def _writes_fractions(raw: Any) -> bool:
    """Whether any number under this key is written as a fraction (1/3), so the solution keeps
    fractions where a value does not terminate."""
    if isinstance(raw, str):        # first: most are, and the Mapping test is an ABC's (slow)
        return "/" in raw and not isinstance(raw, FloatText) and bool(FRACTION_TEXT.match(raw))
    if isinstance(raw, Mapping):
        raw = raw.values()
    elif not isinstance(raw, (list, tuple)):
        return False
    # A text without a / is no fraction, found without a call for each of a network's 26,000 values,
    # and texts without any / at all found by one search of them joined.
    try:
        if "/" not in "\n".join(raw):
            return False
    except TypeError:
        pass                         # not all texts
    return any(_writes_fractions(v) for v in raw if not isinstance(v, str) or "/" in v)


def _notation(mapping: Any, names: list[str]) -> dict[str, str]:
    """The lecturer's LaTeX for names of the problem, each snippet on the whitelist."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ProblemError('notation: must map names to LaTeX, for example  net_h1: "z^{(1)}_1"',
                           key="notation")
    known = set(names)
    result = {}
    for name, tex in mapping.items():
        key = f"notation.{name}"
        if name not in known:
            raise ProblemError(f"'{name}' is not a node or symbol of the problem (nor "
                               + ", ".join(f"{k}, {what}" for k, what in notation_module.EXTRA_KEYS.items())
                               + ")", key=key)
        if not isinstance(tex, str):
            raise ProblemError(f'must be LaTeX text in quotes, for example  {name}: "z_1"', key=key)
        problem = notation_module.refusal(tex)
        if problem:
            raise ProblemError(problem, key=key)
        result[name] = tex.strip()
    return result


def _dataset(data: Mapping[str, Any], values: dict[str, sp.Expr], nodes: Container[str],
             used: set[str]) -> Dataset | None:
    if "data" not in data:
        for key in ("batch", "shuffle", "reduction"):
            if key in data:
                raise ProblemError(f"{key}: needs a data set under data:", key=key)
        return None
    dataset = read_dataset(data["data"], data.get("batch"), data.get("shuffle"),
                           data.get("reduction", "mean"))
    for name in dataset.symbols:
        key = f"data.0.{name}"
        if name in nodes:
            raise ProblemError(f"'{name}' is a node; data: gives symbols (inputs and targets)", key=key)
        if name in values:
            raise ProblemError(f"'{name}' is given under values: and under data:; keep one", key=key)
        if name not in used:
            raise ProblemError(f"'{name}' is not used by any node", key=key)
    return dataset


def _nodes(node_texts: Any) -> tuple[Definitions, WrittenOrder]:
    """The nodes, a weighted sum kept as its terms until its expression is read (Definitions), and
    each written one in its text's term order for printing (in_written_order, made when first
    printed)."""
    if not isinstance(node_texts, Mapping) or not node_texts:
        raise ProblemError("nodes: must map node names to expressions, for example  y: relu(w3*x_n)",
                           key="nodes")
    if len(node_texts) > MAX_NODES:
        raise ProblemError(f"{len(node_texts)} nodes is more than the {MAX_NODES} allowed", key="nodes")
    nodes: dict[str, sp.Expr | Unbuilt] = {}
    texts: dict[str, str] = {}
    checked_calls = set()     # functions whose call of a name passed check_supported: of any name
    for name, text in node_texts.items():
        key = f"nodes.{name}"
        check_name_at(name, "node name", key)
        try:
            if isinstance(text, sp.Basic):
                expr = from_sympy(text)
            elif isinstance(text, (int, float, FloatText)) and not isinstance(text, bool):
                expr = parse_number(text)
            else:
                expr = parse_definition(text)
                texts[name] = text
            if type(expr) is OneNameCall:
                if expr.function not in checked_calls:
                    check_supported(expr.expr(), key)
                    checked_calls.add(expr.function)
            elif type(expr) is not WeightedSum:      # a weighted sum adds and multiplies only
                check_supported(expr, key)
        except ProblemError as exc:
            exc.key = key
            raise
        nodes[name] = expr
    definitions = Definitions(nodes)
    return definitions, WrittenOrder(definitions, texts)


def _numbers(mapping: Any, key: str) -> dict[str, sp.Expr]:
    if not isinstance(mapping, Mapping):
        raise ProblemError(f"{key}: must map names to numbers, for example  w3: 0.2", key=key)
    result = {}
    checked = all_names(list(mapping))
    by_text: dict[str, sp.Expr] = {}       # a network's 26,000 weights are a few dozen texts
    for name, value in mapping.items():
        if not checked:
            check_name_at(name, "name", f"{key}.{name}")
        if isinstance(value, str):
            number = by_text.get(value)
            if number is None:
                number = by_text[value] = _number(value, f"{key}.{name}")
            result[name] = number
        else:
            result[name] = _number(value, f"{key}.{name}")
    return result


def _number(value: Any, key: str) -> sp.Expr:
    try:
        number = parse_number(value)
    except ProblemError as exc:
        exc.key = key
        raise
    if not number.is_real:
        raise ProblemError(f"{number} is not a real number", key=key)
    return number


def _sign(number: sp.Expr, key: str) -> int:
    """The certified sign of a number given in the file: SymPy's own comparison cannot decide one
    such as sigmoid(1) + sigmoid(-1) - 1, which is exactly 0."""
    try:
        return numeric.sign(number)
    except numeric.NumericError as exc:
        raise ProblemError(f"its sign cannot be established: {exc}", key=key) from None


def _parameters(raw: Any, values: dict[str, sp.Expr], nodes: Container[str]) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise ProblemError("parameters: must be a list of symbol names, for example [w1, w2]",
                           key="parameters")
    if _all_valued_symbols(raw, values, nodes):
        return tuple(raw)            # the common case, a network's 26,000 weights: set operations
    for index, name in enumerate(raw):
        if isinstance(name, str) and name in values and name not in nodes:
            continue                 # a name under values: is a checked name
        key = f"parameters.{index}"
        check_name_at(name, "parameter", key)
        if name in nodes:
            raise ProblemError(f"'{name}' is a node; parameters are symbols with values", key=key)
        if name not in values:
            raise ProblemError(f"parameter '{name}' has no value under values:", key=key)
    if len(set(raw)) != len(raw):
        raise ProblemError("a parameter is listed twice", key="parameters")
    return tuple(raw)


def _all_valued_symbols(raw: list | tuple, values: dict[str, sp.Expr], nodes: Container[str]) -> bool:
    """Whether every parameter is a name under values: (so a checked name: values' keys are), none
    a node, none twice."""
    try:
        names = set(raw)
    except TypeError:
        return False                 # something unhashable: the loop names it
    return len(names) == len(raw) and names.issubset(values.keys()) and names.isdisjoint(nodes)


def check_name_at(name: Any, what: str, key: str) -> str:
    try:
        return check_name(name, what)
    except ProblemError as exc:
        exc.key = key
        raise


def _text(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return paragraph(value, key)
    raise ProblemError("must be text", key=key)


def _notes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (paragraph(value, "notes"),)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(paragraph(v, f"notes.{i}") for i, v in enumerate(value))
    raise ProblemError("notes: must be text or a list of texts", key="notes")
