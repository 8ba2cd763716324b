"""The exception hierarchy of edugis, in one place.

Every error subclasses a builtin so callers can catch the familiar type
(``ValueError`` for bad input, ``LookupError`` for unknown keys). Errors about
input data carry the file, row and field they refer to so a person can fix the
file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class EdugisError(Exception):
    """Base class of every error raised on purpose by edugis."""


@dataclass(frozen=True)
class Problem:
    """One bad value in an input file: where it is and why it is refused.

    ``row`` is the 1-based data row (the header is row 0); ``None`` for problems
    of the file as a whole. ``reason`` is English; ``reason_vi`` the same in
    Vietnamese, which people see first (``None`` where no translation is given yet).
    """

    file: str
    row: int | None
    field: str | None
    reason: str
    reason_vi: str | None = None

    @classmethod
    def of(cls, file: str, row: int | None, field: str | None, texts: tuple[str, str],
           **values: Any) -> Problem:
        """Make a problem whose reason is a ``(Vietnamese, English)`` pair of templates.

        The templates are for ``str.format`` (the order of :data:`web.i18n.TEXTS`), filled in
        with ``values``.
        """
        vi, en = texts
        return cls(file, row, field, en.format(**values), vi.format(**values))

    def reason_in(self, lang: str) -> str:
        """Return the reason in ``lang`` (``"vi"`` or ``"en"``); English without Vietnamese."""
        return self.reason_vi if lang == "vi" and self.reason_vi else self.reason

    def __str__(self) -> str:
        """Return the problem on one line: file, row, field, then the English / Vietnamese reason."""
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        both = f"{self.reason} / {self.reason_vi}" if self.reason_vi else self.reason
        return f"{where}: {both}"


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


class InvalidValueError(EdugisError, ValueError):
    """A value a person gave (a command option, a form field, a name) that edugis refuses.

    For example an unknown level, mode or role, a name already taken, a limit out of range.
    Not about a file (that is :class:`InputError`); a plain ``ValueError`` is a bug.
    """


class NotFoundError(EdugisError, LookupError):
    """An unknown school, round, applicant or admin unit."""


class DatabaseError(EdugisError, RuntimeError):
    """The embedded database could not be started or reached."""


class ConfigurationError(EdugisError, RuntimeError):
    """A setting, or a file a setting points at, that edugis refuses to run with.

    For example a secret key file others may read. ``message_vi`` is the Vietnamese, shown
    first.
    """

    def __init__(self, message: str, message_vi: str | None = None) -> None:
        super().__init__(f"{message_vi} / {message}" if message_vi else message)
        self.message = message
        self.message_vi = message_vi


class StateError(EdugisError, RuntimeError):
    """An action that does not fit the current state of what it acts on.

    For example running a published round, or overriding one whose inputs changed since its
    run. The web answers 409 Conflict. Doing the same again fails again until the state
    changes.

    ``message_vi`` is the same message in Vietnamese, which people see first.
    """

    def __init__(self, message: str, message_vi: str | None = None) -> None:
        super().__init__(f"{message_vi} / {message}" if message_vi else message)
        self.message = message
        self.message_vi = message_vi


class ConflictError(StateError):
    """An action refused because the data it was based on changed meanwhile.

    Another import, run or override of the same round got there first; doing it again is safe.

    A :class:`StateError` whose state changed under the action rather than before it, so
    it is a ``RuntimeError`` as before and a 409 on the web like every state error.
    """
