"""Expression text to SymPy, through Python's `ast` and a whitelist; nothing is ever evaluated.

`eval`, `exec`, `sympify` and `parse_expr` all run Python, so a problem file given to them could run
code. Here the text is only parsed into a syntax tree, every tree node is checked against a short list
(numbers, names, + - * / **, calls of the functions the table of operations names), and the SymPy object
is built directly from it. Decimal literals become exact rationals from their text: `0.1` is 1/10.
"""

from __future__ import annotations

import ast
import functools
import keyword
import math
import re
import sys
import warnings
from typing import Iterator, Mapping

import sympy as sp

from ..arithmetic import numeric
from ..arithmetic.certified import MAX_EXP_ARGUMENT
from ..arithmetic.numeric import MAX_DIGITS, power_digits, too_long
from ..errors import ProblemError
from ..model.definitions import OneNameCall, Unbuilt, WeightedSum, name_terms
from ..model.operations import BY_NAME
from ..model.symbols import symbol

MAX_TEXT_LENGTH = 10_000
MAX_TREE_NODES = 5_000
MAX_DEPTH = 60
MAX_NAME_LENGTH = 64
MAX_NUMBER_LENGTH = 100

#: The functions a problem file may call, by the names it uses: the table of operations' names.
FUNCTIONS = {name: operation.function for name, operation in BY_NAME.items()}

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: A name of at most MAX_NAME_LENGTH characters: with _RESERVED, all that check_name asks.
_NAME = f"[A-Za-z][A-Za-z0-9_]{{0,{MAX_NAME_LENGTH - 1}}}"
_SHORT_NAME = re.compile(_NAME + r"\Z")
_NAMES = re.compile(f"(?:{_NAME}\n)*\\Z")
#: A function called on one name: relu(z1_1).
_CALL = re.compile(f"({_NAME})\\( *({_NAME}) *\\)\\Z")
#: The names check_name refuses although they match NAME_PATTERN.
_RESERVED = frozenset(keyword.kwlist) | frozenset(FUNCTIONS)
#: A number as Python writes it, optionally negative: 0, 12, -0.25 (not 007, which Python refuses).
PLAIN_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?\Z")

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: _product(a, b),
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: _power(a, b),
}
_OPERATOR_WORDS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitXor: "^",
                   ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}


class ExpressionError(ProblemError):
    """An expression outside the whitelist, or one that cannot be built."""


def check_name(name: object, what: str = "name") -> str:
    """A name a user may give to a node or symbol: a letter, then letters, digits and underscores."""
    if type(name) is str and _SHORT_NAME.match(name) and name not in _RESERVED:
        return name          # one test for the common case: a network names 50,000 weights twice
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ExpressionError(f"{what} {name!r} is not a valid name: use a letter followed by letters, "
                           "digits and underscores (for example w3, x_n, ybar)")
    if len(name) > MAX_NAME_LENGTH:
        raise ExpressionError(f"{what} '{name[:20]}...' is longer than {MAX_NAME_LENGTH} characters")
    if keyword.iskeyword(name) or name in FUNCTIONS:
        raise ExpressionError(f"{what} '{name}' is a reserved word or a function name")
    return name


def all_names(names: list) -> bool:
    """Whether check_name takes every one of these names, tested by one regular expression over
    them all (a network's 26,000 weights); where not, the caller checks them one by one for the
    error."""
    try:
        text = "\n".join(names) + "\n"
    except TypeError:
        return False                 # not all text
    return text.count("\n") == len(names) and bool(_NAMES.match(text)) and _RESERVED.isdisjoint(names)


def parse_expression(text: str) -> sp.Expr:
    """Parse expression text into a SymPy expression, or raise ExpressionError saying what is wrong."""
    parsed = parse_definition(text)
    return parsed.expr() if type(parsed) in (WeightedSum, OneNameCall) else parsed


