"""The options the commands share, each defined once (pip-tools keeps its own in scripts/options.py),
and the one parameter type for numbers given on the command line."""

from __future__ import annotations

from pathlib import Path

import click
import sympy as sp

from .. import budget
from ..arithmetic import numeric
from ..errors import ProblemError
from ..model.problem import FORMS, NUMBER_POLICIES
from ..parsing.expressions import parse_number
from .common import input_error


class ExactNumber(click.ParamType):
    """A number as a problem file writes it, kept exact: 0.1 is 1/10, and "1/3" is allowed. A value
    outside [low, high] (or not above low, with above=True) is bad input naming the option, said in
    one line as every other bad input is (click's own usage error would print three)."""

    name = "number"

    def __init__(self, low: int | None = None, high: int | None = None, *, above: bool = False):
        self.low, self.high, self.above = low, high, above

    def convert(self, value, param, ctx) -> sp.Expr:
        if isinstance(value, sp.Basic):
            return value
        flag = max(param.opts, key=len) if param is not None else None
        try:
            number = parse_number(value)
        except ProblemError as error:
            raise input_error(ProblemError(error.message, key=flag)) from None
        try:
            # Certified signs: SymPy's own comparison cannot decide sigmoid(1) + sigmoid(-1) - 1 = 0.
            below = self.low is not None and numeric.sign(number - self.low) <= (0 if self.above else -1)
            above = self.high is not None and numeric.sign(number - self.high) > 0
        except numeric.NumericError as exc:
            raise input_error(ProblemError(f"its sign cannot be established: {exc}", key=flag)) from None
        if below:
            raise input_error(ProblemError(
                f"must be {'greater than' if self.above else 'at least'} {self.low}, got {value}", key=flag))
        if above:
            raise input_error(ProblemError(f"must be at most {self.high}, got {value}", key=flag))
        return number


FILE = click.Path(dir_okay=False, path_type=Path)


def problem(required: bool = True):
    """PROBLEM: a YAML file; solve and graph fall back to the built-in example without it."""
    return click.argument("problem", required=required, type=FILE)


def output_format(choices, default: str, help: str):
    return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                        show_default=True, help=help)


def digits(default: int, help: str):
    return click.option("--digits", type=click.IntRange(1, 100), default=default, show_default=True,
                        help=help)


def form(function):
    return click.option("--form", type=click.Choice(FORMS),
                        help="How a layered network is derived: scalar (node by node; the default, or "
                             "the problem's form:), matrix (each layer's equations as matrices) or "
                             "both (the matrices, then the entries derived in full).")(function)


def numbers(function):
    return click.option("--numbers", type=click.Choice(NUMBER_POLICIES),
                        help="as-written: decimals stay decimals, rounded values after ≈ (the "
                             "default, or the problem's numbers:); exact: fractions beside "
                             "decimals.")(function)


def decimals(function):
    return click.option("--decimals", type=click.IntRange(0, 100),
                        help="Fixed decimal places for rounded values, instead of --digits "
                             "significant digits.")(function)


def derivation(function):
    """--gradients, --all-gradients, --detail and --no-delta: what the backward pass derives."""
    function = click.option("--no-delta", "delta", flag_value=False, default=True,
                            help="The pure chain rule: no delta named for a unit's net input.")(function)
    function = click.option("--detail", metavar="NAMES|all",
                            help="Derive these gradients in full (w5,w1); the others are rows of "
                                 "their layer's table. Default: the problem's detail:, else the "
                                 "first of each layer beyond six parameters.")(function)
    function = click.option("--all-gradients", is_flag=True,
                            help="Derive every gradient (inputs, targets, biases), not only the "
                                 "parameters'.")(function)
    return function


def steps(help: str):
    return click.option("--steps", type=click.IntRange(1), help=help)


def epochs(help: str):
    return click.option("--epochs", type=click.IntRange(1), help=help)


output = click.option("-o", "--output", type=FILE, help="Write to this file instead of standard output.")

gates = click.option("--gates", is_flag=True,
                     help="Split compound expressions into one node per operation (one gate rule per "
                          "step).")

kink = click.option("--kink", type=ExactNumber(0, 1),
                    help="Derivative of ReLU, max and min at exactly 0 (0 by default, as torch.relu; "
                         "1/2 splits a max tie as torch.maximum). Leaky ReLU's is always alpha.")

learning_rates = click.option("--lr", "rates", multiple=True, metavar="ETA", type=ExactNumber(0, above=True),
                              help="A learning rate to try (exact: 0.1 is 1/10); repeat for each rate. "
                                   "Default: the problem's learning_rate.")

time_limit = click.option("--time-limit", type=click.FloatRange(min=0), default=budget.DEFAULT_SECONDS,
                          show_default=True, metavar="SECONDS",
                          help="Stop with an error when loading, solving and writing take longer "
                               "(0: no limit).")


def figure(choices):
    """--figure, and --no-figure as a short way to say --figure none (issue 12 asks for it by that
    name): no default on the command line, so that the library picks the network where the
    problem is layered and the graph elsewhere."""
    def decorate(function):
        function = click.option("--no-figure", is_flag=True,
                                help="No figure: the same as --figure none.")(function)
        return click.option("--figure", type=click.Choice(choices), default=None,
                            help="The figure of md and tex: network (neurons in layers, weights on "
                                 "the edges; the default for layered problems), graph (the "
                                 "computational graph; the default for others) or none.")(function)
    return decorate


def notes(levels):
    """--section-level and --label-prefix: a LaTeX solution made to \\input into lecture notes."""
    def decorate(function):
        function = click.option("--label-prefix", metavar="PREFIX",
                                help="tex: number the results (each gradient asked for, each delta, "
                                     "each intermediate gradient) and label them PREFIX:dE-dw5, "
                                     "PREFIX:delta-o1, for \\eqref in the notes; a letter, then "
                                     "letters, digits and hyphens. Default: no numbers.")(function)
        return click.option("--section-level", type=click.Choice(levels), default=None,
                            help="tex: the level of the title's heading (section, the default: "
                                 "parts are subsections, steps paragraphs; each level lower shifts "
                                 "all one down, below paragraph as bold run-in text); none: no "
                                 "title, parts at subsection. Headings are unnumbered.")(function)
    return decorate


def sheet(choices):
    """--sheet and --blank: a homework sheet of the problem (printing/sheets.py)."""
    def decorate(function):
        function = click.option("--answer-digits", type=click.IntRange(1, 100),
                                help="--sheet question or blanks: the significant digits the answers "
                                     "are asked to, fewer than --digits, which the steps then carry "
                                     "(default: --digits).")(function)
        function = click.option("--blank", metavar="KEYS",
                                help="--sheet blanks: box these quantities' values (dE/dw5,w5+,E+); "
                                     "default: the problem's blank:, else every answer its tasks "
                                     "ask for.")(function)
        return click.option("--sheet", type=click.Choice(choices), default=None,
                            help="A homework sheet: question (the problem, its figure without "
                                 "computed values, the tasks (a), (b), ... and a line for the "
                                 "student's name; --digits is the significant digits it asks for), "
                                 "solution (the worked solution, its parts headed by their task's "
                                 "label) or blanks (the solution with answer boxes). json takes "
                                 "solution only (the answer key).")(function)
    return decorate
