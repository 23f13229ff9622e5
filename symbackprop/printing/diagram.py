"""The computational graph of a solved problem, drawn as TikZ, Mermaid, Graphviz DOT or SVG.

One box per node and per symbol with its name, its operation, its forward value (green) and its
gradient dL/d(name) (red); arrows run forward, from each input to the node that uses it, as in the
lecture figures. With data, the forward values are one example's and the gradients the batch's, and
the caption (legend, or Mermaid's title) says so. Everything is laid out from ordered data (forward
order, `graph.symbols`, sorted inputs), never from set iteration, so the same solution always draws
byte-identically.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from ..errors import ProblemError
from ..model.operations import BY_FUNCTION
from .formats import Format, LatexFormat
from .printers import latex, latex_name, text, unicode_name, unicode_text

DIAGRAM_FORMATS = ("tikz", "mermaid", "dot", "svg")
#: What the LaTeX document must load beside `\usepackage{tikz}`: `\usetikzlibrary{arrows.meta}`.
TIKZ_LIBRARIES = ("arrows.meta",)

#: xcolor names (TikZ) and the same colors as hex (Graphviz, Mermaid): forward green, gradient red.
FORWARD_TIKZ, GRADIENT_TIKZ = "green!50!black", "red!70!black"
FORWARD_RGB, GRADIENT_RGB = "#008000", "#B30000"
SYMBOL_FILL_RGB = "#F2F2F2"
#: How the boxes write numbers: plain text (Mermaid, DOT), LaTeX (TikZ); the digits are draw()'s.
_TEXT, _LATEX = Format(4), LatexFormat(4)

#: The most boxes (nodes and symbols) a worked solution draws. A larger graph is not legible on a
#: page, and one of a few hundred boxes is taller than the largest dimension TeX can hold (pdflatex
#: stops with "Dimension too large"); `symbackprop graph --format svg` still draws it on its own.
MAX_DRAWN_BOXES = 60

#: An expression (a node's operation or a symbolic value) longer than this, as plain text, is left
#: out of its box rather than stretching it across the page; a weighted sum of two units fits.
MAX_EXPR_CHARS = 32


@dataclass(frozen=True)
class _Box:
    name: str
    kind: str  # "symbol", "node" or "loss"
    operation: tuple[str, str, str] | None  # (plain text, LaTeX, Unicode), None where it does not fit
    value: sp.Expr | None  # None for a symbol without a value
    given: bool
    gradient: sp.Expr | None  # None where the loss does not depend on the name
    column: int


@dataclass(frozen=True)
class _Label:
    """How one drawing writes a box's label: its name, its operation, its value (given or not) and its
    gradient, each a line; `number` writes a value (None: nothing to show)."""

    number: Callable[[sp.Expr | None, int], str | None]
    name: Callable[[_Box], str]
    operation: Callable[[_Box], str]
    value: Callable[[_Box, str], str]
    gradient: Callable[[_Box, str], str]

    def lines(self, box: _Box, digits: int) -> list[str]:
        lines = [self.name(box)]
        if box.operation:
            lines.append(self.operation(box))
        for number, write in ((box.value, self.value), (box.gradient, self.gradient)):
            shown = self.number(number, digits)
            if shown is not None:
                lines.append(write(box, shown))
        return lines

    def join(self, box: _Box, digits: int, separator: str) -> str:
        return separator.join(self.lines(box, digits))


def draw(solution, format: str, *, digits: int = 4) -> str:
    """The computational graph of `solution` in `format` (one of DIAGRAM_FORMATS), numbers shown to
    `digits` significant digits."""
    if format not in DIAGRAM_FORMATS:
        raise ProblemError(f"unknown graph format '{format}': use one of {', '.join(DIAGRAM_FORMATS)}",
                           key="format")
    if not isinstance(digits, int) or digits < 1:
        raise ProblemError(f"must be a whole number of at least 1, got {digits!r}", key="digits")
    boxes = _layout(solution)
    edges = [(used, name) for name, node in solution.problem.graph.nodes.items()
             for used in node.inputs]
    loss = solution.problem.loss
    values, gradients = captions(solution)
    if format == "tikz":
        return _tikz(boxes, edges, loss, digits, values, gradients, solution.problem.notation)
    if format == "mermaid":
        return _mermaid(boxes, edges, loss, digits, values, gradients)
    source = _dot(boxes, edges, loss, digits, values, gradients)
    return source if format == "dot" else _svg(source)


def captions(solution) -> tuple[str, str]:
    """What the green and the red numbers are: with data, which example's forward values and which
    batch's gradients (the ones the update uses), since the two differ."""
    data = solution.problem.data
    if data is None:
        return "forward value", "gradient"
    first, count = solution.examples[0].index + 1, len(solution.examples)
    batch = "the batch" if count == len(data.rows) else "the first batch"
    if count == 1:
        return f"forward values of example {first}", f"gradients of {batch} (example {first} alone)"
    of_all = "" if count == len(data.rows) else f" of {len(data.rows)}"
    return (f"forward values of example {first}",
            f"gradients of {batch} ({data.reduction} over {count}{of_all} examples)")


