"""Benchmarks of issue 6 ("Speed and scale"): symbackprop against its peers, on one machine, in one run.

    python benchmarks/run.py [--quick] [--cap SECONDS] [--save]

Every measurement runs in a fresh subprocess (this script with --worker), so no run profits from
another's SymPy cache, a run that exceeds the cap is killed, and its peak memory is its own (the
rusage of that child, as `resource.getrusage(RUSAGE_CHILDREN)` reports it, read with os.wait4).
symbackprop is timed from the problem mapping to the answer key: load(mapping), .solve(), .to_dict().
No learning rate is given, so the answer key holds the forward pass and the gradients only, which is
what the peers compute too. Prints a table; with --save also writes benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 6
TENTHS = [f"{k / 10:g}" for k in range(-10, 11) if k]          # "-1", "-0.9", ..., "0.9", "1"


# --- the networks --------------------------------------------------------------------------------

def network(sizes: list[int], activation: str, seed: int = SEED) -> dict:
    """Seeded weights, biases, inputs and targets, all one-decimal numbers as text ("0.3", "-0.7")."""
    rng = random.Random(seed)
    layers = [{"weights": [[rng.choice(TENTHS) for _ in range(n_in)] for _ in range(n_out)],
               "biases": [rng.choice(TENTHS) for _ in range(n_out)]}
              for n_in, n_out in zip(sizes, sizes[1:])]
    return {"sizes": sizes, "activation": activation, "layers": layers,
            "inputs": [rng.choice(TENTHS) for _ in range(sizes[0])],
            "targets": [f"{rng.randint(0, 10) / 10:g}" for _ in range(sizes[-1])]}


def weight_name(layer: int, j: int, i: int, units: int, inputs: int) -> str:
    """The layers: shorthand's names: w1_21 in small layers, w1_2_1 where an index can pass 9."""
    return f"w{layer}_{j}{i}" if units < 10 and inputs < 10 else f"w{layer}_{j}_{i}"


def nodes_mapping(net: dict) -> dict:
    """The network as a lecturer writes it: one node per weighted sum, one per activation.
    The last layer is linear for ReLU networks (as micrograd's MLP), else it has the activation."""
    values = {f"x{i}": v for i, v in enumerate(net["inputs"], 1)}
    values.update({f"t{j}": v for j, v in enumerate(net["targets"], 1)})
    nodes, parameters = {}, []
    previous = [f"x{i}" for i in range(1, len(net["inputs"]) + 1)]
    for l, layer in enumerate(net["layers"], 1):
        last = l == len(net["layers"])
        units, outputs = len(layer["weights"]), []
        for j, (row, bias) in enumerate(zip(layer["weights"], layer["biases"]), 1):
            terms = []
            for i, weight in enumerate(row, 1):
                name = weight_name(l, j, i, units, len(previous))
                values[name] = weight
                parameters.append(name)
                terms.append(f"{name}*{previous[i - 1]}")
            values[f"b{l}_{j}"] = bias
            parameters.append(f"b{l}_{j}")
            terms.append(f"b{l}_{j}")
            nodes[f"z{l}_{j}"] = " + ".join(terms)
        for j in range(1, units + 1):
            out = f"y{j}" if last else f"h{l}_{j}"
            linear = last and net["activation"] == "relu"
            nodes[out] = f"z{l}_{j}" if linear else f"{net['activation']}(z{l}_{j})"
            outputs.append(out)
        previous = outputs
    nodes["E"] = " + ".join(f"({y} - t{j})**2" for j, y in enumerate(previous, 1))
    return {"nodes": nodes, "loss": "E", "values": values, "parameters": parameters}


def layers_mapping(net: dict) -> dict:
    dense = []
    for l, layer in enumerate(net["layers"], 1):
        last = l == len(net["layers"])
        activation = "linear" if last and net["activation"] == "relu" else net["activation"]
        dense.append({"activation": activation, **layer})
    return {"layers": {"inputs": net["inputs"], "dense": dense, "targets": net["targets"],
                       "loss": "squared_error"}}


