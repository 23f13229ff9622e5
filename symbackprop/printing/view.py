"""A Solution as plain data for the templates: strings, lists and dicts, written by a Format.

Every piece of mathematics is decided here, in Python; templates only lay it out. The steps'
equations come from the step printer (equations.py); this module adds the sections around them,
the sentences that justify each step, and the tables of a batch and a run.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..arithmetic import certified, numeric
from ..engine import teaching
from ..engine.solution import Solution
from ..model.operations import BY_KEY, row
from ..model.steps import Branch, ChainStep, Reduction, SumStep
from .derivation import DerivationPrinter, written_inline
from .equations import Equation, StepPrinter, equation
from .formats import Format
from .notes import delta_key, partial_key


class _SolutionView:
    """The sections of one worked solution, each a dict of strings; equations come from a StepPrinter."""

    def __init__(self, solution: Solution, fmt: Format, symbolic: bool, plan: dict | None = None,
                 entries: dict[str, str] | None = None):
        self.s = solution
        self.f = fmt
        self.symbolic = symbolic
        self.problem = solution.problem
        self.graph = solution.problem.graph
        self.loss = solution.problem.loss
        self.printer = StepPrinter(fmt, self.loss, solution.steps, symbolic=symbolic)
        # Without numbers a table would hold formulas: a symbolic derivation is derived in full.
        options = {**(plan or {}), **({"detail": "all"} if symbolic else {})}
        self.plan = teaching.plan(self.graph, self.loss, solution.steps, self.problem.parameters,
                                  self.problem.values, **options)
        #: Each gradient's chain steps (one per path) and, where it adds several, its SumStep.
        self.paths: dict[str, list[ChainStep]] = {}
        for step in solution.steps:
            if isinstance(step, ChainStep):
                self.paths.setdefault(step.target, []).append(step)
        self.sums = {step.target: step for step in solution.steps if isinstance(step, SumStep)}
        #: Each weight's entry in its layer's matrix, where the matrix form stands beside the scalar one.
        self.entries = entries or {}
        #: The logits whose cross-entropy reduction has been said, in the order said.
        self.reduced: list[str] = []
        known = {**self.problem.values, **solution.examples[0].inputs,
                 **{name: step.value for name, step in solution.forward.items()}}
        self.derivation = DerivationPrinter(fmt, self.loss, self.plan, known, symbolic=symbolic)

    # --- sections ------------------------------------------------------------------------------
    def problem_view(self, f: Format | None = None) -> dict[str, Any]:
        """The problem as stated; `f` writes it where the rest is written otherwise (a blanks
        sheet boxes answers, never a given value that happens to equal one)."""
        f, p = f or self.f, self.problem
        nodes = [equation(f.symbol(n), (f.eq, f.expr(e))) for n, e in p.nodes.items()]
        values = [] if self.symbolic else [
            equation(f.symbol(n), f.value_chain(v)[:1]) for n, v in p.values.items()]
        given = [] if self.symbolic else [
            equation(f.symbol(n), f.value_chain(v)[:1]) for n, v in p.given.items()]
        context = [equation(f.symbol(n), f.value_chain(v)[:1]) for n, v in p.context.items()]
        return {
            "nodes": nodes,
            "symbols": values,
            "context": context,
            "given": given,
            "loss": f.symbol(self.loss),
            "parameters": [f.symbol(n) for n in p.parameters],
            "updates": p.learning_rate is not None,
            # A symbolic derivation names eta alone: "with learning rate eta", not "eta = eta".
            "learning_rate": None if p.learning_rate is None or self.symbolic else f.number(p.learning_rate),
            # "eta = 0.5" as one piece of mathematics (the "=" is math, not text), or eta alone.
            "eta_value": f.math(f.symbol("eta")) if p.learning_rate is None or self.symbolic else
            f.equals_in_text(f.symbol("eta"), p.learning_rate),
            "unknowns": [f.symbol(s) for s in self.unknowns()],
            "kink": f.number(self.s.kink),
            "gates": p.gates,
        }

    def forward_view(self) -> list[dict[str, Any]]:
        f = self.f
        rows = []
        for step in self.s.forward.values():
            node = self.graph.nodes[step.node]
            warning = None
            if not self.symbolic and step.given and step.computed is not None \
                    and step.computed.is_number and sp.simplify(step.computed - step.value) != 0:
                warning = (f"the definition gives {f.number(step.computed)}, not the given "
                           f"{f.number(step.value)}")
            rows.append({"name": f.symbol(step.node), "equation": self.printer.equations(step)[0],
                         "given": step.given and not self.symbolic, "generated": node.generated,
                         "warning": warning})
        return rows

    def backward_view(self) -> list[dict[str, Any]]:
        """One block per gradient in teaching order; the parameters of a layer that are not derived
        in full are one table, where that layer's first one would stand."""
        entries: list[dict[str, Any]] = []
        tables = {self.plan.depth[t[0].parameter]: t for t in self.plan.tables}
        in_tables = self.plan.in_tables
        blocks = 0
        for name in self.plan.order:
            if name in in_tables:
                table = tables.pop(self.plan.depth[name], None)
                if table is not None:
                    entries.append(self.table_entry(table))
                continue
            blocks += 1
            entries.append(self.block_entry(blocks, name))
        return entries

    def block_entry(self, number: int, name: str) -> dict[str, Any]:
        f = self.f
        paths = self.paths[name]
        sentences = [self.branch_sentence(b) for step in paths for b in step.branches]
        reduction = (self.sums[name] if name in self.sums else paths[0]).reduction
        if reduction is not None:
            # Said in full once; the next logits reduce the same way.
            sentences.append(self.reduction_sentence(reduction) if not self.reduced else
                             f"As for {f.math(self.derivation.name(self.reduced[0]))}, the paths add up "
                             f"to {f.math(f.expr(reduction.reduced))}.")
            self.reduced.append(name)
        elif len(paths) > 1:
            vias = [f.math(f.symbol(p.via)) for p in paths]
            sentences.insert(0, f"{f.math(f.symbol(name))} feeds {_listed(vias)}, so the gradients "
                                "along the paths through them add up.")
        if name in self.entries:
            sentences.insert(0, f"{f.math(f.partial(self.loss, name))} is {self.entries[name]}.")
        equations = self.derivation.block(name, paths, self.sums.get(name))
        # The block's result is numbered where the notes ask for numbers. Its label is the
        # quantity's own where no other display holds it (a delta, dE/dout_h1); a gradient that was
        # asked for is labelled in the summary, which holds every one, whichever are in full.
        summarised = name in self.plan.asked and name in self.s.gradients
        label = None if summarised else (delta_key(self.plan.deltas[name]) if name in self.plan.deltas
                                         else partial_key(self.loss, name))
        equations[-1] = {**equations[-1], "numbered": True, "label": label}
        # A heading in words, for LaTeX, which numbers no step: "The delta delta_o1".
        heading = (f"The delta {f.math(self.derivation.name(name))}" if name in self.plan.deltas
                   else f"The gradient {f.math(f.partial_in_line(self.loss, name))}")
        return {"number": number, "kind": "block", "lhs": self.derivation.name(name), "via": "",
                "heading": heading, "equations": equations, "sentences": sentences}

    def table_entry(self, rows) -> dict[str, Any]:
        """A layer's other parameters: each one's input, its unit's delta, their product and the
        parameter after the update."""
        f = self.f
        updated = {u.parameter: u.new for u in self.s.updates}
        return {
            "kind": "table",
            "columns": ["parameter", "its input", "its unit's delta", "gradient",
                        *(["after the update"] if updated else [])],
            "rows": [[f.math(f.symbol(r.parameter)), self.plain(r.step.local_value),
                      f.math(f"{self.derivation.name(r.unit)} {f.relation(r.step.upstream_value)} "
                             f"{f.inside(r.step.upstream_value)}"),
                      self.plain(r.step.value),
                      *([self.plain(updated[r.parameter])] if r.parameter in updated else [])]
                     for r in rows],
        }

    def plain(self, value: sp.Expr) -> str:
        """A value in a table cell: its exact form where short, else its rounded decimal (as
        mathematics, so that -0.02 has a minus sign, not a hyphen)."""
        return self.f.math(self.f.inside(value))

    def legend(self) -> list[str]:
        """Each rule the blocks use, said once."""
        f = self.f
        keys: dict[str, None] = {}
        for name in self.plan.order:
            for step in self.paths[name]:
                if step.via != self.loss:
                    keys.update(dict.fromkeys(step.rules))
        said = [f.prose(BY_KEY[key].gate[0].upper() + BY_KEY[key].gate[1:]) + "." for key in keys]
        if self.plan.deltas:
            units = _listed([f.math(f"{self.derivation.name(n)} = {f.partial(self.loss, n)}")
                             for n in self.plan.deltas])
            said.insert(0, f"Each unit's gradient at its net input is its delta: {units}.")
        return said

    def reduction_sentence(self, reduction: Reduction) -> str:
        f = self.f
        result = f.math(f.expr(reduction.reduced))
        if not reduction.targets:
            if reduction.collected is not None:
                return (f"The paths add up to {f.math(f.expr(reduction.collected))}; where the targets "
                        f"sum to 1 (one-hot targets or probabilities) this is output minus target.")
            return f"The sigmoid's slope cancels against cross-entropy's: the gradient is {result}."
        total = f.math(" + ".join(f.symbol(t) for t in reduction.targets) + " = 1")
        return (f"The targets sum to 1 ({total}: one-hot targets or probabilities), so the paths add "
                f"up to {result}: softmax with cross-entropy passes back the output minus the target.")

    def branch_sentence(self, branch: Branch) -> str:
        f = self.f
        argument = f.expr(branch.argument)
        if branch.value is None:
            own = BY_KEY[branch.kind].step_at_zero         # as rules.local_derivative
            at_zero = self.s.kink if own is None else own
            return (f"The sign of {f.math(argument)} is not known, so the step function "
                    f"{f.math(f.expr(sp.Heaviside(branch.argument, at_zero)))} stays in the result.")
        fact = f.equals_in_text(argument, branch.value)
        if branch.source != "forward":
            node = self.graph.nodes[branch.source]
            given = self.s.forward[branch.source].value
            fact += (f" (the given {f.equals_in_text(f.symbol(branch.source), given)} is "
                     f"{f.math(f.expr(node.expr))} {row(node.expr.func).read_back[numeric.sign(given)]})")
        verdict = BY_KEY[branch.kind].sides[branch.sign].format(kink=f.number(self.s.kink))
        return f"{fact}: {verdict}."

    def gradients_view(self) -> list[Equation]:
        return [{**self.summary(name), "numbered": True, "label": partial_key(self.loss, name)}
                for name in self.plan.asked if name in self.s.gradients]

    def summary(self, name: str) -> Equation:
        """One gradient in the summary: through a unit, as its delta times its input (dE/dw1 =
        delta_h1 * i1), as the steps wrote it; else its general form where short enough."""
        f, gradient = self.f, self.s.gradients[name]
        paths = self.paths.get(name, [])
        lhs = f.partial(self.loss, name)
        if self.problem.data is None and len(paths) == 1 and paths[0].via in self.plan.deltas \
                and written_inline(paths[0]):
            via_delta = f.product(self.derivation.name(paths[0].via), f.expr(paths[0].local))
            return equation(lhs, (f.eq, via_delta), self.printer.values(gradient.value))
        return equation(lhs, self.printer.general(gradient.general), self.printer.values(gradient.value))

    def unknowns(self) -> list[str]:
        """The symbols without a value (the data's symbols have one per example)."""
        data = self.problem.data
        return [s for s in self.graph.symbols
                if s not in self.problem.values and (data is None or s not in data.symbols)]

    def unrepeatable(self) -> list[str]:
        """The given nodes, where a symbol has no value: the pass after the update cannot recompute
        them (y = 3 was given; relu(w3*x_n) with the new w3 is not a number), and a formula in x_n
        would ignore what the given value says of x_n."""
        return list(self.problem.given) if self.unknowns() else []

    def updates_view(self) -> dict[str, Any] | None:
        """The rule worked in full for the parameters derived in full; where there are others, every
        parameter in one table: old value, gradient, new value (one line per weight, or a table)."""
        f = self.f
        if not self.s.updates:
            return None
        shown = {n for n in self.plan.asked if n not in self.plan.in_tables}
        order = {name: i for i, name in enumerate(self.plan.order)}
        worked = [self.printer.equations(u)[0] for u in
                  sorted(self.s.updates, key=lambda u: order.get(u.parameter, len(order)))
                  if u.parameter in shown]
        if self.symbolic:
            worked = [self.printer.equations(u)[0] for u in self.s.updates]
        given = self.unrepeatable()
        unknown = [f.math(f.symbol(s)) for s in self.unknowns()]
        note = "" if not given or self.symbolic else (
            "The forward pass after the update is not shown: "
            f"{_listed([f.math(f.symbol(n)) for n in given])} {'was' if len(given) == 1 else 'were'} "
            f"given rather than computed, and {_listed(unknown)} {'has' if len(unknown) == 1 else 'have'} "
            "no value, so the updated weights cannot be carried through.")
        return {
            "note": note,
            "worked": worked,
            "columns": ["parameter", "before", "gradient", "after"],
            "rows": [] if self.symbolic or len(worked) == len(self.s.updates) else [
                [f.math(f.symbol(u.parameter)), self.plain(u.old), self.plain(u.gradient),
                 self.plain(u.new)] for u in self.s.updates],
        }

    def after_view(self) -> dict[str, Any] | None:
        f = self.f
        after = self.s.after_update
        if self.symbolic or not (after or self.s.batch_loss_after is not None) or self.unrepeatable():
            return None
        if self.s.batch_loss_after is not None:
            before, now = self.s.batch_loss, self.s.batch_loss_after
            return {"nodes": [equation(f.after_update(f.words("batch loss")), f.value_chain(now))],
                    "loss_before": f.number(before), "loss_after": f.number(now),
                    "change": loss_change(before, now)}
        before = self.s.forward[self.loss].value
        return {
            "nodes": [equation(f.updated(n), f.value_chain(v)) for n, v in after.items()],
            "loss_before": f.number(before),
            "loss_after": f.number(after[self.loss]),
            "change": loss_change(before, after[self.loss]),
        }

    def batch_view(self) -> dict[str, Any] | None:
        """The examples of the first batch in a table (loss and gradients), then their mean or sum."""
        data = self.problem.data
        if data is None or self.symbolic:
            return None
        f = self.f
        names = [n for n in self.plan.asked if n in self.s.gradients]
        rows = [{"example": str(e.index + 1),
                 "inputs": ", ".join(f.equals_in_text(f.symbol(n), v) for n, v in e.inputs.items()),
                 "loss": f.number(e.forward[self.loss].value),
                 "gradients": [f.number(e.gradients[n].value) if n in e.gradients else f.number(sp.S.Zero)
                               for n in names]}
                for e in self.s.examples]
        return {
            "description": f.prose(data.describe()),
            "columns": [f.math(f.partial(self.loss, n)) for n in names],
            "rows": rows,
            "reduction": data.reduction,
            "loss": f.number(self.s.batch_loss),
            "gradients": [f.number(self.s.gradients[n].value) for n in names],
            "first": str(self.s.examples[0].index + 1),
        }

    def run_view(self, max_rows: int = 25) -> dict[str, Any] | None:
        """A run of many steps as a table of selected steps, and when the loss stopped decreasing."""
        run = self.s.run
        if run is None or self.symbolic:
            return None
        f = self.f
        shown = evenly_spread(run.steps + 1, max_rows)
        count = _counted(run.steps, "update")
        if run.epochs:
            count += f" ({_counted(run.epochs, 'epoch')})"
        return {
            "steps": run.steps,
            "epochs": run.epochs,
            "count": count,
            "how": ("computed exactly, in rational arithmetic" if run.exact else
                    f"computed in ball arithmetic at {run.bits} bits of working precision"),
            "parameters": [f.math(f.symbol(n)) for n in run.parameters[0]],
            "rows": [{"step": str(i), "loss": f.decimal(run.history[i]),
                      "parameters": [f.decimal(v)
                                     for v in run.parameters[i].values()]} for i in shown],
            "omitted": len(shown) < run.steps + 1,
            "verdict": _run_verdict(run, f),
        }


