"""cli/: `symbackprop solve`, its formats and output file, and bad input as exit 2 without traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from symbackprop.cli import main

SCRIPT = Path(sys.executable).parent / "symbackprop"


def run(*args: str):
    return CliRunner().invoke(main, ["solve", *args])


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- the built-in example -----------------------------------------------------------------------

def test_solve_without_argument_solves_the_builtin_example():
    result = run()
    assert result.exit_code == 0, result.output
    assert "dE/dw3" in result.stdout
    assert "2*x_n" in result.stdout
    assert "dE/dx_n = " in result.stdout and "= 0.4" in result.stdout


def test_builtin_example_shows_the_seed_gradients():
    lines = [line.strip() for line in run().stdout.splitlines()]
    assert any(line.startswith("dE/dy = ") and line.endswith("= 2") for line in lines)
    assert any(line.startswith("dE/dw3 = ") and line.endswith("= 2*x_n") for line in lines)
    assert any(line.startswith("dE/dx_n = ") and line.endswith("= 0.4") for line in lines)


def test_json_format_is_the_answer_key():
    result = run("--format", "json")
    assert result.exit_code == 0, result.output
    key = json.loads(result.stdout)
    assert {"loss", "forward", "gradients", "updated", "after_update"} <= set(key)
    assert key["loss"] == "E"
    assert key["gradients"]["w3"] == {"symbolic": "2*x_n*(y - ybar)*Heaviside(w3*x_n, 0)", "exact": "2*x_n",
                                      "decimal": None}
    assert key["gradients"]["x_n"]["exact"] == "2/5"
    assert key["gradients"]["y"]["exact"] == "2"
    assert key["forward"]["y"]["exact"] == "3"
    assert set(key["updated"]) == {"w3"}


def test_output_option_writes_the_file(tmp_path):
    target = tmp_path / "answer.json"
    result = run("--format", "json", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == run("--format", "json").stdout
    assert json.loads(target.read_text(encoding="utf-8"))["gradients"]["x_n"]["exact"] == "2/5"


UNUSED_VALUES = "nodes:\n  E: (w3*x - 1)**2\nvalues: {w1: 0.1, w2: -0.2, w3: 0.5, x: 2, x4: 1}\n"


def test_unused_value_warnings_go_to_stderr_only(tmp_path):
    result = run(str(write(tmp_path, UNUSED_VALUES)))
    assert result.exit_code == 0
    for name in ("w1", "w2", "x4"):
        warning = [line for line in result.stderr.splitlines() if f"values.{name}:" in line]
        assert len(warning) == 1, result.stderr
        assert warning[0].startswith("warning: ")
        assert f"values.{name}" not in result.stdout
    assert "warning" not in result.stdout


def test_json_output_has_no_warnings_mixed_in(tmp_path):
    result = run(str(write(tmp_path, UNUSED_VALUES)), "--format", "json")
    json.loads(result.stdout)  # would fail if a warning were printed into stdout
    assert "values.w1" in result.stderr


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_output_is_identical_across_runs(fmt):
    first = run("--format", fmt)
    second = run("--format", fmt)
    assert first.exit_code == second.exit_code == 0
    assert first.stdout_bytes == second.stdout_bytes


def test_installed_script_output_is_byte_identical_in_separate_processes():
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([str(SCRIPT), "solve"], capture_output=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        assert b"Traceback" not in done.stderr
        assert done.stderr == b""     # the built-in example's unused values are context: no warning
        assert b"dE/dw3" in done.stdout
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]


# --- bad input: exit 2, one paragraph starting "Error:", naming file and key, no traceback --------

BAD = {
    "yaml-syntax": ("nodes:\n  y: relu(x)\n  E: [1, 2\n", ["line 4", "YAML"]),
    "unknown-key": ("nodes:\n  y: w*x\nvalue:\n  w: 1\n", ["key 'value'", "line 3"]),
    "loss-unknown-name": ("nodes:\n  y: w*x\nloss: E\n", ["key 'loss'"]),
    "given-unknown-name": ("nodes:\n  y: w*x\ngiven:\n  z: 1\n", ["key 'given.z'"]),
    "cycle": ("nodes:\n  a: b + 1\n  b: a*x\n", ["key 'nodes.a'", "cycle"]),
    "used-before-defined": ("nodes:\n  y: z + 1\n  z: 2*x\n", ["key 'nodes.y'"]),
    "non-numeric-value": ("nodes:\n  y: w3*x\nvalues:\n  w3: abc\n", ["key 'values.w3'", "line 4"]),
    "division-by-zero": ("nodes:\n  q: 1/(a - b)\nvalues:\n  a: 1\n  b: 1\n", ["key 'nodes.q'"]),
    "log-of-zero": ("nodes:\n  y: log(x)\nvalues:\n  x: 0\n", ["key 'nodes.y'"]),
    "unsupported-function": ("nodes:\n  y: sqrt(x)\n", ["key 'nodes.y'", "sqrt"]),
    "code-in-expression": ("nodes:\n  y: __import__('os').getcwd()\n", ["key 'nodes.y'"]),
    "empty-file": ("", ["empty"]),
    "not-a-mapping": ("- a\n- b\n", ["mapping"]),
    "layers-row-length": (
        "layers:\n  inputs: [1, 2]\n  dense:\n    - activation: relu\n"
        "      weights: [[1, 2], [3]]\n  targets: [0, 1]\n",
        ["key 'layers.dense.0.weights.1'"]),
    "duplicate-key": ("nodes:\n  y: x\n  y: 2*x\n", ["key 'nodes.y'", "line 3"]),
    "python-yaml-tag": ("nodes:\n  y: !!python/object/apply:os.getcwd []\n", ["YAML"]),
}


def assert_input_error(result, path: Path, fragments: list[str]) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    message = result.stderr
    assert message.startswith("Error:"), message
    assert "\n" not in message.strip(), f"not one paragraph: {message!r}"
    assert "Traceback" not in result.output
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("text, fragments", list(BAD.values()), ids=list(BAD))
def test_bad_input_exits_2_with_one_paragraph_naming_file_and_key(tmp_path, text, fragments):
    path = write(tmp_path, text)
    assert_input_error(run(str(path)), path, fragments)


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_bad_input_error_is_the_same_in_every_format(tmp_path, fmt):
    path = write(tmp_path, "nodes:\n  q: 1/(a - b)\nvalues:\n  a: 1\n  b: 1\n")
    assert_input_error(run(str(path), "--format", fmt), path, ["key 'nodes.q'", "line 2"])


def test_missing_file_exits_2(tmp_path):
    path = tmp_path / "absent.yaml"
    assert_input_error(run(str(path)), path, ["no such file"])


def test_bad_input_with_output_option_writes_no_file(tmp_path):
    path = write(tmp_path, "nodes:\n  y: sqrt(x)\n")
    target = tmp_path / "answer.txt"
    assert_input_error(run(str(path), "-o", str(target)), path, ["key 'nodes.y'"])
    assert not target.exists()


def test_kink_option_outside_zero_one_exits_2(tmp_path):
    path = write(tmp_path, "nodes:\n  y: relu(x)\n", name="relu.yaml")
    result = run(str(path), "--kink", "2")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "Error: option '--kink': must be at most 1, got 2\n"


def test_huge_integer_value_does_not_crash(tmp_path):
    """10**5000 is a legal number; printing it must not escape as a ValueError traceback."""
    path = write(tmp_path, "nodes:\n  y: 10**5000\n", name="big.yaml")
    result = run(str(path), "--format", "json")
    assert result.exit_code in (0, 2), (result.exit_code, repr(result.exception))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)


def test_graph_warns_when_tikz_would_be_too_large_for_a_page(tmp_path):
    sums = {f"z{i}": " + ".join(f"w{i}_{j}*x{j}" for j in range(8)) for i in range(8)}
    path = write(tmp_path, "nodes:\n" + "".join(f"  {n}: {e}\n" for n, e in sums.items())
                 + "  E: " + " + ".join(sums) + "\n", "wide.yaml")
    warned = CliRunner().invoke(main, ["graph", str(path), "--format", "tikz"])
    assert warned.exit_code == 0 and r"\begin{tikzpicture}" in warned.stdout
    assert "warning: 81 boxes are more than a page holds" in warned.stderr
    quiet = CliRunner().invoke(main, ["graph", str(path), "--format", "svg"])
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr


def test_shared_options_are_one_definition_in_every_command():
    """Options are defined once (cli/options.py): the commands that take one agree on its type,
    default and help, so `--time-limit` cannot say one thing in solve and another in train."""
    from symbackprop.cli import main as group

    shared = {}
    for command in group.commands.values():
        for param in command.params:
            if param.name in ("time_limit", "gates", "kink", "rates", "rel_tol"):
                shared.setdefault(param.name, []).append(
                    (type(param.type).__name__, param.default, param.help))
    assert set(shared) == {"time_limit", "gates", "kink", "rates", "rel_tol"}
    assert len(shared["time_limit"]) == 5        # solve, graph, check, train, variants
    for name, definitions in shared.items():
        assert len(set(definitions)) == 1, (name, definitions)
    assert shared["kink"][0][0] == shared["rates"][0][0] == "ExactNumber"


@pytest.mark.parametrize("option, value", [("--kink", "sigmoid(1)+sigmoid(-1)-2"),
                                           ("--kink", "sigmoid(1)+sigmoid(-1)+1/2")])
def test_an_option_whose_sign_sympy_cannot_decide_is_judged_by_its_certified_sign(option, value):
    # sigmoid(1) + sigmoid(-1) is exactly 1; SymPy's own comparison raised a TypeError here.
    result = run(option, value)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: option '{option}': must be ")


def test_a_problem_kink_sympy_cannot_compare_is_accepted_or_refused_by_its_certified_sign(tmp_path):
    path = write(tmp_path, "nodes:\n  y: relu(w*x)\nvalues: {w: 1, x: 2}\nkink: sigmoid(1)+sigmoid(-1)+1\n")
    result = run(str(path))
    assert result.exit_code == 2 and "key 'kink': kink must be between 0 and 1" in result.stderr
    path.write_text("nodes:\n  y: relu(w*x)\nvalues: {w: 1, x: 2}\nkink: sigmoid(1)+sigmoid(-1)-1\n")
    assert run(str(path)).exit_code == 0


def test_the_built_in_example_runs_without_a_warning():
    """A newcomer's first run printed three warnings for the seed's w1, w2 and x4 (issue 12): they
    are context now, shown with the problem, used by no node."""
    result = run()
    assert result.exit_code == 0 and result.stderr == ""
    assert "  context (no node uses these): w1 = 0.1, w2 = -0.2, x4 = 1\n" in result.stdout


def test_context_values_are_shown_and_never_used(tmp_path):
    ok = write(tmp_path, "nodes:\n  E: (w*x - 1)**2\nvalues: {w: 0.5, x: 2}\ncontext: {v: 0.25}\n")
    result = run(str(ok), "--format", "md")
    assert result.exit_code == 0 and result.stderr == ""
    assert "Context (no node uses these): $v = 0.25$." in result.stdout
    unused = write(tmp_path, "nodes:\n  E: (w*x - 1)**2\nvalues: {w: 0.5, x: 2, v: 1}\n", name="unused.yaml")
    assert "give it under context:" in run(str(unused)).stderr
    used = write(tmp_path, "nodes:\n  E: (w*x - 1)**2\nvalues: {w: 0.5}\ncontext: {x: 2}\n", name="used.yaml")
    assert_input_error(run(str(used)), used, ["key 'context.x'", "used by the network"])


def test_the_readmes_sample_of_the_built_in_example_is_what_solve_prints():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    sample = readme.split("so the solution says it is not):\n\n```\n", 1)[1].split("```", 1)[0]
    assert "Step 2: dE/dw3" in sample
    assert sample in run().stdout


# --- start-up (issue 15): a command imports what it uses, not what the other commands need --------

def _after(report: str, *args: str) -> str:
    """What the Python expression `report` says once the command line has run `args` in a fresh
    interpreter."""
    script = ("import gc, sys; from symbackprop.cli import main\n"
              "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              f"sys.stderr.write('\\n' + str({report}))")
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
    return done.stderr.rsplit("\n", 1)[-1]


def _modules_after(*args: str) -> set[str]:
    return set(_after("' '.join(sorted(sys.modules))", *args).split())


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_solve_imports_no_other_commands_module(fmt):
    loaded = _modules_after("solve", "--format", fmt)
    assert "symbackprop.cli.solve" in loaded
    assert not {m for m in loaded if m.startswith(("symbackprop.cli.check", "symbackprop.cli.train",
                                                   "symbackprop.cli.variants", "symbackprop.cli.graph",
                                                   "symbackprop.check", "symbackprop.study",
                                                   "symbackprop.homework", "matplotlib"))}
    # The JSON answer key fills no template.
    assert ("jinja2" in loaded) == (fmt == "txt")
    # The built-in example is found beside the package, without importlib.resources' zip reader;
    # the graph's labels are escaped without html's table of entities.
    assert not {"zipfile", "html"} & loaded


def test_importing_the_package_loads_nothing_until_a_name_is_used():
    script = ("import sys, symbackprop; loaded = 'sympy' in sys.modules\n"
              "assert sorted(symbackprop.__all__) == sorted(symbackprop.PUBLIC)\n"
              "names = [getattr(symbackprop, n) for n in symbackprop.__all__]\n"
              "print(loaded, 'sympy' in sys.modules, all(n is not None for n in names))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "True", "True"], done.stderr


def test_a_command_loads_with_the_collector_held_off_and_then_frozen():
    # SymPy and the package are tens of thousands of objects that live until the program exits: the
    # collector walks none of them again (gc.freeze), and is back on for the command's own work.
    frozen, enabled = _after("[gc.get_freeze_count(), gc.isenabled()]", "solve", "--format", "json").split()
    assert int(frozen.strip("[,")) > 30_000 and enabled == "True]"


def test_every_command_module_is_a_command_of_the_group():
    from symbackprop.cli import COMMAND_MODULES

    shared = {"__init__", "common", "options"}
    found = {p.stem for p in (Path(__file__).resolve().parent.parent / "symbackprop" / "cli").glob("*.py")}
    assert set(COMMAND_MODULES) == found - shared
    assert sorted(main.commands) == sorted(COMMAND_MODULES)
    assert all(main.commands[name].name == name for name in COMMAND_MODULES)
