"""A layered network drawn as the lecture figures draw it: neurons as circles in columns, one per layer,
a weight on each edge, a bias unit "1" per layer, the forward values below the neurons (green, as in the
computational graph), and the loss as a last box. TikZ for LaTeX, Mermaid for Markdown.

The layers are model/layered.py's, read off the graph's structure; a problem without layers, or with a
layer too wide for the page, is drawn as its computational graph instead. Everything is laid out from
ordered data, so the same solution draws byte-identically.
"""

from __future__ import annotations

import sympy as sp

from ..model.layered import Network, Unit
from ..model.layered import recognise as recognise_layers
from . import diagram
from .printers import unicode_name

#: A layer with more weights than this draws its edges without labels: 64 labels on the edges between
#: two layers of 8 cannot be read; the weights are in the worked solution's equations.
MAX_LABELLED_WEIGHTS = 12
#: The most units a layer may have for the figure to fit a page; a wider network is not drawn.
MAX_UNITS_PER_LAYER = 10


def recognise(problem) -> Network | None:
    """The layers to draw, or None where the problem has none or a layer too wide for the page."""
    network = recognise_layers(problem)
    if network is None or any(len(layer) > MAX_UNITS_PER_LAYER for layer in network.layers):
        return None
    return network


# --- values --------------------------------------------------------------------------------------

def _value(solution, name: str) -> sp.Expr | None:
    step = solution.forward.get(name)
    if step is not None:
        return step.value
    return solution.problem.values.get(name, solution.examples[0].inputs.get(name))


def _given(solution, name: str) -> bool:
    step = solution.forward.get(name)
    return step is not None and step.given


# --- TikZ ----------------------------------------------------------------------------------------

#: Distances in cm: between the centres of two neurons of a column, the least between the centres of
#: two columns, and from the top neuron of a column up to its bias unit.
ROW_PITCH, COLUMN_PITCH, BIAS_RISE = 2.2, 4.4, 2.2
#: Roughly the width of a scriptsize character, in cm, to keep labels from running into each other.
CHAR_WIDTH = 0.13


