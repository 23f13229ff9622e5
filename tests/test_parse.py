"""parsing/expressions.py: expression text becomes SymPy through `ast` and a whitelist, never through eval/sympify.

Everything outside the whitelist is an ExpressionError (a ProblemError) whose message names the text.
"""

from __future__ import annotations

import builtins
import multiprocessing
import pickle
import random
import string

import pytest
import sympy as sp
import sympy.parsing.sympy_parser as sympy_parser
from hypothesis import given, settings
from hypothesis import strategies as st

import symbackprop
from symbackprop.model import functions as fn
from symbackprop.parsing import expressions
from symbackprop.parsing.expressions import ExpressionError, parse_expression
from symbackprop.model.symbols import symbol

x, y, a, b, c = (symbol(n) for n in ("x", "y", "a", "b", "c"))


# --- what is accepted ---------------------------------------------------------------------------

def test_expression_error_is_a_problem_error():
    assert issubclass(ExpressionError, symbackprop.ProblemError)


def test_names_become_real_symbols():
    result = parse_expression("x")
    assert result == symbol("x")
    assert result.is_real is True
    assert result != sp.Symbol("x")  # a plain SymPy symbol is a different symbol


def test_same_name_twice_is_the_same_symbol():
    assert parse_expression("x_n - x_n") == 0


def test_arithmetic_builds_the_expected_expression():
    assert parse_expression("(w3*x_n - ybar)**2 / 2 + -x") == \
        (symbol("w3") * symbol("x_n") - symbol("ybar")) ** 2 / 2 - x


@pytest.mark.parametrize("text, value", [
    ("0.1", sp.Rational(1, 10)),
    ("2.5e-3", sp.Rational(1, 400)),
    ("0.30", sp.Rational(3, 10)),
    ("1e3", sp.Integer(1000)),
    ("1/3", sp.Rational(1, 3)),
])
def test_decimals_are_exact_rationals(text, value):
    result = parse_expression(text)
    assert result == value
    assert result.is_Rational
    assert not result.has(sp.Float)


def test_decimal_inside_an_expression_stays_exact():
    assert parse_expression("0.1*x + 0.2") == sp.Rational(1, 10) * x + sp.Rational(1, 5)


@pytest.mark.parametrize("text, expected", [
    ("relu(x)", fn.relu(x)),
    ("leaky_relu(x, 0.01)", fn.leaky_relu(x, sp.Rational(1, 100))),
    ("sigmoid(x)", fn.sigmoid(x)),
    ("softmax(2, a, b, c)", fn.softmax(2, a, b, c)),
    ("tanh(x)", sp.tanh(x)),
    ("exp(x)", sp.exp(x)),
    ("log(x)", sp.log(x)),
    ("max(a, b)", sp.Max(a, b)),
    ("Max(a, b, c)", sp.Max(a, b, c)),
    ("min(a, b)", sp.Min(a, b)),
    ("Min(a, b)", sp.Min(a, b)),
    ("abs(x)", sp.Abs(x)),
])
def test_whitelisted_functions(text, expected):
    assert parse_expression(text) == expected


def test_project_functions_stay_unevaluated_on_symbols():
    result = parse_expression("relu(w3*x_n)")
    assert result.func is fn.relu
    assert result.args == (symbol("w3") * symbol("x_n"),)


def test_parse_never_calls_eval_exec_or_sympy_parser(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("input text reached eval/exec/parse_expr")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy_parser, "parse_expr", forbidden)
    result = parse_expression("relu(0.5*x) + leaky_relu(y, 0.1) + sigmoid(x) + softmax(1, a, b) "
                              "+ tanh(x) + exp(x) + log(y) + max(a, b) + Min(a, c) + abs(x)**2 / 3")
    assert result.has(fn.relu, fn.leaky_relu, fn.sigmoid, fn.softmax, sp.Max, sp.Min, sp.Abs)


# --- what is rejected ---------------------------------------------------------------------------