def parse_definition(text: str) -> sp.Expr | Unbuilt:
    """parse_expression, except that a weighted sum is kept as its terms and a function of one name
    as the two (a node's definition, whose expression model/definitions.py builds when it is first
    read): checked as completely, never built here."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression, got {type(text).__name__} {text!r}")
    if len(text) > MAX_TEXT_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_TEXT_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("expression is empty")
    if "#" in text:
        # Python would read the rest as a comment and silently drop it: w1*x1 #+ w2*x2 is w1*x1.
        raise ExpressionError(f"'{_short(text)}' contains '#'; expressions cannot hold comments")
    terms = weighted_sum_terms(text)
    if terms is not None:
        return WeightedSum(terms)
    call = one_name_call(text)
    if call is not None:
        return call
    try:
        with warnings.catch_warnings():
            # Python warns about escapes such as '\_' in string literals; the whitelist rejects them.
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse '{_short(text)}': {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"cannot parse '{_short(text)}': nested too deeply") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_TREE_NODES:
        raise ExpressionError(f"expression has {count} parts, more than the {MAX_TREE_NODES} allowed")
    builder = _Builder(text.strip())
    result = builder.build(tree.body, depth=0)
    return _checked_result(result, text)


class WrittenOrder(Mapping):
    """Each node's expression in its text's order (in_written_order), made when a printer first asks
    for it: loading a network of thousands of weights for its gradients or answer key never does,
    and the reordering was a fifth of such a load."""

    def __init__(self, nodes: Mapping[str, sp.Expr], texts: dict[str, str]):
        self._nodes, self._texts, self._made = nodes, texts, {}

    def __getitem__(self, name: str) -> sp.Expr:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = in_written_order(self._nodes[name], self._texts[name])
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


def in_written_order(expr: sp.Expr, text: str) -> sp.Expr:
    """The expression with its sums' terms and products' factors in the order the text writes them
    (w1*i1 + w2*i2 + b1, where SymPy would write b1 + i1*w1 + i2*w2), unevaluated, for printing
    only: each term goes where its first name first appears. Numbers lead a product and close a sum."""
    first: dict[str, int] = {}
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9_]*", text):
        first.setdefault(match.group(), match.start())
    if name_terms(expr) is not None:
        return _weighted_sum_as_written(expr, first, len(text))

    def position(e: sp.Expr, default: float) -> float:
        return min((first.get(s.name, len(text)) for s in e.free_symbols), default=default)

    def reorder(e: sp.Expr) -> sp.Expr:
        if e.is_Atom:
            return e
        args = [reorder(a) for a in e.args]
        if e.is_Add:
            return sp.Add(*sorted(args, key=lambda a: position(a, math.inf)), evaluate=False)
        if e.is_Mul:
            return sp.Mul(*sorted(args, key=lambda a: position(a, -1)), evaluate=False)
        return e.func(*args, evaluate=False) if e.is_Pow else e.func(*args)

    return reorder(expr)


def parse_number(value: object) -> sp.Expr:
    """A number given in a problem file: int, decimal text (exact), "1/3", or a constant expression."""
    if isinstance(value, str):        # first: most are, and most of those plain decimals
        plain = _plain_decimal(value) if len(value) <= MAX_NUMBER_LENGTH else None
        if plain is not None:
            return plain
    if isinstance(value, bool) or value is None:
        raise ExpressionError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        if _too_long(sp.Integer(value)):
            raise ExpressionError(f"the integer has more than {MAX_DIGITS} digits")
        return sp.Integer(value)
    if isinstance(value, float):
        # A float reaching here lost its text already; its shortest repr is what the user wrote.
        return _decimal(repr(value))
    if isinstance(value, sp.Basic):
        return from_sympy(value)
    if not isinstance(value, str):
        raise ExpressionError(f"expected a number, got {type(value).__name__} {value!r}")
    result = parse_expression(value)
    if result.free_symbols:
        names = ", ".join(sorted(str(s) for s in result.free_symbols))
        raise ExpressionError(f"expected a number, got '{_short(value)}' which uses {names}")
    return result


@functools.lru_cache(maxsize=4096)
def _plain_decimal(text: str) -> sp.Rational | None:
    """Most numbers in a problem ("0.3", "-1"): the same value the parser gives, without parsing,
    and read as digits over a power of ten (SymPy's Rational of the text parses it as a Fraction
    first, four times as long for a network's 26,000 weights). Kept by text: a network's weights
    are a few dozen texts many times over. None for any other text."""
    if not PLAIN_DECIMAL.match(text):
        return None
    whole, _, fraction = text.partition(".")
    return sp.Rational(int(whole + fraction), 10 ** len(fraction))


def from_sympy(expr: object) -> sp.Expr:
    """Take an expression built in Python (a notebook) down the same checked path as parsed text.

    Floats become the exact decimals they print as; symbols are renamed into the project's real
    symbols; anything the whitelist does not know is an error.
    """
    expr = sp.sympify(expr, strict=True) if not isinstance(expr, sp.Basic) else expr
    allowed_functions = set(FUNCTIONS.values())

    def rebuild(e):
        if e.is_Symbol:
            return symbol(check_name(e.name))
        if e.is_Float:
            return _decimal(str(e))
        if e.is_Rational:
            return e
        if e.is_Add or e.is_Mul or e.is_Pow:
            return e.func(*(rebuild(a) for a in e.args))
        if e.func in allowed_functions:
            return e.func(*(rebuild(a) for a in e.args))
        raise ExpressionError(f"'{e}' uses {e.func.__name__}, which is not supported; use "
                              "+ - * / **, numbers, names and " + ", ".join(sorted(FUNCTIONS)))

    return _checked_result(rebuild(expr), str(expr))


def _checked_result(result: sp.Expr, text: str) -> sp.Expr:
    if result.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError(f"'{_short(text)}' divides by zero or takes the log of zero")
    if any(_too_long(number) for number in result.atoms(sp.Rational)):
        raise ExpressionError(f"'{_short(text)}' makes a number of more than {MAX_DIGITS} digits")
    return result


def _too_long(number: sp.Expr) -> bool:
    """An exact number of more than MAX_DIGITS digits: 10**4000*10**4000 passes the power check,
    but Python will not even print it."""
    if not number.is_Rational:
        return False
    return too_long(number)


class _Builder:
    def __init__(self, text: str):
        self.text = text

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"'{_short(self.text)}' is nested more than {MAX_DEPTH} levels deep")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ExpressionError(
                f"'{_short(self.text)}' uses {_describe(node)}, which is not allowed; use numbers, "
                "names, + - * / ** and the functions " + ", ".join(sorted(FUNCTIONS)))
        return method(node, depth + 1)

    def _Constant(self, node: ast.Constant, depth: int) -> sp.Expr:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"'{_short(self.text)}' contains {node.value!r}, which is not a number")
        literal = ast.get_source_segment(self.text, node) or repr(node.value)
        if len(literal) > MAX_NUMBER_LENGTH:
            raise ExpressionError(f"number '{literal[:20]}...' is longer than {MAX_NUMBER_LENGTH} characters")
        return _decimal(literal.replace("_", ""))

    def _Name(self, node: ast.Name, depth: int) -> sp.Expr:
        if node.id in FUNCTIONS:
            raise ExpressionError(f"'{node.id}' is a function; call it as {node.id}(...)")
        return symbol(check_name(node.id))

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Expr:
        operand = self.build(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise ExpressionError(f"'{_short(self.text)}' uses the operator {type(node.op).__name__}, "
                              "which is not allowed")

    def _BinOp(self, node: ast.BinOp, depth: int) -> sp.Expr:
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return self._sum(node, depth)
        operation = _BINARY.get(type(node.op))
        if operation is None:
            word = _OPERATOR_WORDS.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(f"'{_short(self.text)}' uses the operator {word}, which is not "
                                  "allowed; use + - * / **")
        left, right = self.build(node.left, depth), self.build(node.right, depth)
        try:
            result = operation(left, right)
        except _PowerTooLarge as exc:
            raise ExpressionError(f"'{_short(self.text)}': {exc}") from None
        # Checked at every step (SymPy puts a sum's or product's number first), so that a chain
        # 10**4000*10**4000*... stops before it multiplies numbers of millions of digits.
        if _too_long(result.args[0] if result.is_Add or result.is_Mul else result):
            raise ExpressionError(f"'{_short(self.text)}' makes a number of more than {MAX_DIGITS} "
                                  "digits")
        return self._real(result, node)

    def _sum(self, node: ast.BinOp, depth: int) -> sp.Expr:
        """A flat sum a + b - c + ... (Python nests it to the left, one level per term) built at one
        depth and in one step: a weighted sum of 64 inputs is not nested 64 levels deep."""
        terms = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            terms.append((node.op, node.right))
            node = node.left
        parts = [self.build(node, depth)]
        for op, right in reversed(terms):
            part = self.build(right, depth)
            parts.append(part if isinstance(op, ast.Add) else -part)
        result = sp.Add(*parts)
        if _too_long(result.args[0] if result.is_Add else result):
            raise ExpressionError(f"'{_short(self.text)}' makes a number of more than {MAX_DIGITS} "
                                  "digits")
        return result

    def _Call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else _describe(node.func)
            raise ExpressionError(f"'{_short(self.text)}' calls {called}, which is not a supported "
                                  "function; use " + ", ".join(sorted(FUNCTIONS)))
        name = node.func.id
        if node.keywords:
            raise ExpressionError(f"'{_short(self.text)}': {name}() takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"'{_short(self.text)}': {name}() takes no *arguments")
        _check_arity(name, len(node.args), self.text)
        args = [self.build(a, depth) for a in node.args]
        if name == "exp" and not _exp_in_range(args[0]):
            raise ExpressionError(f"'{_short(self.text)}': exp of a number above {MAX_EXP_ARGUMENT} "
                                  "is too large to compute")
        try:
            return self._real(FUNCTIONS[name](*args), node)
        except ValueError as exc:
            raise ExpressionError(f"'{_short(self.text)}': {exc}") from None

    def _real(self, result: sp.Expr, node: ast.AST) -> sp.Expr:
        """Refuse a constant that is not real (log(-9), (-8)**(1/3)) where it is written: SymPy would
        carry it on, and comparing it (exp's limit, max, min) raises a bare TypeError."""
        if result.is_number and not result.is_Rational and result.evalf(15).has(sp.I):
            part = ast.get_source_segment(self.text, node) or self.text
            raise ExpressionError(f"'{_short(self.text)}': {_short(part)} is not a real number")
        return result


def _check_arity(name: str, count: int, text: str) -> None:
    arity = BY_NAME[name].arity
    if isinstance(arity, tuple):
        least, most = arity
        if count < least:
            raise ExpressionError(f"'{_short(text)}': {name}() needs at least {least} "
                                  f"argument{'s' if least != 1 else ''}, got {count}")
        if most is not None and count > most:
            raise ExpressionError(f"'{_short(text)}': {name}() takes at most {most} arguments, "
                                  f"got {count}")
    elif count != arity:
        raise ExpressionError(f"'{_short(text)}': {name}() takes {arity} argument"
                              f"{'s' if arity != 1 else ''}, got {count}")


def weighted_sum_terms(text: str) -> tuple[tuple[str, ...], ...] | None:
    """The terms of a text that is only a weighted sum, `w1*x1 + w2*x2 + b`: each a name or a product
    of two different names, separated by + and spaces, no term twice; else None. In SymPy's order,
    the order of its Add (Basic.compare: names before products, each by name, a product's names in
    order), so that model/definitions.WeightedSum can build that Add directly.

    A network's sums are most of its text, and Python's parser and SymPy's Add (which sorts its
    terms by structural comparison) took a second and a half for the 266 sums of 64-128-128-10.
    One regular expression checks the whole text (names of at most MAX_NAME_LENGTH characters, as
    check_name wants them), so that splitting it at + and * gives the terms. Anything else, and any
    name that check_name would refuse, goes the general way, which gives the same expression or
    the error."""
    if "+" not in text or len(text) > MAX_TEXT_LENGTH:
        return None
    text = text.strip()
    if not _WEIGHTED_SUM.match(text):
        return None
    compact = text.replace(" ", "")
    parts = compact.split("+")
    if not _RESERVED.isdisjoint(compact.replace("*", "+").split("+")):
        return None
    # The parts Python's tree of the text would have (checked by parse_expression against
    # MAX_TREE_NODES): the root, an operator node and its + per added term, 6 per product
    # (BinOp, *, two Names with their contexts) and 2 per name.
    products = compact.count("*")
    if 1 + 2 * (len(parts) - 1) + 6 * products + 2 * (len(parts) - products) > MAX_TREE_NODES:
        return None
    # A product's names interned: a layer's inputs are named in every unit's sum (128 copies of each
    # of 64-128-128-10's names, 1.3 MiB), and interned ones are the one string.
    pairs = [(a, b) if a < b else (b, a)
             for a, b in (map(sys.intern, part.split("*")) for part in parts if "*" in part)]
    terms = (*sorted((part,) for part in parts if "*" not in part), *sorted(pairs))
    if len(set(terms)) != len(terms) or any(a == b for a, b in pairs):
        return None            # a term twice (x*w + w*x is SymPy's 2*w*x), or w*w (its w**2)
    return terms


_TERM = f" *{_NAME} *(?:\\* *{_NAME} *)?"
#: A weighted sum's text, stripped: two or more terms joined by +, spaces only around names.
_WEIGHTED_SUM = re.compile(f"{_TERM}(?:\\+{_TERM})+\\Z")

def one_name_call(text: str) -> OneNameCall | sp.Expr | None:
    """relu(z1_1): a function called on one name (a network's activations, one node per unit), read
    without Python's parser: a fifth of the time, a second for thousands of units. Kept as the
    function and the name where the function of a name stays that function of that name (relu,
    sigmoid, tanh, ...); else built as the parser's _Call builds it (sqrt(x) is x**(1/2)). None for
    anything else, which goes the general way (and its errors)."""
    match = _CALL.match(text.strip())
    if match is None:
        return None
    function, argument = match.groups()
    if function not in FUNCTIONS or argument in _RESERVED or not _takes_one(function):
        return None
    if _stays_a_call(function):
        return OneNameCall(FUNCTIONS[function], argument)
    try:
        result = FUNCTIONS[function](symbol(argument))
    except ValueError:
        return None
    return _checked_result(result, text)


def _takes_one(function: str) -> bool:
    arity = BY_NAME[function].arity
    if isinstance(arity, tuple):
        return arity[0] <= 1 and (arity[1] is None or arity[1] >= 1)
    return arity == 1


@functools.lru_cache(maxsize=None)
def _stays_a_call(function: str) -> bool:
    """Whether the function of a name is the function applied to that name, unevaluated: then it is
    so for every name, as every symbol of a problem has the same assumptions (symbols.symbol), and
    passes the checks of _checked_result, which look for numbers the call has none of."""
    name = symbol("x")
    try:
        result = FUNCTIONS[function](name)
    except ValueError:
        return False
    return result.is_Function and result.args == (name,)


def _weighted_sum_as_written(expr: sp.Add, first: dict[str, int], absent: int) -> sp.Expr:
    """in_written_order of a sum of names and products of two names, without visiting it as a
    general tree: each product's factors in order of first appearance, then the terms by their first
    name's appearance, ties kept in SymPy's order (as the general path's stable sorts keep them)."""
    placed = []
    for term in expr.args:
        if term.is_Symbol:
            placed.append((first.get(term.name, absent), term))
            continue
        a, b = term.args
        at_a, at_b = first.get(a.name, absent), first.get(b.name, absent)
        if at_b < at_a:
            # What Mul(b, a, evaluate=False) builds (it runs no postprocessor for plain symbols).
            placed.append((at_b, sp.Mul._from_args((b, a), True)))
        else:
            placed.append((at_a, term))      # already in written order (w1*x1): the same product
    placed.sort(key=lambda entry: entry[0])
    return sp.Add(*(term for _, term in placed), evaluate=False)


class _PowerTooLarge(Exception):
    pass


def _product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a*b. A weight times an input, two different symbols, is built as SymPy's Mul.flatten would
    build it (factors in order of name) without running it: 36 us each, a second for a network of
    26,000 weights."""
    if a.is_Symbol and b.is_Symbol and a.name != b.name:
        return sp.Mul._from_args((a, b) if a.name < b.name else (b, a), True)
    return a * b


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    """base**exponent, refusing numeric powers whose value would have too many digits to compute."""
    if exponent.is_number and exponent.is_real and abs(exponent) > MAX_DIGITS:
        raise _PowerTooLarge(f"the exponent {_short(str(exponent))} is above {MAX_DIGITS}")
    if power_digits(base, exponent) > MAX_DIGITS:
        raise _PowerTooLarge(f"the power has more than {MAX_DIGITS} digits")
    return base**exponent


def _exp_in_range(argument: sp.Expr) -> bool:
    """False for a number too large to exponentiate (above certified.MAX_EXP_ARGUMENT), decided by a
    certified sign: 15 digits would let 10000 + 1e-30 through. Every number built here passed this
    check or the power check, so evaluating the argument is itself safe; one whose side of the limit
    cannot be established is refused too."""
    if not argument.is_number:
        return True
    try:
        return numeric.sign(argument - MAX_EXP_ARGUMENT) <= 0
    except numeric.NumericError:
        return False


def _decimal(literal: str) -> sp.Rational:
    """Exact value of a decimal literal: '0.1' is 1/10, '2.5e-3' is 1/400."""
    # A short literal can stand for a huge exact number: 1e999999999 has a billion digits.
    exponent = re.search(r"[eE]([-+]?\d+)\Z", literal.strip())
    if exponent and abs(int(exponent.group(1))) > MAX_DIGITS:
        raise ExpressionError(f"the number '{_short(literal)}' has more than {MAX_DIGITS} digits")
    try:
        return sp.Rational(literal)
    except (TypeError, ValueError):
        raise ExpressionError(f"'{literal}' is not a number") from None


def _describe(node: ast.AST) -> str:
    names = {
        "Attribute": "attribute access (.)", "Subscript": "indexing ([])", "Lambda": "lambda",
        "ListComp": "a comprehension", "GeneratorExp": "a comprehension", "SetComp": "a comprehension",
        "DictComp": "a comprehension", "JoinedStr": "an f-string", "Compare": "a comparison",
        "BoolOp": "and/or", "IfExp": "if/else", "NamedExpr": "assignment (:=)", "Await": "await",
        "List": "a list", "Tuple": "a tuple", "Dict": "a dict", "Set": "a set",
    }
    kind = type(node).__name__
    return names.get(kind, kind)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
