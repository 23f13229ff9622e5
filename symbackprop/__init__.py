"""symbackprop: backpropagation derived symbolically, with every chain-rule step kept as data."""

from .errors import ProblemError
from .functions import leaky_relu, relu, sigmoid, softmax
from .problem import Problem, load, loads
from .solution import Solution

__all__ = ["Problem", "ProblemError", "Solution", "leaky_relu", "load", "loads", "relu", "sigmoid",
           "softmax"]
__version__ = "0.1.0"
