"""Before and after issue 10 (certified numbers): the same commands timed on two revisions.

    python benchmarks/certified.py                  # this checkout against 21134cc (before issue 10)
    python benchmarks/certified.py --against REV --repeat 7

REV is checked out into a temporary git worktree and run with this interpreter (PYTHONPATH), so both
revisions use the same installed packages. Every command is run `--repeat` times, the revisions
interleaved so that a noisy minute hits both, and the best time is kept. It prints each time and the
ratio after/before; the ratios are the figures to quote (issue 10 allows at most 1.10 for the
10,000-step run and for `solve` against `import sympy`). It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "worked_examples"
CLI = "import sys; from symbackprop.cli import main; sys.argv[0] = 'symbackprop'; main()"

#: name -> arguments of `symbackprop`, or None for `python -c "import sympy"`.
COMMANDS = {
    "import sympy": None,
    "solve (built-in example)": ["solve"],
    "solve 2-2-2 sigmoid, json": ["solve", str(EXAMPLES / "sigmoid_2_2_2.yaml"), "--format", "json"],
    "solve 2-2-2 --steps 10000": ["solve", str(EXAMPLES / "sigmoid_2_2_2.yaml"), "--steps", "10000",
                                  "--format", "json"],
    "train lr study (4 rates x 200 steps)": ["train", str(EXAMPLES / "study" / "lr_study.yaml"),
                                             "--lr", "0.05", "--lr", "1", "--lr", "1.5", "--lr", "2.5",
                                             "--steps", "200", "-o", "{tmp}"],
}


def timed(source: Path, arguments: list[str] | None, tmp: str) -> float:
    command = [sys.executable, "-c", "import sympy"] if arguments is None else \
        [sys.executable, "-c", CLI, *[a.replace("{tmp}", tmp) for a in arguments]]
    env = {**os.environ, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=tmp, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="21134cc", help="the revision before (default 21134cc)")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before),
                        options.against], check=True)
        try:
            best = {name: {"before": float("inf"), "after": float("inf")} for name in COMMANDS}
            for _ in range(options.repeat):
                for name, arguments in COMMANDS.items():
                    for label, source in (("before", before), ("after", ROOT)):
                        best[name][label] = min(best[name][label], timed(source, arguments, tmp))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                           check=True)
    # `import sympy` is the same command for both revisions: one baseline, the best of all its runs.
    baseline = min(best["import sympy"].values())
    print(f"best of {options.repeat}, before = {options.against}, after = this checkout\n")
    print(f"{'command':40} {'before':>9} {'after':>9} {'after/before':>13}")
    for name, times in best.items():
        print(f"{name:40} {times['before']:8.3f}s {times['after']:8.3f}s "
              f"{times['after'] / times['before']:12.2f}x")
    solve = best["solve (built-in example)"]
    print(f"\nsolve / import sympy ({baseline:.3f}s): before {solve['before'] / baseline:.2f}x, "
          f"after {solve['after'] / baseline:.2f}x")


if __name__ == "__main__":
    main()
