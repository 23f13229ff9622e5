"""Start-up of the command line (issue 15): `symbackprop solve` on the built-in example, as text and as
the JSON answer key, end to end as a subprocess, over `python -c "import sympy"`, in one run.

    python benchmarks/startup.py                # best of 7 each
    python benchmarks/startup.py --repeat 5
    python benchmarks/startup.py --before DIR   # also DIR (another revision's copy), interleaved

This checkout is run (PYTHONPATH), its bytecode compiled first as `pip install` compiles it (the
environment may set PYTHONDONTWRITEBYTECODE, and compiling 80 modules on every run would be timed
otherwise), through the `symbackprop` script beside this interpreter when it
is installed there (as a user runs it), else `python -m symbackprop`. The commands are interleaved
so that a noisy second hits each of them, and the best time of each is kept. It prints the times
and the ratios (issue 15's goals: solve <= 1.4x, --format json <= 1.3x); it asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "symbackprop"
CLI = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "symbackprop"]

#: name -> the command; the first is the baseline the others are divided by.
COMMANDS = {
    "import sympy": [sys.executable, "-c", "import sympy"],
    "symbackprop solve": [*CLI, "solve"],
    "symbackprop solve --format json": [*CLI, "solve", "--format", "json"],
}
GOALS = {"symbackprop solve": 1.4, "symbackprop solve --format json": 1.3}


def timed(command: list[str], source: Path) -> tuple[float, float]:
    """The command's wall time and its CPU time (user + system, from its own rusage): on a busy
    machine the CPU time is the steadier figure."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--before", type=Path, help="a copy of another revision (its symbackprop/ "
                        "and worked_examples/) to time beside this checkout")
    options = parser.parse_args()
    sources = {"this checkout": ROOT, **({"before": options.before} if options.before else {})}
    runs = [(label, name) for label in sources for name in COMMANDS
            if label == "this checkout" or name != "import sympy"]
    for source in sources.values():
        compileall.compile_dir(source / "symbackprop", quiet=1)
    for label, name in runs:                # warm the file cache once, untimed
        timed(COMMANDS[name], sources[label])
    wall = {run: float("inf") for run in runs}
    cpu = dict(wall)
    for _ in range(options.repeat):
        for run in runs:
            seconds, used = timed(COMMANDS[run[1]], sources[run[0]])
            wall[run], cpu[run] = min(wall[run], seconds), min(cpu[run], used)
    baseline = ("this checkout", "import sympy")
    print(f"best of {options.repeat}, {' '.join(CLI)}, load average {os.getloadavg()[0]:.2f}")
    for label, source in sources.items():
        print(f"{label}: PYTHONPATH={source}")
    print(f"\n{'':50} {'wall':>8} {'ratio':>7} {'cpu':>9} {'ratio':>7}")
    for run in runs:
        label, name = run
        ratios = ("", "") if run == baseline else (
            f"{wall[run] / wall[baseline]:6.2f}x", f"{cpu[run] / cpu[baseline]:6.2f}x")
        goal = f"  (goal <= {GOALS[name]}x)" if name in GOALS else ""
        title = name if name == "import sympy" else f"{name} ({label})"
        print(f"{title:50} {wall[run]:7.3f}s {ratios[0]:>7} {cpu[run]:8.3f}s {ratios[1]:>7}{goal}")


if __name__ == "__main__":
    main()