def _run_verdict(run, f: Format) -> str:
    """Whether the loss decreased at every update, said only as far as the run's values tell."""
    stopped, unclear = run.stopped_decreasing, run.too_small_to_tell
    if unclear is not None:
        change = (f"at update {unclear} the loss changed by less than one part in 10^29, too little "
                  f"for the run's precision to tell which way (it is {f.decimal(run.history[unclear])}).")
        first = "the first update" if unclear == 2 else f"each of the first {unclear - 1} updates"
        text = (change[0].upper() + change[1:] if unclear == 1
                else f"The loss decreased at {first}; {change}")
        if stopped is not None:
            rose = certified.compare(run.history[stopped], run.history[stopped - 1]) == 1
            how = "went up" if rose else "stayed the same"
            text += (f" At update {stopped} it {how}: {f.decimal(run.history[stopped - 1])} before, "
                     f"{f.decimal(run.history[stopped])} after.")
        return text
    if stopped is not None:
        return (f"The loss stopped decreasing at update {stopped}: it was "
                f"{f.decimal(run.history[stopped - 1])} before and {f.decimal(run.history[stopped])} "
                "after it.")
    if run.steps == 1:
        return "The loss decreased at the update."
    return f"The loss decreased at every one of the {run.steps} updates."


def _counted(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n} {noun}s"


