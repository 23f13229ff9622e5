"""Splitting compound expressions into one node per operation, so each step is a single gate rule."""

from __future__ import annotations

import sympy as sp

import symbackprop
from symbackprop.model.graph import split_into_gates
from symbackprop.parsing.expressions import parse_expression
from symbackprop.model.symbols import symbol


def test_relu_of_a_product_splits_into_a_multiply_gate_and_a_relu():
    split, generated = split_into_gates({"y": parse_expression("relu(w3*x_n)")})
    assert split == {"y_1": symbol("w3") * symbol("x_n"), "y": parse_expression("relu(y_1)")}
    assert generated == {"y_1"}


def test_subtraction_stays_one_add_gate():
    split, _ = split_into_gates({"E": parse_expression("(y - ybar)**2")})
    assert split["E_1"] == symbol("y") - symbol("ybar")
    assert split["E"] == symbol("E_1") ** 2


def test_generated_names_never_collide_with_existing_ones():
    split, generated = split_into_gates({"y": parse_expression("relu(a*b) + y_1")})
    assert "y_1" not in generated
    assert set(split) == {"y_2", "y_3", "y"}


def test_gates_give_the_same_gradients_and_one_rule_per_step():
    mapping = {"nodes": {"h": "sigmoid(w1*x1 + w2*x2)", "E": "(h - t)**2/2"},
               "values": {"w1": "0.5", "x1": 1, "w2": "-0.25", "x2": 2, "t": 1}}
    whole = symbackprop.load(mapping).solve()
    gated = symbackprop.load({**mapping, "gates": True}).solve()
    for name in ("w1", "w2", "x1", "x2", "t", "h"):
        assert sp.simplify(whole.gradients[name].value - gated.gradients[name].value) == 0
    assert all(len(step.rules) == 1 and step.rules != ("chain",)
               for step in gated.steps if hasattr(step, "rules"))