def tikz(solution, network: Network, digits: int = 4) -> str:
    """The network as a TikZ picture that compiles with tikz and arrows.meta alone.

    Drawn in layers: the neurons, then every edge, then the values and the weights on top, each on a
    white ground, so that no line crosses a number."""
    values, _ = diagram.captions(solution)
    columns = [list(network.inputs), *[[u.output for u in layer] for layer in network.layers]]
    below = {name: _tex_values(solution, name, None, digits) for name in network.inputs}
    for layer in network.layers:
        for unit in layer:
            below[unit.output] = _tex_values(solution, unit.output, unit.net, digits)
    labelled = [_labelled(layer) for layer in network.layers]
    # Columns part wide enough for the value lines below their neurons and for an edge's label
    # between them (it sits a quarter of the way along, sloped).
    widths = [max([1.0] + [_visible(line) * CHAR_WIDTH for n in column for line in below[n]])
              for column in columns]
    x = [0.0]
    for index in range(1, len(columns)):
        layer = network.layers[index - 1]
        label = max([0] + [_visible(_tex_edge(solution, w, digits)) for u in layer
                           for w in [*(w for w, _ in u.weights), *([u.bias] if u.bias else [])]])
        room = label * CHAR_WIDTH * 2.2 if labelled[index - 1] else 0.0
        x.append(x[-1] + max(COLUMN_PITCH, (widths[index - 1] + widths[index]) / 2 + 0.8, room))
    y = {name: (len(column) - 1) / 2 * ROW_PITCH - row * ROW_PITCH
         for column in columns for row, name in enumerate(column)}
    units = {u.output: u for layer in network.layers for u in layer}
    out = [r"\begin{tikzpicture}[>={Stealth[length=1.8mm]}, font=\footnotesize,",
           r"  neuron/.style={draw, circle, fill=white, minimum size=10mm, inner sep=1pt, align=center},",
           r"  input/.style={neuron, fill=black!5}, bias/.style={neuron, fill=black!5, minimum size=6mm},",
           r"  lossbox/.style={draw, double, fill=white, rounded corners=2pt, align=center, inner sep=3pt},",
           f"  value/.style={{anchor=north, align=center, fill=white, inner sep=1pt, font=\\scriptsize, "
           f"text={diagram.FORWARD_TIKZ}}},",
           r"  weight/.style={sloped, fill=white, inner sep=1pt, font=\scriptsize}]"]
    for index, column in enumerate(columns):
        for name in column:
            inside = _tex_inside(name, units.get(name), solution.problem.notation)
            out.append(f"  \\node[{'neuron' if name in units else 'input'}] (n_{name}) at "
                       f"({_cm(x[index])},{_cm(y[name])}) {{{inside}}};")
    bias_y = {}
    for index, layer in enumerate(network.layers):
        if any(u.bias for u in layer):
            bias_y[index] = max(y[n] for n in columns[index]) + BIAS_RISE
            out.append(f"  \\node[bias] (bias_{index + 1}) at ({_cm(x[index])},{_cm(bias_y[index])}) "
                       "{$1$};")
    loss_x = x[-1] + widths[-1] / 2 + 2.2
    out.append(f"  \\node[lossbox] (n_{network.loss}) at ({_cm(loss_x)},0) "
               f"{{{diagram.TIKZ_NEWLINE.join(_tex_loss(solution, network, digits))}}};")
    # Every edge, then the labels: a label drawn before a later edge would be crossed by it.
    labels = []
    for index, layer in enumerate(network.layers):
        for rank, unit in enumerate(layer):
            edges = [(f"n_{source}", y[source], weight) for weight, source in unit.weights]
            if unit.bias:
                edges.append((f"bias_{index + 1}", bias_y[index], unit.bias))
            for source, height, weight in edges:
                out.append(f"  \\draw[->] ({source}) -- (n_{unit.output});")
                if labelled[index]:
                    # Where the edges that meet have fanned out and before those that cross do: a
                    # falling or level edge's label a quarter of the way along, near the neuron it
                    # leaves, a rising edge's a quarter before its end, so that the labels of two
                    # edges that cross sit at either end of the crossing; a bias's close to its unit,
                    # above the others, each a little further along than the one above it.
                    where = (0.2 + 0.1 * rank if source.startswith("bias_")
                             else 0.25 if y[unit.output] <= height else 0.75)
                    labels.append(f"  \\path ({source}) -- node[weight, pos={where}] "
                                  f"{{{_tex_edge(solution, weight, digits)}}} (n_{unit.output});")
    out.extend(f"  \\draw[->] (n_{name}) -- (n_{network.loss});" for name in columns[-1])
    for column in columns:
        for name in column:
            if below[name]:
                out.append(f"  \\node[value] at ([yshift=-0.5mm]n_{name}.south) "
                           f"{{{diagram.TIKZ_NEWLINE.join(below[name])}}};")
    out.extend(labels)
    unlabelled = "" if all(labelled) else (
        f"; a layer of more than {MAX_LABELLED_WEIGHTS} weights has them in the equations only")
    # A figure drawn without computed values (a question sheet's) has none below its neurons to explain.
    shown = any(below[u.output] for layer in network.layers for u in layer)
    legend = (f"\\textcolor{{{diagram.FORWARD_TIKZ}}}{{{values}s: below a neuron its weighted sum, then its "
              f"output}}\\\\ " if shown else "")
    out.append(f"  \\node[anchor=north, font=\\scriptsize, align=center] at ([yshift=-2mm]current bounding "
               f"box.south) {{{legend}on the edges: the weights, and from the units $1$ the "
               f"biases{unlabelled}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out) + "\n"


def _labelled(layer: tuple[Unit, ...]) -> bool:
    """Whether the edges into a layer carry their weights: not where there are too many to read."""
    return sum(len(u.weights) + (u.bias is not None) for u in layer) <= MAX_LABELLED_WEIGHTS


def _tex_inside(name: str, unit: Unit | None, notation) -> str:
    """What a circle holds: the neuron's name, and under it its activation (σ, ReLU, softmax)."""
    inside = f"${diagram.tikz_name(name, notation)}$"
    if unit is not None and unit.activation:
        # tikz alone must typeset it: amsmath's \operatorname (softmax) becomes \mathrm.
        glyph = unit.activation[1].replace(r"\operatorname{", r"\mathrm{")
        inside += f"{diagram.TIKZ_NEWLINE}{{\\scriptsize ${glyph}$}}"
    return inside


def _tex_loss(solution, network: Network, digits: int) -> list[str]:
    """The loss box's lines: its name, its value (green) and the targets it compares with."""
    lines = [f"${diagram.tikz_name(network.loss, solution.problem.notation)}$"]
    shown = diagram.tex_value(_value(solution, network.loss), digits)
    if shown is not None:
        lines.append(f"\\textcolor{{{diagram.FORWARD_TIKZ}}}{{${shown}$}}")
    for target in network.targets:
        lines.append(f"{{\\scriptsize {_tex_edge(solution, target, digits)}}}")
    return lines


def _tex_values(solution, output: str, net: str | None, digits: int) -> list[str]:
    """The value lines below a neuron: its weighted sum's and its output's, as bare numbers (the legend
    says which is which), so that they stay narrow and clear of the edges that pass by."""
    lines = []
    for name in (net, output):
        if name is None:
            continue
        shown = diagram.tex_value(_value(solution, name), digits)
        if shown is not None:
            given = " (given)" if _given(solution, name) else ""
            lines.append(f"${shown}${given}")
    return lines


def _tex_edge(solution, name: str, digits: int) -> str:
    shown = diagram.tex_value(_value(solution, name), digits)
    written = diagram.tikz_name(name, solution.problem.notation)
    return f"${written}$" if shown is None else f"${written} = {shown}$"


def _visible(latex: str) -> int:
    """Roughly how many characters wide a short LaTeX label is typeset."""
    plain = latex
    for command in (r"\mathrm", r"\times", r"\cdot", r"\bar", r"\hat"):
        plain = plain.replace(command, "")
    return sum(1 for char in plain if char not in "${}_^\\ ") + plain.count(" ") // 2


def _cm(length: float) -> str:
    return f"{length:.2f}".replace("-0.00", "0.00")


# --- Mermaid -------------------------------------------------------------------------------------

def mermaid(solution, network: Network, digits: int = 4) -> str:
    """The network as a Mermaid flowchart, read left to right; names as unicode_name writes them.

    The bias is written in its neuron (bias b₁ = 0.35) rather than drawn as a unit "1": Mermaid
    lays the picture out itself, and the bias edges it draws run through the weights' labels."""
    values, _ = diagram.captions(solution)
    out = ["flowchart LR"]
    if values != "forward value":
        out = ["---", f'title: "{values}"', "---", *out]
    out.extend(f'  n_{name}(("{_mermaid_lines(solution, name, None, digits)}"))' for name in network.inputs)
    edges: list[str] = []
    for layer in network.layers:
        labelled = _labelled(layer)
        for unit in layer:
            out.append(f'  n_{unit.output}(("{_mermaid_lines(solution, unit.output, unit, digits)}"))')
            edges.extend(_mermaid_edge(solution, f"n_{source}", weight, f"n_{unit.output}", labelled, digits)
                         for weight, source in unit.weights)
    loss_lines = [diagram.mermaid_escape(unicode_name(network.loss))]
    shown = diagram.unicode_value(_value(solution, network.loss), digits)
    if shown is not None:
        loss_lines.append(_green(f"{unicode_name(network.loss)} = {shown}"))
    loss_lines.extend(diagram.mermaid_escape(_named(solution, target, digits)) for target in network.targets)
    out.append(f'  n_{network.loss}["{"<br/>".join(loss_lines)}"]')
    out.extend(edges)
    out.extend(f"  n_{u.output} --> n_{network.loss}" for u in network.layers[-1])
    out.append(f"  classDef input fill:{diagram.SYMBOL_FILL_RGB},stroke:#888888")
    out.append("  classDef loss stroke-width:3px")
    out.append(f"  class {','.join(f'n_{name}' for name in network.inputs)} input")
    out.append(f"  class n_{network.loss} loss")
    return "\n".join(out) + "\n"


def _named(solution, name: str, digits: int) -> str:
    """A symbol with its value as a reader writes it: b₁ = 0.35, or b₁ alone where it has none."""
    value = diagram.unicode_value(_value(solution, name), digits)
    return unicode_name(name) + ("" if value is None else f" = {value}")


def _mermaid_lines(solution, name: str, unit: Unit | None, digits: int) -> str:
    """A neuron's label: its name and activation (outₕ₁ σ), then each value named and green
    (netₕ₁ = 0.3775, outₕ₁ = 0.5933), as the TikZ figure's legend says."""
    head = unicode_name(name) + ("" if unit is None or unit.activation is None else f" {unit.activation[0]}")
    lines = [diagram.mermaid_escape(head)]
    if unit is not None and unit.bias:
        lines.append(diagram.mermaid_escape("bias " + _named(solution, unit.bias, digits)))
    names = [name] if unit is None else [n for n in (unit.net, unit.output) if n]
    for shown_name in names:
        value = diagram.unicode_value(_value(solution, shown_name), digits)
        if value is not None:
            given = " (given)" if _given(solution, shown_name) else ""
            lines.append(_green(f"{unicode_name(shown_name)} = {value}{given}"))
    return "<br/>".join(lines)


def _green(line: str) -> str:
    return f"<span style='color:{diagram.FORWARD_RGB}'>{diagram.mermaid_escape(line)}</span>"


def _mermaid_edge(solution, source: str, weight: str, target: str, labelled: bool, digits: int) -> str:
    if not labelled:
        return f"  {source} --> {target}"
    return f'  {source} -->|"{diagram.mermaid_escape(_named(solution, weight, digits))}"| {target}'
