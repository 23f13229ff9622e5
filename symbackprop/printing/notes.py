"""How a LaTeX worked solution fits into a lecturer's notes: the level of its headings and the labels
of its equations (issue 12, item 5).

Headings are starred: notes number their own chapters and sections, and a solution's "Forward pass"
should not join that numbering, nor carry a number of its own ("1. Forward pass"). Equations are
numbered only when a label prefix is asked for, so that notes can \\eqref{PREFIX:dE-dw5}; two
solutions \\input into the same notes take different prefixes, so their labels never clash.
"""

from __future__ import annotations

import re

from ..errors import ProblemError

#: The level of a solution's title; "none" writes no title, for notes that head it themselves.
SECTION_LEVELS = ("section", "subsection", "subsubsection", "none")
DEFAULT_SECTION_LEVEL = "section"

#: LaTeX's headings from the highest down. Below \paragraph a heading is bold text run into its
#: paragraph: the standard classes indent \subparagraph by \parindent, which notes may set.
_COMMANDS = ("section", "subsection", "subsubsection", "paragraph")
RUN_IN = "run-in"

#: How many visible characters (rendering.visible_length) a display line of a fragment may hold.
#: Notes set their own page: a report or book at 10 pt with the class's margins is 345 pt wide,
#: about 55 characters of mathematics beside an equation number, where the whole document
#: (11 pt, 2.2 cm margins) takes 70.
FRAGMENT_LINE_LENGTH = 55

#: What a label prefix may hold: a letter, then letters, digits and hyphens (no space, brace, comma
#: or backslash, which would break \label; no colon either, which babel makes active in French).
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9-]*\Z")


def headings(section_level: str | None) -> dict[str, str | None]:
    """The heading command of each kind of heading in the solution: the title, its parts (Forward
    pass, Backward pass), their parts (Gradients of E, The batch) and the backward steps.
    With "section" (today's look): section, subsection, subsubsection, paragraph; each level
    below shifts them one down; "none" leaves the title out and starts the parts at subsection,
    for a solution under a heading of the notes' own. None: no heading; RUN_IN: bold run-in text."""
    level = DEFAULT_SECTION_LEVEL if section_level is None else section_level
    if level not in SECTION_LEVELS:
        raise ProblemError(f"unknown section level '{level}'; use one of " + ", ".join(SECTION_LEVELS),
                           key="section_level")
    top = 0 if level == "none" else _COMMANDS.index(level)
    kinds = ("title", "part", "subpart", "step")
    shown = {kind: (_COMMANDS[top + depth] if top + depth < len(_COMMANDS) else RUN_IN)
             for depth, kind in enumerate(kinds)}
    return {**shown, "title": None} if level == "none" else shown


def check_prefix(prefix: str | None) -> str | None:
    """The label prefix, or a ProblemError saying what a prefix may hold."""
    if prefix is not None and not _PREFIX.match(prefix):
        raise ProblemError(f"'{prefix}' is not a label prefix: use a letter, then letters, digits "
                           "and hyphens (p1, mazur, ch3-ex2)", key="label_prefix")
    return prefix


def key(*names: str) -> str:
    """A label's name after the prefix, from names (the loss, a parameter, a delta's subscript):
    key("dE", "dw5") is dE-dw5, key("delta", "2,1") delta-2-1. Problem names are letters, digits
    and underscores, so writing each other character as a hyphen keeps two names' keys apart."""
    return "-".join(re.sub(r"[^A-Za-z0-9]", "-", name) for name in names)


def partial_key(top: str, bottom: str) -> str:
    """The key of d top / d bottom: dE-dw5."""
    return key(f"d{top}", f"d{bottom}")


def delta_key(subscript: str) -> str:
    """The key of a unit's delta: delta-o1."""
    return key("delta", subscript)
