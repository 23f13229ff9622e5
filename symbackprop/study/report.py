"""The study's report: rates and losses written as a person writes them, the sentences, and the
Markdown or LaTeX report with its plots."""

from __future__ import annotations

from pathlib import Path

from flint import fmpq

from ..errors import ProblemError
from ..printing.formats import LatexFormat, MarkdownFormat
from ..printing.rendering import fill
from . import plots
from .runs import Study
from .verdicts import (
    CONVERGES,
    CRAWL_RATIO,
    CRAWL_SHARE,
    CRAWLS,
    DECREASING,
    DIVERGENCE_FACTOR,
    DIVERGES,
    OSCILLATES,
    SETTLED,
    Curve,
    RunVerdict,
)

#: Significant digits of the numbers in the report.
REPORT_DIGITS = 6


STUDY_FORMATS = ("md", "tex")


def report_format(fmt: str) -> MarkdownFormat:
    """How the report writes numbers, names and prose: Markdown or LaTeX, to REPORT_DIGITS digits."""
    if fmt not in STUDY_FORMATS:
        raise ProblemError(f"unknown report format '{fmt}'; use md or tex", key="format")
    return (MarkdownFormat if fmt == "md" else LatexFormat)(REPORT_DIGITS)


def _rate_equation(w: MarkdownFormat, curve: Curve) -> str:
    return w.math(rf"{w.symbol('eta')} = {w.rate(curve.learning_rate)}")


def describe(verdict: RunVerdict, curve: Curve, best: Curve | None, steps: int, w: MarkdownFormat) -> str:
    """The sentence that explains a verdict, with its numbers."""
    if verdict.kind == DIVERGES:
        if verdict.overflow_step is not None:
            return (f"the values grew past {w.math('10^{100}')} at step {verdict.overflow_step}; "
                    f"the loss had reached {w.math(w.decimal(curve.shown(-1)))}")
        return (f"the loss grew from {w.math(w.decimal(curve.shown(0)))} to "
                f"{w.math(w.decimal(curve.shown(-1)))}: each step jumps further past the minimum")
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
        return (f"the loss decreased at every step, but it ends at {w.math(w.decimal(curve.shown(-1)))}, "
                f"far above the best final loss {w.math(w.decimal(best.shown(-1)))} "
                f"(with {_rate_equation(w, best)}): the steps are too small")
    if verdict.kind == CONVERGES and verdict.settled_at is not None:
        return (f"the loss decreased at every step up to step {verdict.settled_at - 1}; from step "
                f"{verdict.settled_at} on it changes by less than one part in "
                f"{w.math('10^{29}')} a step (it is {w.math(w.decimal(curve.shown(verdict.settled_at)))})")
    if verdict.kind == CONVERGES:
        return (f"the loss decreased at every step, and the last step changed it by "
                f"{w.percent(verdict.last_change)} of the initial loss")
    return (f"the loss decreased at every step and was still falling at the end (the last step "
            f"changed it by {w.percent(verdict.last_change)} of the initial loss): more steps "
            "would lower it further")


def report_data(study: Study, fmt: str) -> dict:
    """Everything the report template needs, as strings: no SymPy or Decimal reaches a template."""
    w = report_format(fmt)
    problem = study.problem
    best = study.best
    best_curve = None if best is None else study.curves[best]
    rows = []
    for i, (curve, verdict) in enumerate(zip(study.curves, study.verdicts)):
        _, at = curve.minimum
        rows.append({
            "rate": w.math(w.rate(curve.learning_rate)),
            "equation": _rate_equation(w, curve),
            "initial": w.math(w.decimal(curve.shown(0))),
            "final": w.math(w.decimal(curve.shown(-1))),
            "final_step": len(curve.history) - 1,
            "cut": len(curve.history) - 1 < study.steps,
            "minimum": w.math(w.decimal(curve.shown(at))),
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
        "title": w.text_with_math(problem.title) if problem.title else None,
        "source": w.prose(Path(problem.source).name) if problem.source else None,
        "steps": steps,
        "loss": w.math(w.symbol(problem.loss)),
        "parameters": ", ".join(w.math(w.symbol(p)) for p in problem.parameters),
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


def rules(w: MarkdownFormat) -> list[dict[str, str]]:
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

    return fill(f"study.{fmt}.j2", report_data(study, fmt), template_dir)


def write(study: Study, directory: str | Path, fmt: str = "md") -> list[Path]:
    """Write loss.png, loss.svg, loss.tex and report.<fmt> into `directory` (created if need be)."""

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