REJECTED = [
    pytest.param("().__class__", "attribute", id="attribute-access"),
    pytest.param("__import__('os')", "__import__", id="dunder-import"),
    pytest.param("lambda: 1", "lambda", id="lambda"),
    pytest.param("[x for x in y]", "comprehension", id="list-comprehension"),
    pytest.param("sum(x for x in y)", "sum", id="generator-in-call"),
    pytest.param("f'{x}'", "f-string", id="f-string"),
    pytest.param("x < y", "comparison", id="comparison"),
    pytest.param("x[0]", "indexing", id="subscript"),
    pytest.param("relu(x=1)", "keyword", id="keyword-argument"),
    pytest.param("max(*x)", "argument", id="starred-argument"),
    pytest.param("open(x)", "open", id="open"),
    pytest.param("eval(x)", "eval", id="eval"),
    pytest.param("sqrt(x)", "sqrt", id="unknown-function"),
    pytest.param("relu(x, y)", "argument", id="relu-two-arguments"),
    pytest.param("softmax(1)", "argument", id="softmax-one-argument"),
    pytest.param("softmax(0, a, b)", "k", id="softmax-k-zero"),
    pytest.param("softmax(3, a, b)", "k", id="softmax-k-too-large"),
    pytest.param("x // y", "//", id="floor-division"),
    pytest.param("x % y", "%", id="modulo"),
    pytest.param("x @ y", "@", id="matmul"),
    pytest.param("'text'", "not a number", id="string-literal"),
    pytest.param("x if y else z", "if", id="conditional"),
    pytest.param("1/0", "zero", id="division-by-zero"),
    pytest.param("log(0)", "zero", id="log-of-zero"),
]


@pytest.mark.parametrize("text, word", REJECTED)
def test_rejected_expression_names_the_text(text, word):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    message = str(info.value)
    assert text in message
    assert word in message


def test_empty_text_is_rejected():
    with pytest.raises(ExpressionError, match="empty"):
        parse_expression("")


def test_blank_text_is_rejected():
    with pytest.raises(ExpressionError, match="empty"):
        parse_expression("   \n\t ")


def test_very_long_name_is_an_expression_error():
    text = "a" * 100
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert "a" * 20 in str(info.value)
    assert "64" in str(info.value)


def test_deep_nesting_of_operations_is_rejected():
    text = "-(" * 200 + "x" + ")" * 200
    with pytest.raises(ExpressionError, match="nested"):
        parse_expression(text)


def test_deep_nesting_of_function_calls_is_rejected():
    text = "relu(" * 200 + "x" + ")" * 200
    with pytest.raises(ExpressionError, match="nested"):
        parse_expression(text)


def test_bare_parentheses_add_no_nesting():
    # Brackets leave no node in the syntax tree, so ((...(x)...)) is just x; Python's own parser
    # refuses 200 or more open brackets, which must surface as an ExpressionError.
    assert parse_expression("(" * 150 + "x" + ")" * 150) == symbol("x")
    with pytest.raises(ExpressionError):
        parse_expression("(" * 250 + "x" + ")" * 250)


def test_overlong_text_is_rejected():
    with pytest.raises(ExpressionError, match="longer"):
        parse_expression("x" + "+x" * 6000)


