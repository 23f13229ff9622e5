"""Files shipped with the package: the worked examples (the built-in example is one of them)."""

from __future__ import annotations

from pathlib import Path

BUILTIN_EXAMPLE = "seed003_relu_unit.yaml"


def worked_examples_dir() -> Path:
    """worked_examples/ inside the installed wheel, or at the top of a source checkout."""
    # Beside this module, where the wheel puts it: what importlib.resources.files would say for a
    # package on disk, without loading importlib.resources and its zip reader (start-up, issue 15).
    packaged = Path(__file__).parent / "worked_examples"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "worked_examples"


def builtin_example() -> Path:
    """The w1, w2, w3 exercise of the lecture notes (seed 003), solved by `symbackprop solve`."""
    return worked_examples_dir() / BUILTIN_EXAMPLE
