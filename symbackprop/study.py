"""The learning-rate study: the same problem trained with several learning rates, side by side.

Every rate starts from the problem's values and takes the same number of steps; the loss over all
examples is recorded before each update and after the last (`training.run`). A run whose values
overflow (or reach the log of 0) is kept as far as it got and judged "diverges". Each run gets a
verdict from its loss history alone (plus, for a level loss, whether the parameters still move):

- diverges: the values overflowed, or the final loss is DIVERGENCE_FACTOR times the initial or more;
- oscillates: the loss went up at some step (overshoot; the increases are counted), or it stayed
  level while the parameters jumped (a cycle such as w = 0, 6, 0, 6 around the minimum w = 3);
- crawls: the loss decreased at every step but ends far above the best rate's final loss;
- converges: the loss decreased at every step and its last change is small;
- still decreasing: the loss decreased at every step and was still falling fast at the end.

`write()` puts the plots (plots.py) and the Markdown or LaTeX report (templates/study.*.j2) in a
directory. Python decides every number and sentence; the templates only lay them out.
"""

from __future__ import annotations

import dataclasses
import decimal
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable

import sympy as sp
from flint import arb, fmpq

from . import certified, numeric, printers, training
from .compiled import NumericRunError
from .errors import ProblemError
from .formats import MarkdownFormat, escape_latex
from .parse import parse_number

DIVERGES, OSCILLATES, CRAWLS, CONVERGES, DECREASING = (
    "diverges", "oscillates", "crawls", "converges", "still decreasing")
VERDICTS = (DIVERGES, OSCILLATES, CRAWLS, CONVERGES, DECREASING)

#: A final loss at least this many times the initial one has diverged.
DIVERGENCE_FACTOR = Decimal(10)
#: Changes smaller than this fraction of the largest loss of a run are rounding, not changes.
NOISE = Decimal("1e-30")
#: The parameters "move" at a step where one changes by more than this (relative to max(1, |p|)).
MOVE = Decimal("1e-9")
#: A run has converged when its last step lowered the loss by at most this fraction of the initial.
SETTLED = Decimal("1e-3")
#: A run crawls when it is still more than this share of the best rate's drop above the best final
#: loss, or ...
CRAWL_SHARE = Decimal("0.1")
#: ... when its final loss is more than CRAWL_RATIO times the best one and not yet negligible (more
#: than NEGLIGIBLE times its initial loss).
CRAWL_RATIO = Decimal(1000)
NEGLIGIBLE = Decimal("1e-6")
#: At most this many learning rates in one study (one colour each).
MAX_RATES = 10
#: Significant digits of the numbers in the report.
REPORT_DIGITS = 6

FORMATS = ("md", "tex")


@dataclass(frozen=True)
class Verdict:
    kind: str
    #: Steps at which the loss went up.
    increases: int = 0
    #: Steps at which the loss stayed level while the parameters moved.
    level_jumps: int = 0
    #: The step (counting from 1) at which the run overflowed, or None: its gradient, its update or
    #: the loss after it could not be evaluated.
    overflow_step: int | None = None
    #: The last step's decrease as a fraction of the initial loss (runs that decrease throughout).
    last_change: Decimal | None = None
    #: The first step whose change of the loss is 0 or too small for the run's values to tell its
    #: sign (less than one part in 10^29), the parameters moving less than MOVE: the minimum reached.
    settled_at: int | None = None