def _parse_into(text: str, connection) -> None:
    try:
        parse_expression(text)
    except ExpressionError as exc:
        connection.send(("ExpressionError", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - the test reports whatever escaped
        connection.send((type(exc).__name__, str(exc)[:200]))
    else:
        connection.send(("accepted", ""))


def _parse_with_time_limit(text: str, seconds: float) -> tuple[str, str]:
    """Parse in a forked child so a hang fails the test instead of stalling the suite."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_parse_into, args=(text, sender))
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.kill()
        child.join()
        return ("timeout", f"still running after {seconds} s")
    return receiver.recv() if receiver.poll(1) else ("no answer", f"exit code {child.exitcode}")


@pytest.mark.parametrize("text", [
    "10**10**10",
    "10**(10**10)",
    "x**10**10",
    "9999**9999",
    "2**-100000",
    "2**exp(100)",
    "2**exp(exp(exp(100)))",
])
def test_huge_power_fails_fast_with_an_expression_error(text):
    kind, message = _parse_with_time_limit(text, seconds=3)
    assert kind == "ExpressionError", (kind, message)
    assert text in message


def test_exp_just_above_its_limit_is_refused_and_at_or_just_below_it_is_kept():
    # The limit is e^10000 (certified.MAX_EXP_ARGUMENT). 10000 + 1e-30 is above it by 1e-30, which
    # a 15-digit evaluation rounds away; 10000 itself and 10000 - 1e-30 are within it.
    with pytest.raises(ExpressionError, match="exp of a number above 10000"):
        parse_expression("exp(10000 + 1e-30)")
    # 1 - sigmoid(400) = e^-400/(1 + e^-400), about 1.9e-174: above the limit by that, and below.
    with pytest.raises(ExpressionError, match="exp of a number above 10000"):
        parse_expression("exp(10001 - sigmoid(400))")
    assert parse_expression("exp(10000)") == sp.exp(10000)
    assert parse_expression("exp(10000 - 1e-30)") == sp.exp(sp.Integer(10000) - sp.Rational(1, 10**30))
    assert parse_expression("exp(9999 + sigmoid(400))") == sp.exp(9999 + fn.sigmoid(400))


# --- nothing but ExpressionError/ProblemError, and nothing is run ---------------------------------

def _parse_or_problem_error(text: str) -> None:
    try:
        result = parse_expression(text)
    except symbackprop.ProblemError:
        return
    assert isinstance(result, sp.Expr)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_raises_only_problem_errors(text):
    _parse_or_problem_error(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable, max_size=40))
def test_random_printable_junk_raises_only_problem_errors(text):
    _parse_or_problem_error(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="()+-*/.,_ 0123456789exyzabrlusofmtxgpkMin", max_size=30))
def test_random_expression_like_junk_raises_only_problem_errors(text):
    _parse_or_problem_error(text)


PAYLOADS = [
    "__import__('os').system('touch {path}')",
    "x + __import__('os').system('touch {path}')",
    "open('{path}', 'w')",
    "relu(open('{path}', 'w'))",
    "exec(\"open('{path}', 'w')\")",
    "eval(\"open('{path}', 'w')\")",
    "[open('{path}', 'w') for _ in [1]]",
    "(lambda: open('{path}', 'w'))()",
    "f\"{{open('{path}', 'w')}}\"",
    "().__class__.__base__.__subclasses__()[0]",
    "getattr(__builtins__, 'open')('{path}', 'w')",
]


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    return tmp_path_factory.mktemp("sentinel") / "sentinel"


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(string.printable, max_size=4), payload=st.sampled_from(PAYLOADS),
       suffix=st.text(string.printable, max_size=4))
def test_code_in_expression_text_is_never_executed(sentinel, prefix, payload, suffix):
    text = prefix + payload.format(path=sentinel) + suffix
    with pytest.raises(symbackprop.ProblemError):
        parse_expression(text)
    assert not sentinel.exists()


@given(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_a_product_of_two_symbols_is_the_one_sympy_builds(a, b):
    """parse builds w*x without Mul.flatten; it must be SymPy's own product, argument for argument."""
    from symbackprop.parsing.expressions import check_name
    try:
        check_name(a), check_name(b)
    except ExpressionError:
        return
    built = parse_expression(f"{a}*{b}")
    expected = sp.Mul(sp.Symbol(a, real=True), sp.Symbol(b, real=True))
    assert built == expected and built.args == expected.args and str(built) == str(expected)
    assert hash(built) == hash(expected) and built.is_commutative


def test_weighted_sums_read_without_the_parser_equal_the_general_path(monkeypatch):
    """A sum of names and products of two names is built directly (weighted_sum_terms); it must be
    the very expression, and the written order, that Python's parser and SymPy's Add give."""
    rng = random.Random(1)
    names = ["a", "b", "x1", "x10", "x2", "w1_1_10", "w1_1_2", "b1", "A", "Z", "z_", "ybar", "w10"]
    texts = ["w1*x1 + w2*x2 + b", "x*w + b + a*c", "b + a*b", "a*b + b*a", "a*a + b", "a + relu*b",
             "a + lambda*b", "a * b+c", " c + a  *  b ", "a*b*c + d", "a + 2*b", "a+\tb"]
    for _ in range(400):
        terms = [rng.choice(names) + rng.choice(["*", " * "]) + rng.choice(names) if rng.random() < .6
                 else rng.choice(names) for _ in range(rng.randint(2, 9))]
        texts.append(rng.choice([" + ", "+"]).join(terms))

    def both(text):
        try:
            expr = expressions.parse_expression(text)
        except expressions.ExpressionError as exc:
            return str(exc)
        return sp.srepr(expr), sp.srepr(expressions.in_written_order(expr, text))

    fast = {text: both(text) for text in texts}
    assert sum(expressions.weighted_sum_terms(t) is not None for t in texts) > 200
    monkeypatch.setattr(expressions, "weighted_sum_terms", lambda text: None)
    monkeypatch.setattr(expressions, "name_terms", lambda expr: None)
    assert {text: both(text) for text in texts} == fast


def test_a_name_becomes_the_symbol_sympy_makes():
    """model/symbols.symbol builds its symbols directly, sharing one real symbol's assumptions."""
    for name in ["x", "w1_2_3", "ybar", "real_template"]:
        ours, theirs = symbol(name), sp.Symbol(name, real=True)
        assert ours == theirs and hash(ours) == hash(theirs) and sp.srepr(ours) == sp.srepr(theirs)
        assert ours._hashable_content() == theirs._hashable_content()
        assert ours.assumptions0 == theirs.assumptions0 and ours.is_real and ours.is_positive is None
        assert pickle.loads(pickle.dumps(ours)) == theirs
        assert sp.diff(ours**2, theirs) == 2 * theirs
