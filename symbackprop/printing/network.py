"""A layered network drawn as the lecture figures draw it: neurons as circles in columns, one per layer,
a weight on each edge, a bias unit "1" per layer, the forward values below the neurons (green, as in the
computational graph), and the loss as a last box. TikZ for LaTeX, Mermaid for Markdown.

`recognise()` reads the layers off the graph's structure, never off names: a *unit* is a node that is a
weighted sum (terms weight*input, and at most one bias symbol) whose only consumer is an activation of
it alone (sigmoid(net_h1), relu(z1_1)), or that is consumed by a softmax over its layer, or by the loss
alone (a linear output, y = v*h + c). A unit's inputs are the network's input symbols or the outputs of
units of the layer just before it. Every node but the loss must belong to a unit; anything else (a gate
split into nodes, a skip connection, a loss built from several nodes) is not a layered network, and the
caller draws the computational graph instead. Everything is laid out from ordered data (the user's node
order, the graph's symbol order), so the same solution draws byte-identically.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..model.operations import BY_FUNCTION
from . import diagram
from .printers import unicode_name

#: A layer with more weights than this draws its edges without labels: 64 labels on the edges between
#: two layers of 8 cannot be read; the weights are in the worked solution's equations.
MAX_LABELLED_WEIGHTS = 12
#: The most units a layer may have for the figure to fit a page; a wider network is not drawn.
MAX_UNITS_PER_LAYER = 10


@dataclass(frozen=True)
class Unit:
    """One neuron of a layer."""

    #: The node holding its output: the activation (out_h1), or the weighted sum itself for a linear one.
    output: str
    #: The weighted-sum node (net_h1), or None where the output node is that sum.
    net: str | None
    #: The activation's glyph as (plain text, LaTeX): σ, ReLU, softmax; None for a linear unit.
    activation: tuple[str, str] | None
    #: (weight symbol, the input it multiplies), in the order of the previous layer.
    weights: tuple[tuple[str, str], ...]
    bias: str | None


@dataclass(frozen=True)
class Network:
    #: The input symbols, in order of first use.
    inputs: tuple[str, ...]
    #: The units of each layer, the output layer last, each in the user's node order.
    layers: tuple[tuple[Unit, ...], ...]
    loss: str
    #: The symbols the loss uses directly (the targets), in order of first use.
    targets: tuple[str, ...]


def recognise(problem) -> Network | None:
    """The layers of `problem`'s network, or None where it is not made of layers of units."""
    graph = problem.graph
    loss = problem.loss
    if loss not in graph.nodes:
        return None
    sums = {name: terms for name, node in graph.nodes.items() if name != loss
            and (terms := _weighted_sum(node.expr, graph.nodes)) is not None}
    units: dict[str, Unit] = {}               # by output node
    for name, node in graph.nodes.items():
        if name == loss or name in sums:
            continue
        net = _activation_input(node.expr, sums)
        if net is None:
            return None                                       # a node that is no part of a unit
        units[name] = Unit(name, net, _glyph(node.expr), (), None)
    for name in sums:
        consumers = graph.consumers[name]
        if consumers == (loss,):
            units[name] = Unit(name, None, None, (), None)    # a linear output: y = v*h + c
        elif not consumers or any(c not in units for c in consumers) or (
                len(consumers) > 1 and not all(_is_softmax(graph.nodes[c].expr) for c in consumers)):
            return None                                       # a sum feeding something else too
    weights = _resolve_weights(problem, {u.net or u.output: sums[u.net or u.output] for u in units.values()},
                               set(units))
    if weights is None:
        return None
    layer_of: dict[str, int] = {}
    built: dict[str, Unit] = {}
    for output, unit in units.items():
        terms, bias = weights[unit.net or output]
        levels = {layer_of.get(source, 0) for _, source in terms}
        if len(levels) != 1 or any(s in graph.nodes and s not in units for _, s in terms):
            return None                                      # a skip connection, or a sum of a sum
        layer_of[output] = levels.pop() + 1
        built[output] = Unit(output, unit.net, unit.activation, terms, bias)
    if not built:
        return None
    depth = max(layer_of.values())
    last = [name for name in built if layer_of[name] == depth]
    loss_nodes = [i for i in graph.nodes[loss].inputs if i in graph.nodes]
    if sorted(loss_nodes) != sorted(last) or any(
            loss in graph.consumers[name] for name in built if layer_of[name] != depth):
        return None
    layers = tuple(tuple(built[n] for n in built if layer_of[n] == level) for level in range(1, depth + 1))
    if any(len(layer) > MAX_UNITS_PER_LAYER for layer in layers):
        return None
    # Softmax normalises over its layer: every unit of that layer must be one of the same softmax.
    for layer in layers:
        groups = {graph.nodes[u.output].inputs for u in layer if _is_softmax(graph.nodes[u.output].expr)}
        if groups and (len(groups) != 1 or len(next(iter(groups))) != len(layer)):
            return None
    sources = {s for unit in built.values() for _, s in unit.weights if s not in graph.nodes}
    inputs = tuple(s for s in graph.symbols if s in sources)
    previous: tuple[str, ...] = inputs
    ordered_layers = []
    for layer in layers:
        rank = {name: i for i, name in enumerate(previous)}
        ordered_layers.append(tuple(Unit(u.output, u.net, u.activation,
                                         tuple(sorted(u.weights, key=lambda t: rank[t[1]])), u.bias)
                                    for u in layer))
        previous = tuple(u.output for u in layer)
    targets = tuple(s for s in graph.symbols if s in graph.nodes[loss].inputs)
    return Network(inputs, tuple(ordered_layers), loss, targets)


