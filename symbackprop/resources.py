"""Files shipped with the package: the worked examples (the built-in example is one of them)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUILTIN_EXAMPLE = "seed003_relu_unit.yaml"


def worked_examples_dir() -> Path:
    """worked_examples/ inside the installed wheel, or at the top of a source checkout."""
    packaged = Path(str(resources.files("symbackprop"))) / "worked_examples"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "worked_examples"


def builtin_example() -> Path:
    """The w1, w2, w3 exercise of the lecture notes (seed 003), solved by `symbackprop solve`."""
    return worked_examples_dir() / BUILTIN_EXAMPLE
