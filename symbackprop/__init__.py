"""symbackprop: backpropagation derived symbolically, with every chain-rule step kept as data."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine.solution import Solution
    from .errors import ProblemError
    from .model.functions import leaky_relu, relu, sigmoid, softmax, softplus
    from .model.problem import Problem
    from .parsing.problems import load, loads

#: The public names and the module of each, imported when a name is first used (PEP 562): importing
#: the package loads nothing, so the command line can load SymPy and the package with Python's
#: collector held off (cli/__init__.py), a tenth of its start-up (issue 15).
PUBLIC = {"Problem": "model.problem", "ProblemError": "errors", "Solution": "engine.solution",
          "leaky_relu": "model.functions", "load": "parsing.problems", "loads": "parsing.problems",
          "relu": "model.functions", "sigmoid": "model.functions", "softmax": "model.functions",
          "softplus": "model.functions"}

__all__ = ["Problem", "ProblemError", "Solution", "leaky_relu", "load", "loads", "relu", "sigmoid",
           "softmax", "softplus"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(f"{__name__}.{PUBLIC[name]}"), name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *PUBLIC})
