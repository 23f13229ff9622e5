"""The command line: `symbackprop solve | graph | check | train | variants`. Each command is its own module;
they share options (options.py) and helpers (common.py) and never import this group."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator, MutableMapping

import click

from ..budget import collection_paused

#: Each command and the module that defines it (a function of the command's name in it).
COMMAND_MODULES = {name: f"{__name__}.{name}" for name in ("solve", "graph", "check", "train", "variants")}


class LazyCommands(MutableMapping):
    """The group's commands, each module imported when its command is first looked up: a run of
    `solve` does not import what check, train and variants need (the claim judge, the study, the
    homework exports), a third of its start-up. `--help` looks every command up."""

    def __init__(self, modules: dict[str, str]):
        #: name -> the command, or the name of its module until it is looked up.
        self._commands: dict[str, click.Command | str] = dict(modules)

    def __getitem__(self, name: str) -> click.Command:
        command = self._commands[name]
        if isinstance(command, str):
            # The module loads SymPy and the package: some 65,000 objects, which live until the
            # program exits. Python's collector would walk them a hundred times while they load and
            # at every full collection after, and at exit, a tenth of the start-up (issue 15): they
            # load with it held off, then are frozen out of its reach (gc.freeze).
            with collection_paused():
                module = importlib.import_module(command)
                # SymPy's first sum imports sympy.tensor.tensor and sympy.combinatorics (Add.flatten
                # does, whatever it adds): every command sums, so they load and freeze here too.
                importlib.import_module("sympy.tensor.tensor")
                gc.freeze()
            command = self._commands[name] = getattr(module, name)
        return command

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._commands[name] = command

    def __delitem__(self, name: str) -> None:
        del self._commands[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._commands)

    def __len__(self) -> int:
        return len(self._commands)


@click.group(commands=LazyCommands(COMMAND_MODULES),
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symbackprop")
def main() -> None:
    """Derive backpropagation symbolically and write step-by-step worked solutions."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
