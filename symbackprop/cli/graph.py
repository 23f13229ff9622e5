"""`symbackprop graph [PROBLEM]`: the computational graph with its values and gradients."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ProblemError
from ..printing import diagram
from . import options
from .common import input_error, limited, load_problem, write_output


@click.command()
@options.problem(required=False)
@options.output_format(diagram.DIAGRAM_FORMATS, "tikz", "tikz for LaTeX, mermaid for GitHub Markdown, "
                       "dot or svg (needs Graphviz).")
@options.output
@options.digits(4, "Significant digits of the values drawn.")
@options.gates
@options.time_limit
def graph(problem: Path | None, fmt: str, output: Path | None, digits: int, gates: bool,
          time_limit: float) -> None:
    """Draw the computational graph of PROBLEM with each node's forward value (green) and
    gradient (red); without PROBLEM, the built-in example."""
    try:
        with limited(time_limit, problem):
            loaded = load_problem(problem, gates)
            solution = loaded.solve()
            text = diagram.draw(solution, fmt, digits=digits)
    except ProblemError as exc:
        raise input_error(exc) from None
    boxes = diagram.box_count(solution)
    if fmt in ("tikz", "mermaid") and boxes > diagram.MAX_DRAWN_BOXES:
        click.echo(f"warning: {boxes} boxes are more than a page holds (pdflatex stops at a few hundred "
                   "with 'Dimension too large'); --format svg draws any size", err=True)
    write_output(text if text.endswith("\n") else text + "\n", output)