def box_count(solution) -> int:
    """How many boxes the graph of `solution` has: one per node and one per symbol."""
    graph = solution.problem.graph
    return len(graph.nodes) + len(graph.symbols)


def format_value(value: sp.Expr | None, digits: int, fmt: Format = _TEXT) -> str | None:
    """A value as plain text: exact when it is a decimal of at most `digits` significant digits
    (2/5 -> 0.4, 12000), else rounded to `digits` (1/3 -> 0.3333, 12345 -> 1.235e4); symbolic values
    as SymPy text while short (2*x_n), else None."""
    if value is None:
        return None
    if not value.is_number:
        shown = text(value)
        return shown if len(shown) <= MAX_EXPR_CHARS else None
    # Positional only while every digit shown is significant, or the value is exact: 12345 is
    # 1.235e4, not 12350, but 12000 is 12000.
    return fmt.decimal(value, digits, widest=digits + 4 if fmt.terminates(value, digits) else digits)


# --- layout --------------------------------------------------------------------------------------

def _layout(solution) -> list[_Box]:
    """The boxes in layered columns, listed column by column.

    A node sits one column right of its rightmost input node; a symbol one column left of its first
    consumer, so that a weight stands beside the node it feeds instead of at the far left with a
    long arrow across the picture. Within a column, boxes follow the forward order (a symbol counts at
    its first consumer).
    """
    graph = solution.problem.graph
    order = {name: i for i, name in enumerate(graph.nodes)}
    column: dict[str, int] = {}
    for name, node in graph.nodes.items():
        column[name] = 1 + max((column[i] for i in node.inputs if i in graph.nodes), default=0)
    for symbol in graph.symbols:
        column[symbol] = min(column[c] for c in graph.consumers[symbol]) - 1
    key = {name: (column[name], order[name], 1, 0) for name in graph.nodes}
    key.update({s: (column[s], order[graph.consumers[s][0]], 0, i)
                for i, s in enumerate(graph.symbols)})
    return [_box(solution, name, column[name]) for name in sorted(column, key=key.__getitem__)]


def is_target(problem, name: str) -> bool:
    """Whether `name` is a target: a symbol that is not a parameter and that only the loss uses, where
    the loss compares a node of the network with it (t1 in (t1 - out_o1)**2, ybar). A drawing shows
    no gradient for it: nothing changes a target and no chain of the network runs through it, so a
    lecturer's figure has none. Nodes, parameters and the inputs of the network (x_n, i1, and x in a
    loss relu(w*x) that uses no node) keep theirs."""
    graph = problem.graph
    loss = graph.nodes.get(problem.loss)
    return (loss is not None and name not in graph.nodes and name not in problem.parameters
            and graph.consumers.get(name) == (problem.loss,)
            and any(used in graph.nodes for used in loss.inputs))


def _box(solution, name: str, column: int) -> _Box:
    problem = solution.problem
    gradient = None if is_target(problem, name) else solution.gradients.get(name)
    gradient_value = None if gradient is None else gradient.value
    node = problem.graph.nodes.get(name)
    if node is None:
        value = problem.values.get(name, solution.examples[0].inputs.get(name))
        return _Box(name, "symbol", None, value, False, gradient_value, column)
    step = solution.forward[name]
    kind = "loss" if name == problem.loss else "node"
    return _Box(name, kind, _operation(node.expr, problem.notation), step.value, step.given,
                gradient_value, column)


