"""The one exception the library raises for bad input, and how it names where the problem is."""

from __future__ import annotations


class ProblemError(Exception):
    """Bad input: the message names the file, the key and, when known, the line.

    The CLI prints it as one paragraph and exits with status 2; Python callers can catch it.
    """

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None,
                 line: int | None = None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.source = source
        self.line = line

    def located(self, *, source: str | None = None, line: int | None = None) -> "ProblemError":
        """Fill in the file and line where they were not known when the error was raised."""
        self.source = self.source or source
        self.line = self.line or line
        return self

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source + (f", line {self.line}" if self.line else ""))
        if self.key:
            # The command line maps an argument's name to its flag (cli.common.input_error).
            where.append(f"option '{self.key}'" if self.key.startswith("-") else f"key '{self.key}'")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


def reject_unknown_keys(mapping, allowed, what: str, prefix: str = "") -> None:
    """Raise a ProblemError naming the first key of mapping that is not in allowed."""
    for name in mapping:
        if name not in allowed:
            raise ProblemError(f"unknown key '{name}'; {what} may have " + ", ".join(allowed),
                               key=f"{prefix}{name}")
