"""A student's variant as the exports read it: who it is for, its seed, and each asked quantity's
correct value, tolerance and the wrong values the named mistakes give (issue 14).

Plain data, made once per variant by variants.py and read by moodle.py, canvas.py and the class's
files; the values are exact (SymPy numbers), written as decimals only where an export writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Distractor:
    """A wrong value a named mistake gives, offered as a 0% answer with its feedback."""

    #: check/mistakes.py's stable key ("sign", "loss_half", "updated_too_early", ...).
    mistake: str
    #: The mistake in a few words, and what was recomputed, as the check report says them.
    title: str
    detail: str
    value: sp.Expr
    tolerance: sp.Rational


@dataclass(frozen=True)
class Answer:
    """One quantity a task asks for, as a grader marks it."""

    #: The task's label, (a), (b), ...: "b".
    task: str
    #: The quantity as a claims file writes it: dE/dw5, w5+, E+, E.
    key: str
    #: The quantity in Unicode, as a student reads it: ∂E/∂w5, w5⁺.
    label: str
    value: sp.Expr
    #: The correct value rounded to the digits asked, as a decimal's text: 0.08217.
    shown: str
    #: Absolute: one unit in the last digit asked, so both roundings at a half-way point and a
    #: hand calculation's last-digit slip still count.
    tolerance: sp.Rational
    #: Outside the correct answer's window and each other's, in the order check/mistakes.py tries
    #: them.
    distractors: tuple[Distractor, ...] = ()


@dataclass(frozen=True)
class Variant:
    """One student's version of the problem, solved and checked."""

    #: The student's id as the roster gives it (or 1, 2, ... with --count), and their name.
    student: str
    name: str
    #: The variant's seed, a hex string: a hash of (class seed, problem, student id).
    seed: str
    #: The drawn values, name -> the number as written onto the sheet.
    drawn: dict[str, str]
    answers: tuple[Answer, ...]
    #: The variant's question text and worked solution as Markdown with $...$ mathematics (the
    #: exports turn it into HTML), and the title of the problem.
    question_md: str
    solution_md: str
    title: str
