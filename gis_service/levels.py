"""School levels, the one vocabulary of every package.

Names, grades, entry grade and its capacity column, entry age, names in Vietnamese and
English.

A level name, a grade or a capacity column is checked here once; every other module reads
these values instead of writing its own table or formatting ``capacity_grade{n}`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from gis_service.errors import InvalidValueError

#: Every level a school may have (the ``schools.level`` column). ``vocational`` is the
#: vocational and continuing-education centres and schools (GDNN-GDTX, trung cấp): after
#: grade 9 they take the leavers a public upper-secondary school has no place for.
LevelName = Literal["preschool", "primary", "lower_secondary", "upper_secondary", "vocational"]
#: The levels of general education, which have grades and entry grades.
GeneralLevelName = Literal["primary", "lower_secondary", "upper_secondary"]
#: The grades that admit new pupils: 1 (primary), 6 (lower secondary), 10 (upper secondary).
EntryGrade = Literal[1, 6, 10]


@dataclass(frozen=True)
class SchoolLevel:
    """One level of education."""

    name: LevelName
    label_vi: str
    label_en: str
    #: The Vietnamese name used on lists, filters and maps (Tiểu học, THCS, THPT, Mầm non).
    short_vi: str
    grades: tuple[int, ...]
    entry_age: int

    @property
    def entry_grade(self) -> int:
        """First grade of the level.

        Raises
        ------
        ValueError
            For preschool, which has no grades.
        """
        if not self.grades:
            raise ValueError(f"{self.name} has no grades")
        return self.grades[0]

    @property
    def in_sentence_vi(self) -> str:
        """The Vietnamese name inside a sentence: acronyms as written, other names in lower case."""
        return self.short_vi if self.short_vi.isupper() else self.short_vi.lower()

    @property
    def capacity_column(self) -> str:
        """The ``schools`` column holding the level's entry-grade places."""
        return capacity_column(self.entry_grade)


PRESCHOOL = SchoolLevel("preschool", "Mầm non", "Preschool", "Mầm non", (), 3)
#: The levels of general education, youngest first.
LEVELS: tuple[SchoolLevel, ...] = (
    SchoolLevel("primary", "Tiểu học", "Primary", "Tiểu học", (1, 2, 3, 4, 5), 6),
    SchoolLevel("lower_secondary", "Trung học cơ sở", "Lower secondary", "THCS", (6, 7, 8, 9), 11),
    SchoolLevel("upper_secondary", "Trung học phổ thông", "Upper secondary", "THPT",
                (10, 11, 12), 15),
)
#: GDNN-GDTX centres teach the continuing-education programme of grades 10-12 (and trades);
#: their grade-10 places are in ``capacity_grade10``. Not general education: no entry ratio,
#: no cut-off, no catchment (not in :data:`LEVELS`).
VOCATIONAL = SchoolLevel("vocational", "Giáo dục nghề nghiệp – Giáo dục thường xuyên",
                         "Vocational and continuing education", "GDNN-GDTX", (10, 11, 12), 15)
ALL_LEVELS: tuple[SchoolLevel, ...] = (PRESCHOOL, *LEVELS, VOCATIONAL)
SCHOOL_LEVELS: tuple[str, ...] = get_args(LevelName)
LEVEL_BY_NAME: dict[str, SchoolLevel] = {level.name: level for level in ALL_LEVELS}
ALL_GRADES: tuple[int, ...] = tuple(g for level in LEVELS for g in level.grades)
ENTRY_GRADES: tuple[int, ...] = get_args(EntryGrade)

assert tuple(LEVEL_BY_NAME) == SCHOOL_LEVELS, "LevelName and ALL_LEVELS disagree"


def school_level(name: str) -> SchoolLevel:
    """Return the level called ``name``.

    Raises
    ------
    InvalidValueError
        For any other name, listing the known ones.
    """
    try:
        return LEVEL_BY_NAME[name]
    except KeyError:
        raise InvalidValueError(f"unknown level {name!r}; one of {', '.join(SCHOOL_LEVELS)}") from None


def level_of_grade(grade: int) -> SchoolLevel:
    """Return the level a grade belongs to.

    Raises
    ------
    InvalidValueError
        For a grade outside general education (1-12).
    """
    for level in LEVELS:
        if grade in level.grades:
            return level
    raise InvalidValueError(f"grade {grade} is not a grade of general education (1-12)")


def capacity_column(grade: int) -> str:
    """Return ``capacity_grade{grade}``, the column of a school's places in an entry grade.

    Raises
    ------
    InvalidValueError
        For a grade that admits no new pupils, so that no other text can reach SQL.
    """
    if grade not in ENTRY_GRADES:
        raise InvalidValueError(f"grade {grade} is not an entry grade; one of 1, 6, 10")
    return f"capacity_grade{grade}"