@dataclass(frozen=True)
class Curve:
    """One learning rate's run: the loss before each update and after the last, as far as it got."""

    learning_rate: sp.Expr
    #: The losses as Decimals (a ball's midpoint), for the verdicts' comparisons.
    history: tuple[Decimal, ...]
    parameters: tuple[dict[str, Decimal], ...] = ()
    #: The step (counting from 1) at which the run overflowed, or None for a complete run; the
    #: history then ends with the loss before that step (len(history) == overflow_step).
    overflow_step: int | None = None
    #: The run's balls of the same losses, from which they are printed (every digit certain).
    balls: tuple[arb, ...] = ()

    def shown(self, step: int) -> Decimal | arb:
        """The loss at `step` as it is printed: the certain ball where there is one."""
        return self.balls[step] if self.balls else self.history[step]

    @property
    def initial(self) -> Decimal:
        return self.history[0]

    @property
    def final(self) -> Decimal:
        return self.history[-1]

    @property
    def minimum(self) -> tuple[Decimal, int]:
        """The lowest loss and the first step (0 = before the first update) where it occurred."""
        if self.balls:
            at = 0
            for t in range(1, len(self.balls)):
                if certified.compare(self.balls[t], self.balls[at]) == -1:
                    at = t
            return self.history[at], at
        low = min(self.history)
        return low, self.history.index(low)


@dataclass(frozen=True)
class Study:
    problem: object
    steps: int
    epochs: int | None
    curves: tuple[Curve, ...]
    verdicts: tuple[Verdict, ...]

    @property
    def best(self) -> int | None:
        """The index of the rate with the lowest final loss among those that did not diverge."""
        return best_index(self.curves, self.verdicts)


def best_index(curves, verdicts) -> int | None:
    candidates = [i for i, v in enumerate(verdicts) if v.kind != DIVERGES]
    return min(candidates, key=lambda i: curves[i].final) if candidates else None


# --- verdicts ------------------------------------------------------------------------------------

def judge(history, *, overflow_step: int | None = None, parameters=(),
          best_final: Decimal | None = None, balls=()) -> Verdict:
    """The verdict on one loss history (see the module's docstring for the rules).

    `parameters` (one mapping per entry of history) tells a cycle from a standstill where the loss
    stays level; `best_final` is the best rate's final loss, against which a run may crawl. With
    `balls` (the run's own values, exact or balls), whether the loss went up or stayed level at a
    step is decided with certainty from them, and the last change, which is printed, computed."""
    with decimal.localcontext(_WIDE):
        history = [h if isinstance(h, Decimal) else Decimal(str(h)) for h in history]
        if not history:
            raise ValueError("a history has at least the initial loss")
        if overflow_step is not None:
            return Verdict(DIVERGES, overflow_step=overflow_step)
        changes = _changes(history, balls)
        first, last = history[0], history[-1]
        if last > first and last - first >= (DIVERGENCE_FACTOR - 1) * abs(first):
            return Verdict(DIVERGES, increases=changes.count(1))
        level = [t for t, c in enumerate(changes, start=1) if c == 0]
        jumps = sum(1 for t in level if t < len(parameters) and _moved(parameters[t - 1], parameters[t]))
        if changes.count(1) or jumps:
            return Verdict(OSCILLATES, increases=changes.count(1), level_jumps=jumps)
        scale = abs(first) or max(abs(h) for h in history)
        last_change = (history[-2] - last) / scale if len(history) > 1 and scale else Decimal(0)
        shown_change = last_change
        if len(balls) > 1 and scale:
            # The change is printed: from the run's values, as the difference of two close losses
            # cancels.
            top = balls[0] if first else max(balls, key=lambda b: abs(training.approximate(b)))
            shown_change = certified.quotient(certified.difference(balls[-2], balls[-1]), abs(top))
        settled_at = level[0] if level else None    # level without moving: the minimum reached
        if best_final is not None and _far_above(last, best_final, first):
            return Verdict(CRAWLS, last_change=shown_change, settled_at=settled_at)
        if last_change <= SETTLED:
            return Verdict(CONVERGES, last_change=shown_change, settled_at=settled_at)
        return Verdict(DECREASING, last_change=shown_change, settled_at=settled_at)


#: Decimal arithmetic on the 40-digit approximations without rounding them to the default 28.
_WIDE = decimal.Context(prec=100, Emax=10**9, Emin=-10**9)


