"""The operations a node may use: one class each, and the class is the whole table row.

A row's docstring opens with the operation's local derivative as the lecture notes write it (SymPy's
`fdiff` in functions.py does the differentiating; tests/test_operations.py holds each docstring to
`sympy.diff`). The row carries what the rest of the package needs to know of the operation: the names
a problem file calls it by and how many arguments it takes (parser), its gate rule in words and what
each side of its kink means (worked solution), its glyph (diagram), and its evaluation on balls and,
where it keeps rationals rational, on exact rationals (certified values and compiled runs). Nothing
else in the package keeps a per-operation table; a new activation is one class here.

Rows fill the table by subclassing: BY_FUNCTION (by the SymPy class), BY_NAME (by the names a problem
file may call), BY_KEY (by the gate rule's key, which the answer key writes).
"""

from __future__ import annotations

import functools
from typing import ClassVar, Iterator

import sympy as sp
from flint import arb, fmpq

from ..arithmetic import certified
from . import functions as fn

BY_FUNCTION: dict[type, type[Operation]] = {}
BY_NAME: dict[str, type[Operation]] = {}
BY_KEY: dict[str, type[Operation]] = {}


class NoRowError(LookupError):
    """An operation that the table of operations does not have."""


class Operation:
    """A row of the table. Subclasses set the class attributes; they are never instantiated."""

    #: The SymPy class it stands for; a row without one (Chain) is a gate rule only.
    function: ClassVar[type]
    #: The name of its gate rule in a solution's steps and the answer key ("relu", "multiply").
    key: ClassVar[str]
    #: How a problem file calls it ("relu"); empty for + * **, which are operators, and for sign,
    #: which only derivatives hold.
    names: ClassVar[tuple[str, ...]] = ()
    #: Its arguments: an exact count, or (at least, at most) with None for no limit.
    arity: ClassVar[int | tuple[int, int | None]] = 1
    #: False for a function a claim may write but a node may not use (no gate rule applies to it).
    in_nodes: ClassVar[bool] = True
    #: What it does to the upstream gradient, as the gate rules of the lecture notes say it.
    gate: ClassVar[str]
    #: Its glyph in a drawing of the graph: (plain text, LaTeX), or None to write the expression.
    glyph: ClassVar[tuple[str, str] | None] = None
    #: Whether its LaTeX ends in its own bracket, sigma(...), so a value written so needs no other.
    bracketed: ClassVar[bool] = False
    #: Whether a `layers:` problem may name it as a layer's elementwise activation.
    activation: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:                 # abstract groups (Kinked) are not rows
            BY_KEY[cls.key] = cls
        if "function" in cls.__dict__:
            BY_FUNCTION[cls.function] = cls
            BY_NAME.update(dict.fromkeys(cls.names, cls))
            if cls.ball is not None:
                # The arithmetic floor may not import this table, so the table hands it each
                # evaluation (certified.operation looks them up by SymPy class).
                certified.register(cls.function, cls.ball, cls.exact)

    @classmethod
    def formula(cls) -> str:
        """The local derivative in the form a reader knows: the docstring's first line."""
        return (cls.__doc__ or "").strip().splitlines()[0]

    #: The value on balls, from its arguments' balls; None for an operator, which the arithmetic
    #: evaluates itself (certified.operation).
    ball: ClassVar = None
    #: The value on exact rationals where it is always rational, else None.
    exact: ClassVar = None

    #: Why a given output tells its input (known_input), by the output's sign, said after "the given
    #: y = 3 is relu(z)".
    read_back: ClassVar[dict[int, str]] = {}

    @classmethod
    def known_input(cls, expr: sp.Expr, value: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
        """What a given value of expr says about the input whose sign decides its kink, as
        (input, its value): relu(a) = 3 means a = 3. None where it says nothing."""
        return None


def row(function: type) -> type[Operation]:
    """The row of a SymPy class, or NoRowError naming the operation."""
    found = BY_FUNCTION.get(function)
    if found is None:
        raise NoRowError(f"{function.__name__} has no row in the table of operations "
                         "(symbackprop/model/operations.py)")
    return found


class Kinked(Operation):
    """An operation whose derivative jumps where an input (or a difference of inputs) crosses 0."""

    #: What each sign of the step's argument means: 1, -1, and 0 (the kink; {kink} is the convention).
    sides: ClassVar[dict[int, str]]
    #: Whether its derivative holds a Heaviside step (abs's holds sign instead).
    has_step: ClassVar[bool] = True
    #: The step's value at exactly 0 where the operation fixes it; None where the problem's kink
    #: convention decides (ReLU, max, min).
    step_at_zero: ClassVar[sp.Expr | None] = None

    @classmethod
    def kinks(cls, expr: sp.Expr) -> Iterator[sp.Expr]:
        """The arguments of the steps in expr's derivative, as SymPy writes them."""
        yield expr.args[0]

    @classmethod
    def side(cls, expr: sp.Expr, sign: int) -> sp.Expr:
        """expr on one side of its kink, where its input has `sign` (1 or -1): relu(a) is a or 0."""
        raise NotImplementedError(f"{cls.__name__} has no single input whose sign picks a side")


# --- operators -----------------------------------------------------------------------------------

class Add(Operation):
    """d(a + b)/da = 1"""

    function = sp.Add
    key = "add"
    gate = ("an add gate passes the upstream gradient unchanged to every input (negated for one "
            "that is subtracted)")
    glyph = ("+", "+")


class Multiply(Operation):
    """d(a*b)/da = b"""

    function = sp.Mul
    key = "multiply"
    gate = ("a multiply gate gives each input the upstream gradient times the other inputs' "
            "forward values (the inputs swap)")
    glyph = ("×", r"\times")


class Power(Operation):
    """d(a**n)/da = n*a**(n - 1)"""

    function = sp.Pow
    key = "power"
    gate = "a power multiplies by n*a**(n-1)"


# --- kinked ----------------------------------------------------------------------------------------

class Relu(Kinked):
    """relu'(z) = 1 if z > 0 else 0"""

    function = fn.relu
    key = "relu"
    names = ("relu",)
    gate = "ReLU passes the upstream gradient where its input is positive and blocks it (0) otherwise"
    glyph = ("ReLU", r"\mathrm{ReLU}")
    activation = True
    bracketed = True
    sides = {1: "ReLU is active, its slope is 1 and the gradient passes",
             -1: "ReLU is inactive, its slope is 0 and the gradient is blocked",
             0: "ReLU sits exactly at its kink; its slope there is taken as {kink} by convention"}
    read_back = {1: "and positive, so the ReLU's input equals it"}

    @staticmethod
    def ball(z: arb) -> arb:
        return z.max(arb(0))         # continuous: no side of the kink to decide for the value

    @staticmethod
    def exact(z: fmpq) -> fmpq:
        return z if z > 0 else fmpq(0)

    @classmethod
    def known_input(cls, expr, value):
        return (expr.args[0], value) if value > 0 else None

    @classmethod
    def side(cls, expr, sign):
        return expr.args[0] if sign > 0 else sp.S.Zero


class LeakyRelu(Kinked):
    """leaky_relu'(z, alpha) = 1 if z > 0 else alpha

    Its slope at exactly 0 is alpha whatever the kink convention, as torch's leaky_relu; called
    with one argument, alpha is 0.01 (PyTorch's default negative_slope).
    """

    function = fn.leaky_relu
    key = "leaky_relu"
    names = ("leaky_relu",)
    arity = (1, 2)
    gate = ("leaky ReLU passes the upstream gradient where its input is positive and scales it by "
            "alpha otherwise")
    glyph = ("LeakyReLU", r"\mathrm{LeakyReLU}")
    activation = True
    bracketed = True
    step_at_zero = sp.S.Zero
    sides = {1: "leaky ReLU is on its slope-1 side",
             -1: "leaky ReLU is on its slope-alpha side",
             0: "leaky ReLU sits exactly at its kink; its slope there is alpha, as in PyTorch "
                "(the kink convention is for ReLU, max and min)"}
    read_back = {1: "and positive, so its input equals it",
                 -1: "and negative, so its input is that value divided by alpha"}

    @staticmethod
    def ball(z: arb, alpha: arb) -> arb:
        if z > 0:
            return z
        if z < 0:
            return alpha * z
        return z.union(alpha * z)    # a ball across 0: the value lies between the two sides

    @staticmethod
    def exact(z: fmpq, alpha: fmpq) -> fmpq:
        return z if z > 0 else alpha * z

    @classmethod
    def known_input(cls, expr, value):
        if value == 0:
            return None
        return expr.args[0], (value if value > 0 else value / expr.args[1])

    @classmethod
    def side(cls, expr, sign):
        return expr.args[0] if sign > 0 else expr.args[1] * expr.args[0]


class Max(Kinked):
    """d(max(a, b))/da = 1 if a > b else 0"""

    function = sp.Max
    key = "max"
    names = ("max", "Max")
    arity = (2, None)
    gate = "a max gate routes the upstream gradient to the larger input and 0 to the others"
    glyph = ("max", r"\max")
    sides = {1: "this input is the larger one, so the max gate routes the gradient to it",
             -1: "this input is not the larger one, so the max gate gives it 0",
             0: "the inputs of the max tie; the slope is taken as {kink} by convention"}
    read_back = {1: "and positive, so the input other than 0 equals it"}
    #: The sign of the difference that makes an input the chosen one: larger for max.
    chooses = 1

    @classmethod
    def kinks(cls, expr):
        # SymPy differentiates max(a, b) by a as Heaviside(a - b): one step per input, against the
        # max (min) of the others.
        for a in expr.args:
            others = [b for b in expr.args if b != a]
            rest = others[0] if len(others) == 1 else expr.func(*others)
            yield (a - rest) if cls.chooses > 0 else (rest - a)

    @staticmethod
    def ball(*xs: arb) -> arb:
        return functools.reduce(arb.max, xs)    # continuous: the whole ball, with no side to decide

    @staticmethod
    def exact(*xs: fmpq) -> fmpq:
        return max(xs)

    @classmethod
    def known_input(cls, expr, value):
        # max(0, z), a ReLU written as a max: a positive value is z's.
        if len(expr.args) == 2 and sp.S.Zero in expr.args and value > 0:
            return (expr.args[1] if expr.args[0] == 0 else expr.args[0]), value
        return None


class Min(Max):
    """d(min(a, b))/da = 1 if a < b else 0"""

    function = sp.Min
    key = "min"
    names = ("min", "Min")
    gate = "a min gate routes the upstream gradient to the smaller input and 0 to the others"
    glyph = ("min", r"\min")
    sides = {1: "this input is the smaller one, so the min gate routes the gradient to it",
             -1: "this input is not the smaller one, so the min gate gives it 0",
             0: "the inputs of the min tie; the slope is taken as {kink} by convention"}
    chooses = -1

    @staticmethod
    def ball(*xs: arb) -> arb:
        return functools.reduce(arb.min, xs)

    @staticmethod
    def exact(*xs: fmpq) -> fmpq:
        return min(xs)

    @classmethod
    def known_input(cls, expr, value):
        return None


class Abs(Kinked):
    """abs'(z) = sign(z)"""

    function = sp.Abs
    key = "abs"
    names = ("abs",)
    gate = "abs passes the gradient with the sign of its input"
    glyph = ("abs", r"|\cdot|")
    has_step = False
    sides = {1: "abs has slope +1 here", -1: "abs has slope -1 here",
             0: "abs sits at its kink; its slope there is 0"}

    @staticmethod
    def ball(z: arb) -> arb:
        return abs(z)

    @staticmethod
    def exact(z: fmpq) -> fmpq:
        return abs(z)

    @classmethod
    def side(cls, expr, sign):
        return expr.args[0] if sign > 0 else -expr.args[0]


class Step(Kinked):
    """Heaviside'(z) = 0

    (away from 0, where it jumps). The step of ReLU's and max's derivatives, as the answer key
    writes general forms (Heaviside(z, h0): its value at exactly 0 second): a claim may copy it, a
    node may not use it.
    """

    function = sp.Heaviside
    key = "step"
    names = ("Heaviside",)
    arity = (1, 2)
    in_nodes = False
    gate = "a step passes no gradient: its slope is 0 on either side of 0"
    glyph = ("step", r"\theta")
    sides = {1: "the step function is 1", -1: "the step function is 0",
             0: "the step function is {kink} at exactly 0 by convention"}

    @staticmethod
    def ball(z: arb, at_zero: arb | None = None) -> arb:
        side = certified.certain_sign(z)
        if side:
            return arb(1) if side > 0 else arb(0)
        return arb(fmpq(1, 2)) if at_zero is None else at_zero     # SymPy's Heaviside(0) is 1/2

    @staticmethod
    def exact(z: fmpq, at_zero: fmpq = fmpq(1, 2)) -> fmpq:
        return fmpq(1) if z > 0 else fmpq(0) if z < 0 else at_zero


class Sign(Operation):
    """sign'(z) = 0

    (away from 0). Only derivatives hold it (abs's), so a problem file cannot call it.
    """

    function = sp.sign
    key = "sign"
    in_nodes = False
    gate = "a sign passes no gradient: its slope is 0 on either side of 0"
    glyph = ("sign", r"\operatorname{sign}")

    @staticmethod
    def ball(z: arb) -> arb:
        return arb(certified.certain_sign(z))

    @staticmethod
    def exact(z: fmpq) -> fmpq:
        return fmpq((z > 0) - (z < 0))


# --- smooth ----------------------------------------------------------------------------------------

class Sigmoid(Operation):
    """sigmoid'(z) = sigmoid(z)*(1 - sigmoid(z))"""

    function = fn.sigmoid
    key = "sigmoid"
    names = ("sigmoid",)
    gate = "the sigmoid multiplies by its output times one minus its output"
    glyph = ("σ", r"\sigma")
    activation = True
    bracketed = True
    ball = staticmethod(certified.sigmoid_ball)


class Softplus(Operation):
    """softplus'(z) = sigmoid(z)

    softplus(z) = log(1 + exp(z)), the smooth ReLU.
    """

    function = fn.softplus
    key = "softplus"
    names = ("softplus",)
    gate = "softplus multiplies by the sigmoid of its input"
    glyph = ("softplus", r"\mathrm{softplus}")
    activation = True
    bracketed = True

    @staticmethod
    def ball(z: arb) -> arb:
        # Neither form takes the exp of a large positive number, and log1p keeps the digits of
        # log(1 + tiny): z + log(1 + e^-z) for z > 0, log(1 + e^z) otherwise.
        if z > 0:
            return z + (-z).exp().log1p()
        return z.exp().log1p()


class Softmax(Operation):
    """d(softmax(k, z1, z2))/dz1 = softmax(k, z1, z2)*((k == 1) - softmax(1, z1, z2))

    d softmax_k/d z_j = softmax_k*([k = j] - softmax_j), the k-th output counting from 1.
    """

    function = fn.softmax
    key = "softmax"
    names = ("softmax",)
    arity = (2, None)
    gate = ("softmax multiplies by its output times one minus that output for its own input, "
            "and by minus the product of the two outputs for each other input")
    glyph = ("softmax", r"\operatorname{softmax}")
    bracketed = True

    @staticmethod
    def ball(k: arb, *zs: arb) -> arb:
        # Shifted by the largest input, so that no exp is of a large positive number.
        top = max(zs, key=lambda z: z.mid())
        exps = [(z - top).exp() for z in zs]
        return exps[int(k.unique_fmpz()) - 1] / sum(exps, arb(0))


class Tanh(Operation):
    """tanh'(z) = 1 - tanh(z)**2"""

    function = sp.tanh
    key = "tanh"
    names = ("tanh",)
    gate = "tanh multiplies by one minus its output squared"
    glyph = ("tanh", r"\tanh")
    activation = True
    bracketed = True

    @staticmethod
    def ball(z: arb) -> arb:
        return z.tanh()


class Exp(Operation):
    """exp'(z) = exp(z)"""

    function = sp.exp
    key = "exp"
    names = ("exp",)
    gate = "exp multiplies by its own output"
    glyph = ("exp", r"\exp")

    @staticmethod
    def ball(z: arb) -> arb:
        if z > certified.MAX_EXP_ARGUMENT:
            raise certified.TooLarge(f"exp of more than {certified.MAX_EXP_ARGUMENT}")
        return z.exp()


class Log(Operation):
    """log'(z) = 1/z"""

    function = sp.log
    key = "log"
    names = ("log",)
    gate = "log divides by its input"
    glyph = ("log", r"\log")
    bracketed = True

    @staticmethod
    def ball(z: arb) -> arb:
        if certified.certain_sign(z) <= 0:
            raise ValueError("the log of a number that is not positive")
        return z.log()


class Chain(Operation):
    """The chain rule through the node's expression.

    Not an operation but the rule for a node whose input sits inside several of them.
    """

    key = "chain"
    gate = "the node's expression is differentiated by the chain rule"