def _operation(expr: sp.Expr, notation: Mapping[str, str]) -> tuple[str, str, str] | None:
    """An operator for one operation on symbols (w1*x1 -> ×), else the expression while short."""
    operation = BY_FUNCTION.get(expr.func)
    if operation and operation.glyph and expr.args and all(a.is_Symbol for a in expr.args):
        return (*operation.glyph, operation.glyph[0])
    shown = text(expr)
    return (shown, _tex(expr, notation), unicode_text(expr)) if len(shown) <= MAX_EXPR_CHARS else None


def _tex(expr: sp.Expr, notation: Mapping[str, str] | None = None) -> str:
    return _tikz_alone(latex(expr, notation=tuple((notation or {}).items())))


#: The picture must compile with tikz alone: amsmath's commands, which the printer uses for relu
#: and sigmoid (\operatorname) and a lecturer's notation may use, become plain LaTeX's nearest.
_AMSMATH = {"operatorname": r"\mathrm", "text": r"\textrm", "boldsymbol": r"\mathbf"}


def _tikz_alone(tex: str) -> str:
    return re.sub(r"\\(operatorname|text|boldsymbol)(?![A-Za-z])", lambda m: _AMSMATH[m.group(1)], tex)


def tikz_name(name: str, notation: Mapping[str, str]) -> str:
    """A box's name in the picture: the lecturer's notation, else the readable name."""
    return _tikz_alone(notation.get(name) or latex_name(name))


def tex_value(value: sp.Expr | None, digits: int, notation: Mapping[str, str] | None = None) -> str | None:
    """format_value in LaTeX: symbolic values through the printer, 1.2e-5 as 1.2 \\times 10^{-5}."""
    shown = format_value(value, digits, _LATEX)
    return _tex(value, notation) if shown is not None and not value.is_number else shown


# --- TikZ ----------------------------------------------------------------------------------------

#: Rough size of footnotesize text, in cm, to space the columns and rows of the picture.
CHAR_WIDTH, LINE_HEIGHT, COLUMN_GAP, ROW_GAP = 0.15, 0.4, 1.2, 0.45


