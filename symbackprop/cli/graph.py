"""`symbackprop graph [PROBLEM]`: the computational graph with its values and gradients."""

from __future__ import annotations

from pathlib import Path

import click

from .. import budget
from ..errors import ProblemError
from ..printing import diagram
from .common import _load, _write, input_error, limited


@click.command()
@click.argument("problem", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(diagram.FORMATS), default="tikz", show_default=True,
              help="tikz for LaTeX, mermaid for GitHub Markdown, dot or svg (needs Graphviz).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--digits", type=click.IntRange(1, 100), default=4, show_default=True,
              help="Significant digits of the values drawn.")
@click.option("--gates", is_flag=True, help="Split compound expressions into one node per operation.")
@budget.option
def graph(problem: Path | None, fmt: str, output: Path | None, digits: int, gates: bool,
          time_limit: float) -> None:
    """Draw the computational graph of PROBLEM with each node's forward value (green) and
    gradient (red); without PROBLEM, the built-in example."""
    try:
        with limited(time_limit, problem):
            loaded = _load(problem, gates)
            solution = loaded.solve()
            text = diagram.draw(solution, fmt, digits=digits)
    except ProblemError as exc:
        raise input_error(exc) from None
    boxes = diagram.box_count(solution)
    if fmt in ("tikz", "mermaid") and boxes > diagram.MAX_DRAWN_BOXES:
        click.echo(f"warning: {boxes} boxes are more than a page holds (pdflatex stops at a few hundred "
                   "with 'Dimension too large'); --format svg draws any size", err=True)
    _write(text if text.endswith("\n") else text + "\n", output)
