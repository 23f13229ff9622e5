"""A warm worked solution of the 2-2-2 network (issue 15): md + tex + json in one process, after one
full solution has already run there (imports done, SymPy's and symbackprop's caches and the Jinja2
environments filled).

    python benchmarks/warm.py [--repeat N] [--profile]

Two figures, each the best (and median) of N runs, in wall-clock time and (the whole solution) in
this process's CPU time, which other work on a busy machine disturbs less:
- **solution**: load(problem file) -> solve() -> render("md"), render("tex"), render("json") (the
  answer key: to_dict() and the JSON text, as `symbackprop solve --format json` writes it);
- **rendering**: the three renders alone, of a solution loaded and solved outside the timer.
Beside them, each stage alone, and the reference of this run: one `sympy.latex` of the network's
loss written out in its weights (fixed work, SymPy's own cache cleared first), so that the ratio
solution / reference says the same on a slower or busier machine. The outputs are compared with the
committed worked_examples files first: a figure of wrong output is no figure. Asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

import sympy as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import symbackprop  # noqa: E402  (the checkout's package, not an installed one)

PROBLEM = HERE.parent / "worked_examples" / "sigmoid_2_2_2.yaml"
GOAL = 0.025
FORMATS = ("md", "tex", "json")


def solution() -> dict[str, str]:
    solved = symbackprop.load(PROBLEM).solve()
    return {fmt: solved.render(fmt) for fmt in FORMATS}


def reference_expression() -> sp.Expr:
    """The loss of the 2-2-2 network in its weights and inputs: every node substituted."""
    problem = symbackprop.load(PROBLEM)
    known: dict[sp.Symbol, sp.Expr] = {}
    for node in problem.graph.nodes.values():
        known[node.symbol] = node.expr.xreplace(known)
    return known[problem.graph.nodes[problem.loss].symbol]


def reference(expr: sp.Expr) -> float:
    sp.core.cache.clear_cache()
    start = time.perf_counter()
    sp.latex(expr)
    return time.perf_counter() - start


def timed(work, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU times of `repeat` runs of work()."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def stages(repeat: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {name: [] for name in ("load", "solve", *FORMATS)}
    for _ in range(repeat):
        start = time.perf_counter()
        problem = symbackprop.load(PROBLEM)
        found["load"].append(time.perf_counter() - start)
        start = time.perf_counter()
        solved = problem.solve()
        found["solve"].append(time.perf_counter() - start)
        for fmt in FORMATS:
            start = time.perf_counter()
            solved.render(fmt)
            found[fmt].append(time.perf_counter() - start)
    return found


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="runs of each figure (default 30)")
    parser.add_argument("--profile", action="store_true",
                        help="also print cProfile's top functions of the warm solution")
    args = parser.parse_args()

    start = time.perf_counter()
    outputs = solution()
    cold = time.perf_counter() - start
    for fmt, text in outputs.items():
        if text.encode("utf-8") != PROBLEM.with_suffix(f".{fmt}").read_bytes():
            sys.exit(f"the {fmt} output differs from the committed {PROBLEM.with_suffix(f'.{fmt}').name}")

    expr = reference_expression()
    whole, whole_cpu = timed(solution, args.repeat)

    def rendering():
        solved = symbackprop.load(PROBLEM).solve()
        start = time.perf_counter()
        for fmt in FORMATS:
            solved.render(fmt)
        return time.perf_counter() - start
    renders = [rendering() for _ in range(args.repeat)]
    parts = stages(args.repeat)
    base = min(reference(expr) for _ in range(args.repeat))

    best = min(whole)
    print(f"2-2-2 sigmoid network ({PROBLEM.name}), md + tex + json, best and median of {args.repeat}")
    print(f"  first solution in this process (cold)       {ms(cold)}")
    print(f"  warm solution: load + solve + 3 renders     {ms(best)}  median {ms(statistics.median(whole))}"
          f"   goal {ms(GOAL)}: {best / GOAL:.2f}x the goal, {'met' if best <= GOAL else 'NOT met'}")
    print(f"  the same in CPU time (this process alone)   {ms(min(whole_cpu))}  median "
          f"{ms(statistics.median(whole_cpu))}   {min(whole_cpu) / GOAL:.2f}x the goal")
    print(f"  warm rendering alone (md + tex + json)      {ms(min(renders))}  median "
          f"{ms(statistics.median(renders))}")
    print("  stages (best):" + "".join(f"  {name} {min(times) * 1000:.2f}" for name, times in parts.items())
          + " ms")
    print(f"  reference: sympy.latex of the loss in its weights, cache cleared {ms(base)}; "
          f"warm solution / reference = {best / base:.1f}")

    if args.profile:
        solution()                # warm again: the reference cleared SymPy's cache
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.repeat):
            solution()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
