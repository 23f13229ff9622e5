"""parsing/problems.py: bad problems raise ProblemError naming the file, the key and, for files, the line."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap

import pytest

import symbackprop
from symbackprop import ProblemError


def write(tmp_path, text: str, name: str = "problem.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path, text: str, name: str = "problem.yaml") -> ProblemError:
    """The error of loading `text` from a file; fails the test if loading succeeds."""
    path = write(tmp_path, text, name)
    with pytest.raises(ProblemError) as info:
        symbackprop.load(path)
    return info.value


def solve_error(tmp_path, text: str, name: str = "problem.yaml") -> ProblemError:
    """The error of solving `text` from a file: it loads, and fails only at the values."""
    problem = symbackprop.load(write(tmp_path, text, name))
    with pytest.raises(ProblemError) as info:
        problem.solve()
    return info.value


def assert_names(error: ProblemError, *, source: str | None, key: str | None, line: int | None):
    message = str(error)
    if source is not None:
        assert source in message, message
        assert error.source is not None and source in error.source
    if key is not None:
        assert f"key '{key}'" in message, message
        assert error.key == key
    if line is not None:
        assert f"line {line}" in message, message
        assert error.line == line


# --- the file as a whole ------------------------------------------------------------------------

def test_invalid_yaml_names_file_and_line(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: relu(w3*x_n)
          E: [1, 2
        """)
    assert_names(error, source="problem.yaml", key=None, line=4)
    assert "YAML" in str(error)


def test_empty_file_names_file(tmp_path):
    error = load_error(tmp_path, "")
    assert_names(error, source="problem.yaml", key=None, line=None)
    assert "empty" in str(error)


def test_comment_only_file_is_empty(tmp_path):
    error = load_error(tmp_path, "# only a comment\n")
    assert "empty" in str(error)