def _changes(history: list[Decimal], balls) -> list[int]:
    """For each step, whether the loss went up (1), down (-1) or stayed level (0): from the run's
    own values where there are some (level where the balls cannot tell), else from the Decimals
    with changes below NOISE taken as level."""
    if balls:
        return [{1: 1, -1: -1}.get(certified.compare(balls[t], balls[t - 1]), 0)
                for t in range(1, len(balls))]
    noise = NOISE * max(abs(h) for h in history)
    return [1 if history[t] > history[t - 1] + noise else 0 if abs(history[t] - history[t - 1]) <= noise
            else -1 for t in range(1, len(history))]


def _moved(before: dict[str, Decimal], after: dict[str, Decimal]) -> bool:
    return any(abs(after[name] - before[name]) > MOVE * max(Decimal(1), abs(before[name]))
               for name in before)


def _far_above(final: Decimal, best: Decimal, initial: Decimal) -> bool:
    gap = final - best
    if gap <= 0:
        return False
    if gap > CRAWL_SHARE * (initial - best):
        return True
    return final > CRAWL_RATIO * best and final > NEGLIGIBLE * initial


def judge_all(curves) -> tuple[Verdict, ...]:
    """Verdicts for all curves: first without the crawl test, to find the best rate, then with."""
    first = [judge(c.history, overflow_step=c.overflow_step, parameters=c.parameters)
             for c in curves]
    best = best_index(curves, first)
    best_final = None if best is None else curves[best].final
    return tuple(judge(c.history, overflow_step=c.overflow_step, parameters=c.parameters,
                       best_final=None if i == best else best_final, balls=c.balls)
                 for i, c in enumerate(curves))


# --- runs ----------------------------------------------------------------------------------------

def check_learning_rates(rates) -> tuple[sp.Expr, ...]:
    """Exact positive learning rates, each once, in increasing order."""
    rates = [r if isinstance(r, sp.Basic) else parse_number(r) for r in rates]
    if not rates:
        raise ProblemError("give at least one learning rate", key="learning_rates")
    if len(rates) > MAX_RATES:
        raise ProblemError(f"at most {MAX_RATES} learning rates in one study, got {len(rates)}",
                           key="learning_rates")
    for rate in rates:
        if not (isinstance(rate, sp.Expr) and rate.is_number and rate.is_positive):
            raise ProblemError(f"a learning rate must be a number greater than 0, got {rate}",
                               key="learning_rates")
    for i, rate in enumerate(rates):
        if any(sp.simplify(rate - other) == 0 for other in rates[:i]):
            raise ProblemError(f"the learning rate {rate} is given twice", key="learning_rates")
    return tuple(sorted(rates, key=lambda r: sp.N(r, 30)))


def prepare(problem, learning_rates, steps: int | None = None, epochs: int | None = None):
    """Check a study before running it: (problem, rates in increasing order, steps, epochs)."""
    rates = check_learning_rates(learning_rates)
    if problem.learning_rate is None:   # the problem's own rate is not needed: the study gives them
        problem = dataclasses.replace(problem, learning_rate=rates[0])
    count, epochs = training.steps_for(problem, steps, epochs)
    return problem, rates, count, epochs


def run_study(problem, learning_rates, steps: int | None = None, *, epochs: int | None = None,
              kink: sp.Expr | None = None,
              progress: Callable[[int], None] | None = None) -> Study:
    """Train `problem` once per learning rate for the same number of steps (or epochs), each from
    the problem's values. `progress(n)` is called after every n updates (steps times rates, in
    all)."""
    original = problem
    problem, rates, count, epochs = prepare(problem, learning_rates, steps, epochs)
    kink = problem.kink if kink is None else kink
    try:
        curves = tuple(_curve(problem, count, kink, rate, epochs, progress) for rate in rates)
    except ProblemError as exc:
        raise exc.located(source=original.source,
                          line=original.lines.get(exc.key or "")) from None
    return Study(problem, count, epochs, curves, judge_all(curves))