def _tikz(boxes: list[_Box], edges: list[tuple[str, str]], loss: str, digits: int,
          values: str, gradients: str, notation: Mapping[str, str]) -> str:
    columns: dict[int, list[_Box]] = {}
    for box in boxes:
        columns.setdefault(box.column, []).append(box)
    # Every box of a column is as wide as its widest label and arrows run from east to west
    # anchors, so an arrow between neighbouring columns stays in the gap and crosses no box.
    width = {c: max(_tex_width(b, digits, notation) for b in bs) for c, bs in columns.items()}
    x, previous = {}, None
    for c in sorted(columns):
        x[c] = 0.0 if previous is None else (
            x[previous] + (width[previous] + width[c]) / 2 + COLUMN_GAP)
        previous = c
    pitch = {c: max(_tex_line_count(b, digits) for b in bs) * LINE_HEIGHT + ROW_GAP
             for c, bs in columns.items()}
    consumers: dict[str, list[str]] = {b.name: [] for b in boxes}
    for used, name in edges:
        consumers[used].append(name)
    y = _heights(columns, consumers, pitch)
    out = [r"\begin{tikzpicture}[>={Stealth[length=1.8mm]}, font=\footnotesize,",
           r"  box/.style={draw, rounded corners=2pt, align=center, inner sep=3pt},",
           r"  symbolbox/.style={box, fill=black!5}, nodebox/.style={box},",
           r"  lossbox/.style={box, double}]"]
    for c in sorted(columns):
        for box in sorted(columns[c], key=lambda b: -y[b.name]):
            label = _tikz_label(notation).join(box, digits, TIKZ_NEWLINE)
            out.append(f"  \\node[{box.kind}box, minimum width={_cm(width[c])}cm] (n_{box.name}) "
                       f"at ({_cm(x[c])},{_cm(y[box.name])}) {{{label}}};")
    for used, name in edges:
        out.append(f"  \\draw[->] (n_{used}.east) -- (n_{name}.west);")
    gradient, _, which = gradients.partition(" ")        # "gradients", "of the batch (...)"
    legend = f"\\textcolor{{{FORWARD_TIKZ}}}{{{values}}}"
    if any(b.gradient is not None for b in boxes):      # none on a question sheet's figure
        legend += (f"\\qquad \\textcolor{{{GRADIENT_TIKZ}}}{{{gradient} "
                   f"$\\partial {tikz_name(loss, notation)}/\\partial(\\cdot)$"
                   + (f" {which}" if which else "") + "}")
    out.append(f"  \\node[anchor=north, font=\\scriptsize] at ([yshift=-2mm]current bounding "
               f"box.south) {{{legend}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out) + "\n"


def _heights(columns: dict[int, list[_Box]], consumers: dict[str, list[str]],
             pitch: dict[int, float]) -> dict[str, float]:
    """The y of every box, placed right to left: each box aims at the mean height of the boxes it
    feeds (the loss at 0), and a column's boxes, sorted by that aim, keep `pitch` apart; the column
    is then shifted so that on average each box sits at its aim. In a dense layer this puts each
    unit's weights beside it and the previous layer's outputs in the middle."""
    y: dict[str, float] = {}
    for c in sorted(columns, reverse=True):
        aim = {b.name: sum(y[n] for n in consumers[b.name]) / len(consumers[b.name])
               if consumers[b.name] else 0.0 for b in columns[c]}
        # Rounded so that equal aims tie exactly; the stable sort then keeps the forward order.
        ordered = sorted(columns[c], key=lambda b: -round(aim[b.name], 6))
        placed: list[float] = []
        for box in ordered:
            target = aim[box.name]
            placed.append(target if not placed else min(target, placed[-1] - pitch[c]))
        shift = sum(aim[b.name] - p for b, p in zip(ordered, placed)) / len(ordered)
        y.update({b.name: p + shift for b, p in zip(ordered, placed)})
    return y


def _cm(length: float) -> str:
    return f"{length:.2f}".replace("-0.00", "0.00")


#: A line break inside a TikZ node.
TIKZ_NEWLINE = r"\\ "

def _tikz_label(notation: Mapping[str, str]) -> _Label:
    """The label in TikZ: names, operations and symbolic values in the lecturer's notation."""
    return _Label(
        number=lambda value, digits: tex_value(value, digits, notation),
        name=lambda box: f"${tikz_name(box.name, notation)}$",
        operation=lambda box: f"{{\\scriptsize ${box.operation[1]}$}}",
        value=lambda box, shown: (f"\\textcolor{{{FORWARD_TIKZ}}}{{${shown}$}}"
                                  + (" {\\scriptsize (given)}" if box.given else "")),
        gradient=lambda box, shown: f"\\textcolor{{{GRADIENT_TIKZ}}}{{${shown}$}}")


def _tex_line_count(box: _Box, digits: int) -> int:
    return 1 + sum(x is not None for x in (box.operation, tex_value(box.value, digits),
                                             tex_value(box.gradient, digits)))


def _tex_width(box: _Box, digits: int, notation: Mapping[str, str]) -> float:
    # The TikZ label shows bare numbers (the legend says which is which): measure those, and a
    # name in the lecturer's notation by what it shows (z^{(1)}_1 as z(1)1).
    name = re.sub(r"\\[A-Za-z]+|[{}_^ ]", "", notation[box.name]) if box.name in notation else box.name
    shown = [name, box.operation[0] if box.operation else "",
             (format_value(box.value, digits) or "") + (" (given)" if box.given else ""),
             format_value(box.gradient, digits) or ""]
    return max(len(s) for s in shown) * CHAR_WIDTH + 0.3


# --- Mermaid -------------------------------------------------------------------------------------

def _mermaid(boxes: list[_Box], edges: list[tuple[str, str]], loss: str, digits: int,
             values: str, gradients: str) -> str:
    # Ids get a prefix so that a node called end, graph or style is not read as a keyword (and no
    # id starts with o or x, which after -- would make a circle or cross edge). Values are green and
    # gradients red as in TikZ, by an inline color that Mermaid keeps under its strict security level
    # and without HTML labels; a viewer that drops it still reads each line, which says what it is
    # (y = 3, ∂E/∂y = 2). The classes tell symbols, nodes and the loss apart.
    out = ["flowchart LR"]
    if values != "forward value":
        # The labels say "y = 3" and "∂E/∂y = 2" but not which example or batch: a title does.
        out = ["---", f'title: "{values}; {gradients}"', "---", *out]
    for box in boxes:
        label = "<br/>".join(_mermaid_label(loss).lines(box, digits))
        opening, closing = ("(", ")") if box.kind == "symbol" else ("[", "]")
        out.append(f'  n_{box.name}{opening}"{label}"{closing}')
    out.extend(f"  n_{used} --> n_{name}" for used, name in edges)
    out.append(f"  classDef symbol fill:{SYMBOL_FILL_RGB},stroke:#888888")
    out.append("  classDef loss stroke-width:3px")
    for kind in ("symbol", "loss"):
        members = [f"n_{b.name}" for b in boxes if b.kind == kind]
        if members:
            out.append(f"  class {','.join(members)} {kind}")
    return "\n".join(out) + "\n"


def _mermaid_label(loss: str) -> _Label:
    """The label's lines, names as a reader writes them (w₅, outₕ₁, σ, ∂E/∂w₅), each line escaped;
    every number says what it is, and is colored too."""
    def colored(color: str, line: str) -> str:
        return f"<span style='color:{color}'>{mermaid_escape(line)}</span>"

    return _Label(
        number=unicode_value,
        name=lambda box: mermaid_escape(unicode_name(box.name)),
        operation=lambda box: mermaid_escape(box.operation[2]),
        value=lambda box, shown: colored(FORWARD_RGB, f"{unicode_name(box.name)} = {shown}"
                                         + (" (given)" if box.given else "")),
        gradient=lambda box, shown: colored(
            GRADIENT_RGB, f"∂{unicode_name(loss)}/∂{unicode_name(box.name)} = {shown}"))


def unicode_value(value: sp.Expr | None, digits: int) -> str | None:
    """format_value with a symbolic value's names as a reader writes them (2·xₙ)."""
    shown = format_value(value, digits)
    return unicode_text(value) if shown is not None and not value.is_number else shown


def mermaid_escape(line: str) -> str:
    """Mermaid's entity codes (#quot; ...) for the characters that would end or break a label."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        line = line.replace(char, code)
    return line


# --- Graphviz ------------------------------------------------------------------------------------

#: html.escape's replacements: importing html builds its table of 2,000 named entities, which
#: every solve would pay for a graph it seldom draws as DOT (start-up, issue 15).
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def _html(text: str) -> str:
    """text escaped for an HTML-like label, as html.escape escapes it."""
    return text.translate(_HTML_ESCAPES)


def _dot(boxes: list[_Box], edges: list[tuple[str, str]], loss: str, digits: int,
         values: str, gradients: str) -> str:
    out = ["digraph computational_graph {",
           '  rankdir=LR; fontname="Helvetica";',
           '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
           "  edge [arrowsize=0.7];"]
    for box in boxes:
        extra = {"symbol": f', style="rounded,filled", fillcolor="{SYMBOL_FILL_RGB}"',
                 "loss": ", peripheries=2", "node": ""}[box.kind]
        out.append(f'  "{box.name}" [label=<{_DOT_LABEL.join(box, digits, "<br/>")}>{extra}];')
    out.extend(f'  "{used}" -> "{name}";' for used, name in edges)
    out.append("  labelloc=b;")
    gradient, _, which = gradients.partition(" ")
    which = f" {_html(which)}" if which else ""
    out.append(f'  label=<<font point-size="9"><font color="{FORWARD_RGB}">{_html(values)}</font>'
               f'   <font color="{GRADIENT_RGB}">{gradient} ∂{loss}/∂(name){which}</font></font>>;')
    out.append("}")
    return "\n".join(out) + "\n"


#: An HTML-like label: bold name, grey operation, green value, red gradient (bare numbers: the
#: graph's legend says which is which).
_DOT_LABEL = _Label(
    number=format_value,
    name=lambda box: f"<b>{_html(box.name)}</b>",
    operation=lambda box: f'<font point-size="9" color="#555555">{_html(box.operation[0])}</font>',
    value=lambda box, shown: (f'<font color="{FORWARD_RGB}">{_html(shown)}'
                              f'{" (given)" if box.given else ""}</font>'),
    gradient=lambda box, shown: f'<font color="{GRADIENT_RGB}">{_html(shown)}</font>')


def _svg(source: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise ProblemError("Graphviz is not installed: install the Debian package graphviz "
                           "(apt-get install graphviz) or use --format dot|tikz|mermaid",
                           key="format")
    result = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        raise ProblemError(f"Graphviz failed: {result.stderr.decode('utf-8', 'replace').strip()}",
                           key="format")
    # The version comment differs between machines; without it the SVG depends on the graph alone.
    return re.sub(r"<!-- Generated by graphviz[^>]*-->\n", "", result.stdout.decode("utf-8"))