def _weighted_sum(expr: sp.Expr, nodes) -> tuple[list[tuple[str, str]], list[str]] | None:
    """The products of two names and the lone symbols of a sum (w1*i1 + w2*i2 + b1), or None where
    expr is anything else (a number, a square, a product of three)."""
    products, alone = [], []
    for term in sp.Add.make_args(expr):
        if term.is_Symbol and term.name not in nodes:
            alone.append(term.name)
        elif term.is_Mul and len(term.args) == 2 and all(a.is_Symbol for a in term.args):
            products.append(tuple(a.name for a in term.args))
        else:
            return None
    if not products or len(alone) > 1:
        return None
    return products, alone


def _activation_input(expr: sp.Expr, sums) -> str | None:
    """The weighted sum an activation node applies to: the one name in relu(z), sigmoid(z),
    leaky_relu(z, 0.01) or softmax(k, z1, ..., zn) (the k-th), or z itself (a linear layer); else None."""
    if expr.is_Symbol:
        return expr.name if expr.name in sums else None
    row = BY_FUNCTION.get(expr.func)
    if row is None:
        return None
    if _is_softmax(expr):
        index, *zs = expr.args
        if not zs or not all(z.is_Symbol and z.name in sums for z in zs):
            return None
        return zs[int(index) - 1].name
    names = [a for a in expr.args if not a.is_Number]
    if not row.activation or len(names) != 1 or not names[0].is_Symbol:
        return None
    return names[0].name if names[0].name in sums else None


def _is_softmax(expr: sp.Expr) -> bool:
    row = BY_FUNCTION.get(expr.func)
    return row is not None and row.key == "softmax"


def _glyph(expr: sp.Expr) -> tuple[str, str] | None:
    if expr.is_Symbol:
        return None
    return BY_FUNCTION[expr.func].glyph


def _resolve_weights(problem, sums, unit_outputs: set[str]):
    """Each unit's (weight, input) pairs and bias. In a product the input is a unit's output, or
    the factor that is not a parameter, or, where neither or both are parameters, the factor that
    several units multiply (an input feeds every unit of its layer); None where that does not decide."""
    shared: dict[str, int] = {}
    for products, _ in sums.values():
        for pair in products:
            for name in pair:
                shared[name] = shared.get(name, 0) + 1
    parameters = set(problem.parameters)
    resolved = {}
    for name, (products, alone) in sums.items():
        terms = []
        for a, b in products:
            if (a in unit_outputs) != (b in unit_outputs):
                weight, source = (b, a) if a in unit_outputs else (a, b)
            elif (a in parameters) != (b in parameters):
                weight, source = (a, b) if a in parameters else (b, a)
            elif (shared[a] > 1) != (shared[b] > 1):
                weight, source = (b, a) if shared[a] > 1 else (a, b)
            else:
                return None
            if weight in unit_outputs or weight in problem.graph.nodes:
                return None
            terms.append((weight, source))
        resolved[name] = (tuple(terms), alone[0] if alone else None)
    return resolved


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
    out.append(f"  \\node[anchor=north, font=\\scriptsize, align=center] at ([yshift=-2mm]current bounding "
               f"box.south) {{\\textcolor{{{diagram.FORWARD_TIKZ}}}{{{values}s: below a neuron its weighted "
               f"sum, then its output}}\\\\ on the edges: the weights, and from the units $1$ the "
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