UNEVALUABLE = ("the loss cannot be evaluated at the problem's values (division by zero or the log "
               "of a number that is not positive)")


def _curve(problem, steps: int, kink, rate, epochs, progress) -> Curve:
    try:
        run = training.run(problem, steps, kink, learning_rate=rate, epochs=epochs, progress=progress)
        diverged = None
    except training.Diverged as exc:
        # Kept as far as it got: the history ends with the loss before the step that went past the
        # bound, which is the step the verdict names.
        run, diverged = exc.run, len(exc.run.history)
        if progress and diverged < steps:
            progress(steps - diverged)
    except NumericRunError as exc:
        raise ProblemError(f"{UNEVALUABLE}: {exc.message}", key="values") from None
    if not run.history:
        raise ProblemError(UNEVALUABLE, key="values")
    history = tuple(training.approximate(h) for h in run.history)
    parameters = tuple({n: training.approximate(v) for n, v in p.items()} for p in run.parameters)
    return Curve(rate, history, parameters, overflow_step=diverged, balls=run.history)


# --- the report ----------------------------------------------------------------------------------

def rate_text(rate: sp.Expr) -> str:
    """A learning rate as written by a person: 0.05, 20, 1/3 (plain text)."""
    rate = sp.nsimplify(rate) if rate.is_Float else rate
    if rate.is_Rational:
        q = int(rate.q)
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if q == 1:
            return _terminating_decimal(int(rate.p), int(rate.q))
    return printers.text(rate)