def parameter_names(net: dict) -> list[str]:
    return nodes_mapping(net)["parameters"]


def edges(sizes: list[int]) -> int:
    """Edges into the weighted sums: one per weight and one per bias (= the parameters)."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))


# --- the workers: each runs in its own process and prints one JSON line --------------------------

def work_symbackprop(net: dict, fmt: str) -> dict:
    import symbackprop
    mapping = nodes_mapping(net) if fmt == "nodes" else layers_mapping(net)
    t0 = time.perf_counter()
    problem = symbackprop.load(mapping)
    t1 = time.perf_counter()
    solution = problem.solve()
    t2 = time.perf_counter()
    key = solution.to_dict()
    t3 = time.perf_counter()
    return {"seconds": t3 - t0, "load": t1 - t0, "solve": t2 - t1, "to_dict": t3 - t2,
            "gradients": {n: key["gradients"][n]["decimal"] for n in parameter_names(net)}}


def work_naive(net: dict, limit: int | None) -> dict:
    """The loss as one SymPy expression of the weights, sympy.diff once per parameter, evalf(15)."""
    import sympy as sp
    mapping = nodes_mapping(net)
    names = mapping["parameters"]
    t0 = time.perf_counter()
    weights = {n: sp.Symbol(n) for n in names}
    layer_in = [sp.Rational(v) for v in net["inputs"]]
    for l, layer in enumerate(net["layers"], 1):
        last = l == len(net["layers"])
        out = []
        for j, row in enumerate(layer["weights"], 1):
            z = sum(weights[weight_name(l, j, i, len(layer["weights"]), len(row))] * x
                    for i, x in enumerate(layer_in, 1)) + weights[f"b{l}_{j}"]
            if last and net["activation"] == "relu":
                out.append(z)
            else:
                out.append(1 / (1 + sp.exp(-z)) if net["activation"] == "sigmoid" else sp.Max(z, 0))
        layer_in = out
    loss = sum((y - sp.Rational(t)) ** 2 for y, t in zip(layer_in, net["targets"]))
    at = {weights[n]: sp.Rational(mapping["values"][n]) for n in names}
    build = time.perf_counter() - t0
    gradients, diff_time, eval_time = {}, 0.0, 0.0
    sample = [names[int((k + 0.5) * len(names) / limit)] for k in range(limit)] if limit else names
    for n in sample:                                   # with a limit, a sample spread evenly over layers
        t1 = time.perf_counter()
        derivative = sp.diff(loss, weights[n])
        t2 = time.perf_counter()
        gradients[n] = str(derivative.xreplace(at).evalf(15))
        diff_time, eval_time = diff_time + t2 - t1, eval_time + time.perf_counter() - t2
    scale = len(names) / len(gradients)
    return {"seconds": build + scale * (diff_time + eval_time), "build": build, "diff": scale * diff_time,
            "evalf": scale * eval_time, "measured": len(gradients), "of": len(names),
            "gradients": gradients}


def work_micrograd(net: dict, repeat: int = 3) -> dict:
    """micrograd's MLP (ReLU hidden layers, linear output) with the same weights, as floats."""
    from micrograd.engine import Value
    from micrograd.nn import MLP
    sizes = net["sizes"]
    mlp = MLP(sizes[0], sizes[1:])
    for layer, spec in zip(mlp.layers, net["layers"]):
        for neuron, row, bias in zip(layer.neurons, spec["weights"], spec["biases"]):
            for w, value in zip(neuron.w, row):
                w.data = float(value)
            neuron.b.data = float(bias)
    x = [float(v) for v in net["inputs"]]
    targets = [float(v) for v in net["targets"]]
    best = float("inf")
    for _ in range(repeat):
        mlp.zero_grad()
        t0 = time.perf_counter()
        outputs = mlp(x)
        loss = sum(((y - t) ** 2 for y, t in zip(outputs, targets)), Value(0))
        loss.backward()
        best = min(best, time.perf_counter() - t0)
    names = parameter_names(net)
    params = [p for layer in mlp.layers for neuron in layer.neurons for p in neuron.w + [neuron.b]]
    return {"seconds": best, "gradients": {n: p.grad for n, p in zip(names, params)}}


