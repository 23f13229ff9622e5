"""The command line: `symbackprop solve | graph | check | train | variants`. Each command is its own module;
they share options (options.py) and helpers (common.py) and never import this group."""

from __future__ import annotations

import sys

import click

from .check import check
from .graph import graph
from .solve import solve
from .train import train
from .variants import variants


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symbackprop")
def main() -> None:
    """Derive backpropagation symbolically and write step-by-step worked solutions."""


for command in (solve, graph, check, train, variants):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