def _terminating_decimal(p: int, q: int) -> str:
    """p/q (q = 2^a 5^b) written out exactly with integer arithmetic: a Decimal division rounds to
    its context's 28 digits (1/2 - 5e-41 would be written 0.5)."""
    twos = (q & -q).bit_length() - 1
    places = max(twos, _multiplicity(q >> twos, 5))        # p/q = p * (10^places / q) / 10^places
    digits = _digit_string(abs(p) * (10 ** places // q)).rjust(places + 1, "0")
    whole, fraction = digits[:len(digits) - places], digits[len(digits) - places:].rstrip("0")
    return ("-" if p < 0 else "") + whole + ("." + fraction if fraction else "")


def _multiplicity(n: int, factor: int) -> int:
    count = 0
    while n % factor == 0:
        n //= factor
        count += 1
    return count


def _digit_string(n: int) -> str:
    """str(n) for n >= 0 of any length (Python refuses str() of an int of more than 4,300 digits)."""
    if n < 10 ** 4000:
        return str(n)
    half = n.bit_length() * 3 // 20            # about half its digits (log10(2) = 0.301)
    high, low = divmod(n, 10 ** half)
    return _digit_string(high) + _digit_string(low).rjust(half, "0")


def rate_latex(rate: sp.Expr) -> str:
    text = rate_text(rate)
    if "/" not in text and "(" not in text and "*" not in text:
        return text
    return printers.latex(rate)


def number_parts(value: Decimal | arb | fmpq, digits: int = REPORT_DIGITS) -> tuple[str, int | None]:
    """A number to `digits` significant digits as (mantissa, power of ten or None), written as
    Python's %g would: 0.25, 123.457, and 1.2 with 120 or 1.23457 with -5 beyond that range. A
    run's ball is rounded by the certified writer, every digit certain."""
    if isinstance(value, (arb, fmpq)):
        value = Decimal(numeric.decimal_string(value, digits))
    if value == 0:
        return "0", None
    rounded = decimal.Context(prec=digits, Emax=10**8, Emin=-10**8).plus(Decimal(value))
    exponent = rounded.adjusted()
    if -4 <= exponent < digits:
        return _strip(format(rounded, "f")), None
    return _strip(format(rounded.scaleb(-exponent), "f")), exponent


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_latex(value: Decimal, digits: int = REPORT_DIGITS) -> str:
    """The LaTeX of a number (without math delimiters): 0.25, 6.99842 \\times 10^{70}."""
    mantissa, exponent = number_parts(value, digits)
    return mantissa if exponent is None else rf"{mantissa} \times 10^{{{exponent}}}"


class _Writer:
    """Numbers, names and emphasis in Markdown or LaTeX."""

    def __init__(self, fmt: str):
        if fmt not in FORMATS:
            raise ProblemError(f"unknown report format '{fmt}'; use md or tex", key="format")
        self.fmt = fmt

    def math(self, latex: str) -> str:
        return f"${latex}$" if self.fmt == "md" else rf"\({latex}\)"

    def number(self, value: Decimal) -> str:
        return self.math(number_latex(value))

    def rate(self, rate: sp.Expr) -> str:
        return self.math(rate_latex(rate))

    def percent(self, fraction: Decimal) -> str:
        return self.number(fraction * 100) + ("%" if self.fmt == "md" else r"\%")

    def rate_equation(self, curve: Curve) -> str:
        return self.math(rf"\eta = {rate_latex(curve.learning_rate)}")

    def prose(self, text: str) -> str:
        return MarkdownFormat(REPORT_DIGITS).prose(text) if self.fmt == "md" else escape_latex(text)

    def symbol(self, name: str) -> str:
        return self.math(printers.latex_name(name))


def describe(verdict: Verdict, curve: Curve, best: Curve | None, steps: int, w: _Writer) -> str:
    """The sentence that explains a verdict, with its numbers."""
    if verdict.kind == DIVERGES:
        if verdict.overflow_step is not None:
            return (f"the values grew past {w.math('10^{100}')} at step {verdict.overflow_step}; "
                    f"the loss had reached {w.number(curve.shown(-1))}")
        return (f"the loss grew from {w.number(curve.shown(0))} to {w.number(curve.shown(-1))}: each "
                "step jumps further past the minimum")
    if verdict.kind == OSCILLATES:
        parts = []
        if verdict.increases:
            times = "step" if verdict.increases == 1 else "steps"
            parts.append(f"the loss went up at {verdict.increases} of {steps} {times}: the steps "
                         "overshoot the minimum")
        if verdict.level_jumps:
            parts.append(f"the loss stayed level while the parameters jumped back and forth at "
                         f"{verdict.level_jumps} of {steps} steps: they cycle around the minimum "
                         "without reaching it")
        return "; ".join(parts)
    if verdict.kind == CRAWLS:
        return (f"the loss decreased at every step, but it ends at {w.number(curve.shown(-1))}, far "
                f"above the best final loss {w.number(best.shown(-1))} (with {w.rate_equation(best)}): "
                "the steps are too small")
    if verdict.kind == CONVERGES and verdict.settled_at is not None:
        return (f"the loss decreased at every step up to step {verdict.settled_at - 1}; from step "
                f"{verdict.settled_at} on it changes by less than one part in "
                f"{w.math('10^{29}')} a step (it is {w.number(curve.shown(verdict.settled_at))})")
    if verdict.kind == CONVERGES:
        return (f"the loss decreased at every step, and the last step changed it by "
                f"{w.percent(verdict.last_change)} of the initial loss")
    return (f"the loss decreased at every step and was still falling at the end (the last step "
            f"changed it by {w.percent(verdict.last_change)} of the initial loss): more steps "
            "would lower it further")


def report_data(study: Study, fmt: str) -> dict:
    """Everything the report template needs, as strings: no SymPy or Decimal reaches a template."""
    w = _Writer(fmt)
    problem = study.problem
    best = study.best
    best_curve = None if best is None else study.curves[best]
    rows = []
    for i, (curve, verdict) in enumerate(zip(study.curves, study.verdicts)):
        _, at = curve.minimum
        rows.append({
            "rate": w.rate(curve.learning_rate),
            "equation": w.rate_equation(curve),
            "initial": w.number(curve.shown(0)),
            "final": w.number(curve.shown(-1)),
            "final_step": len(curve.history) - 1,
            "cut": len(curve.history) - 1 < study.steps,
            "minimum": w.number(curve.shown(at)),
            "minimum_step": at,
            "verdict": verdict.kind,
            "detail": describe(verdict, curve, best_curve, study.steps, w),
            "best": i == best,
        })
    if problem.data is not None:
        examples = f"the data ({w.prose(problem.data.describe())})"
        noisy = problem.data.batch_size < len(problem.data.rows)
    else:
        examples, noisy = "the single example given by the values", False
    steps = f"{study.steps} steps" if study.steps != 1 else "1 step"
    if study.epochs is not None:
        epochs = "1 epoch" if study.epochs == 1 else f"{study.epochs} epochs"
        steps = f"{steps} ({epochs})"
    return {
        "title": w.prose(problem.title) if problem.title else None,
        "source": w.prose(Path(problem.source).name) if problem.source else None,
        "steps": steps,
        "loss": w.symbol(problem.loss),
        "parameters": ", ".join(w.symbol(p) for p in problem.parameters),
        "examples": examples,
        "noisy": noisy,
        "report_digits": REPORT_DIGITS,
        "how": ("computed exactly, in rational arithmetic"
                if all(isinstance(b, fmpq) for c in study.curves for b in c.balls) else
                "computed exactly while the values stay short rationals and in ball arithmetic "
                "after that"),
        "eta": w.math(r"\eta"),
        "rows": rows,
        "best": None if best is None else rows[best]["equation"],
        "rules": rules(w),
    }


def rules(w: _Writer) -> list[dict[str, str]]:
    """How the verdicts are decided, in words (the thresholds are the module's constants)."""
    share = w.percent(CRAWL_SHARE)
    return [
        {"verdict": DIVERGES, "rule": "the values overflow, or the final loss is at least "
                                      f"{int(DIVERGENCE_FACTOR)} times the initial loss"},
        {"verdict": OSCILLATES, "rule": "the loss goes up at some step (the step overshoots the "
                                        "minimum), or it stays level while the parameters jump"},
        {"verdict": CRAWLS, "rule": "the loss decreases at every step but ends far above the best "
                                    f"rate's final loss (more than {share} of the best rate's drop "
                                    f"above it, or more than {int(CRAWL_RATIO)} times it while not "
                                    "yet negligible)"},
        {"verdict": CONVERGES, "rule": "the loss decreases at every step and the last step changes "
                                       f"it by at most {w.percent(SETTLED)} of the initial "
                                       "loss"},
        {"verdict": DECREASING, "rule": "the loss decreases at every step and is still falling "
                                        "faster than that at the end"},
    ]


def render_report(study: Study, fmt: str = "md", *, template_dir: str | Path | None = None) -> str:
    """The report as Markdown (with `![loss](loss.png)`) or LaTeX (with `\\input{loss.tex}`)."""
    from .render import fill

    return fill(f"study.{fmt}.j2", report_data(study, fmt), template_dir)


def write(study: Study, directory: str | Path, fmt: str = "md") -> list[Path]:
    """Write loss.png, loss.svg, loss.tex and report.<fmt> into `directory` (created if need be)."""
    from . import plots

    directory = Path(directory)
    report = render_report(study, fmt)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProblemError(f"cannot create the directory {directory}: {exc.strerror}",
                           key="output") from None
    written = []
    try:
        written += plots.write_images(study, directory / "loss.png", directory / "loss.svg")
        pgf = directory / "loss.tex"
        pgf.write_text(plots.pgfplots(study), encoding="utf-8")
        written.append(pgf)
        path = directory / f"report.{fmt}"
        path.write_text(report, encoding="utf-8")
        written.append(path)
    except OSError as exc:
        raise ProblemError(f"cannot write into {directory}: {exc.strerror}",
                           key="output") from None
    return written
