"""symbackprop: backpropagation derived symbolically, with every chain-rule step kept as data."""

from .engine.solution import Solution
from .errors import ProblemError
from .model.functions import leaky_relu, relu, sigmoid, softmax, softplus
from .model.problem import Problem
from .parsing.problems import load, loads

__all__ = ["Problem", "ProblemError", "Solution", "leaky_relu", "load", "loads", "relu", "sigmoid",
           "softmax", "softplus"]
__version__ = "0.1.0"