def evenly_spread(count: int, limit: int) -> list[int]:
    """At most `limit` indices from 0 to count - 1, always the first and the last, evenly spread."""
    if count <= limit:
        return list(range(count))
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def view(solution: Solution, fmt: Format, *, symbolic: bool = False,
         plan: dict | None = None, entries: dict[str, str] | None = None,
         statement: Format | None = None) -> dict[str, Any]:
    """Everything a template needs, as strings and lists: no SymPy object reaches a template.
    `plan` holds teaching.plan's options: gradients, detail and delta; `statement` writes the
    problem's statement (fmt by default)."""
    w = _SolutionView(solution, fmt, symbolic, plan, entries)
    problem = solution.problem
    return {
        "title": fmt.text_with_math(problem.title or "Backpropagation"),
        "notes": [fmt.text_with_math(n) for n in problem.notes],
        "symbolic": symbolic,
        "digits": fmt.digits,
        "loss": fmt.symbol(problem.loss),
        "loss_partial": fmt.partial(problem.loss, problem.loss),
        "problem": w.problem_view(statement),
        "forward": w.forward_view(),
        "loss_equation": equation(fmt.symbol(problem.loss),
                                  w.printer.values(solution.forward[problem.loss].value) or
                                  [(fmt.eq, fmt.expr(problem.nodes[problem.loss]))]),
        "backward": w.backward_view(),
        "legend": w.legend(),
        "gradients": w.gradients_view(),
        # A data problem's update uses the batch's gradients, its loss the batch's mean or sum.
        "gradients_of": fmt.math(fmt.symbol(problem.loss)) if problem.data is None else
        f"the batch loss ({problem.data.reduction} over the batch)",
        "updates": w.updates_view(),
        "after_update": w.after_view(),
        "batch": w.batch_view(),
        "run": w.run_view(),
    }


def _listed(items: list[str]) -> str:
    """a, b and c."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def loss_change(before: sp.Expr, after: sp.Expr) -> str:
    if not (before.is_number and after.is_number):
        return "Whether the loss decreased depends on the unknown symbols."
    # Decided with certainty: SymPy's own comparison of 399.984... with -log(1 - sigmoid(400))
    # evaluates in floating point and found them equal.
    change = numeric.sign(after - before)
    if change < 0:
        return "The loss decreased."
    if change > 0:
        return "The loss increased: the learning rate is too large for this step."
    return "The loss did not change."