def worker(spec: dict) -> dict:
    net = network(spec["sizes"], spec["activation"])
    if spec["kind"] == "symbackprop":
        return work_symbackprop(net, spec["format"])
    if spec["kind"] == "naive":
        return work_naive(net, spec.get("limit"))
    return work_micrograd(net)


# --- running a worker with a cap ------------------------------------------------------------------

def measure(spec: dict, cap: float) -> dict:
    """Run a worker in a subprocess, killed at `cap` seconds; adds its peak RSS and wall time."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(spec)],
                                stdout=out, stderr=err)
        timer = threading.Timer(cap, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)     # this child's rusage alone
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read().strip().splitlines()
    result = json.loads(text) if proc.returncode == 0 else {"seconds": None}
    result["timed_out"] = proc.returncode != 0 and wall >= cap
    result["failed"] = proc.returncode != 0 and not result["timed_out"]
    result["error"] = errors[-1] if result["failed"] and errors else None
    result["max_rss_mib"] = usage.ru_maxrss / 1024             # ru_maxrss is in KiB on Linux
    result["wall"] = wall
    return result


def best_of(command: list[str], times: int = 5) -> float:
    best = float("inf")
    for _ in range(times):
        t0 = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def agree(a: dict, b: dict, digits: int) -> tuple[bool, str]:
    """Do two gradient mappings (decimal strings or floats) agree to `digits` significant digits?"""
    from mpmath import mp, mpf
    mp.dps = 30
    worst, where = mpf(0), None
    for name in sorted(a.keys() & b.keys()):
        x, y = mpf(str(a[name])), mpf(str(b[name]))
        error = abs(x - y) / max(abs(x), abs(y)) if x != y else mpf(0)
        if error > worst:
            worst, where = error, name
    return worst <= mpf(10) ** -digits, (f"{len(a.keys() & b.keys())} gradients, worst relative "
                                         f"difference {mp.nstr(worst, 2)}" + (f" at {where}" if where else ""))


# --- the benchmarks ---------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="naive SymPy on 10 parameters (extrapolated), micrograd on 16-32-32-10")
    parser.add_argument("--cap", type=float, default=300, help="seconds before a run is killed")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return

    small, medium = [4, 8, 8, 3], [16, 32, 32, 10]
    big = medium if args.quick else [64, 128, 128, 10]
    rows, notes = [], []

    def row(name, figure, goal, met):
        rows.append({"benchmark": name, "figure": figure, "goal": goal,
                     "met": None if met is None else bool(met)})
        print(f"  {name}: {figure}  [goal {goal}: {'-' if met is None else 'met' if met else 'NOT met'}]",
              flush=True)

    def seconds(result):
        return f"> {args.cap:g} s (killed)" if result["timed_out"] else (
            f"failed: {result['error']}" if result["failed"] else f"{result['seconds']:.3f} s")

    def symbackprop_runs(sizes, activation, repeat):
        """Both formats; the best of `repeat` runs each (a run over the cap is not repeated)."""
        out = {}
        for fmt in ("nodes", "layers"):
            runs = []
            for _ in range(repeat):
                runs.append(measure({"kind": "symbackprop", "sizes": sizes, "activation": activation,
                                     "format": fmt}, args.cap))
                if runs[-1]["seconds"] is None:
                    break
            done = [r for r in runs if r["seconds"] is not None]
            out[fmt] = min(done, key=lambda r: r["seconds"]) if done else runs[-1]
        return out

    print(f"symbackprop benchmarks ({'quick' if args.quick else 'full'} mode, cap {args.cap:g} s, "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.1f})", flush=True)

    # 1. naive SymPy vs symbackprop, 4-8-8-3 sigmoid, squared error
    print("\n1. naive SymPy vs symbackprop, 4-8-8-3 sigmoid network, squared error, 139 parameters")
    limit = 10 if args.quick else None
    naive = measure({"kind": "naive", "sizes": small, "activation": "sigmoid", "limit": limit}, args.cap)
    sb_small = symbackprop_runs(small, "sigmoid", 3)
    naive_time = naive["seconds"]
    naive_text = seconds(naive)
    if naive_time is not None:
        naive_text += (f" (build the loss {naive['build']:.2f}, sympy.diff {naive['diff']:.2f}, "
                       f"evalf(15) {naive['evalf']:.2f})")
        if naive["measured"] < naive["of"]:
            naive_text += (f" [quick: extrapolated from {naive['measured']} of {naive['of']} "
                           "parameters spread over the layers]")
    print(f"  naive SymPy: {naive_text}")
    for fmt, result in sb_small.items():
        print(f"  symbackprop, {fmt} format: {seconds(result)}" + (
            "" if result["seconds"] is None else
            f" (load {result['load']:.3f}, solve {result['solve']:.3f}, to_dict {result['to_dict']:.3f})"))
    ok, detail = agree(sb_small["nodes"]["gradients"], sb_small["layers"]["gradients"], 15)
    print(f"  nodes and layers formats agree to 15 digits: {ok} ({detail})")
    if naive_time:
        ok, detail = agree(naive["gradients"], sb_small["nodes"]["gradients"], 12)
        print(f"  naive SymPy and symbackprop agree to 12 digits: {ok} ({detail})")
        if not ok:
            notes.append("benchmark 1: naive SymPy and symbackprop DISAGREE; the ratio does not count")
        for fmt, result in sb_small.items():
            if result["seconds"] is not None:
                ratio = naive_time / result["seconds"]
                row(f"1. naive SymPy / symbackprop ({fmt})", f"{ratio:.1f}x" + (
                    " (extrapolated)" if naive["measured"] < naive["of"] else ""), ">= 100x",
                    ok and ratio >= 100)

    # 2. micrograd vs symbackprop, ReLU network
    label = "-".join(map(str, big))
    print(f"\n2. micrograd vs symbackprop, {label} ReLU network (linear output, as micrograd's MLP), "
          f"squared error, {edges(big)} parameters" + (" [quick: a smaller network than the issue's "
                                                       "64-128-128-10]" if args.quick else ""))
    micro = measure({"kind": "micrograd", "sizes": big, "activation": "relu"}, args.cap)
    print(f"  micrograd forward+backward (floats, best of 3): {seconds(micro)}")
    sb_big = symbackprop_runs(big, "relu", 1)
    for fmt, result in sb_big.items():
        print(f"  symbackprop, {fmt} format (exact): {seconds(result)}" + (
            "" if result["seconds"] is None else
            f" (load {result['load']:.2f}, solve {result['solve']:.2f}, to_dict {result['to_dict']:.2f})"))
        if result["seconds"] is not None and micro["seconds"] is not None:
            ok, detail = agree(result["gradients"], micro["gradients"], 9)
            print(f"  micrograd's floats agree with symbackprop ({fmt}) to 9 digits: {ok} ({detail})")
        if micro["seconds"] is not None:
            figure = (f"> {args.cap / micro['seconds']:.0f}x" if result["timed_out"] else
                      "failed" if result["failed"] else f"{result['seconds'] / micro['seconds']:.1f}x")
            row(f"2. symbackprop ({fmt}) / micrograd, {label}", figure, "<= 1x",
                result["seconds"] is not None and result["seconds"] <= micro["seconds"])

    # 3. scaling, sigmoid networks
    print("\n3. scaling: symbackprop on 16-32-32-10 over 4-8-8-3 (sigmoid, squared error)")
    sb_medium = symbackprop_runs(medium, "sigmoid", 1)
    edge_ratio = edges(medium) / edges(small)
    print(f"  edges (weights and biases): {edges(small)} -> {edges(medium)}, ratio {edge_ratio:.2f}")
    for fmt, result in sb_medium.items():
        print(f"  symbackprop, {fmt} format, 16-32-32-10: {seconds(result)}")
        if result["seconds"] is not None and sb_small[fmt]["seconds"] is not None:
            ratio = result["seconds"] / sb_small[fmt]["seconds"]
            row(f"3. time ratio 16-32-32-10 / 4-8-8-3 ({fmt})",
                f"{ratio:.1f} = {ratio / edge_ratio:.2f} x edge ratio", f"<= {1.5 * edge_ratio:.1f} "
                f"(1.5 x edge ratio {edge_ratio:.2f})", ratio <= 1.5 * edge_ratio)
        else:
            row(f"3. time ratio 16-32-32-10 / 4-8-8-3 ({fmt})", seconds(result),
                f"<= {1.5 * edge_ratio:.1f}", False)

    # 4. the command end to end vs importing SymPy
    print("\n4. `symbackprop solve` (the built-in example) end to end vs `python -c 'import sympy'`, best of 5")
    command = shutil.which("symbackprop", path=str(Path(sys.executable).parent)) or "symbackprop"
    solve_time = best_of([command, "solve"])
    import_time = best_of([sys.executable, "-c", "import sympy"])
    print(f"  symbackprop solve: {solve_time:.3f} s; import sympy: {import_time:.3f} s")
    row("4. symbackprop solve / import sympy", f"{solve_time / import_time:.2f}x", "<= 2x",
        solve_time <= 2 * import_time)

    # 5. peak memory of the runs of benchmark 2
    print(f"\n5. peak memory (max RSS of the worker process), {label}")
    for fmt, result in sb_big.items():
        mib = result["max_rss_mib"]
        state = (" (killed at the cap: the peak until then)" if result["timed_out"] else
                 " (the run failed: not a measurement)" if result["failed"] else "")
        print(f"  symbackprop, {fmt} format: {mib:.0f} MiB{state}")
        unknown = result["failed"] or (result["timed_out"] and mib < 1024)
        row(f"5. peak memory, {label} ({fmt})", "failed" if result["failed"] else f"{mib:.0f} MiB" + (
            " at the cap" if result["timed_out"] else ""), "< 1024 MiB", None if unknown else mib < 1024)
    print(f"  micrograd: {micro['max_rss_mib']:.0f} MiB")

    print("\nsummary" + (" (quick mode)" if args.quick else "") +
          f", load average at the end {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")
    width = max(len(r["benchmark"]) for r in rows)
    fwidth = max(len(r["figure"]) for r in rows)
    for r in rows:
        met = "-" if r["met"] is None else "met" if r["met"] else "NOT met"
        print(f"  {r['benchmark']:<{width}}  {r['figure']:<{fwidth}}  goal {r['goal']:<28} {met}")
    for note in notes:
        print("  " + note)

    if args.save:
        results = {"date": time.strftime("%Y-%m-%d"), "mode": "quick" if args.quick else "full",
                   "cap_seconds": args.cap, "cores": os.cpu_count(),
                   "load_average_end": round(os.getloadavg()[0], 2), "python": sys.version.split()[0],
                   "rows": rows, "notes": notes,
                   "seconds": {
                       "naive_sympy_4-8-8-3": naive_time,
                       **{f"symbackprop_{fmt}_4-8-8-3": r["seconds"] for fmt, r in sb_small.items()},
                       f"micrograd_{label}": micro["seconds"],
                       **{f"symbackprop_{fmt}_{label}": r["seconds"] for fmt, r in sb_big.items()},
                       **{f"symbackprop_{fmt}_16-32-32-10_sigmoid": r["seconds"]
                          for fmt, r in sb_medium.items()},
                       "symbackprop_solve": solve_time, "import_sympy": import_time},
                   "max_rss_mib": {f"symbackprop_{fmt}_{label}": None if r["failed"] else r["max_rss_mib"]
                                   for fmt, r in sb_big.items()}}
        (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
