"""The exception hierarchy of edugis, in one place.

Every error subclasses a builtin so callers can catch the familiar type
(``ValueError`` for bad input, ``LookupError`` for unknown keys). Errors about
input data carry the file, row and field they refer to so a person can fix the
file.
"""

from __future__ import annotations

from dataclasses import dataclass


class EdugisError(Exception):
    """Base class of every error raised on purpose by edugis."""


@dataclass(frozen=True)
class Problem:
    """One bad value in an input file: where it is and why it is refused.

    ``row`` is the 1-based data row (the header is row 0); ``None`` for problems
    of the file as a whole.
    """

    file: str
    row: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.reason}"


class InputError(EdugisError, ValueError):
    """Input that cannot be accepted; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n  ... and {more} more"
        super().__init__(f"{len(self.problems)} problem(s) in input:\n{shown}")


class CRSError(EdugisError, ValueError):
    """A layer without a declared CRS, or one edugis cannot transform."""


class NotFoundError(EdugisError, LookupError):
    """An unknown school, round, applicant or admin unit."""


class DatabaseError(EdugisError, RuntimeError):
    """The embedded database could not be started or reached."""
