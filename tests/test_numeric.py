"""Exact arithmetic where possible, 50-digit decimals where not, and rounding only when printing."""

from __future__ import annotations

import sympy as sp

from symbackprop.arithmetic.certified import Real

import symbackprop
from symbackprop.arithmetic import numeric
from symbackprop.printing import formats
from symbackprop import sigmoid


def test_decimals_in_values_are_exact_fractions():
    solution = symbackprop.load({"nodes": {"E": "w*x"}, "values": {"w": 0.1, "x": "0.3"}}).solve()
    assert solution.forward["E"].value == sp.Rational(3, 100)
    assert solution.gradients["w"].value == sp.Rational(3, 10)


def test_piecewise_linear_network_stays_rational():
    solution = symbackprop.load({
        "nodes": {"h": "relu(w1*x + b)", "y": "max(h, w2*x)", "E": "(y - t)**2/2"},
        "values": {"w1": "0.7", "x": "1/3", "b": "-0.1", "w2": "0.2", "t": 1},
    }).solve()
    for gradient in solution.gradients.values():
        assert gradient.value.is_Rational
    assert solution.forward["E"].value == (sp.Rational(7, 30) - sp.Rational(1, 10) - 1) ** 2 / 2


def test_short_irrational_value_keeps_its_closed_form():
    solution = symbackprop.load({"nodes": {"h": "sigmoid(w*x)"}, "values": {"w": "0.5", "x": 1}}).solve()
    assert solution.forward["h"].value == sigmoid(sp.Rational(1, 2))
    assert formats.exact_string(solution.forward["h"].value) == "sigmoid(1/2)"


def test_long_closed_forms_become_certified_reals_with_at_least_30_correct_digits():
    nodes = {"a0": "x"}
    for i in range(1, 6):
        nodes[f"a{i}"] = f"sigmoid(w*a{i - 1} + exp(a{i - 1}))"
    solution = symbackprop.load({"nodes": nodes, "values": {"w": "0.3", "x": "0.2"}}).solve()
    last = solution.forward["a5"].value
    assert isinstance(last, Real) and formats.exact_string(last) is None
    # Reference: the same composition evaluated directly by mpmath at 80 digits.
    import mpmath
    with mpmath.workdps(80):
        a = mpmath.mpf(2) / 10
        for _ in range(5):
            a = 1 / (1 + mpmath.exp(-(mpmath.mpf(3) / 10 * a + mpmath.exp(a))))
        assert abs(mpmath.mpf(str(sp.N(last, 40))) - a) < mpmath.mpf(10) ** -30


def test_decimal_string_rounds_correctly_and_is_none_while_symbolic():
    assert numeric.decimal_string(sp.Rational(2, 3)) == "0.666666666666667"
    assert numeric.decimal_string(sp.Integer(3)) == "3.00000000000000"
    assert numeric.decimal_string(sp.Symbol("x") * 2) is None


def test_division_by_zero_at_the_values_is_an_error_naming_the_node():
    problem = symbackprop.load({"nodes": {"q": "1/(a - b)"}, "values": {"a": 1, "b": 1}})
    try:
        problem.solve()
    except symbackprop.ProblemError as error:
        assert error.key == "nodes.q"
        assert "division by zero" in error.message
    else:
        raise AssertionError("expected a ProblemError")


def test_notebook_expressions_take_the_same_path_as_text():
    from symbackprop import relu

    w3, x = sp.symbols("w3 x")                       # plain SymPy symbols, no assumptions
    from_python = symbackprop.load({"nodes": {"y": relu(w3 * x), "E": "(y - 2)**2"},
                                    "values": {"w3": 0.2, "x": 15}}).solve()
    from_text = symbackprop.load({"nodes": {"y": "relu(w3*x)", "E": "(y - 2)**2"},
                                  "values": {"w3": "0.2", "x": 15}}).solve()
    assert from_python.to_dict() == from_text.to_dict()
    assert from_python.gradients["w3"].value == 30


def test_sigmoid_of_a_number_is_one_half_exactly_where_the_number_is_zero():
    """sigmoid's zero test of a number asks its certified sign, not SymPy's assumptions (which
    evaluate a transcendental sum numerically): an exact zero not written as one still gives 1/2."""
    zero = sigmoid(1) + sigmoid(-1) - 1
    assert sigmoid(zero) == sp.Rational(1, 2)
    net_input = sp.Rational(17, 20) - sigmoid(sp.Rational(9, 4)) + 3 * sigmoid(sp.Rational(-127, 100)) / 5
    assert isinstance(sigmoid(net_input), sigmoid) and sigmoid(sp.Integer(0)) == sp.Rational(1, 2)
    x = sp.Symbol("x", real=True)
    assert isinstance(sigmoid(x), sigmoid) and sigmoid(x - x) == sp.Rational(1, 2)
