"""The committed worked solutions are exactly what the current code writes (byte for byte)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from symbackprop.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"
PROBLEMS = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("fmt", ["txt", "md", "tex", "json"])
@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_committed_solution_is_regenerated_byte_identically(problem: Path, fmt: str, tmp_path: Path):
    output = tmp_path / f"{problem.stem}.{fmt}"
    result = CliRunner().invoke(main, ["solve", str(problem), "--format", fmt, "-o", str(output)])
    assert result.exit_code == 0, result.output
    committed = problem.with_suffix(f".{fmt}")
    assert output.read_bytes() == committed.read_bytes(), (
        f"{committed.name} is out of date: run scripts/regenerate_examples.sh")


def test_there_is_an_example_for_every_seed_that_has_one():
    stems = {p.stem for p in PROBLEMS}
    assert {"seed000_gates", "seed003_relu_unit", "seed004_two_hidden_softmax", "sigmoid_2_2_2"} <= stems