@pytest.mark.parametrize("text", ["- nodes\n- values\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path, text):
    error = load_error(tmp_path, text)
    assert_names(error, source="problem.yaml", key=None, line=None)
    assert "mapping" in str(error)


def test_missing_file_names_file(tmp_path):
    with pytest.raises(ProblemError) as info:
        symbackprop.load(tmp_path / "absent.yaml")
    assert "absent.yaml" in str(info.value)
    assert "no such file" in str(info.value)


def test_loads_uses_the_given_source(tmp_path):
    with pytest.raises(ProblemError) as info:
        symbackprop.loads("nodes:\n  y: x\nvalue:\n  x: 1\n", source="lecture3.yaml")
    assert_names(info.value, source="lecture3.yaml", key="value", line=3)


def test_unknown_top_level_key(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        value:
          w: 1
        """)
    assert_names(error, source="problem.yaml", key="value", line=3)
    assert "unknown key 'value'" in str(error)


def test_duplicate_key_names_file_key_and_line(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: x
          y: 2*x
        """)
    assert_names(error, source="problem.yaml", key="nodes.y", line=3)
    assert "twice" in str(error)


def test_python_yaml_tag_is_not_executed(tmp_path):
    sentinel = tmp_path / "sentinel"
    error = load_error(tmp_path, f"""\
        nodes:
          y: !!python/object/apply:os.system ["touch {sentinel}"]
        """)
    assert not sentinel.exists()
    assert_names(error, source="problem.yaml", key=None, line=None)


# --- nodes --------------------------------------------------------------------------------------

def test_missing_nodes(tmp_path):
    error = load_error(tmp_path, """\
        values:
          x: 1
        """)
    assert_names(error, source="problem.yaml", key="nodes", line=None)


@pytest.mark.parametrize("text", ["nodes: {}\n", "nodes:\n", "nodes: []\n"])
def test_empty_nodes(tmp_path, text):
    error = load_error(tmp_path, text)
    assert_names(error, source="problem.yaml", key="nodes", line=1)


def test_node_used_before_it_is_defined(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: z + 1
          z: 2*x
        """)
    assert_names(error, source="problem.yaml", key="nodes.y", line=2)
    assert "'z'" in str(error) and "later" in str(error)


def test_node_using_itself_is_a_cycle(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          h: 2*x
          y: y + h
        """)
    assert_names(error, source="problem.yaml", key="nodes.y", line=3)
    assert "cycle" in str(error)


def test_two_nodes_using_each_other_is_a_cycle(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          a: b + 1
          b: a*x
        """)
    assert_names(error, source="problem.yaml", key="nodes.a", line=2)
    assert "cycle" in str(error)
    assert "'b'" in str(error)


def test_unsupported_function_names_node(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          h: 2*x
          y: sqrt(h)
        """)
    assert_names(error, source="problem.yaml", key="nodes.y", line=3)
    assert "sqrt" in str(error)


def test_forbidden_syntax_names_node_and_text(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: __import__('os').getcwd()
        """)
    assert_names(error, source="problem.yaml", key="nodes.y", line=2)
    assert "__import__" in str(error)


def test_invalid_node_name(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: x
          _z: y + 1
        """)
    assert_names(error, source="problem.yaml", key="nodes._z", line=3)


def test_loss_not_a_node(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        loss: E
        """)
    assert_names(error, source="problem.yaml", key="loss", line=3)
    assert "'E'" in str(error)


# --- values and given ---------------------------------------------------------------------------

def test_value_for_a_node_points_to_given(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: relu(w*x)
          E: (y - t)**2
        values:
          w: 0.5
          y: 3
        """)
    assert_names(error, source="problem.yaml", key="values.y", line=6)
    assert "given:" in str(error)


def test_non_numeric_value(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w3*x
        values:
          w3: abc
        """)
    assert_names(error, source="problem.yaml", key="values.w3", line=4)
    assert "abc" in str(error)


def test_list_as_value(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w3*x
        values:
          w3: [1, 2]
        """)
    assert_names(error, source="problem.yaml", key="values.w3", line=4)
    assert "number" in str(error)


def test_boolean_value_is_not_a_number(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w3*x
        values:
          w3: true
        """)
    assert_names(error, source="problem.yaml", key="values.w3", line=4)


def test_given_for_a_non_node(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        given:
          z: 1
        """)
    assert_names(error, source="problem.yaml", key="given.z", line=4)
    assert "'z'" in str(error)


def test_non_numeric_given(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        given:
          y: lots
        """)
    assert_names(error, source="problem.yaml", key="given.y", line=4)


def test_unused_values_are_warnings_not_errors(tmp_path):
    problem = symbackprop.load(write(tmp_path, """\
        nodes:
          y: w*x
        values:
          w: 1
          x: 2
          z: 3
          q: 4
        """))
    assert len(problem.warnings) == 2
    assert "values.z" in problem.warnings[0] and "'z'" in problem.warnings[0]
    assert "values.q" in problem.warnings[1]
    assert problem.solve().to_dict()["forward"]["y"]["exact"] == "2"


def test_used_values_give_no_warning(tmp_path):
    problem = symbackprop.load(write(tmp_path, """\
        nodes:
          y: w*x
        values:
          w: 1
          x: 2
        """))
    assert problem.warnings == []


# --- parameters, learning rate, kink ------------------------------------------------------------

def test_parameter_that_is_a_node(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        values:
          w: 1
        parameters: [w, y]
        learning_rate: 0.1
        """)
    assert_names(error, source="problem.yaml", key="parameters.1", line=5)
    assert "'y'" in str(error)


def test_parameter_without_value(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        parameters:
          - w
        learning_rate: 0.1
        """)
    assert_names(error, source="problem.yaml", key="parameters.0", line=4)
    assert "'w'" in str(error)


def test_learning_rate_without_parameters(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        values:
          w: 1
        learning_rate: 0.1
        """)
    assert_names(error, source="problem.yaml", key="learning_rate", line=5)


def test_non_numeric_learning_rate(tmp_path):
    error = load_error(tmp_path, """\
        nodes:
          y: w*x
        values:
          w: 1
        parameters: [w]
        learning_rate: fast
        """)
    assert_names(error, source="problem.yaml", key="learning_rate", line=6)


@pytest.mark.parametrize("kink", ["2", "-0.5", "1.01"])
def test_kink_outside_zero_one(tmp_path, kink):
    error = load_error(tmp_path, f"""\
        nodes:
          y: relu(x)
        kink: {kink}
        """)
    assert_names(error, source="problem.yaml", key="kink", line=3)
    assert "between 0 and 1" in str(error)


@pytest.mark.parametrize("kink", ["0", "0.5", "1"])
def test_kink_inside_zero_one_is_accepted(tmp_path, kink):
    problem = symbackprop.load(write(tmp_path, f"""\
        nodes:
          y: relu(x)
        kink: {kink}
        """))
    assert str(problem.kink) == str(symbackprop.parsing.expressions.parse_number(kink))


# --- errors at the values (solve time) ----------------------------------------------------------

def test_division_by_zero_at_the_values(tmp_path):
    error = solve_error(tmp_path, """\
        nodes:
          h: a*x
          q: 1/(a - b)
          E: q**2
        values:
          a: 1
          b: 1
          x: 2
        """)
    assert_names(error, source="problem.yaml", key="nodes.q", line=3)
    assert "zero" in str(error)


def test_log_of_zero_at_the_values(tmp_path):
    error = solve_error(tmp_path, """\
        nodes:
          y: log(x)
          E: y**2
        values:
          x: 0
        """)
    assert_names(error, source="problem.yaml", key="nodes.y", line=2)
    assert "log" in str(error)


def test_log_of_a_negative_number_at_the_values(tmp_path):
    error = solve_error(tmp_path, """\
        nodes:
          y: log(x)
        values:
          x: -1
        """)
    assert_names(error, source="problem.yaml", key="nodes.y", line=2)
    assert "real" in str(error)


def _load_and_solve_into(mapping, connection) -> None:
    try:
        symbackprop.load(mapping).solve().to_dict()
    except ProblemError as exc:
        connection.send(("ProblemError", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - the test reports whatever escaped
        connection.send((type(exc).__name__, str(exc)[:200]))
    else:
        connection.send(("solved", ""))


def test_huge_power_at_the_values_fails_fast():
    """a**b at a = 10, b = 10**10 has ten billion digits: loading, solving and the answer key must
    end within seconds, as a ProblemError naming the node."""
    mapping = {"nodes": {"y": "a**b"}, "values": {"a": 10, "b": "10**10"}}
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_load_and_solve_into, args=(mapping, sender))
    child.start()
    child.join(3)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("y: a**b with a = 10, b = 10**10 was still running after 3 s")
    kind, message = receiver.recv()
    assert kind == "ProblemError", (kind, message)
    assert "nodes.y" in message


NESTED_EXP = """
import symbackprop
try:
    symbackprop.load({"nodes": {"y": "exp(exp(exp(x)))"}, "values": {"x": 100}}).solve()
except symbackprop.ProblemError as exc:
    print("ProblemError:", exc)
"""


def test_overflowing_exp_is_a_problem_error_whatever_the_hash_seed():
    """The overflow check must not depend on the order of a set: run under several hash seeds."""
    children = [
        (seed, subprocess.Popen([sys.executable, "-c", NESTED_EXP], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ, "PYTHONHASHSEED": seed}))
        for seed in ("0", "1", "2", "3")
    ]
    results = {seed: child.communicate(timeout=60) for seed, child in children}
    for seed, (out, err) in results.items():
        assert out.startswith(b"ProblemError: key 'nodes.y'"), (seed, err.decode()[-300:])
    assert len({out for out, _ in results.values()}) == 1, "the message depends on the hash seed"


def test_solve_error_from_a_mapping_names_the_key():
    problem = symbackprop.load({"nodes": {"q": "1/(a - b)"}, "values": {"a": 2, "b": 2}})
    with pytest.raises(ProblemError) as info:
        problem.solve()
    assert info.value.key == "nodes.q"
    assert str(info.value).startswith("key 'nodes.q'")


def test_load_error_from_a_mapping_names_the_key():
    with pytest.raises(ProblemError) as info:
        symbackprop.load({"nodes": {"y": "x", "E": "relu(y"}})
    assert info.value.key == "nodes.E"
    assert info.value.source is None
    assert str(info.value).startswith("key 'nodes.E'")


# --- layers: shorthand ---------------------------------------------------------------------------

LAYERS = textwrap.dedent("""\
    layers:
      inputs: [1, 2]
      dense:
        - activation: {activation}
          weights: {weights}
      targets: {targets}
      loss: {loss}
    """)


def layers_text(activation="relu", weights="[[1, 2], [3, 4]]", targets="[0, 1]",
                loss="squared_error") -> str:
    return LAYERS.format(activation=activation, weights=weights, targets=targets, loss=loss)


def test_layers_example_loads(tmp_path):
    problem = symbackprop.load(write(tmp_path, layers_text()))
    assert problem.loss == "E"
    assert "w1_21" in problem.parameters


def test_layers_wrong_weight_row_length(tmp_path):
    error = load_error(tmp_path, """\
        layers:
          inputs: [1, 2]
          dense:
            - activation: relu
              weights:
                - [1, 2]
                - [3]
          targets: [0, 1]
        """)
    assert_names(error, source="problem.yaml", key="layers.dense.0.weights.1", line=7)
    assert "row 2" in str(error)


def test_layers_unknown_activation(tmp_path):
    error = load_error(tmp_path, layers_text(activation="swish"))
    assert_names(error, source="problem.yaml", key="layers.dense.0.activation", line=4)
    assert "swish" in str(error)


def test_layers_unknown_loss(tmp_path):
    error = load_error(tmp_path, layers_text(loss="hinge"))
    assert_names(error, source="problem.yaml", key="layers.loss", line=7)
    assert "hinge" in str(error)


def test_layers_targets_count_mismatch(tmp_path):
    error = load_error(tmp_path, layers_text(targets="[0, 1, 0]"))
    assert_names(error, source="problem.yaml", key="layers.targets", line=6)
    assert "3 targets" in str(error)


def test_layers_non_numeric_weight(tmp_path):
    error = load_error(tmp_path, layers_text(weights="[[1, 2], [3, big]]"))
    assert_names(error, source="problem.yaml", key="layers.dense.0.weights.1.1", line=5)


def test_layers_and_nodes_together(tmp_path):
    error = load_error(tmp_path, layers_text() + "nodes:\n  y: x\n")
    assert_names(error, source="problem.yaml", key="layers", line=1)
